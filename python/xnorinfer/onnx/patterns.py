"""Recognize the ONNX subgraphs that binarize an activation, and XNOR-Net's A map.

A binarizer turns ``x`` into ±1 by the sign of ``x + offset``. The forms exporters produce:

- ``Sign(x)``; ``Sign`` of a binarizer (idempotent);
- ``Sign(b + c)`` with b a binarizer and a constant 0 < |c| < 1: Larq's ``Sign(Sign(x) + 0.1)``,
  where an exact 0 becomes sign(c);
- straight-through estimators: an ``Add``/``Sub``/``Neg`` tree whose terms cancel exactly down to
  one binarizer, e.g. ``x + (Sign(x) - x)`` or ``Sign(x) - Clip(x) + Clip(x)`` (terms cancel
  when they are the same tensor or identical subgraphs of the same inputs);
- ``Where(x >= t, 1, -1)`` and its ``Greater``/``Less``/``LessOrEqual``/``Not`` variants;
- the same comparison cast to float and mapped to ±1 by constant arithmetic:
  ``Cast(x >= 0) * 2 - 1``, ``1 - 2 * Cast(x < 0)``;
- a ``Clip`` with min < 0 < max directly under a ``Sign`` (does not change the sign), and an
  ``Add``/``Sub`` of a constant under a ``Sign`` (ReActNet's RSign: it becomes the offset).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from xnorinfer.onnx.onnx_graph import OnnxGraph, attr, broadcasts_into, optional_input

STRUCTURE_DEPTH = 6  # how deep two subgraphs are compared when deciding that terms cancel

# For "Less(t, x)" style comparisons, the relation of x to t with the operands swapped.
_SWAPPED = {"Greater": "Less", "GreaterOrEqual": "LessOrEqual", "Less": "Greater",
            "LessOrEqual": "GreaterOrEqual"}
_NEGATED = {"Greater": "LessOrEqual", "GreaterOrEqual": "Less", "Less": "GreaterOrEqual",
            "LessOrEqual": "Greater"}
# Arithmetic by constants that maps a comparison cast to float (0 or 1) to ±1.
_ARITHMETIC = ("Add", "Sub", "Mul", "Div", "Neg")


@dataclass(frozen=True, eq=False)
class Binarizer:
    """``tensor = binarize(source + offset)`` with an exact 0 mapped to ``zero_to``."""

    source: str
    offset: np.ndarray | None
    zero_to: int
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class AbsMean:
    """``tensor = mean(|source|)`` over ``axes`` with kept dims: XNOR-Net's A map (the channel
    axis) or β (every axis but the batch)."""

    source: str
    axes: tuple[int, ...]
    nodes: tuple[str, ...]


def find_binarizers(graph: OnnxGraph) -> dict[str, Binarizer]:
    """Every tensor of the graph that is a binarizer, by tensor name."""
    found: dict[str, Binarizer] = {}
    keys = _StructuralKeys(graph)
    for node in graph.nodes:
        if node.op_type == "Sign":
            match = _match_sign(graph, node, found)
        elif node.op_type in _ARITHMETIC:
            match = _match_cast_comparison(graph, node)
            if match is None and node.op_type in ("Add", "Sub"):
                match = _match_ste_tree(graph, node, found, keys)
        elif node.op_type == "Where":
            match = _match_where(graph, node)
        else:
            continue
        if match is not None:
            found[node.output[0]] = match
    return found


def find_abs_means(graph: OnnxGraph) -> dict[str, AbsMean]:
    """Every mean of |x| over some axes with kept dims, by tensor name. The spellings:
    ``ReduceMean(Abs(x))``, and ``ReduceL1(x)`` or ``ReduceSum(Abs(x))`` divided by the number
    of elements it sums (``Div`` by it, or ``Mul`` by its reciprocal)."""
    found = {}
    for node in graph.nodes:
        if node.op_type == "ReduceMean":
            match = _abs_reduction(graph, node, abs_input=True)
        elif node.op_type in ("Div", "Mul"):
            match = _abs_sum_over_count(graph, node)
        else:
            continue
        if match is not None:
            found[node.output[0]] = match
    return found


def _abs_reduction(graph: OnnxGraph, node: onnx.NodeProto, abs_input: bool) -> AbsMean | None:
    """``reduce(Abs(x))`` (abs_input) or ``ReduceL1(x)`` over constant axes with kept dims."""
    if attr(node, "keepdims", 1) != 1:
        return None
    source, nodes = node.input[0], (node.name,)
    if abs_input:
        abs_node = graph.producer.get(source)
        if abs_node is None or abs_node.op_type != "Abs":
            return None
        source, nodes = abs_node.input[0], (abs_node.name, node.name)
    axes = attr(node, "axes")
    if axes is None and graph.is_const(optional_input(node, 1)):
        axes = graph.constants[node.input[1]].tolist()
    if not axes or not graph.shapes.get(source):
        return None
    rank = graph.rank(source)
    return AbsMean(source, tuple(sorted(a % rank for a in axes)), nodes)


def _abs_sum_over_count(graph: OnnxGraph, node: onnx.NodeProto) -> AbsMean | None:
    """``ReduceL1(x) / n`` or ``ReduceSum(Abs(x)) * (1 / n)`` with n the count summed."""
    summed, const = node.input
    if not graph.is_const(const):
        return None
    reduction = graph.producer.get(summed)
    if reduction is None or reduction.op_type not in ("ReduceL1", "ReduceSum"):
        return None
    match = _abs_reduction(graph, reduction, abs_input=reduction.op_type == "ReduceSum")
    values = np.asarray(graph.constants[const], dtype=np.float64).reshape(-1)
    if match is None or values.size != 1:
        return None
    shape = graph.shapes[match.source]
    count = float(np.prod([shape[a] for a in match.axes]))
    divisor = values[0] if node.op_type == "Div" else 1.0 / values[0] if values[0] else 0.0
    if count <= 0 or abs(divisor - count) > 1e-6 * count:
        return None
    return AbsMean(match.source, match.axes, match.nodes + (node.name,))


def _match_sign(graph: OnnxGraph, node: onnx.NodeProto, found: dict[str, Binarizer]
                ) -> Binarizer:
    inner = node.input[0]
    if inner in found:
        return _extend(found[inner], node)
    nudged = _match_sign_of_nudged_binarizer(graph, inner, found)
    if nudged is not None:
        return _extend(nudged, node)
    source, offset, nodes = _peel_clip_and_offset(graph, inner)
    return Binarizer(source, offset, 0, nodes + (node.name,))


def _match_sign_of_nudged_binarizer(graph: OnnxGraph, name: str, found: dict[str, Binarizer]
                                    ) -> Binarizer | None:
    """``b + c`` (or ``b - c``) with b a binarizer and a constant 0 < |c| < 1."""
    node = graph.producer.get(name)
    if node is None or node.op_type not in ("Add", "Sub"):
        return None
    binarized, const_name = node.input
    if node.op_type == "Add" and binarized not in found:
        binarized, const_name = const_name, binarized
    if binarized not in found or not graph.is_const(const_name):
        return None
    const = graph.constants[const_name]
    nudge = float(const.reshape(-1)[0]) if const.size else 0.0
    if not (const == nudge).all() or not 0 < abs(nudge) < 1:
        return None
    nudge = -nudge if node.op_type == "Sub" else nudge
    inner = found[binarized]
    zero_to = int(np.sign(nudge)) if inner.zero_to == 0 else inner.zero_to
    return Binarizer(inner.source, inner.offset, zero_to, inner.nodes + (node.name,))


def _peel_clip_and_offset(graph: OnnxGraph, name: str
                          ) -> tuple[str, np.ndarray | None, tuple[str, ...]]:
    """Walk down from a Sign's input through sign-preserving Clips, then constant Add/Subs."""
    nodes: list[str] = []
    node = graph.producer.get(name)
    while node is not None and node.op_type == "Clip" and _clip_keeps_sign(graph, node):
        nodes.append(node.name)
        name = node.input[0]
        node = graph.producer.get(name)
    offset = None
    while node is not None and node.op_type in ("Add", "Sub"):
        split = _constant_operand(graph, node)
        if split is None:
            break
        name, const = split
        offset = const if offset is None else offset + const
        nodes.append(node.name)
        node = graph.producer.get(name)
    return name, offset, tuple(reversed(nodes))


