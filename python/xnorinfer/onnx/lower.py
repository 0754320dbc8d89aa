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
from xnorinfer.onnx.patterns import (AbsMean, clip_bounds, find_abs_means,
                                     find_binarizers)
from xnorinfer.onnx.states import NHWC, SAME, Binarized, Padded, State, Tensor
from xnorinfer.onnx.zeros import ZeroAnalysis

Rule = Callable[["Lowering", onnx.NodeProto], list[State]]

RULES: dict[str, Rule] = {
    **lower_layers.RULES, **lower_elementwise.RULES, **lower_shape.RULES, **lower_pool.RULES}

# Ops that pass a real-valued input on as real-valued (to find a Hardtanh behind them).
_VALUE_PRESERVING_OPS = frozenset({
    "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout",
    "MaxPool", "AveragePool", "GlobalAveragePool", "Concat", "LeakyRelu", "PRelu"})

SIGN_ZERO_MODES = ("auto", "exact", "plus_one")

PLUS_ONE_NOTE = (
    "sign(0): with sign_zero='plus_one' the engine binarizes 0 to +1 (bit = x < 0), but ONNX "
    "Sign(0) = 0. The input of binarizer '{node}' comes from {producer} and can be exactly 0, "
    "so results differ from onnxruntime where it is.")

TERNARY_NOTE = (
    "sign(0): {layers} read{s} binarized input that can be exactly 0 (ONNX Sign(0) = 0), so "
    "{they} run{s_} the exact two-plane (sign + nonzero mask) kernels; see the reason column. "
    "sign_zero='plus_one' trades this exactness for the one-plane kernels.")

HARDTANH_INPUT_NOTE = (
    "{layers} binary weights but real-valued input from a Hardtanh (Clip -1..1) with no "
    "binarizer in between, so it runs as BWN, as the ONNX model computes. If the "
    "PyTorch model binarizes activations by assigning `input.data = input.data.sign()` "
    "(BinaryNet.pytorch), the ONNX exporter dropped that: binarize with `torch.sign(input)` or "
    "a straight-through estimator and export again.")


