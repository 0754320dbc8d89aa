"""A dead-simple NumPy interpreter of the engine graph (docs/ir.md): the test oracle for the
converter and for the C++ executor.

``run(graph, feeds)`` executes the nodes in order. Float values are float32 arrays (each op
computes in float64 where that is simpler, then rounds once to float32, as the engine stores
float32); ``bits`` and ``ternary`` values are packed uint64 arrays exactly as the engine stores
them (ternary: the sign words, then the nonzero-mask words of each row), so packing,
channel tails, zero and ±1 padding, groups and ``out_offset`` thresholds are all exercised. The
binary epilogue ``v = dot * scale + bias`` (and the K map) is evaluated in float32, in the order
docs/ir.md gives.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from reference import numpy_ops
from xnorinfer import ir


def run(graph: ir.Graph, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run ``graph`` on ``feeds`` (``{input name: array}``); returns ``{output name: array}``."""
    values: dict[str, np.ndarray] = dict(graph.constants)
    for info in graph.inputs:
        x = np.asarray(feeds[info.name], dtype=np.float32)
        expected = [d if d != -1 else x.shape[i] for i, d in enumerate(info.shape)]
        if list(x.shape) != expected:
            raise ValueError(f"input '{info.name}' has shape {list(x.shape)}, expected "
                             f"{info.shape}")
        values[info.name] = x
    for node in graph.nodes:
        inputs = [values[name] if name else None for name in node.inputs]
        outputs = OPS[node.op](node.attrs, *inputs)
        for name, out in zip(node.outputs, outputs):
            values[name] = out
    return {info.name: values[info.name] for info in graph.outputs}


# --- bits -----------------------------------------------------------------------------------

def unpack_activation(words: np.ndarray, n_bits: int) -> np.ndarray:
    """A packed bits (±1) or ternary (-1, 0, +1: ONNX Sign) activation as float64; a ternary
    row holds twice the words of a bits row."""
    n_words = (n_bits + 63) // 64
    if words.shape[-1] == n_words:
        return unpack_pm1(words, n_bits)
    signs = unpack_pm1(words[..., :n_words], n_bits)
    nonzero = unpack_pm1(words[..., n_words:], n_bits) < 0  # a set mask bit reads as -1
    return signs * nonzero