def _clip_keeps_sign(graph: OnnxGraph, node: onnx.NodeProto) -> bool:
    low, high = clip_bounds(graph, node)
    return low is not None and low < 0 < high


def clip_bounds(graph: OnnxGraph, node: onnx.NodeProto) -> tuple[float | None, float | None]:
    """A Clip's (min, max) with ±inf for absent bounds; (None, None) when not constant."""
    bounds = []
    for index, attr_name, default in ((1, "min", -np.inf), (2, "max", np.inf)):
        name = optional_input(node, index)
        if name and not graph.is_const(name):
            return None, None
        bound = graph.constants[name] if name else attr(node, attr_name, default)
        bounds.append(float(np.asarray(bound).reshape(-1)[0]))
    return bounds[0], bounds[1]


def _constant_operand(graph: OnnxGraph, node: onnx.NodeProto) -> tuple[str, np.ndarray] | None:
    """For ``x + c``, ``c + x`` or ``x - c``: (x, the constant added to x)."""
    first, second = node.input
    if graph.is_const(second) and not graph.is_const(first):
        const = graph.constants[second].astype(np.float32)
        variable = first
        if node.op_type == "Sub":
            const = -const
    elif node.op_type == "Add" and graph.is_const(first) and not graph.is_const(second):
        const, variable = graph.constants[first].astype(np.float32), second
    else:
        return None
    shape = graph.shapes.get(variable)
    if shape is None or not broadcasts_into(const.shape, shape):
        return None
    return variable, const


