"""Layout tracking: how an ONNX tensor's elements sit in its engine value.

The engine runs spatial ops NHWC; ONNX models are NCHW (PyTorch) or NHWC with transposes around
every conv (Keras/tf2onnx). Each lowered tensor carries one of three layouts (states.py):

- ``SAME``: the engine value is the ONNX tensor as is (graph inputs, rank-2 tensors, Keras NHWC
  tensors between their transposes).
- ``NHWC``: an ONNX ``[N, C, H, W]`` tensor stored ``[N, H, W, C]``.
- ``FLAT_NHWC``: an ONNX ``[N, C*H*W]`` flatten of an NHWC tensor, features in H, W, C order;
  Dense layers absorb it by permuting their weight columns.

Transposes that only relabel (``[0, 3, 1, 2]`` on a SAME tensor, ``[0, 2, 3, 1]`` on an NHWC one)
cost nothing; the functions here emit an engine ``Transpose`` or ``Reshape`` only when memory
really has to move, and emit each such conversion once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from xnorinfer.errors import ConversionError
from xnorinfer.onnx.builder import GraphBuilder
from xnorinfer.onnx.dynamic_dims import resolve_reshape
from xnorinfer.onnx.states import FLAT_NHWC, NHWC, SAME, Tensor

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)


def layout_perm(layout: str, rank: int) -> tuple[int, ...]:
    """Engine axis k holds ONNX axis ``layout_perm[k]`` (SAME and NHWC layouts)."""
    return NCHW_TO_NHWC if layout == NHWC else tuple(range(rank))


def engine_shape(onnx_shape: Sequence[int], layout: str) -> tuple[int, ...]:
    """The engine value shape of an ONNX shape in a SAME or NHWC layout."""
    return tuple(onnx_shape[axis] for axis in layout_perm(layout, len(onnx_shape)))


def engine_axis(tensor: Tensor, onnx_axis: int) -> int:
    """The engine axis holding ONNX axis ``onnx_axis`` of a SAME or NHWC tensor."""
    onnx_axis %= tensor.rank
    return layout_perm(tensor.layout, tensor.rank).index(onnx_axis)


def in_onnx_memory_order(tensor: Tensor) -> bool:
    """True when the engine value's memory already lists elements in ONNX order."""
    if tensor.layout == SAME:
        return True
    channels, height, width = tensor.chw if tensor.layout == FLAT_NHWC else tensor.onnx_shape[1:]
    return channels == 1 or height * width == 1


def same_tensor(value: str, onnx_shape: Sequence[int]) -> Tensor:
    return Tensor(value, SAME, tuple(onnx_shape), tuple(onnx_shape))


def nhwc_tensor(value: str, onnx_shape: Sequence[int]) -> Tensor:
    return Tensor(value, NHWC, tuple(onnx_shape), engine_shape(onnx_shape, NHWC))


def reshape_target(in_shape: Sequence[int], out_shape: Sequence[int]) -> list[int]:
    """An engine ``Reshape`` shape attribute for ``in_shape -> out_shape`` (-1: dynamic batch).

    Dim 0 is written 0 (copy the input's) when it is the batch on both sides, so one graph
    serves every batch size; a dynamic dim 0 that absorbs other dims stays -1 (inferred).
    """
    target = list(out_shape)
    keeps_batch = bool(target) and bool(in_shape) and (
        math.prod(in_shape[1:]) == math.prod(target[1:]))
    if keeps_batch and (target[0] == in_shape[0] or -1 in (target[0], in_shape[0])):
        target[0] = 0
    return resolve_reshape(in_shape, target, "a reshape")


# --- constants ------------------------------------------------------------------------------