def unpack_pm1(words: np.ndarray, n_bits: int) -> np.ndarray:
    """Packed bits as ±1 float64 (bit 1 -> -1), one bit at a time."""
    words = np.asarray(words, dtype=np.uint64)
    values = np.empty(words.shape[:-1] + (n_bits,), dtype=np.float64)
    for c in range(n_bits):
        bit = (words[..., c // 64] >> np.uint64(c % 64)) & np.uint64(1)
        values[..., c] = np.where(bit == 1, -1.0, 1.0)
    return values


def pack_threshold(v: np.ndarray, offset: np.ndarray | None) -> np.ndarray:
    """Bits of ``(v + offset) < 0`` (float32 add), packed along the last axis."""
    v = np.asarray(v, dtype=np.float32)
    if offset is not None:
        v = v + np.asarray(offset, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        return numpy_ops.pack_reference(v < 0)


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


# --- binary ops -----------------------------------------------------------------------------

def binarize_pack(attrs: dict, x: np.ndarray, offset: np.ndarray | None = None,
                  scale: np.ndarray | None = None, bias: np.ndarray | None = None):
    if attrs.get("input_layout", "nhwc") == "nchw":  # [N, C, ...] -> [N, ..., C]
        x = np.moveaxis(x, 1, -1)
    if scale is not None:  # a fused ChannelAffine: multiply, then add, in float32
        x = _f32(_f32(x) * _f32(scale)) + _f32(bias)
    bits = pack_threshold(x, offset)
    if attrs.get("output", "bits") == "ternary":
        v = _f32(x) if offset is None else _f32(x) + _f32(offset)
        bits = np.concatenate([bits, numpy_ops.pack_reference(~(v == 0))], axis=-1)
    abs_mean = _f32(np.abs(x.astype(np.float64)).mean(axis=-1, keepdims=True))
    return [bits, abs_mean]


def _epilogue(attrs: dict, dot: np.ndarray, scale, bias, out_offset, kmap=None,
              post_scale=None, post_bias=None) -> np.ndarray:
    """``v = dot * scale + bias`` in float32; K map; float output or thresholded bits."""
    v = _f32(dot) * _f32(scale)
    v = v + _f32(bias)
    if kmap is not None:
        v = (v * kmap) * _f32(post_scale)
        v = v + _f32(post_bias)
    if attrs["output"] == "bits":
        return pack_threshold(v, out_offset)
    return v


def binary_conv2d(attrs: dict, x, weight, scale, bias, out_offset=None, kmap_src=None,
                  post_scale=None, post_bias=None, residual=None, sum_offset=None):
    channels, group = attrs["in_channels"], attrs["group"]
    a = unpack_activation(x, channels)
    w = unpack_pm1(weight, channels // group)
    geometry = dict(strides=attrs["strides"], dilations=attrs["dilations"], pads=attrs["pads"])
    dot = numpy_ops.conv2d_nhwc(a, w, group=group, pad_value=float(attrs["pad_value"]),
                                **geometry)
    kmap = None
    if kmap_src is not None and attrs.get("scaling", "kmap") == "sample":
        kmap = _f32(kmap_src.astype(np.float64).mean(axis=(1, 2), keepdims=True))
    elif kmap_src is not None:
        box = numpy_ops.box_sum_nhwc(kmap_src, attrs["kernel_shape"], **geometry)
        kmap = _f32(attrs["kmap_kernel_value"] * box)
    y = _epilogue(attrs, dot, scale, bias, out_offset, kmap, post_scale, post_bias)
    if residual is not None:
        y = y + _f32(residual)
    y = _activation(attrs, y)
    if attrs.get("output_layout", "nhwc") == "nchw":
        return [np.ascontiguousarray(y.transpose(0, 3, 1, 2)), None]
    return [y, pack_threshold(y, sum_offset) if sum_offset is not None else None]


def _activation(attrs: dict, y: np.ndarray) -> np.ndarray:
    """A conv or dense layer's fused activation, on its float output (docs/ir.md)."""
    kind = attrs.get("activation", "none")
    if kind == "relu":
        return np.where(y < 0, np.float32(0), y)
    if kind == "clip":
        low = np.float32(attrs.get("activation_min", -np.inf))
        high = np.float32(attrs.get("activation_max", np.inf))
        return np.where(y < low, low, np.where(y > high, high, y))
    if kind == "prelu":
        return np.where(y < 0, y * _f32(attrs["activation_slope"]), y)
    return y


def binary_dense(attrs: dict, x, weight, scale, bias, out_offset=None, beta_src=None,
                 post_scale=None, post_bias=None):
    channels, batch_axes = attrs["in_channels"], attrs.get("batch_axes", 1)
    rows = x.shape[:batch_axes]
    a = unpack_activation(x, channels).reshape(rows + (-1,))
    w = unpack_pm1(weight, channels).reshape(weight.shape[0], -1)
    beta = None
    if beta_src is not None:  # mean |x| of each row: the mean of its groups' abs_mean
        beta = _f32(beta_src.astype(np.float64).reshape(rows + (-1,)).mean(axis=-1, keepdims=True))
    y = _epilogue(attrs, a @ w.T, scale, bias, out_offset, beta, post_scale, post_bias)
    return [y if attrs["output"] == "bits" else _activation(attrs, y)]


def bwn_conv2d(attrs: dict, x, weight, scale, bias):
    group = attrs["group"]
    w = unpack_pm1(weight, attrs["in_channels"] // group)
    dot = numpy_ops.conv2d_nhwc(x, w, attrs["strides"], attrs["dilations"], attrs["pads"], group)
    return [_fused_pool(attrs, _activation(attrs, _f32(dot * scale + bias)))]


def _fused_pool(attrs: dict, y: np.ndarray) -> np.ndarray:
    """A float conv's fused MaxPool (the ``pool_*`` attributes), after its activation, then its
    output layout."""
    if "pool_kernel_shape" in attrs:
        y = max_pool({k[len("pool_"):]: v for k, v in attrs.items() if k.startswith("pool_")},
                     y)[0]
    if attrs.get("output_layout", "nhwc") == "nchw":
        return np.ascontiguousarray(y.transpose(0, 3, 1, 2))
    return y


def bwn_dense(attrs: dict, x, weight, scale, bias):
    w = unpack_pm1(weight, attrs["in_channels"]).reshape(weight.shape[0], -1)
    return [_activation(attrs, _f32((x.astype(np.float64) @ w.T) * scale + bias))]


# --- float ops ------------------------------------------------------------------------------

def conv2d(attrs: dict, x, weight, bias=None):
    if attrs.get("input_layout", "nhwc") == "nchw":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    geometry = (attrs["strides"], attrs["dilations"], attrs["pads"])
    precision = attrs.get("precision", "float32")
    if precision == "int8":
        y = numpy_ops.int8_conv2d_nhwc(x, weight, *geometry)
    elif precision == "bf16":
        y = numpy_ops.bf16_conv2d_nhwc(x, weight, *geometry)
    else:
        y = numpy_ops.conv2d_nhwc(x, weight, *geometry, attrs["group"])
    return [_fused_pool(attrs, _activation(attrs, _f32(y if bias is None else y + bias)))]


def max_pool(attrs: dict, x):
    return [_f32(numpy_ops.max_pool_nhwc(x, attrs["kernel_shape"], attrs["strides"],
                                         attrs["dilations"], attrs["pads"],
                                         bool(attrs["ceil_mode"])))]


def average_pool(attrs: dict, x):
    return [_f32(numpy_ops.average_pool_nhwc(x, attrs["kernel_shape"], attrs["strides"],
                                             attrs["pads"], bool(attrs["ceil_mode"]),
                                             bool(attrs["count_include_pad"])))]


def _elementwise(function):
    return lambda attrs, *inputs: [_f32(function(*[np.asarray(i, np.float64) for i in inputs]))]


OPS = {
    "BinarizePack": binarize_pack,
    "BinaryConv2d": binary_conv2d,
    "BinaryDense": binary_dense,
    "BwnConv2d": bwn_conv2d,
    "BwnDense": bwn_dense,
    "Conv2d": conv2d,
    "Dense": lambda attrs, x, w, b=None: [_activation(attrs, _f32(numpy_ops.dense(x, w, b)))],
    "ChannelAffine": _elementwise(numpy_ops.channel_affine),
    "Relu": _elementwise(numpy_ops.relu),
    "PRelu": _elementwise(numpy_ops.prelu),
    "Clip": lambda attrs, x: [_f32(numpy_ops.clip(x, attrs["min"], attrs["max"]))],
    "Sign": _elementwise(numpy_ops.onnx_sign),
    "Sigmoid": _elementwise(numpy_ops.sigmoid),
    "Tanh": _elementwise(numpy_ops.tanh),
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": _elementwise(numpy_ops.global_average_pool_nhwc),
    "Add": _elementwise(np.add),
    "Sub": _elementwise(np.subtract),
    "Mul": _elementwise(np.multiply),
    "Div": _elementwise(np.divide),
    "Concat": lambda attrs, *xs: [np.concatenate(xs, axis=attrs["axis"])],
    "Reshape": lambda attrs, x: [numpy_ops.onnx_reshape(x, attrs["shape"])],
    "Transpose": lambda attrs, x: [np.ascontiguousarray(x.transpose(attrs["perm"]))],
    "Softmax": lambda attrs, x: [_f32(numpy_ops.softmax(x, attrs["axis"]))],
    "LogSoftmax": lambda attrs, x: [_f32(numpy_ops.log_softmax(x, attrs["axis"]))],
}