def _match_ste_tree(graph: OnnxGraph, root: onnx.NodeProto, found: dict[str, Binarizer],
                    keys: "_StructuralKeys") -> Binarizer | None:
    """An Add/Sub/Neg tree whose terms cancel to exactly one binarizer."""
    coefficients: Counter = Counter()
    representative: dict[object, str] = {}
    tree_nodes: list[str] = []
    stack = [(root.output[0], 1)]
    while stack:
        name, sign = stack.pop()
        node = graph.producer.get(name)
        is_root = node is root
        inner_only = len(graph.consumers.get(name, [])) == 1 and name not in graph.outputs
        if node is not None and node.op_type in ("Add", "Sub", "Neg") and (is_root or inner_only):
            tree_nodes.append(node.name)
            stack.append((node.input[0], sign))
            if node.op_type != "Neg":
                stack.append((node.input[1], sign if node.op_type == "Add" else -sign))
            continue
        key = keys.key(name)
        coefficients[key] += sign
        representative.setdefault(key, name)
    remaining = [(key, c) for key, c in coefficients.items() if c != 0]
    if len(remaining) != 1 or remaining[0][1] != 1:
        return None
    survivor = representative[remaining[0][0]]
    if survivor not in found:
        return None
    inner = found[survivor]
    return Binarizer(inner.source, inner.offset, inner.zero_to, inner.nodes + tuple(tree_nodes))


def _match_where(graph: OnnxGraph, node: onnx.NodeProto) -> Binarizer | None:
    """``Where(compare(x, t), +1, -1)`` (or -1, +1)."""
    condition, if_true, if_false = node.input
    output_shape = graph.shapes.get(node.output[0])
    true_value = _uniform_value(graph, if_true, output_shape)
    false_value = _uniform_value(graph, if_false, output_shape)
    return _match_condition(graph, condition, true_value, false_value, [node.name])


def _match_cast_comparison(graph: OnnxGraph, node: onnx.NodeProto) -> Binarizer | None:
    """``scale * Cast(compare(x, t)) + shift`` written as a chain of Mul/Div/Add/Sub/Neg by
    constants, e.g. ``(x >= 0).float() * 2 - 1``: the same as ``Where(compare, scale + shift,
    shift)``."""
    scale, shift = 1.0, 0.0  # node output = scale * (current tensor) + shift
    nodes = []
    current = node
    while current.op_type in _ARITHMETIC:
        nodes.append(current.name)
        if current.op_type == "Neg":
            inner, scale = current.input[0], -scale
        else:
            split = _uniform_operand(graph, current)
            if split is None:
                return None
            inner, value, value_first = split
            if current.op_type == "Mul":
                scale *= value
            elif current.op_type == "Div" and not value_first and value != 0:
                scale /= value
            elif current.op_type == "Add":
                shift += scale * value
            elif current.op_type == "Sub" and value_first:  # c - t
                shift, scale = shift + scale * value, -scale
            elif current.op_type == "Sub":  # t - c
                shift -= scale * value
            else:
                return None  # c / t, or a division by 0
        current = graph.producer.get(inner)
        if current is None:
            return None
    if current.op_type != "Cast":
        return None
    nodes.append(current.name)
    return _match_condition(graph, current.input[0], scale + shift, shift, nodes)


