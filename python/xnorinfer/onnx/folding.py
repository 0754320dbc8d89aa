"""Constant folding: evaluate every node whose inputs are all constants.

Exporters often leave the weight binarization as a subgraph on a latent float initializer
(``Abs``, ``ReduceMean``, ``Sign``, ``Mul``, ``Clip``, ``Sub``, ``Add``, ``Transpose`` ...); folding
turns it into the constant weight the binary-layer patterns look at. ``Shape`` of a tensor with a
dynamic batch folds too, with a sentinel standing for the batch size, so that the common
``x.view(x.size(0), -1)`` export (Shape, Gather, Unsqueeze, Concat, Reshape) becomes a Reshape
that copies dim 0. Last, an operand that was only expanded to the other operand's shape
(``x + bias.expand_as(x)``) is read in its small form (:func:`unmaterialize_broadcasts`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from xnorinfer.errors import ConversionError
from xnorinfer.onnx.dynamic_dims import SENTINELS, resolve_reshape
from xnorinfer.onnx.onnx_graph import attr, broadcasts_into, node_error

# Stands for the dynamic batch size inside folded shape arithmetic; a prime no model uses.
BATCH_SENTINEL = 1_000_003
# Extents that are not known until run time: the batch and the symbolic input dims.
DYNAMIC_EXTENTS = (BATCH_SENTINEL, *SENTINELS)

# Ops that only move shape entries around, so a folded batch sentinel stays exact (and small).
# Anything else fed a batch-dependent shape (Expand, ConstantOfShape, arithmetic) stays a node.
SHAPE_MOVING_OPS = frozenset(
    {"Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast", "Identity", "Reshape"})

# Elementwise ops that broadcast their two operands numpy-style.
BROADCASTING_OPS = frozenset({"Add", "Sub", "Mul", "Div"})

# A folded constant larger than this stays a node: ConstantOfShape, Expand or Tile of a tiny
# shape could otherwise make the converter allocate far more than the model file holds.
MAX_FOLDED_ELEMENTS = 1 << 26

NONDETERMINISTIC_OPS = frozenset(
    {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial",
     "Bernoulli"})


@dataclass
class Folded:
    """The nodes left after folding and the constants they read."""

    nodes: list[onnx.NodeProto]
    constants: dict[str, np.ndarray]
    batch_dependent: set[str]


def topological_order(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """The graph's nodes ordered so that every node comes after the producers of its inputs."""
    produced_by = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    order: list[onnx.NodeProto] = []
    state = [0] * len(graph.node)  # 0 new, 1 on the stack, 2 done
    for root in range(len(graph.node)):
        stack = [root]
        while stack:
            i = stack[-1]
            if state[i] == 2:
                stack.pop()
                continue
            state[i] = 1
            pending = [produced_by[name] for name in graph.node[i].input
                       if name in produced_by and state[produced_by[name]] == 0]
            if pending:
                stack.extend(pending)
                continue
            state[i] = 2
            order.append(graph.node[i])
            stack.pop()
    return order


def fold_constants(model: onnx.ModelProto, shapes: dict[str, tuple[int, ...] | None],
                   opset: int) -> Folded:
    """Evaluate the constant subgraphs of ``model`` (every node named; ``shapes`` from ONNX
    shape inference; ``opset`` the default domain's version, for error messages)."""
    opsets = {entry.domain or "": entry.version for entry in model.opset_import}
    constants = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    batch_dependent: set[str] = set()
    kept: list[onnx.NodeProto] = []
    for node in topological_order(model.graph):
        outputs = _evaluate(node, constants, batch_dependent, shapes, opsets)
        if outputs is None:
            kept.append(node)
            continue
        depends_on_batch = any(name in batch_dependent for name in node.input) or (
            node.op_type == "Shape" and np.isin(outputs[0], DYNAMIC_EXTENTS).any())
        for name, value in zip(node.output, outputs):
            if name:
                constants[name] = value
                if depends_on_batch:
                    batch_dependent.add(name)
    kept = [_copy_batch_to_reshape(node, constants, batch_dependent, shapes, opset)
            for node in kept]
    unmaterialize_broadcasts(kept, constants, shapes)
    return Folded(kept, constants, batch_dependent)