def engine_const(const: np.ndarray, tensor: Tensor) -> np.ndarray:
    """A constant that broadcasts against ``tensor`` in ONNX, rewritten for its engine value."""
    const = np.asarray(const, dtype=np.float32)
    rank = tensor.rank
    if const.ndim > rank:
        raise ConversionError(f"a constant of shape {list(const.shape)} would broadcast the "
                              f"rank-{rank} activation to a higher rank")
    if tensor.layout == SAME or const.size == 1:
        return const
    full = const.reshape((1,) * (rank - const.ndim) + const.shape)
    if tensor.layout == NHWC:
        return full.transpose(NCHW_TO_NHWC)
    channels, height, width = tensor.chw
    if full.shape[1] == 1:
        return full.reshape((full.shape[0],) + (1,) * (len(tensor.engine_shape) - 1))
    spatial = full.reshape(full.shape[0], channels, height, width).transpose(NCHW_TO_NHWC)
    return spatial if len(tensor.engine_shape) == 4 else spatial.reshape(full.shape[0], -1)


def channel_vector(const: np.ndarray, channels: int) -> np.ndarray | None:
    """A constant in engine order as one value per channel (last axis), or None if it varies
    along any other axis."""
    const = np.asarray(const, dtype=np.float32)
    if const.ndim and (any(d != 1 for d in const.shape[:-1]) or const.shape[-1] not in
                       (1, channels)):
        return None
    return np.broadcast_to(const.reshape(-1), (channels,)).copy()


def flat_feature_order(chw: Sequence[int]) -> np.ndarray:
    """Index into ONNX (C, H, W) features for each engine (H, W, C) feature."""
    channels, height, width = chw
    return np.arange(channels * height * width).reshape(chw).transpose(1, 2, 0).reshape(-1)


def transpose_onnx_const(const: np.ndarray, perm: Sequence[int]) -> np.ndarray:
    """ONNX Transpose of a constant that broadcasts against a tensor of rank ``len(perm)``."""
    const = np.asarray(const)
    full = const.reshape((1,) * (len(perm) - const.ndim) + const.shape)
    return full.transpose(perm)


# --- materialization ------------------------------------------------------------------------

def to_same(builder: GraphBuilder, tensor: Tensor, source: str) -> Tensor:
    """The tensor in ONNX order (SAME), emitting a Transpose/Reshape when needed."""
    if tensor.layout == SAME:
        return tensor
    key = (tensor.value, SAME)
    if key not in builder.memo:
        builder.memo[key] = _emit_same(builder, tensor, source)
    return builder.memo[key]


def _emit_same(builder: GraphBuilder, tensor: Tensor, source: str) -> Tensor:
    onnx_shape = tensor.onnx_shape
    if in_onnx_memory_order(tensor):
        return reshape_value(builder, tensor.value, tensor.engine_shape, onnx_shape, SAME, source)
    if tensor.layout == NHWC:
        (value,) = builder.node("Transpose", [tensor.value],
                                [(f"{tensor.value}:nchw", onnx_shape, "float32")],
                                {"perm": NHWC_TO_NCHW}, source=source)
        return same_tensor(value, onnx_shape)
    unflat = reshape_value(builder, tensor.value, tensor.engine_shape,
                           (onnx_shape[0], *tensor.chw), NHWC, source)
    nchw = to_same(builder, unflat, source)
    return reshape_value(builder, nchw.value, nchw.engine_shape, onnx_shape, SAME, source)


def to_nhwc(builder: GraphBuilder, tensor: Tensor, source: str) -> Tensor:
    """A rank-4 ONNX NCHW tensor stored NHWC, emitting a Transpose/Reshape when needed."""
    if tensor.layout == NHWC:
        return tensor
    if tensor.rank != 4 or tensor.layout != SAME:
        raise ConversionError("it needs a rank-4 NCHW input, got ONNX shape "
                              f"{list(tensor.onnx_shape)}")
    key = (tensor.value, NHWC)
    if key not in builder.memo:
        target = engine_shape(tensor.onnx_shape, NHWC)
        if in_onnx_memory_order(nhwc_tensor(tensor.value, tensor.onnx_shape)):
            result = reshape_value(builder, tensor.value, tensor.engine_shape, tensor.onnx_shape,
                                   NHWC, source)
        else:
            (value,) = builder.node("Transpose", [tensor.value],
                                    [(f"{tensor.value}:nhwc", target, "float32")],
                                    {"perm": NCHW_TO_NHWC}, source=source)
            result = nhwc_tensor(value, tensor.onnx_shape)
        builder.memo[key] = result
    return builder.memo[key]


