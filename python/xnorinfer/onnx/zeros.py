"""Which ONNX tensors can hold exact zeros: the analysis behind ``sign_zero="auto"``.

ONNX defines ``Sign(0) = 0``, so a binarized tensor that can hold exact zeros needs the
engine's ternary form (sign bits plus a nonzero mask); one that cannot keeps the faster
one-plane form. :meth:`ZeroAnalysis.zero_source` walks up from a binarizer's input and names
what can put exact zeros there, or returns None.

The walk is conservative where it must be: a graph input, an op it does not know, or anything
that clamps or rounds to 0 (Relu, Clip at 0, HardSigmoid, Round, ...) can hold zeros, and ops
that keep zeros (reshapes, pooling, Concat, LeakyRelu, Mul, ...) pass the question on to their
inputs. A tensor is taken to hold no exact zeros after an addition of a constant with no zero
in it (a bias, a BatchNorm's shift): that it lands exactly on 0 is a float coincidence, which
``convert --verify`` reports, not a pattern of the network.
"""

from __future__ import annotations

import numpy as np
import onnx

from xnorinfer.onnx.onnx_graph import OnnxGraph, attr, optional_input
from xnorinfer.onnx.patterns import Binarizer, clip_bounds

# Outputs are zero exactly where the first input is zero (or are a selection of its values).
_KEEP_ZEROS = frozenset({
    "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "MaxPool",
    "GlobalMaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "ReduceSum", "ReduceMax",
    "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Tanh", "Neg", "Abs", "Cast", "Expand", "Slice",
    "Gather", "Split", "Tile", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "Div",
    "Softsign", "HardSwish", "Gelu", "Mish", "Erf", "Atan", "Asin", "Sin", "Sinh", "Sqrt"})
# Map a band of values to exactly 0.
_MAKE_ZEROS = frozenset({"Relu", "HardSigmoid", "Round", "Floor", "Ceil", "ThresholdedRelu",
                         "Shrink", "Sign", "ConstantOfShape"})
# Never exactly 0 (for finite inputs).
_NEVER_ZERO = frozenset({"Sigmoid", "Exp", "Softmax", "LogSoftmax", "Softplus"})
_LAYERS = ("Conv", "Gemm", "MatMul")


class ZeroAnalysis:
    """One conversion's answers, remembered across its binarizers (they share producers)."""

    def __init__(self, graph: OnnxGraph, binarizers: dict[str, Binarizer]) -> None:
        self.graph = graph
        self.binarizers = binarizers
        self.memo: dict[str, str | None] = {}

    def zero_source(self, name: str) -> str | None:
        """What can make tensor ``name`` exactly 0, as a phrase for the report, or None."""
        try:
            return self.source(name)
        except RecursionError:  # a path deeper than Python's stack: assume zeros, stay exact
            return (f"tensor '{name}' (its producers are too deep to analyse, so taken to hold "
                    "zeros)")

    def source(self, name: str) -> str | None:
        if name not in self.memo:
            self.memo[name] = self._compute(name)
        return self.memo[name]

    def _compute(self, name: str) -> str | None:
        graph = self.graph
        if name in graph.constants:
            return f"constant '{name}', which holds zeros" if _has_zero(graph.constants[name]) \
                else None
        node = graph.producer.get(name)
        if node is None:
            return f"graph input '{name}'"
        binarizer = self.binarizers.get(name)
        if binarizer is not None:  # a ±1 tensor is 0 only where an ONNX Sign of 0 left it 0
            if binarizer.zero_to != 0 or binarizer.offset is not None:
                return None
            return self.source(binarizer.source)
        op = node.op_type
        if op in _NEVER_ZERO:
            return None
        if op in _KEEP_ZEROS:  # chains of these can be long: walk them without recursion
            while node is not None and node.op_type in _KEEP_ZEROS and name not in self.memo:
                name = node.input[0]
                node = graph.producer.get(name)
            return self.source(name)
        if op in _MAKE_ZEROS:
            return f"{op} node '{node.name}'"
        if op == "Clip":
            return self._clip(node)
        if op == "Pad":
            return self._pad(node)
        if op in ("Concat", "Max", "Min", "Sum"):
            return self._any(node.input)
        if op == "Where":
            return self._any(node.input[1:])
        if op == "Mul":
            return self._any(node.input)
        if op in ("Add", "Sub"):
            return self._add(node)
        if op == "BatchNormalization":
            return self._batch_norm(node)
        if op in _LAYERS:
            return self._layer(node)
        return f"{op} node '{node.name}' (not analysed, so taken to hold zeros)"

    def _any(self, names) -> str | None:
        for name in names:
            if name and (found := self.source(name)) is not None:
                return found
        return None

    def _clip(self, node: onnx.NodeProto) -> str | None:
        low, high = clip_bounds(self.graph, node)
        if low is None:
            return f"Clip node '{node.name}' (computed bounds)"
        if low == 0 or high == 0:
            return f"Clip node '{node.name}' (bound at 0)"
        return self.source(node.input[0]) if low < 0 < high else None

    def _pad(self, node: onnx.NodeProto) -> str | None:
        value_name = optional_input(node, 2)
        value = attr(node, "value", 0.0)
        if value_name:
            if not self.graph.is_const(value_name):
                return f"Pad node '{node.name}' (computed value)"
            value = float(np.asarray(self.graph.constants[value_name]).reshape(-1)[0])
        if attr(node, "mode", "constant") == "constant" and value == 0:
            return f"Pad node '{node.name}' (zero padding)"
        return self.source(node.input[0])

    def _add(self, node: onnx.NodeProto) -> str | None:
        constants = [i for i in node.input if self.graph.is_const(i)]
        variables = [i for i in node.input if not self.graph.is_const(i)]
        if constants:  # a bias: zeros stay zeros only where it is 0
            if not any(_has_zero(self.graph.constants[c]) for c in constants):
                return None
            return self._any(variables)
        found = [self.source(v) for v in variables]  # both terms 0 at once
        return found[0] if all(f is not None for f in found) else None

    def _batch_norm(self, node: onnx.NodeProto) -> str | None:
        names = node.input[1:5]
        if not all(self.graph.is_const(n) for n in names):
            return f"BatchNormalization node '{node.name}' (computed parameters)"
        scale, bias, mean, var = (self.graph.constants[n].astype(np.float64) for n in names)
        shift = bias - mean * scale / np.sqrt(var + attr(node, "epsilon", 1e-5))
        return self.source(node.input[0]) if _has_zero(shift) else None

    def _layer(self, node: onnx.NodeProto) -> str | None:
        bias = optional_input(node, 2) if node.op_type != "MatMul" else ""
        if bias and self.graph.is_const(bias) and not _has_zero(self.graph.constants[bias]):
            return None
        if node.input[0] in self.binarizers:  # a ±1 dot product is 0 when half disagree
            return f"binary layer '{node.name}', which has no bias,"
        return self.source(node.input[0])


def _has_zero(array: np.ndarray) -> bool:
    return bool((np.asarray(array) == 0).any())
