"""Lowering of elementwise float ops: Add/Sub/Mul/Div, BatchNormalization, Relu, Sigmoid, Tanh,
Clip, PRelu, LeakyRelu. Constants are rewritten into the engine layout of the activation they meet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import onnx

from xnorinfer.onnx.layout import (channel_vector, engine_const, engine_shape,
                                   flat_feature_order, to_flat_rank2, to_nhwc, to_same)
from xnorinfer.onnx.onnx_graph import attr
from xnorinfer.onnx.patterns import clip_bounds
from xnorinfer.onnx.states import FLAT_NHWC, NHWC, SAME, State, Tensor

if TYPE_CHECKING:
    from xnorinfer.onnx.lower import Lowering


def lower_arithmetic(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    """Add, Sub, Mul, Div of two activations or of an activation and a constant."""
    first, second = node.input
    builder = ctx.builder
    if ctx.graph.is_const(first) or ctx.graph.is_const(second):
        variable = second if ctx.graph.is_const(first) else first
        x = ctx.tensor(variable, node)
        const_name = first if variable == second else second
        const = builder.constant(f"{node.name}:c",
                                 engine_const(ctx.const(const_name, node), x))
        inputs = [const, x.value] if variable == second else [x.value, const]
        reference = x
    else:
        a, b = _common_layout(ctx, node, ctx.tensor(first, node), ctx.tensor(second, node))
        inputs, reference = [a.value, b.value], a if a.rank >= b.rank else b
    onnx_shape = ctx.graph.shape(node.output[0])
    if reference.layout == FLAT_NHWC:
        shape = reference.engine_shape
    else:
        shape = engine_shape(onnx_shape, reference.layout)
    (value,) = builder.node(node.op_type, inputs, [(node.output[0], shape, "float32")],
                            source=node.name)
    return [Tensor(value, reference.layout, onnx_shape, tuple(shape), reference.chw)]


def _common_layout(ctx: Lowering, node: onnx.NodeProto, a: Tensor, b: Tensor
                   ) -> tuple[Tensor, Tensor]:
    """Both operands in one layout: NHWC when both are rank 4 and one is NHWC, else ONNX."""
    builder = ctx.builder
    if a.layout == b.layout and a.rank == b.rank and a.layout != FLAT_NHWC:
        return a, b
    if a.layout == b.layout == FLAT_NHWC and a.chw == b.chw:
        return to_flat_rank2(builder, a, node.name), to_flat_rank2(builder, b, node.name)
    if a.rank == b.rank == 4 and NHWC in (a.layout, b.layout):
        return to_nhwc(builder, a, node.name), to_nhwc(builder, b, node.name)
    return to_same(builder, a, node.name), to_same(builder, b, node.name)


def lower_batchnorm(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    if attr(node, "training_mode", 0):
        raise ctx.error(node, "training_mode=1 is not supported (export in eval mode)")
    gamma, beta, mean, var = (ctx.const(name, node, "statistics").astype(np.float64)
                              for name in node.input[1:5])
    scale = gamma / np.sqrt(var + attr(node, "epsilon", 1e-5))
    bias = beta - mean * scale
    x = ctx.tensor(node.input[0], node)
    return [channel_affine(ctx, node, x, scale.astype(np.float32), bias.astype(np.float32))]


def channel_affine(ctx: Lowering, node: onnx.NodeProto, x: Tensor, scale: np.ndarray,
                   bias: np.ndarray) -> Tensor:
    """``x * scale + bias`` per ONNX channel (axis 1) as a ChannelAffine on the engine's last
    axis; other ranks get a Mul and an Add."""
    builder = ctx.builder
    if x.rank == 4:
        x = to_nhwc(builder, x, node.name)
    elif x.layout == FLAT_NHWC:
        x = to_flat_rank2(builder, x, node.name)
        order = flat_feature_order(x.chw)
        scale, bias = scale[order], bias[order]
    if x.rank in (2, 4):
        inputs = [builder.constant(f"{node.name}:scale", scale),
                  builder.constant(f"{node.name}:bias", bias)]
        return ctx.unary("ChannelAffine", x, node.name, inputs=inputs)
    x = to_same(builder, x, node.name)
    per_channel = (-1,) + (1,) * (x.rank - 2)
    scaled = ctx.unary("Mul", x, node.name,
                       inputs=[builder.constant(f"{node.name}:scale", scale.reshape(per_channel))])
    return ctx.unary("Add", scaled, node.name,
                     inputs=[builder.constant(f"{node.name}:bias", bias.reshape(per_channel))])


def lower_activation(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    """Relu, Sigmoid, Tanh: the engine op of the same name, in any layout."""
    return [ctx.unary(node.op_type, ctx.tensor(node.input[0], node), node.name)]


def lower_clip(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    low, high = clip_bounds(ctx.graph, node)
    if low is None:
        raise ctx.error(node, "its min and max must be constants")
    return [ctx.unary("Clip", ctx.tensor(node.input[0], node), node.name,
                      {"min": low, "max": high})]


def lower_prelu(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    slope = ctx.const(node.input[1], node, "slope")
    return [_prelu(ctx, node, ctx.tensor(node.input[0], node), slope)]


def lower_leaky_relu(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    slope = np.array([attr(node, "alpha", 0.01)], dtype=np.float32)
    return [_prelu(ctx, node, ctx.tensor(node.input[0], node), slope)]


def _prelu(ctx: Lowering, node: onnx.NodeProto, x: Tensor, slope: np.ndarray) -> Tensor:
    """PRelu with a slope that is one scalar or one value per engine channel (last axis)."""
    if slope.size == 1:
        vector = np.asarray(slope, dtype=np.float32).reshape(1)
    else:
        if x.rank == 4 and x.layout == SAME:
            x = to_nhwc(ctx.builder, x, node.name)
        vector = channel_vector(engine_const(slope, x), x.engine_shape[-1])
        if vector is None:
            raise ctx.error(node, f"its slope of shape {list(slope.shape)} is not one value "
                                  "per channel")
    return ctx.unary("PRelu", x, node.name,
                     inputs=[ctx.builder.constant(f"{node.name}:slope", vector)])


RULES = {
    "Add": lower_arithmetic, "Sub": lower_arithmetic, "Mul": lower_arithmetic,
    "Div": lower_arithmetic, "BatchNormalization": lower_batchnorm, "Relu": lower_activation,
    "Sigmoid": lower_activation, "Tanh": lower_activation,
    "Clip": lower_clip, "PRelu": lower_prelu, "LeakyRelu": lower_leaky_relu,
}