def to_flat_rank2(builder: GraphBuilder, tensor: Tensor, source: str) -> Tensor:
    """A FLAT_NHWC tensor as an engine ``[N, H*W*C]`` value."""
    if len(tensor.engine_shape) == 2:
        return tensor
    key = (tensor.value, "flat2")
    if key not in builder.memo:
        target = (tensor.onnx_shape[0], tensor.onnx_shape[1])
        (value,) = builder.node("Reshape", [tensor.value],
                                [(f"{tensor.value}:flat", target, "float32")],
                                {"shape": reshape_target(tensor.engine_shape, target)},
                                source=source)
        builder.memo[key] = Tensor(value, FLAT_NHWC, tensor.onnx_shape, target, tensor.chw)
    return builder.memo[key]


def reshape_value(builder: GraphBuilder, value: str, value_shape: Sequence[int],
                  onnx_shape: Sequence[int], layout: str, source: str) -> Tensor:
    """A value whose memory is in ONNX order, relabeled as ``onnx_shape`` in ``layout``."""
    target = engine_shape(onnx_shape, layout)
    if tuple(value_shape) != target:
        (value,) = builder.node("Reshape", [value], [(f"{value}:reshaped", target, "float32")],
                                {"shape": reshape_target(value_shape, target)}, source=source)
    return Tensor(value, layout, tuple(onnx_shape), target)


def reshape_tensor(builder: GraphBuilder, tensor: Tensor, onnx_shape: Sequence[int],
                   source: str) -> Tensor:
    """ONNX Reshape (and Flatten, Squeeze, Unsqueeze) of a float tensor."""
    onnx_shape = tuple(onnx_shape)
    if (tensor.layout == NHWC and len(onnx_shape) == 2 and not in_onnx_memory_order(tensor)
            and onnx_shape[1] == int(np.prod(tensor.onnx_shape[1:]))):
        return Tensor(tensor.value, FLAT_NHWC, onnx_shape, tensor.engine_shape,
                      tuple(tensor.onnx_shape[1:]))
    if not in_onnx_memory_order(tensor):
        tensor = to_same(builder, tensor, source)
    layouts = [SAME]
    if len(onnx_shape) == 4 and in_onnx_memory_order(nhwc_tensor("", onnx_shape)):
        layouts.insert(0, NHWC)  # a later conv then needs no conversion
    for layout in layouts:
        if engine_shape(onnx_shape, layout) == tuple(tensor.engine_shape):
            return Tensor(tensor.value, layout, onnx_shape, tensor.engine_shape)
    return reshape_value(builder, tensor.value, tensor.engine_shape, onnx_shape, layouts[0],
                         source)


def transpose_tensor(builder: GraphBuilder, tensor: Tensor, perm: Sequence[int],
                     source: str) -> Tensor:
    """ONNX Transpose of a float tensor; free when it only relabels the layout."""
    perm = tuple(int(p) for p in perm)
    if tensor.layout == FLAT_NHWC:
        tensor = to_same(builder, tensor, source)
    onnx_shape = tuple(tensor.onnx_shape[p] for p in perm)
    layouts = [NHWC, SAME] if tensor.rank == 4 else [SAME]
    if tensor.layout == SAME:
        layouts.reverse()
    in_inverse = np.argsort(layout_perm(tensor.layout, tensor.rank))
    plans = []
    for layout in layouts:
        out_perm = layout_perm(layout, tensor.rank)
        engine_perm = tuple(int(in_inverse[perm[out_perm[j]]]) for j in range(tensor.rank))
        if engine_perm == tuple(range(tensor.rank)):
            return Tensor(tensor.value, layout, onnx_shape, engine_shape(onnx_shape, layout))
        plans.append((layout, engine_perm))
    layout, engine_perm = plans[0]  # keep the input's layout
    target = engine_shape(onnx_shape, layout)
    (value,) = builder.node("Transpose", [tensor.value],
                            [(f"{tensor.value}:transposed", target, "float32")],
                            {"perm": engine_perm}, source=source)
    return Tensor(value, layout, onnx_shape, target)