class Lowering:
    """The state of one conversion: ONNX tensor states, the engine graph being built, and what
    the report needs (why layers stayed float, notes)."""

    def __init__(self, graph: OnnxGraph, *, allow_float: bool, sign_zero: str = "auto",
                 on_node: Callable[[], None] | None = None) -> None:
        if sign_zero not in SIGN_ZERO_MODES:
            raise ValueError(f"sign_zero must be one of {', '.join(SIGN_ZERO_MODES)}, got "
                             f"{sign_zero!r}")
        self.graph = graph
        self.allow_float = allow_float
        self.sign_zero = sign_zero
        self.builder = GraphBuilder(reserved_names=graph.outputs)
        self.binarizers = find_binarizers(graph)
        self.zeros = ZeroAnalysis(graph, self.binarizers)
        self.abs_means = find_abs_means(graph)
        self.states: dict[str, State] = {}
        self.float_reasons: dict[str, str] = {}  # ONNX node name -> why it stayed float
        self.notes: list[str] = []
        self.abs_mean_values: set[str] = set()   # engine values that are BinarizePack A maps
        self.ternary_layers: dict[str, str] = {}  # ONNX layer -> why its input is ternary
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
        if self.ternary_layers:
            names = ", ".join(f"'{name}'" for name in self.ternary_layers)
            plural = len(self.ternary_layers) > 1
            self.notes.append(TERNARY_NOTE.format(
                layers=f"layers {names}" if plural else f"layer {names}", s="" if plural else "s",
                they="they" if plural else "it", s_="" if plural else "s"))
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

    def pack(self, binarized: Binarized, x: Tensor, layer: onnx.NodeProto) -> str:
        """Packed bits (or ternary planes) of ``binarized`` for binary layer ``layer``, whose
        source in the layout the layer needs is ``x``.

        The offset becomes the BinarizePack's per-channel offset; an offset that varies along
        other axes is added as a float Add first.
        """
        source = ",".join(binarized.nodes)
        channels = x.engine_shape[-1]
        offset = None
        if binarized.offset is not None:
            offset = channel_vector(engine_const(binarized.offset, x), channels)
            if offset is None:
                x, offset = self.add_const(x, binarized.offset, source), None
        ternary = self.ternary_reason(binarized.zero_to, binarized.offset, binarized.onnx_source)
        if ternary:
            self.ternary_layers[layer.name] = ternary
        elif self.sign_zero == "plus_one":
            self._note_plus_one(binarized)
        return self.pack_node(x, offset, source, ternary=bool(ternary)).outputs[0]

    def ternary_reason(self, zero_to: int, offset: np.ndarray | None, onnx_source: str) -> str:
        """Why a binarizer of ``onnx_source`` needs the ternary form (ONNX Sign(0) = 0), or ""
        when one bit plane is exact (or sign_zero='plus_one' says to use it anyway)."""
        if zero_to != 0 or self.sign_zero == "plus_one":
            return ""
        if self.sign_zero == "exact":
            return "exact sign(0): sign_zero='exact'"
        producer = self._zero_producer(offset, onnx_source)
        return f"exact sign(0): its input can be 0 (from {producer})" if producer else ""

    def _zero_producer(self, offset: np.ndarray | None, onnx_source: str) -> str | None:
        """What can make a binarizer's input exactly 0 (None with an offset: x + b is 0 only
        by a float coincidence)."""
        if offset is not None:
            return None
        return self.zeros.zero_source(onnx_source)

    def _note_plus_one(self, binarized: Binarized) -> None:
        """With sign_zero='plus_one', say where 0 binarizes to +1 unlike ONNX."""
        producer = binarized.zero_to == 0 and self._zero_producer(binarized.offset,
                                                                  binarized.onnx_source)
        note = producer and PLUS_ONE_NOTE.format(node=binarized.nodes[-1], producer=producer)
        if note and note not in self.notes:
            self.notes.append(note)

    def pack_node(self, x: Tensor, offset: np.ndarray | None, source: str, *,
                  ternary: bool = False):
        """The one BinarizePack of ``x`` with this offset and form, emitted on first use."""
        key = (x.value, "pack", None if offset is None else offset.tobytes(), ternary)
        if key not in self.builder.memo:
            inputs = [x.value]
            if offset is not None:
                inputs.append(self.builder.constant(f"{source}:offset", offset))
            dtype = "ternary" if ternary else "bits"
            self.builder.node("BinarizePack", inputs, [(f"{x.value}:{dtype}", x.engine_shape, dtype)],
                              {"output": dtype}, source=source)
            self.builder.memo[key] = self.builder.nodes[-1]
        return self.builder.memo[key]

    def _abs_mean(self, node: onnx.NodeProto, abs_mean: AbsMean) -> Tensor:
        """Mean |x| over the channel axis (XNOR-Net's A map) or over all but the batch axis
        (the per-sample β): from the ``abs_mean`` output of x's BinarizePack, the one its
        binary layer reads, averaged over the positions by a GlobalAveragePool for β."""
        x = self.tensor(abs_mean.source, node)
        rank = x.rank
        if rank == 4 and abs_mean.axes in ((1,), (1, 2, 3)):
            x = to_nhwc(self.builder, x, node.name)
        whole_sample = abs_mean.axes == tuple(range(1, rank))
        last_axis = len(x.engine_shape) - 1
        over_channels = (len(abs_mean.axes) == 1 and x.layout in (SAME, NHWC)
                         and engine_axis(x, abs_mean.axes[0]) == last_axis)
        if not (over_channels or (whole_sample and (len(x.engine_shape) == 4 or rank == 2))):
            raise self.error(node, "mean |x| is supported over the channel axis (the XNOR-Net A "
                                   "map) or over all axes but the batch (β) only")
        pack = self.pack_node(x, None, node.name, ternary=self._abs_mean_pack_is_ternary(abs_mean))
        if len(pack.outputs) == 1:
            value = self.builder.fresh(f"{x.value}:abs_mean")
            shape = [*x.engine_shape[:-1], 1]
            self.builder.values[value] = ValueInfo(value, shape, "float32")
            pack.outputs.append(value)
        value = pack.outputs[1]
        self.abs_mean_values.add(value)
        onnx_shape = self.graph.shape(node.output[0])
        means = Tensor(value, x.layout, onnx_shape, tuple(self.builder.values[value].shape))
        if len(means.engine_shape) == 4 and whole_sample:  # β: the A map's mean per sample
            (value,) = self.builder.node("GlobalAveragePool", [value],
                                         [(f"{value}:mean", (means.engine_shape[0], 1, 1, 1),
                                           "float32")], source=node.name)
            if len(onnx_shape) != 4:
                (value,) = self.builder.node(
                    "Reshape", [value], [(f"{value}:rows", onnx_shape, "float32")],
                    {"shape": reshape_target((means.engine_shape[0], 1, 1, 1), onnx_shape)},
                    source=node.name)
                return Tensor(value, SAME, onnx_shape, tuple(onnx_shape))
            return Tensor(value, NHWC, onnx_shape, (means.engine_shape[0], 1, 1, 1))
        return means

    def _abs_mean_pack_is_ternary(self, abs_mean: AbsMean) -> bool:
        """Whether the binary layer that this A map or β scales reads the ternary form of the
        same tensor: the abs_mean must come from that very BinarizePack."""
        return any(b.source == abs_mean.source and self.ternary_reason(b.zero_to, b.offset, b.source)
                   for b in self.binarizers.values())

    def note_hardtanh_input(self, node: onnx.NodeProto) -> None:
        """Remember a layer with binary weights whose float input comes from a Hardtanh: the
        trace BinaryNet.pytorch's untraced ``input.data = sign(input.data)`` leaves."""
        producer = _first_producer_beyond(self.graph, node.input[0], _VALUE_PRESERVING_OPS)
        if (producer is not None and producer.op_type == "Clip"
                and clip_bounds(self.graph, producer) == (-1.0, 1.0)):
            self.hardtanh_input_layers.append(node.name)


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
