"""Lower a folded ONNX graph to engine nodes, one ONNX node at a time in topological order.

Each ONNX tensor gets a state (states.py). Binarizers stay lazy: a binary layer asks for packed
bits (one ``BinarizePack`` per source and offset), anything else for a float ±1 tensor. Only
the nodes the graph outputs depend on are lowered, where a binarizer depends on its source
alone, so the arithmetic of an exported straight-through estimator is never emitted.

The per-op rules live in lower_layers.py, lower_elementwise.py, lower_shape.py and
lower_pool.py; each takes the :class:`Lowering` and an ONNX node and returns the states of the
node's outputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import numpy as np
import onnx

from xnorinfer.errors import ConversionError
from xnorinfer.ir import ValueInfo
from xnorinfer.onnx import lower_elementwise, lower_layers, lower_pool, lower_shape
from xnorinfer.onnx.builder import GraphBuilder
from xnorinfer.onnx.layout import (channel_vector, engine_axis, engine_const, reshape_target,
                                   same_tensor, to_nhwc, to_same)
from xnorinfer.onnx.onnx_graph import OnnxGraph
from xnorinfer.onnx.patterns import (AbsMean, Binarizer, clip_bounds, find_abs_means,
                                     find_binarizers)
from xnorinfer.onnx.states import NHWC, SAME, Binarized, Padded, State, Tensor

Rule = Callable[["Lowering", onnx.NodeProto], list[State]]

RULES: dict[str, Rule] = {
    **lower_layers.RULES, **lower_elementwise.RULES, **lower_shape.RULES, **lower_pool.RULES}

# Ops through which an input that is often exactly 0 stays often exactly 0 (and a real-valued
# one stays real-valued).
_ZERO_PRESERVING_OPS = frozenset({
    "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout",
    "MaxPool", "AveragePool", "GlobalAveragePool", "Concat", "LeakyRelu", "PRelu"})

SIGN_ZERO_NOTE = (
    "sign(0): ONNX Sign(0) = 0, but the engine binarizes 0 to +1 (bit = x < 0). The input of "
    "binarizer '{node}' comes from {producer} and can be exactly 0, so results can differ from "
    "onnxruntime where it is.")

HARDTANH_INPUT_NOTE = (
    "{layers} binary weights but real-valued input from a Hardtanh (Clip -1..1) with no "
    "binarizer in between, so it runs as BWN, as the ONNX model computes. If the "
    "PyTorch model binarizes activations by assigning `input.data = input.data.sign()` "
    "(BinaryNet.pytorch), the ONNX exporter dropped that: binarize with `torch.sign(input)` or "
    "a straight-through estimator and export again.")


class Lowering:
    """The state of one conversion: ONNX tensor states, the engine graph being built, and what
    the report needs (why layers stayed float, notes)."""

    def __init__(self, graph: OnnxGraph, *, allow_float: bool,
                 on_node: Callable[[], None] | None = None) -> None:
        self.graph = graph
        self.allow_float = allow_float
        self.builder = GraphBuilder(reserved_names=graph.outputs)
        self.binarizers = find_binarizers(graph)
        self.abs_means = find_abs_means(graph)
        self.states: dict[str, State] = {}
        self.float_reasons: dict[str, str] = {}  # ONNX node name -> why it stayed float
        self.notes: list[str] = []
        self.abs_mean_values: set[str] = set()   # engine values that are BinarizePack A maps
        self.hardtanh_input_layers: list[str] = []  # for HARDTANH_INPUT_NOTE
        self._on_node = on_node or (lambda: None)

    # --- driver ---------------------------------------------------------------------------

    def run(self) -> GraphBuilder:
        """Lower the whole graph; the builder then holds the engine graph."""
        for name in self.graph.inputs:
            shape = self.graph.shape(name)
            self.states[name] = same_tensor(self.builder.add_input(name, shape), shape)
        needed = self._needed_nodes()
        for node in self.graph.nodes:
            if node.name in needed:
                self._lower(node)
            self._on_node()
        self._bind_outputs()
        if self.hardtanh_input_layers:
            names = ", ".join(f"'{name}'" for name in self.hardtanh_input_layers)
            plural = len(self.hardtanh_input_layers) > 1
            layers = f"layers {names} have" if plural else f"layer {names} has"
            self.notes.append(HARDTANH_INPUT_NOTE.format(layers=layers))
        return self.builder

    def _needed_nodes(self) -> set[str]:
        """Names of the nodes the outputs depend on; a binarizer or A map needs its source only."""
        needed: set[str] = set()
        seen: set[str] = set()
        stack = list(self.graph.outputs)
        while stack:
            name = stack.pop()
            if name in seen or name in self.graph.constants or name in self.graph.inputs:
                continue
            seen.add(name)
            node = self.graph.producer.get(name)
            if node is None:
                raise ConversionError(f"tensor '{name}' has no producer in the graph")
            needed.add(node.name)
            if name in self.binarizers:
                stack.append(self.binarizers[name].source)
            elif name in self.abs_means:
                stack.append(self.abs_means[name].source)
            else:
                stack.extend(i for i in node.input if i)
        return needed

    def _lower(self, node: onnx.NodeProto) -> None:
        try:
            self._lower_node(node)
        except ConversionError as error:
            if str(error).startswith("cannot convert node"):
                raise
            raise self.error(node, str(error)) from error

    def _lower_node(self, node: onnx.NodeProto) -> None:
        first = node.output[0]
        if first in self.binarizers:
            binarizer = self.binarizers[first]
            source = self.tensor(binarizer.source, node)
            self.states[first] = Binarized(source, binarizer.offset, binarizer.zero_to,
                                           binarizer.nodes, binarizer.source)
            return
        if first in self.abs_means:
            self.states[first] = self._abs_mean(node, self.abs_means[first])
            return
        rule = RULES.get(node.op_type) if node.domain in ("", "ai.onnx") else None
        if rule is None:
            domain = f" of domain '{node.domain}'" if node.domain not in ("", "ai.onnx") else ""
            raise self.error(node, f"the engine has no {node.op_type} op{domain}")
        for name, state in zip(node.output, rule(self, node)):
            self.states[name] = state

    def _bind_outputs(self) -> None:
        """Give every graph output a float32 engine value in ONNX layout, named as in ONNX."""
        finals = []
        for name in self.graph.outputs:
            if name in self.graph.inputs:
                continue  # the engine hands the input value itself back
            node = self.graph.producer[name]
            finals.append((name, node, to_same(self.builder, self.tensor(name, node), node.name)))
        renamed: dict[str, str] = {}
        for name, node, tensor in finals:
            value = renamed.get(tensor.value, tensor.value)
            is_node_output = any(value in n.outputs for n in self.builder.nodes)
            if tensor.value in renamed or not is_node_output:
                # A graph input or another output's value: this output needs its own copy.
                (value,) = self.builder.node(
                    "Reshape", [value], [(name, tensor.engine_shape, "float32")],
                    {"shape": reshape_target(tensor.engine_shape, tensor.engine_shape)},
                    source=node.name)
            renamed[tensor.value] = name
            _rename_value(self.builder, value, name)

    # --- accessors used by the rules ------------------------------------------------------

    def error(self, node: onnx.NodeProto, reason: str) -> ConversionError:
        return self.graph.node_error(node, reason)

    def state(self, name: str, node: onnx.NodeProto) -> State:
        """The state of input tensor ``name`` of ``node``."""
        if name not in self.states:
            producer = self.graph.producer.get(name)
            what = f"output '{name}' of node '{producer.name}'" if producer else f"'{name}'"
            raise self.error(node, f"its input {what} is not supported by the converter")
        return self.states[name]

    def const(self, name: str, node: onnx.NodeProto, what: str = "input") -> np.ndarray:
        """A constant input of ``node``; raises naming ``what`` when it is computed at run time."""
        if name in self.graph.batch_dependent:
            raise self.error(node, f"its {what} depends on the dynamic batch size; export with "
                                   "a static batch size")
        if name not in self.graph.constants:
            raise self.error(node, f"its {what} must be a constant (it is computed at run time)")
        return self.graph.constants[name]

    def optional_const(self, node: onnx.NodeProto, index: int, what: str) -> np.ndarray | None:
        if index >= len(node.input) or not node.input[index]:
            return None
        return self.const(node.input[index], node, what)

    def tensor(self, name: str, node: onnx.NodeProto) -> Tensor:
        """Input ``name`` of ``node`` as a float32 tensor (a binarizer as ±1 floats)."""
        state = self.state(name, node)
        if isinstance(state, Padded):
            raise self.error(node, f"it reads the output of Pad node '{state.node}', which the "
                                   "converter only folds into a directly following Conv")
        if isinstance(state, Binarized):
            return self.float_form(state)
        return state

    def keep_float(self, node: onnx.NodeProto, reason: str) -> None:
        """Record why a layer that looks binary stays float; an error when float is not allowed."""
        if not self.allow_float:
            raise self.error(node, f"{reason} (allow_float=False)")
        self.float_reasons[node.name] = reason

    def keep_float_by_name(self, onnx_nodes: str, reason: str) -> None:
        """:meth:`keep_float` for the first of comma-separated ONNX node names."""
        name = onnx_nodes.split(",")[0]
        node = next(n for n in self.graph.nodes if n.name == name)
        self.keep_float(node, reason)

    # --- emission helpers -----------------------------------------------------------------

    def unary(self, op: str, x: Tensor, source: str, attrs: dict | None = None,
              inputs: Iterable[str] = ()) -> Tensor:
        """An elementwise engine op on ``x``; the result keeps x's layout and shape."""
        (value,) = self.builder.node(op, [x.value, *inputs],
                                     [(f"{x.value}:{op.lower()}", x.engine_shape, "float32")],
                                     attrs, source=source)
        return dataclasses.replace(x, value=value)

    def add_const(self, x: Tensor, onnx_const: np.ndarray, source: str) -> Tensor:
        """``x + c`` for a constant broadcasting against x in ONNX."""
        const = self.builder.constant(f"{source}:c", engine_const(onnx_const, x))
        return self.unary("Add", x, source, inputs=[const])

    def float_form(self, binarized: Binarized) -> Tensor:
        """The binarizer as a float32 ±1 tensor with ONNX's value at an exact 0."""
        key = (id(binarized), "float")
        if key not in self.builder.memo:
            source = ",".join(binarized.nodes)
            x = binarized.source
            if binarized.offset is not None:
                x = self.add_const(x, binarized.offset, source)
            signed = self.unary("Sign", x, source)
            if binarized.zero_to != 0:  # move Sign's 0 to ±1: sign(sign(x) ± 0.5)
                nudge = np.array(0.5 * binarized.zero_to, dtype=np.float32)
                signed = self.unary("Sign", self.add_const(signed, nudge, source), source)
            self.builder.memo[key] = (binarized, signed)
        return self.builder.memo[key][1]

    def pack(self, binarized: Binarized, x: Tensor, source: str) -> str:
        """Packed bits of ``binarized`` whose source, in the layout the consumer needs, is ``x``.

        The offset becomes the BinarizePack's per-channel offset; an offset that varies along
        other axes is added as a float Add first.
        """
        channels = x.engine_shape[-1]
        offset = None
        if binarized.offset is not None:
            offset = channel_vector(engine_const(binarized.offset, x), channels)
            if offset is None:
                x, offset = self.add_const(x, binarized.offset, source), None
        if binarized.zero_to == 0:
            self._note_sign_of_zero(binarized)
        return self.pack_node(x, offset, ",".join(binarized.nodes)).outputs[0]

    def pack_node(self, x: Tensor, offset: np.ndarray | None, source: str):
        """The one BinarizePack of ``x`` with this offset, emitted on first use."""
        key = (x.value, "pack", None if offset is None else offset.tobytes())
        if key not in self.builder.memo:
            inputs = [x.value]
            if offset is not None:
                inputs.append(self.builder.constant(f"{source}:offset", offset))
            self.builder.node("BinarizePack", inputs,
                              [(f"{x.value}:bits", x.engine_shape, "bits")],
                              source=source, kind="binary")
            self.builder.memo[key] = self.builder.nodes[-1]
        return self.builder.memo[key]

    def _abs_mean(self, node: onnx.NodeProto, abs_mean: AbsMean) -> Tensor:
        """``ReduceMean(Abs(x))`` over channels: the ``abs_mean`` output of x's BinarizePack."""
        x = self.tensor(abs_mean.source, node)
        if x.rank == 4 and abs_mean.axis == 1:
            x = to_nhwc(self.builder, x, node.name)
        if x.layout not in (SAME, NHWC) or engine_axis(x, abs_mean.axis) != len(x.engine_shape) - 1:
            raise self.error(node, "ReduceMean(Abs(x)) is supported over the channel axis only "
                                   "(the XNOR-Net A map)")
        pack = self.pack_node(x, None, node.name)
        if len(pack.outputs) == 1:
            value = self.builder.fresh(f"{x.value}:abs_mean")
            shape = [*x.engine_shape[:-1], 1]
            self.builder.values[value] = ValueInfo(value, shape, "float32")
            pack.outputs.append(value)
        value = pack.outputs[1]
        self.abs_mean_values.add(value)
        onnx_shape = self.graph.shape(node.output[0])
        return Tensor(value, x.layout, onnx_shape, tuple(self.builder.values[value].shape))

    def note_hardtanh_input(self, node: onnx.NodeProto) -> None:
        """Remember a layer with binary weights whose float input comes from a Hardtanh: the
        trace BinaryNet.pytorch's untraced ``input.data = sign(input.data)`` leaves."""
        producer = _first_producer_beyond(self.graph, node.input[0], _ZERO_PRESERVING_OPS)
        if (producer is not None and producer.op_type == "Clip"
                and clip_bounds(self.graph, producer) == (-1.0, 1.0)):
            self.hardtanh_input_layers.append(node.name)

    def _note_sign_of_zero(self, binarized: Binarized) -> None:
        producer = _zero_making_producer(self.graph, self.binarizers, binarized)
        if producer is None:
            return
        note = SIGN_ZERO_NOTE.format(node=binarized.nodes[-1], producer=producer)
        if note not in self.notes:
            self.notes.append(note)


