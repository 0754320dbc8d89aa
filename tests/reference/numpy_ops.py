"""Dead-simple NumPy oracles for the engine's ops (docs/ir.md), written for clarity, not speed.

Every function takes and returns plain NumPy arrays in the engine's layout (NHWC for spatial
tensors). Float results are computed in float64, so a ±1 convolution is exact and a float op is
the "true" value the engine's float32 result is compared against with a tolerance.
"""

from __future__ import annotations

import math

import numpy as np

# ---------------------------------------------------------------------------------------------
# Binarization and bit packing
# ---------------------------------------------------------------------------------------------


def sign_binarize(x: np.ndarray) -> np.ndarray:
    """The engine's binarization: -1 where ``x < 0``, else +1 (so +0.0, -0.0 and NaN give +1)."""
    x = np.asarray(x)
    with np.errstate(invalid="ignore"):
        return np.where(x < 0, -1.0, 1.0)


def onnx_sign(x: np.ndarray) -> np.ndarray:
    """ONNX Sign: -1, 0 or +1; NaN stays NaN."""
    return np.sign(np.asarray(x, dtype=np.float64))


def pack_reference(negative: np.ndarray) -> np.ndarray:
    """Pack booleans along the last axis, one bit at a time: channel ``c`` -> bit ``c % 64`` of
    word ``c // 64``, tail bits 0. Deliberately unlike ``xnorinfer.bitpack.pack_bits``."""
    negative = np.asarray(negative, dtype=bool)
    n_bits = negative.shape[-1]
    words = np.zeros(negative.shape[:-1] + ((n_bits + 63) // 64,), dtype=np.uint64)
    for c in range(n_bits):
        bit = np.uint64(1) << np.uint64(c % 64)
        words[..., c // 64] |= np.where(negative[..., c], bit, np.uint64(0))
    return words


def popcount(words: np.ndarray) -> np.ndarray:
    """Number of set bits of each uint64 (via byte unpacking)."""
    words = np.ascontiguousarray(np.asarray(words, dtype=np.uint64))
    as_bytes = words.view(np.uint8).reshape(words.shape + (8,))
    return np.unpackbits(as_bytes, axis=-1).sum(axis=-1, dtype=np.int64)


def hamming_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``c[i, j]`` = number of differing bits between rows ``a[i]`` and ``b[j]`` (uint64 words)."""
    a = np.asarray(a, dtype=np.uint64)
    b = np.asarray(b, dtype=np.uint64)
    return popcount(a[:, None, :] ^ b[None, :, :]).sum(axis=-1)


# ---------------------------------------------------------------------------------------------
# Convolution, dense
# ---------------------------------------------------------------------------------------------


def conv_out_size(size: int, pad_begin: int, pad_end: int, kernel: int, stride: int,
                  dilation: int, ceil_mode: bool = False) -> int:
    """ONNX output extent; with ``ceil_mode`` the last window must start inside the input or
    the leading pad (the PyTorch/ONNX rule)."""
    span = dilation * (kernel - 1) + 1
    room = size + pad_begin + pad_end - span
    if room < 0:
        return 0
    out = (math.ceil(room / stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def conv2d_nhwc(x: np.ndarray, w: np.ndarray, strides=(1, 1), dilations=(1, 1),
                pads=(0, 0, 0, 0), group: int = 1, pad_value: float = 0.0) -> np.ndarray:
    """ONNX Conv in NHWC with weights ``[O, KH, KW, C/group]`` and ``pads [t, l, b, r]``.

    Padded cells hold ``pad_value`` (0 = ONNX zero padding; ±1 for the binary pad modes).
    Computed in float64.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n, h, wd, c = x.shape
    o, kh, kw, cg = w.shape
    assert c == cg * group and o % group == 0
    sh, sw = strides
    dh, dw = dilations
    top, left, bottom, right = pads
    xp = np.full((n, h + top + bottom, wd + left + right, c), pad_value, dtype=np.float64)
    xp[:, top:top + h, left:left + wd, :] = x
    ho = conv_out_size(h, top, bottom, kh, sh, dh)
    wo = conv_out_size(wd, left, right, kw, sw, dw)
    og = o // group
    y = np.zeros((n, ho, wo, o), dtype=np.float64)
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dh, kx * dw
            patch = xp[:, y0:y0 + sh * (ho - 1) + 1:sh, x0:x0 + sw * (wo - 1) + 1:sw, :]
            for g in range(group):
                y[..., g * og:(g + 1) * og] += np.einsum(
                    "nhwc,oc->nhwo", patch[..., g * cg:(g + 1) * cg], w[g * og:(g + 1) * og, ky, kx, :])
    return y


def box_sum_nhwc(a: np.ndarray, kernel, strides=(1, 1), dilations=(1, 1),
                 pads=(0, 0, 0, 0)) -> np.ndarray:
    """Sum of a single-channel map ``[N, H, W, 1]`` over each window (zero padding): the
    XNOR-Net K map's box filter."""
    return conv2d_nhwc(a, np.ones((1, kernel[0], kernel[1], 1)), strides, dilations, pads)


def dense(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """``y = x @ w.T + b`` with ``w [O, K]``, in float64."""
    y = np.asarray(x, dtype=np.float64) @ np.asarray(w, dtype=np.float64).T
    if b is not None:
        y = y + np.asarray(b, dtype=np.float64)
    return y


# ---------------------------------------------------------------------------------------------
# Pooling (ONNX semantics)
# ---------------------------------------------------------------------------------------------


def _pool_windows(h: int, w: int, kernel, strides, dilations, pads, ceil_mode: bool):
    """Yields (oy, ox, [(iy, ix) for every tap in the padded extent]) for each output pixel."""
    kh, kw = kernel
    sh, sw = strides
    dh, dw = dilations
    top, left, bottom, right = pads
    ho = conv_out_size(h, top, bottom, kh, sh, dh, ceil_mode)
    wo = conv_out_size(w, left, right, kw, sw, dw, ceil_mode)
    for oy in range(ho):
        for ox in range(wo):
            taps = []
            for ky in range(kh):
                for kx in range(kw):
                    taps.append((oy * sh - top + ky * dh, ox * sw - left + kx * dw))
            yield oy, ox, taps


def max_pool_nhwc(x: np.ndarray, kernel, strides=(1, 1), dilations=(1, 1), pads=(0, 0, 0, 0),
                  ceil_mode: bool = False) -> np.ndarray:
    """ONNX MaxPool: the maximum over the taps inside the image (padding never wins)."""
    x = np.asarray(x, dtype=np.float64)
    n, h, w, c = x.shape
    ho = conv_out_size(h, pads[0], pads[2], kernel[0], strides[0], dilations[0], ceil_mode)
    wo = conv_out_size(w, pads[1], pads[3], kernel[1], strides[1], dilations[1], ceil_mode)
    y = np.full((n, ho, wo, c), -np.inf)
    for oy, ox, taps in _pool_windows(h, w, kernel, strides, dilations, pads, ceil_mode):
        for iy, ix in taps:
            if 0 <= iy < h and 0 <= ix < w:
                y[:, oy, ox, :] = np.maximum(y[:, oy, ox, :], x[:, iy, ix, :])
    return y


def average_pool_nhwc(x: np.ndarray, kernel, strides=(1, 1), pads=(0, 0, 0, 0),
                      ceil_mode: bool = False, count_include_pad: bool = False) -> np.ndarray:
    """ONNX AveragePool. The divisor is the number of taps inside the image, or with
    ``count_include_pad`` the number inside the *padded* extent ``[-pad_begin, size + pad_end)``
    (the cells that ``ceil_mode`` adds beyond the end padding never count; onnxruntime's and
    PyTorch's rule)."""
    x = np.asarray(x, dtype=np.float64)
    n, h, w, c = x.shape
    top, left, bottom, right = pads
    ho = conv_out_size(h, top, bottom, kernel[0], strides[0], 1, ceil_mode)
    wo = conv_out_size(w, left, right, kernel[1], strides[1], 1, ceil_mode)
    y = np.zeros((n, ho, wo, c))
    for oy, ox, taps in _pool_windows(h, w, kernel, strides, (1, 1), pads, ceil_mode):
        total = np.zeros((n, c))
        inside = padded = 0
        for iy, ix in taps:
            if iy < h + bottom and ix < w + right:
                padded += 1
            if 0 <= iy < h and 0 <= ix < w:
                inside += 1
                total += x[:, iy, ix, :]
        y[:, oy, ox, :] = total / (padded if count_include_pad else inside)
    return y


def global_average_pool_nhwc(x: np.ndarray) -> np.ndarray:
    """Mean over H and W, keeping them as size-1 axes: ``[N, 1, 1, C]``."""
    return np.asarray(x, dtype=np.float64).mean(axis=(1, 2), keepdims=True)


# ---------------------------------------------------------------------------------------------
# Element-wise and layout
# ---------------------------------------------------------------------------------------------


def relu(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.where(x < 0, 0.0, x)  # NaN stays NaN


def prelu(x: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """``x < 0 ? x * slope : x`` with ``slope`` per channel (last axis) or a single value."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x < 0, x * np.asarray(slope, dtype=np.float64).reshape(-1), x)


def clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.where(x < lo, lo, np.where(x > hi, hi, x))  # NaN stays NaN


def channel_affine(x: np.ndarray, scale: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64) * scale + bias


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """Softmax over one axis (opset-13 semantics), max-subtracted."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """LogSoftmax over one axis (opset-13 semantics): ``x - max - log(sum(exp(x - max)))``."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(np.asarray(x, dtype=np.float64))


def onnx_reshape(x: np.ndarray, shape) -> np.ndarray:
    """ONNX Reshape: ``0`` copies the input extent at that axis, one ``-1`` is inferred."""
    x = np.asarray(x)
    target = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(target)


def int8_conv2d_nhwc(x: np.ndarray, w: np.ndarray, strides=(1, 1), dilations=(1, 1),
                     pads=(0, 0, 0, 0)) -> np.ndarray:
    """Conv2d with precision "int8" (docs/ir.md), step by step in the engine's float32
    arithmetic: per image, uint8 activations with scale (max(x, 0) - min(x, 0)) / 255 and zero
    point round(-min / scale); per output channel, int8 weights with scale max|w| / 127; the
    integer sum of (q_x - zero) * q_w, times both scales. Padded cells are 0.0, exactly the zero
    point. Returns float64."""
    x = np.asarray(x, dtype=np.float32)
    w = np.asarray(w, dtype=np.float32)
    amax = np.abs(w).max(axis=(1, 2, 3))
    w_scale = np.where(amax > 0, amax / np.float32(127), np.float32(1)).astype(np.float32)
    q_w = np.clip(np.rint(w / w_scale[:, None, None, None]), -127, 127)
    y = []
    for image in x:
        lo, hi = min(image.min(), np.float32(0)), max(image.max(), np.float32(0))
        scale = max(np.float32((hi - lo) / np.float32(255)), np.float32(1e-30))
        zero = np.clip(np.rint(-lo / scale), 0, 255)
        t = np.clip(image * (np.float32(1) / scale), -zero, 255 - zero)
        q = np.rint(t)  # q_x - zero
        acc = conv2d_nhwc(q[None], q_w, strides, dilations, pads)[0]
        y.append(acc * (scale * w_scale).astype(np.float64))
    return np.stack(y)


def to_bf16_values(x: np.ndarray) -> np.ndarray:
    """float32 rounded to bf16 (to nearest even, subnormals to zero), as float32 values."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16).astype(np.uint32)
    rounded = np.where((bits & 0x7F800000) == 0, (bits & 0x80000000).astype(np.uint32), rounded)
    return rounded.view(np.float32)


def bf16_conv2d_nhwc(x: np.ndarray, w: np.ndarray, strides=(1, 1), dilations=(1, 1),
                     pads=(0, 0, 0, 0)) -> np.ndarray:
    """Conv2d with precision "bf16" up to float32 summation order: the conv of the
    bf16-rounded input and weights, in float64."""
    return conv2d_nhwc(to_bf16_values(x), to_bf16_values(w), strides, dilations, pads)