def _uniform_operand(graph: OnnxGraph, node: onnx.NodeProto) -> tuple[str, float, bool] | None:
    """For a binary op with one uniform operand: (the other input, the value, whether the
    uniform operand comes first)."""
    first, second = node.input
    shape = graph.shapes.get(node.output[0])
    for uniform, other, uniform_first in ((second, first, False), (first, second, True)):
        value = _uniform_value(graph, uniform, shape)
        if value is not None and graph.shapes.get(other) == shape:
            return other, value, uniform_first
    return None


def _match_condition(graph: OnnxGraph, condition: str, true_value: float | None,
                     false_value: float | None, nodes: list[str]) -> Binarizer | None:
    """±1 chosen by ``compare(x, t)`` under any number of ``Not``: "+1 when x >= t" or "+1 when
    x > t". ``nodes`` are the binarizer's nodes above the condition, outermost first."""
    if {true_value, false_value} != {1.0, -1.0}:
        return None
    negations = 0 if true_value == 1.0 else 1
    compare = graph.producer.get(condition)
    while compare is not None and compare.op_type == "Not":
        nodes.append(compare.name)
        negations += 1
        compare = graph.producer.get(compare.input[0])
    if compare is None or compare.op_type not in _SWAPPED:
        return None
    left, right = compare.input
    if graph.is_const(right) and not graph.is_const(left):
        variable, threshold, relation = left, graph.constants[right], compare.op_type
    elif graph.is_const(left) and not graph.is_const(right):
        variable, threshold, relation = right, graph.constants[left], _SWAPPED[compare.op_type]
    else:
        return None
    if negations % 2:
        relation = _NEGATED[relation]
    if relation not in ("GreaterOrEqual", "Greater"):
        return None  # +1 for small x: the negated binarizer, which the engine does not have
    offset = None if not threshold.any() else -threshold.astype(np.float32)
    zero_to = 1 if relation == "GreaterOrEqual" else -1
    return Binarizer(variable, offset, zero_to, (compare.name, *reversed(nodes)))


def _uniform_value(graph: OnnxGraph, name: str, shape: tuple[int, ...] | None) -> float | None:
    """The one value every element of ``name`` holds, when it holds one and broadcasting it
    into ``shape`` leaves that shape unchanged: a constant, or ``ones_like``-style
    Expand/ConstantOfShape/Neg/Cast of one (the dynamo exporter's ``torch.where`` branches)."""
    if shape is None or graph.shapes.get(name) is None:
        return None
    if not broadcasts_into(tuple(max(d, 1) for d in graph.shapes[name]),
                           tuple(max(d, 1) for d in shape)):
        return None
    if graph.is_const(name):
        flat = np.asarray(graph.constants[name], dtype=np.float64).reshape(-1)
        return float(flat[0]) if flat.size and (flat == flat[0]).all() else None
    node = graph.producer.get(name)
    if node is None:
        return None
    if node.op_type == "ConstantOfShape":
        value = attr(node, "value")
        return float(numpy_helper.to_array(value).reshape(-1)[0]) if value else 0.0
    if node.op_type not in ("Expand", "Neg", "Cast", "Identity"):
        return None
    inner = _uniform_value(graph, node.input[0], graph.shapes.get(node.input[0]))
    if inner is None:
        return None
    return -inner if node.op_type == "Neg" else inner


def _extend(binarizer: Binarizer, node: onnx.NodeProto) -> Binarizer:
    return Binarizer(binarizer.source, binarizer.offset, binarizer.zero_to,
                     binarizer.nodes + (node.name,))


class _StructuralKeys:
    """Keys equal for the same tensor or for identical subgraphs over the same inputs."""

    def __init__(self, graph: OnnxGraph) -> None:
        self.graph = graph
        self.memo: dict[tuple[str, int], object] = {}

    def key(self, name: str, depth: int = STRUCTURE_DEPTH) -> object:
        memo_key = (name, depth)
        if memo_key not in self.memo:
            self.memo[memo_key] = self._compute(name, depth)
        return self.memo[memo_key]

    def _compute(self, name: str, depth: int) -> object:
        graph = self.graph
        if graph.is_const(name):
            value = np.ascontiguousarray(graph.constants[name])
            digest = hashlib.sha1(value.tobytes()).hexdigest()
            return ("const", str(value.dtype), value.shape, digest)
        node = graph.producer.get(name)
        if node is None or depth == 0:
            return ("tensor", name)
        attributes = tuple(sorted((a.name, str(a)) for a in node.attribute))
        inputs = tuple(self.key(i, depth - 1) if i else "" for i in node.input)
        return ("node", node.domain, node.op_type, attributes, inputs,
                list(node.output).index(name))