def unmaterialize_broadcasts(nodes: list[onnx.NodeProto], constants: dict[str, np.ndarray],
                             shapes: dict[str, tuple[int, ...] | None]) -> None:
    """Let each broadcasting op read the smallest form of a constant operand that the other
    operand's shape covers: an ``Expand`` of a constant is skipped, and a constant that repeats
    along an axis keeps one slice of it.

    ReActNet's ``x + bias.expand_as(x)`` exports as ``Expand(bias, Shape(x))``: with a static
    batch it folds to a batch-sized constant that pins the graph to that batch and hides the
    per-channel bias from the fusions; with a dynamic batch it does not fold at all. The dynamo
    exporter materializes small ones itself.
    """
    producer = {out: node for node in nodes for out in node.output if out}
    for node in nodes:
        if node.op_type not in BROADCASTING_OPS:
            continue
        for index, other in ((0, node.input[1]), (1, node.input[0])):
            other_shape = shapes.get(other)
            if other in constants or other_shape is None:
                continue
            name = node.input[index]
            source = _expanded_constant(producer.get(name), constants)
            if source and shapes.get(name) is not None and broadcasts_into(shapes[name], other_shape):
                node.input[index] = name = source
            if name in constants and broadcasts_into(constants[name].shape, other_shape):
                small = _one_slice_per_repeated_axis(constants[name])
                if small.shape != constants[name].shape:
                    node.input[index] = f"{name}:unbroadcast"
                    constants[node.input[index]] = small


def _expanded_constant(node: onnx.NodeProto | None, constants: dict[str, np.ndarray]) -> str:
    """The constant that ``node`` expands when it is an ``Expand`` of one, else ""."""
    if node is not None and node.op_type == "Expand" and node.input[0] in constants:
        return node.input[0]
    return ""


def _one_slice_per_repeated_axis(value: np.ndarray) -> np.ndarray:
    """``value`` with every axis along which it repeats one slice reduced to size 1."""
    for axis, size in enumerate(value.shape):
        if size > 1:
            first = value.take([0], axis=axis)
            if (value == first).all():
                value = first
    return value


def _evaluate(node: onnx.NodeProto, constants: dict[str, np.ndarray], batch_dependent: set[str],
              shapes: dict[str, tuple[int, ...] | None], opsets: dict[str, int]
              ) -> list[np.ndarray] | None:
    """The node's outputs when they can be computed now, else None."""
    if node.op_type in NONDETERMINISTIC_OPS or any(a.g.node or a.graphs for a in node.attribute):
        return None
    if any(np.prod(shapes.get(name) or (), dtype=float) > MAX_FOLDED_ELEMENTS
           for name in node.output):
        return None
    if node.op_type == "Shape" and node.input[0] not in constants:
        return _fold_shape(node, shapes.get(node.input[0]))
    if not all(name in constants for name in node.input if name):
        return None
    if node.op_type not in SHAPE_MOVING_OPS and any(name in batch_dependent
                                                    for name in node.input):
        return None
    feeds = {name: constants[name] for name in node.input if name}
    # A one-node model: the evaluator then picks the op version of the model's opset.
    graph = helper.make_graph([node], node.name,
                              [helper.make_empty_tensor_value_info(name) for name in feeds],
                              [helper.make_empty_tensor_value_info(name) for name in node.output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(domain, version)
                                                    for domain, version in opsets.items()])
    try:
        return list(ReferenceEvaluator(model).run(None, feeds))
    except Exception:  # an op the evaluator lacks stays a node; lowering then names it
        return None


def _fold_shape(node: onnx.NodeProto, shape: tuple[int, ...] | None) -> list[np.ndarray] | None:
    """Shape of a tensor whose dims are all known but a dynamic batch (the sentinel)."""
    if shape is None or any(d == -1 for d in shape[1:]):
        return None
    dims = [BATCH_SENTINEL if d == -1 else d for d in shape]
    start, end = attr(node, "start", 0), attr(node, "end", len(dims))
    return [np.array(dims[start:end], dtype=np.int64)]


def _copy_batch_to_reshape(node: onnx.NodeProto, constants: dict[str, np.ndarray],
                           batch_dependent: set[str], shapes: dict[str, tuple[int, ...] | None],
                           opset: int) -> onnx.NodeProto:
    """Rewrite a Reshape whose shape holds the batch sentinel at dim 0 to copy dim 0 (``0``),
    and a symbolic dim's sentinel to copy or infer it (dynamic_dims.resolve_reshape)."""
    if node.op_type != "Reshape" or node.input[1] not in batch_dependent:
        return node
    shape = constants[node.input[1]].astype(np.int64)
    copied = shape.copy()
    if shape.ndim == 1 and len(shape) and shape[0] == BATCH_SENTINEL:
        copied[0] = 0
    if shape.ndim == 1:
        try:
            copied = np.array(resolve_reshape(shapes.get(node.input[0]) or (), copied.tolist(),
                                              "its target shape"), dtype=np.int64)
        except ConversionError as error:
            raise node_error(node, opset, str(error)) from None
    if shape.ndim != 1 or (copied >= BATCH_SENTINEL).any():
        raise node_error(node, opset, "its target shape depends on the dynamic batch size in a "
                                      "way the converter cannot follow; export with a static batch")
    name = f"{node.input[1]}:batch_copied"
    constants[name] = copied
    rewritten = helper.make_node("Reshape", [node.input[0], name], list(node.output),
                                 name=node.name)  # allowzero 0: a 0 copies the input dim
    return rewritten
