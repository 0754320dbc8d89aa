"""Lowering of pooling and reductions: MaxPool, AveragePool, GlobalAveragePool, ReduceMean over
the spatial axes (or any run of consecutive non-batch axes), Softmax and LogSoftmax.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np
import onnx

from xnorinfer.onnx.layout import (engine_axis, engine_shape, nhwc_tensor, reshape_target,
                                   reshape_tensor, same_tensor, to_flat_rank2, to_nhwc, to_same)
from xnorinfer.onnx.lower_layers import conv_geometry
from xnorinfer.onnx.onnx_graph import attr, optional_input
from xnorinfer.onnx.states import FLAT_NHWC, NHWC, SAME, Binarized, State, Tensor

if TYPE_CHECKING:
    from xnorinfer.onnx.lower import Lowering


def lower_pool(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    """MaxPool and AveragePool over the two spatial axes.

    A MaxPool of a binarized tensor pools the binarizer's source instead: binarizing is
    monotone, so ``max(sign(x + b)) = sign(max(x) + b)`` for a per-channel b, and the result
    stays binary for the next layer.
    """
    if ctx.graph.rank(node.input[0]) != 4:
        raise ctx.error(node, "only 2-D pooling (rank-4 input) is supported")
    if len(node.output) > 1 and node.output[1] and node.output[1] in ctx.graph.consumers:
        raise ctx.error(node, "its Indices output is not supported")
    state = ctx.state(node.input[0], node)
    if (node.op_type == "MaxPool" and isinstance(state, Binarized)
            and _offset_is_per_channel(state.offset)):
        source = to_nhwc(ctx.builder, state.source, node.name)
        return [dataclasses.replace(state, source=_pool(ctx, node, source))]
    return [_pool(ctx, node, to_nhwc(ctx.builder, ctx.tensor(node.input[0], node), node.name))]


def _offset_is_per_channel(offset: np.ndarray | None) -> bool:
    """True for no offset, a scalar, or one that varies along the ONNX channel axis only."""
    if offset is None or offset.size == 1:
        return True
    full = offset.reshape((1,) * (4 - offset.ndim) + offset.shape)
    return full.shape[0] == 1 and full.shape[2:] == (1, 1)


def _pool(ctx: Lowering, node: onnx.NodeProto, x: Tensor) -> Tensor:
    geometry = conv_geometry(node, ctx.graph.shape(node.input[0])[2:],
                             tuple(attr(node, "kernel_shape")))
    attrs = {"kernel_shape": geometry.kernel_shape, "strides": geometry.strides,
             "pads": geometry.pads, "ceil_mode": attr(node, "ceil_mode", 0)}
    if node.op_type == "MaxPool":
        attrs["dilations"] = geometry.dilations
    else:
        if any(d != 1 for d in geometry.dilations):
            raise ctx.error(node, "dilated average pooling is not supported")
        attrs["count_include_pad"] = attr(node, "count_include_pad", 0)
    return _emit_nhwc(ctx, node, node.op_type, x, attrs)


def lower_global_average_pool(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    if ctx.graph.rank(node.input[0]) != 4:
        raise ctx.error(node, "only rank-4 input is supported")
    x = to_nhwc(ctx.builder, ctx.tensor(node.input[0], node), node.name)
    return [_emit_nhwc(ctx, node, "GlobalAveragePool", x, {})]


def lower_reduce_mean(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    """ReduceMean over the spatial axes of a rank-4 tensor: a GlobalAveragePool."""
    rank = ctx.graph.rank(node.input[0])
    axes = attr(node, "axes")
    if axes is None and optional_input(node, 1):
        axes = ctx.const(node.input[1], node, "axes").tolist()
    x = ctx.tensor(node.input[0], node)
    axes = sorted(a % rank for a in axes) if axes else []
    if rank == 4 and x.layout == SAME and axes == [2, 3]:
        x = to_nhwc(ctx.builder, x, node.name)
    spatial = rank == 4 and x.layout in (SAME, NHWC)
    if not spatial or sorted(engine_axis(x, a) for a in axes) != [1, 2]:
        return [_mean_over_run(ctx, node, x, axes)]
    kept_shape = tuple(1 if i in axes else d for i, d in enumerate(x.onnx_shape))
    (value,) = ctx.builder.node("GlobalAveragePool", [x.value],
                                [(node.output[0], engine_shape(kept_shape, x.layout), "float32")],
                                source=node.name)
    pooled = Tensor(value, x.layout, kept_shape, engine_shape(kept_shape, x.layout))
    if attr(node, "keepdims", 1):
        return [pooled]
    return [reshape_tensor(ctx.builder, pooled, ctx.graph.shape(node.output[0]), node.name)]


def _mean_over_run(ctx: Lowering, node: onnx.NodeProto, x: Tensor, axes: list[int]) -> Tensor:
    """ReduceMean over consecutive axes a..b (not the batch) of any tensor: viewed as
    [before, a..b, 1, after], a GlobalAveragePool averages the run (e.g. the mean over the
    tokens of a [batch, tokens, features] activation)."""
    if not axes or axes[0] == 0 or axes != list(range(axes[0], axes[-1] + 1)):
        raise ctx.error(node, "ReduceMean is supported over consecutive axes after the batch "
                              f"only, got axes {axes}")
    x = to_same(ctx.builder, x, node.name)
    shape = x.onnx_shape
    before = -1 if -1 in shape[:axes[0]] else math.prod(shape[:axes[0]])
    view = (before, math.prod(shape[axes[0]:axes[-1] + 1]), 1, math.prod(shape[axes[-1] + 1:]))
    builder = ctx.builder
    (viewed,) = builder.node("Reshape", [x.value], [(f"{x.value}:run", view, "float32")],
                             {"shape": reshape_target(shape, view)}, source=node.name)
    pooled_shape = (view[0], 1, 1, view[3])
    (pooled,) = builder.node("GlobalAveragePool", [viewed],
                             [(f"{viewed}:mean", pooled_shape, "float32")], source=node.name)
    out_shape = ctx.graph.shape(node.output[0])
    (value,) = builder.node("Reshape", [pooled], [(node.output[0], out_shape, "float32")],
                            {"shape": reshape_target(pooled_shape, out_shape)}, source=node.name)
    return same_tensor(value, out_shape)


def lower_softmax(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    """Softmax and LogSoftmax (same axis rules; the engine op has the ONNX op's name)."""
    op = node.op_type
    x = ctx.tensor(node.input[0], node)
    rank = x.rank
    default_axis = -1 if ctx.graph.opset >= 13 else 1
    axis = attr(node, "axis", default_axis) % rank
    if ctx.graph.opset < 13 and math.prod(x.onnx_shape[axis + 1:]) != 1:
        raise ctx.error(node, f"before opset 13 {op} normalizes over all axes from 'axis' "
                              "on; only the case where those after 'axis' have size 1 is "
                              "supported")
    if x.layout == FLAT_NHWC and axis == 1:  # over all features: their order does not matter
        x = to_flat_rank2(ctx.builder, x, node.name)
        return [ctx.unary(op, x, node.name, {"axis": 1})]
    if x.layout == FLAT_NHWC:
        x = to_same(ctx.builder, x, node.name)
    return [ctx.unary(op, x, node.name, {"axis": engine_axis(x, axis)})]


def _emit_nhwc(ctx: Lowering, node: onnx.NodeProto, op: str, x: Tensor, attrs: dict) -> Tensor:
    onnx_shape = ctx.graph.shape(node.output[0])
    (value,) = ctx.builder.node(op, [x.value], [(node.output[0], engine_shape(onnx_shape, NHWC),
                                                 "float32")], attrs, source=node.name)
    return nhwc_tensor(value, onnx_shape)


RULES = {
    "MaxPool": lower_pool, "AveragePool": lower_pool,
    "GlobalAveragePool": lower_global_average_pool, "ReduceMean": lower_reduce_mean,
    "Softmax": lower_softmax, "LogSoftmax": lower_softmax,
}
