"""Lowering of data-movement ops: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat,
Identity, Dropout, Cast and Pad.

Reshapes and transposes of a binarized tensor move its source instead (binarizing commutes
with them), so the bits are packed once, in the layout the binary layer needs. A Pad is kept
as a :class:`Padded` state for the Conv that reads it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import TensorProto

from xnorinfer.onnx.layout import (NCHW_TO_NHWC, engine_axis, engine_shape, reshape_tensor,
                                   to_nhwc, to_same, transpose_onnx_const, transpose_tensor)
from xnorinfer.onnx.onnx_graph import attr, optional_input
from xnorinfer.onnx.states import NHWC, SAME, Binarized, Padded, State, Tensor

if TYPE_CHECKING:
    from xnorinfer.onnx.lower import Lowering


def lower_reshape_like(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    """Reshape, Flatten, Squeeze, Unsqueeze: all become the inferred output shape."""
    state = ctx.state(node.input[0], node)
    onnx_shape = ctx.graph.shape(node.output[0])
    if isinstance(state, Padded):
        raise ctx.error(node, f"it reshapes the output of Pad node '{state.node}'")
    if isinstance(state, Binarized):
        source = reshape_tensor(ctx.builder, state.source, onnx_shape, node.name)
        offset = _reshape_offset(ctx, node, state, onnx_shape)
        return [dataclasses.replace(state, source=source, offset=offset)]
    return [reshape_tensor(ctx.builder, state, onnx_shape, node.name)]


def _reshape_offset(ctx: Lowering, node: onnx.NodeProto, state: Binarized,
                    onnx_shape: tuple[int, ...]) -> np.ndarray | None:
    offset = state.offset
    if offset is None or offset.size == 1:
        return None if offset is None else offset.reshape(())
    source_shape = state.source.onnx_shape
    if offset.ndim == len(source_shape) and offset.shape[0] != 1:
        raise ctx.error(node, "it reshapes a binarizer whose offset varies along the batch")
    full = np.broadcast_to(offset, (1, *source_shape[1:]))
    return full.reshape((1, *onnx_shape[1:]))


def lower_transpose(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    state = ctx.state(node.input[0], node)
    perm = attr(node, "perm") or list(reversed(range(ctx.graph.rank(node.input[0]))))
    return [_transpose_state(ctx, node, state, tuple(perm))]


def _transpose_state(ctx: Lowering, node: onnx.NodeProto, state: State,
                     perm: tuple[int, ...]) -> State:
    if isinstance(state, Padded):
        rank = len(perm)
        begins, ends = state.pads[:rank], state.pads[rank:]
        pads = tuple(begins[p] for p in perm) + tuple(ends[p] for p in perm)
        inner = _transpose_state(ctx, node, state.inner, perm)
        return dataclasses.replace(state, inner=inner, pads=pads)
    if isinstance(state, Binarized):
        source = transpose_tensor(ctx.builder, state.source, perm, node.name)
        offset = None if state.offset is None else transpose_onnx_const(state.offset, perm)
        return dataclasses.replace(state, source=source, offset=offset)
    return transpose_tensor(ctx.builder, state, perm, node.name)


def lower_identity(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    """Identity, and Dropout at inference (its mask output is not supported)."""
    return [ctx.state(node.input[0], node)]


def lower_cast(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    if attr(node, "to") != TensorProto.FLOAT:
        raise ctx.error(node, "only a cast to float32 of a float32 tensor is supported")
    return [ctx.state(node.input[0], node)]


def lower_pad(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    if attr(node, "mode", "constant") != "constant":
        raise ctx.error(node, f"mode '{attr(node, 'mode')}' is not supported, only constant")
    state = ctx.state(node.input[0], node)
    rank = len(state.onnx_shape)
    pads = ctx.const(node.input[1], node, "pads").astype(np.int64).tolist()
    value_input = ctx.optional_const(node, 2, "constant value")
    value = 0.0 if value_input is None else float(np.asarray(value_input).reshape(-1)[0])
    axes_name = optional_input(node, 3)
    if axes_name:
        axes = [a % rank for a in ctx.const(axes_name, node, "axes").tolist()]
        full = [0] * (2 * rank)
        for i, axis in enumerate(axes):
            full[axis], full[axis + rank] = pads[i], pads[i + len(axes)]
        pads = full
    if any(p < 0 for p in pads):
        raise ctx.error(node, "negative pads (cropping) are not supported")
    if not any(pads):
        return [state]
    if isinstance(state, Padded):
        if state.value != value:
            raise ctx.error(node, f"it pads the output of Pad node '{state.node}' with another "
                                  "value")
        pads = [a + b for a, b in zip(pads, state.pads)]
        state = state.inner
    return [Padded(state, tuple(pads), value, node.name)]


def lower_concat(ctx: Lowering, node: onnx.NodeProto) -> list[State]:
    graph = ctx.graph
    onnx_shape = graph.shape(node.output[0])
    rank = len(onnx_shape)
    axis = attr(node, "axis") % rank
    activations = {name: ctx.tensor(name, node) for name in node.input
                   if not graph.is_const(name)}
    use_nhwc = rank == 4 and any(t.layout == NHWC for t in activations.values())
    builder = ctx.builder
    inputs = []
    for name in node.input:
        if graph.is_const(name):
            const = ctx.const(name, node).astype(np.float32)
            inputs.append(builder.constant(f"{node.name}:c",
                                           const.transpose(NCHW_TO_NHWC) if use_nhwc else const))
            continue
        convert = to_nhwc if use_nhwc else to_same
        inputs.append(convert(builder, activations[name], node.name).value)
    layout = NHWC if use_nhwc else SAME
    out = Tensor("", layout, onnx_shape, engine_shape(onnx_shape, layout))
    (value,) = builder.node("Concat", inputs, [(node.output[0], out.engine_shape, "float32")],
                            {"axis": engine_axis(out, axis)}, source=node.name)
    return [dataclasses.replace(out, value=value)]


RULES = {
    "Reshape": lower_reshape_like, "Flatten": lower_reshape_like,
    "Squeeze": lower_reshape_like, "Unsqueeze": lower_reshape_like,
    "Transpose": lower_transpose, "Identity": lower_identity, "Dropout": lower_identity,
    "Cast": lower_cast, "Pad": lower_pad, "Concat": lower_concat,
}
