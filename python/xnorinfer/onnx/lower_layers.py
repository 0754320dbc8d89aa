"""Lowering of Conv, Gemm and MatMul: binary (XNOR), BWN or float layers.

- binarized input and ±alpha weights: ``BinaryConv2d`` / ``BinaryDense`` on packed bits;
- float input and ±alpha weights: ``BwnConv2d`` / ``BwnDense``;
- otherwise ``Conv2d`` / ``Dense``, with the reason recorded when the input was binarized.

A ``Pad`` in front of a Conv is folded: zeros into the conv's pads, ±1 on a binarized input
into ``pad_value``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import onnx

from xnorinfer.onnx.layout import (channel_vector, engine_const, engine_shape, flat_feature_order,
                                   nhwc_tensor, same_tensor, to_flat_rank2, to_nhwc, to_same)
from xnorinfer.onnx.onnx_graph import attr
from xnorinfer.onnx.states import FLAT_NHWC, NHWC, SAME, Binarized, Padded, State, Tensor
from xnorinfer.onnx.weights import (WeightVerdict, analyze_weights, pack_conv_weight,
                                    pack_dense_weight)

if TYPE_CHECKING:
    from xnorinfer.onnx.lower import Lowering

ZERO_TO_MINUS_ONE = ("its binarizer maps 0 to -1 (a strict comparison x > t); the engine's "
                     "binarization maps 0 to +1")


@dataclass(frozen=True)
class ConvGeometry:
    kernel_shape: tuple[int, int]
    strides: tuple[int, int]
    dilations: tuple[int, int]
    pads: tuple[int, int, int, int]  # top, left, bottom, right
    group: int

    def attrs(self) -> dict:
        return {"kernel_shape": self.kernel_shape, "strides": self.strides,
                "dilations": self.dilations, "pads": self.pads, "group": self.group}


def conv_geometry(node: onnx.NodeProto, input_hw: tuple[int, int],
                  kernel_hw: tuple[int, int]) -> ConvGeometry:
    """Geometry of an ONNX Conv or pool node, with ``auto_pad`` resolved to explicit pads."""
    strides = tuple(attr(node, "strides", [1, 1]))
    dilations = tuple(attr(node, "dilations", [1, 1]))
    auto_pad = attr(node, "auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for size, kernel, stride, dilation in zip(input_hw, kernel_hw, strides, dilations):
            total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1
                        - size, 0)
            small, large = total // 2, total - total // 2
            begins.append(small if auto_pad == "SAME_UPPER" else large)
            ends.append(large if auto_pad == "SAME_UPPER" else small)
        pads = (begins[0], begins[1], ends[0], ends[1])
    elif auto_pad == "VALID":
        pads = (0, 0, 0, 0)
    else:
        pads = tuple(attr(node, "pads", [0, 0, 0, 0]))
    return ConvGeometry(tuple(kernel_hw), strides, dilations, pads, attr(node, "group", 1))


def lower_conv(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    if ctx.graph.rank(node.input[0]) != 4:
        raise ctx.error(node, "only 2-D convolutions (rank-4 input) are supported")
    weight = ctx.const(node.input[1], node, "weight")
    bias = ctx.optional_const(node, 2, "bias")
    state = ctx.state(node.input[0], node)
    geometry = conv_geometry(node, ctx.graph.shape(node.input[0])[2:], weight.shape[2:])
    channels = ctx.graph.shape(node.input[0])[1]
    if weight.ndim != 4 or channels != weight.shape[1] * geometry.group:
        # ONNX shape inference does not check this.
        raise ctx.error(node, f"its weight of shape {list(weight.shape)} does not fit an input "
                              f"of {channels} channels in {geometry.group} group(s)")
    pad_value = 0.0
    if isinstance(state, Padded):
        geometry, pad_value = _fold_pad(ctx, node, state, geometry)
        state = state.inner
    verdict = analyze_weights(weight)
    if isinstance(state, Binarized):
        reason = _why_not_binary(state, verdict)
        if not reason and geometry.group > 1 and _ternary(ctx, state):
            reason = (f"grouped conv ({geometry.group} groups) on a binarized input that can be "
                      "exactly 0: the exact sign(0) kernels need group = 1")
        if not reason:
            return [_binary_conv(ctx, node, state, verdict, bias, geometry, int(pad_value))]
        ctx.keep_float(node, reason)
    elif verdict.looks_binary:
        ctx.keep_float(node, verdict.reason)
    elif verdict.binary:
        ctx.note_hardtanh_input(node)
    if pad_value != 0:
        raise ctx.error(node, f"a Pad with value {pad_value:g} before a float conv cannot be "
                              "folded (the engine pads float convs with zeros)")
    x = ctx.float_form(state) if isinstance(state, Binarized) else state
    x = to_nhwc(ctx.builder, x, node.name)
    if verdict.binary and x.value not in ctx.abs_mean_values:
        return [_bwn_conv(ctx, node, x, verdict, bias, geometry)]
    return [_float_conv(ctx, node, x, weight, bias, geometry)]


def _fold_pad(ctx: Lowering, node: onnx.NodeProto, padded: Padded, geometry: ConvGeometry
              ) -> tuple[ConvGeometry, float]:
    """Merge an ONNX Pad's spatial padding into the conv: zeros add to the pads, ±1 on a
    binarized input becomes ``pad_value`` (only when the conv has no zero padding of its own)."""
    begins, ends = padded.pads[:4], padded.pads[4:]
    if any(begins[:2]) or any(ends[:2]):
        raise ctx.error(node, f"Pad node '{padded.node}' pads the batch or channel axis")
    spatial = (begins[2], begins[3], ends[2], ends[3])
    if padded.value == 0:
        pads = tuple(a + b for a, b in zip(geometry.pads, spatial))
        return dataclasses.replace(geometry, pads=pads), 0.0
    if padded.value not in (1.0, -1.0) or not isinstance(padded.inner, Binarized):
        raise ctx.error(node, f"Pad node '{padded.node}' pads with {padded.value:g}; only "
                              "zeros, or ±1 around a binarized tensor, fold into a conv")
    if any(geometry.pads):
        raise ctx.error(node, f"it mixes Pad node '{padded.node}' (value {padded.value:g}) "
                              "with zero padding of its own")
    return dataclasses.replace(geometry, pads=spatial), padded.value


def _ternary(ctx: Lowering, state: Binarized) -> bool:
    return bool(ctx.ternary_reason(state.zero_to, state.offset, state.onnx_source))


def _why_not_binary(state: Binarized, verdict: WeightVerdict) -> str:
    if not state.bits_allowed:
        return ZERO_TO_MINUS_ONE
    return "" if verdict.binary else f"binarized input, but {verdict.reason}"


def _bias_or_zeros(bias: np.ndarray | None, channels: int) -> np.ndarray:
    if bias is None:
        return np.zeros(channels, dtype=np.float32)
    return np.broadcast_to(np.asarray(bias, dtype=np.float32).reshape(-1), (channels,)).copy()


def _emit_conv(ctx: Lowering, node: onnx.NodeProto, op: str, inputs: list[str], attrs: dict
               ) -> Tensor:
    """Emit a conv-like engine node whose output is the ONNX output stored NHWC."""
    onnx_shape = ctx.graph.shape(node.output[0])
    (value,) = ctx.builder.node(op, inputs, [(node.output[0], engine_shape(onnx_shape, NHWC),
                                              "float32")], attrs, source=node.name)
    return nhwc_tensor(value, onnx_shape)


def _binary_conv(ctx: Lowering, node: onnx.NodeProto, state: Binarized, verdict: WeightVerdict,
                 bias: np.ndarray | None, geometry: ConvGeometry, pad_value: int) -> Tensor:
    source = to_nhwc(ctx.builder, state.source, node.name)
    bits = ctx.pack(state, source, node)
    out_channels = verdict.alpha.shape[0]
    builder = ctx.builder
    inputs = [bits, builder.constant(f"{node.name}:weight", pack_conv_weight(verdict.negative)),
              builder.constant(f"{node.name}:scale", verdict.alpha),
              builder.constant(f"{node.name}:bias", _bias_or_zeros(bias, out_channels))]
    attrs = {**geometry.attrs(), "in_channels": source.engine_shape[-1],
             "pad_value": pad_value, "output": "float"}
    return _emit_conv(ctx, node, "BinaryConv2d", inputs, attrs)


def _bwn_conv(ctx: Lowering, node: onnx.NodeProto, x: Tensor, verdict: WeightVerdict,
              bias: np.ndarray | None, geometry: ConvGeometry) -> Tensor:
    builder = ctx.builder
    out_channels = verdict.alpha.shape[0]
    inputs = [x.value, builder.constant(f"{node.name}:weight", pack_conv_weight(verdict.negative)),
              builder.constant(f"{node.name}:scale", verdict.alpha),
              builder.constant(f"{node.name}:bias", _bias_or_zeros(bias, out_channels))]
    attrs = {**geometry.attrs(), "in_channels": x.engine_shape[-1], "pad_value": 0}
    return _emit_conv(ctx, node, "BwnConv2d", inputs, attrs)


def _float_conv(ctx: Lowering, node: onnx.NodeProto, x: Tensor, weight: np.ndarray,
                bias: np.ndarray | None, geometry: ConvGeometry) -> Tensor:
    builder = ctx.builder
    inputs = [x.value, builder.constant(f"{node.name}:weight", weight.transpose(0, 2, 3, 1)),
              "" if bias is None else builder.constant(f"{node.name}:bias",
                                                       _bias_or_zeros(bias, weight.shape[0]))]
    return _emit_conv(ctx, node, "Conv2d", inputs, geometry.attrs())


def lower_gemm(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    state = ctx.state(node.input[0], node)
    if attr(node, "transA", 0):
        state = _transposed_rows(ctx, node, state)
    weight = ctx.const(node.input[1], node, "B input (weight)").astype(np.float32)
    weight = weight if attr(node, "transB", 0) else weight.T
    weight = weight * np.float32(attr(node, "alpha", 1.0))
    bias = ctx.optional_const(node, 2, "C input (bias)")
    if bias is not None:
        if bias.ndim > 2 or bias.size not in (1, weight.shape[0]):
            raise ctx.error(node, f"its C input of shape {list(bias.shape)} is not a bias "
                                  "vector")
        bias = bias.astype(np.float32) * np.float32(attr(node, "beta", 1.0))
    return [_dense(ctx, node, state, weight, bias)]


def _transposed_rows(ctx: Lowering, node: onnx.NodeProto, state: State) -> State:
    """Gemm's A with transA = 1, as [M, K]: an engine Transpose of the float tensor (of the
    binarizer's source, for a binarized A whose offset is one value)."""
    if isinstance(state, Binarized):
        if state.offset is not None and state.offset.size != 1:
            raise ctx.error(node, "transA=1 on a binarizer with a per-feature offset is not "
                                  "supported")
        return dataclasses.replace(state, source=_transpose2(ctx, node, state.source))
    return _transpose2(ctx, node, ctx.tensor(node.input[0], node))