def _zero_making_producer(graph: OnnxGraph, binarizers: dict[str, Binarizer],
                          binarized: Binarized) -> str | None:
    """What makes the binarizer's ONNX source often exactly 0, reached through ops that keep
    zeros: a Relu, a Clip at min 0, or a binary layer without bias (its ±1 dot product is 0
    whenever half the products are -1). None when nothing does."""
    if binarized.offset is not None:
        return None
    node = _first_producer_beyond(graph, binarized.onnx_source, _ZERO_PRESERVING_OPS)
    if node is None:
        return None
    if node.op_type == "Relu":
        return f"Relu node '{node.name}'"
    if node.op_type == "Clip" and clip_bounds(graph, node)[0] == 0:
        return f"Clip node '{node.name}' (min 0)"
    if (node.op_type in ("Conv", "Gemm", "MatMul") and node.input[0] in binarizers
            and not (len(node.input) > 2 and node.input[2])):
        return f"binary layer '{node.name}', which has no bias,"
    return None


def _first_producer_beyond(graph: OnnxGraph, name: str, ops: frozenset[str]
                           ) -> onnx.NodeProto | None:
    """Going up from tensor ``name`` along first inputs, the first producer not in ``ops``."""
    node = graph.producer.get(name)
    while node is not None and node.op_type in ops:
        node = graph.producer.get(node.input[0])
    return node


def _rename_value(builder: GraphBuilder, old: str, new: str) -> None:
    if old == new:
        return
    builder.claim(new)
    for node in builder.nodes:
        node.inputs = [new if name == old else name for name in node.inputs]
        node.outputs = [new if name == old else name for name in node.outputs]
    info = builder.values.pop(old)
    builder.values[new] = ValueInfo(new, info.shape, info.dtype)