def _transpose2(ctx: Lowering, node: onnx.NodeProto, x: Tensor) -> Tensor:
    x = to_same(ctx.builder, x, node.name)
    shape = x.onnx_shape[::-1]
    (value,) = ctx.builder.node("Transpose", [x.value], [(f"{x.value}:t", shape, "float32")],
                                {"perm": [1, 0]}, source=node.name)
    return same_tensor(value, shape)


def lower_matmul(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    if ctx.graph.is_const(node.input[0]) and not ctx.graph.is_const(node.input[1]):
        raise ctx.error(node, "its first input is the constant (W @ x); the engine has MatMul "
                              "only as x @ W with a constant W (a Dense layer): write the layer "
                              "as F.linear(x, W) or x @ W.T and export again")
    if not ctx.graph.is_const(node.input[1]):
        raise ctx.error(node, "the engine has MatMul only with a constant second input "
                              "(a Dense layer)")
    weight = ctx.const(node.input[1], node, "second input")
    if weight.ndim != 2 or ctx.graph.rank(node.input[0]) < 2:
        raise ctx.error(node, "only an activation of rank >= 2 times a rank-2 constant is "
                              "supported ([..., K] x [K, N])")
    state = ctx.state(node.input[0], node)
    return [_dense(ctx, node, state, weight.T.astype(np.float32), None)]


def _dense(ctx: Lowering, node: onnx.NodeProto, state: State, weight: np.ndarray,
           bias: np.ndarray | None) -> Tensor:
    """A Dense-like layer ``y = x W^T + bias`` with ``weight`` ``[O, K]`` in ONNX feature order,
    on ``x`` ``[..., K]``: its leading axes are rows."""
    verdict = analyze_weights(weight)
    if isinstance(state, Binarized):
        reason = _why_not_binary(state, verdict)
        if not reason:
            return _binary_dense(ctx, node, state, verdict, bias)
        ctx.keep_float(node, reason)
    elif verdict.looks_binary:
        ctx.keep_float(node, verdict.reason)
    elif verdict.binary:
        ctx.note_hardtanh_input(node)
    if isinstance(state, Binarized):
        x = ctx.float_form(state)
    else:
        x = state if isinstance(state, Tensor) else ctx.tensor(node.input[0], node)
    order = slice(None)
    if x.layout == FLAT_NHWC:
        x = to_flat_rank2(ctx.builder, x, node.name)
        order = flat_feature_order(x.chw)
    else:
        x = to_same(ctx.builder, x, node.name)
    builder = ctx.builder
    out_shape = ctx.graph.shape(node.output[0])
    if verdict.binary:
        inputs = [x.value,
                  builder.constant(f"{node.name}:weight",
                                   pack_dense_weight(verdict.negative[:, order], 1)),
                  builder.constant(f"{node.name}:scale", verdict.alpha),
                  builder.constant(f"{node.name}:bias", _bias_or_zeros(bias, weight.shape[0]))]
        attrs = {"in_channels": weight.shape[1], "groups_in": 1}
        (value,) = builder.node("BwnDense", inputs, [(node.output[0], out_shape, "float32")],
                                attrs, source=node.name)
    else:
        inputs = [x.value, builder.constant(f"{node.name}:weight", weight[:, order]),
                  "" if bias is None else builder.constant(
                      f"{node.name}:bias", _bias_or_zeros(bias, weight.shape[0]))]
        (value,) = builder.node("Dense", inputs, [(node.output[0], out_shape, "float32")],
                                source=node.name)
    return Tensor(value, SAME, out_shape, out_shape)


def _binary_dense(ctx: Lowering, node: onnx.NodeProto, state: Binarized, verdict: WeightVerdict,
                  bias: np.ndarray | None) -> Tensor:
    """BinaryDense; a flatten of an NHWC tensor is read as H*W groups of C channels, and every
    leading axis of a [..., K] activation is a row axis."""
    source = state.source
    negative = verdict.negative
    groups = 1
    if source.layout == NHWC:
        source = to_same(ctx.builder, source, node.name)
    if source.layout == FLAT_NHWC:
        channels, height, width = source.chw
        if len(source.engine_shape) == 4 and _offset_per_channel(state, source, channels):
            groups = height * width
        else:
            source = to_flat_rank2(ctx.builder, source, node.name)
        negative = negative[:, flat_feature_order(source.chw)]
    bits = ctx.pack(state, source, node)
    out_channels = verdict.alpha.shape[0]
    builder = ctx.builder
    inputs = [bits, builder.constant(f"{node.name}:weight", pack_dense_weight(negative, groups)),
              builder.constant(f"{node.name}:scale", verdict.alpha),
              builder.constant(f"{node.name}:bias", _bias_or_zeros(bias, out_channels))]
    batch_axes = 1 if source.layout == FLAT_NHWC else len(source.engine_shape) - 1
    attrs = {"in_channels": source.engine_shape[-1], "groups_in": groups,
             "batch_axes": batch_axes, "output": "float"}
    out_shape = ctx.graph.shape(node.output[0])
    (value,) = builder.node("BinaryDense", inputs, [(node.output[0], out_shape, "float32")],
                            attrs, source=node.name)
    return Tensor(value, SAME, out_shape, out_shape)


def _offset_per_channel(state: Binarized, source: Tensor, channels: int) -> bool:
    """True when the binarizer's offset is one value per channel of the NHWC source."""
    if state.offset is None:
        return True
    return channel_vector(engine_const(state.offset, source), channels) is not None


RULES = {"Conv": lower_conv, "Gemm": lower_gemm, "MatMul": lower_matmul}
