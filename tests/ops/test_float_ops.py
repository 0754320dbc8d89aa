"""Float ops (docs/ir.md, "Float ops") against NumPy, each ISA and thread count bit-identical to
the scalar path; plus the per-shape plan cache and input-shape checks of a Session."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from engine_runs import ISAS, run_everywhere
from reference import numpy_ops
from xnorinfer import _core
from xnorinfer.bitpack import pack_bits


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def run_op(op: str, inputs: list, attrs: dict | None = None, static_batch: bool = False) -> np.ndarray:
    """One-node graph. `inputs` items are ("in", array) for a graph input (batch axis dynamic
    unless static_batch or rank 0), ("const", array) for a constant, or "" for an absent
    optional input. Returns the node's output."""
    g = _core.Graph()
    names, feeds = [], []
    for i, item in enumerate(inputs):
        if isinstance(item, str):
            names.append(item)
            continue
        kind, array = item
        name = f"{kind}{i}"
        if kind == "in":
            shape = list(array.shape)
            if not static_batch and shape:
                shape[0] = -1
            g.add_input(name, shape)
            feeds.append(array)
        else:
            g.add_constant(name, np.ascontiguousarray(array, dtype=np.float32))
        names.append(name)
    g.add_node("node", op, names, ["y"], attrs or {})
    g.add_output("y")
    [y] = run_everywhere(g, feeds)
    return y


def close(actual, expected, rtol=1e-5, atol=0.0):
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


SPECIALS = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1.5, -1.5, 1e-45, -1e-45], np.float32)


# ---------------------------------------------------------------------------------------------
# Conv2d, Dense
# ---------------------------------------------------------------------------------------------

CONV_CASES = [
    # c, o, k, stride, dilation, group, pads, batch, h, w, bias
    (3, 8, 3, 1, 1, 1, (1, 1, 1, 1), 2, 6, 7, True),
    (8, 6, 3, 2, 1, 2, (0, 1, 2, 0), 1, 9, 8, True),
    (12, 12, 3, 1, 1, 12, (1, 1, 1, 1), 1, 5, 5, False),   # depthwise
    (16, 8, 3, 1, 2, 4, (2, 2, 2, 2), 3, 7, 6, True),
    (5, 4, 5, 2, 2, 1, (3, 1, 0, 2), 2, 11, 9, False),
    (70, 33, 1, 1, 1, 1, (0, 0, 0, 0), 2, 9, 9, True),     # 1x1 direct path, several tiles
    (16, 24, 1, 1, 1, 1, (0, 0, 0, 0), 1, 30, 30, True),  # 10 tiles; 12 of 75 on 3 threads
    (8, 16, 3, 1, 1, 1, (1, 1, 1, 1), 1, 12, 12, True),    # im2col, 2 tiles; 3 of 48 on 3
    (7, 5, 1, 1, 1, 1, (0, 0, 0, 0), 1, 1, 1, False),      # 1x1 direct path, one pixel
    (7, 5, 1, 2, 1, 1, (0, 0, 0, 0), 2, 5, 6, True),       # 1x1 with stride: im2col path
    (6, 4, 1, 1, 1, 2, (1, 0, 0, 1), 1, 3, 4, True),       # 1x1 padded, grouped
    # Few input channels: windows read in place (the sconv kernels) where the ISA has them.
    (3, 64, 7, 2, 1, 1, (3, 3, 3, 3), 2, 23, 19, True),    # a Bi-Real / ResNet stem
    (3, 96, 11, 4, 1, 1, (2, 2, 2, 2), 1, 35, 35, False),  # an AlexNet stem
    (1, 70, 5, 1, 1, 1, (2, 0, 1, 3), 1, 9, 12, True),     # asymmetric pads, channel tail
    (3, 20, 3, 1, 2, 1, (2, 2, 2, 2), 1, 9, 10, True),     # dilated: taps kx * 2 * C apart
]


@pytest.mark.parametrize("case", CONV_CASES, ids=[
    f"c{c[0]}-o{c[1]}-k{c[2]}-s{c[3]}-d{c[4]}-g{c[5]}-p{'_'.join(map(str, c[6]))}-n{c[7]}"
    f"-{c[8]}x{c[9]}-{'bias' if c[10] else 'nobias'}-seed{800 + i}" for i, c in enumerate(CONV_CASES)])
def test_conv2d(case):
    c, o, k, stride, dilation, group, pads, batch, h, w, with_bias = case
    rng = np.random.default_rng(800 + CONV_CASES.index(case))
    x = rand(rng, batch, h, w, c)
    weight = rand(rng, o, k, k, c // group)
    bias = rand(rng, o)
    inputs = [("in", x), ("const", weight)] + ([("const", bias)] if with_bias else [])
    attrs = {"kernel_shape": [k, k], "strides": [stride, stride], "dilations": [dilation, dilation],
             "pads": list(pads), "group": group}
    y = run_op("Conv2d", inputs, attrs)
    geometry = ((stride, stride), (dilation, dilation), pads, group)
    expected = numpy_ops.conv2d_nhwc(x, weight, *geometry) + (bias if with_bias else 0.0)
    magnitude = numpy_ops.conv2d_nhwc(np.abs(x), np.abs(weight), *geometry).max()
    close(y, expected, atol=1e-5 * magnitude)


@pytest.mark.parametrize("activation", ["relu", "clip"])
@pytest.mark.parametrize("with_bias", [True, False])
def test_stem_conv2d_with_an_activation(activation, with_bias):
    """A few-channel conv (the direct kernels, which fuse the bias and a relu) with its
    activation: conv + bias, then the activation, on every path bit for bit (run_op)."""
    rng = np.random.default_rng(41)
    x = rand(rng, 2, 17, 15, 3)
    x[0, 5:9, 4:9, :] = 0.0  # windows of zeros: +0 after the bias and relu, never -0
    weight = rand(rng, 70, 7, 7, 3)
    bias = rand(rng, 70)
    attrs = {"kernel_shape": [7, 7], "strides": [2, 2], "pads": [3, 3, 3, 3],
             "activation": activation}
    if activation == "clip":
        attrs.update({"activation_min": -0.5, "activation_max": 0.5})
    inputs = [("in", x), ("const", weight)] + ([("const", bias)] if with_bias else [])
    y = run_op("Conv2d", inputs, attrs)
    conv = numpy_ops.conv2d_nhwc(x, weight, (2, 2), (1, 1), (3, 3, 3, 3), 1) + (
        bias if with_bias else 0.0)
    expected = np.maximum(conv, 0) if activation == "relu" else np.clip(conv, -0.5, 0.5)
    magnitude = numpy_ops.conv2d_nhwc(np.abs(x), np.abs(weight), (2, 2), (1, 1),
                                      (3, 3, 3, 3), 1).max()
    close(y, expected, atol=1e-5 * magnitude)
    if activation == "relu":
        assert (y >= 0).all() and not np.signbit(y).any()


NCHW_CASES = [  # (channels, out, kernel, stride, dilation, pads, batch, h, w, fused pool)
    (3, 64, 7, 2, 1, (3, 3, 3, 3), 2, 17, 19, True),   # a ResNet stem, with its MaxPool
    (3, 96, 11, 4, 1, (2, 2, 2, 2), 1, 35, 35, False),  # an AlexNet stem
    (1, 8, 3, 1, 2, (2, 1, 0, 3), 2, 9, 7, False),      # one plane, dilated, asymmetric pads
    (4, 20, 1, 1, 1, (0, 0, 0, 0), 3, 5, 6, False),     # 1x1: the GEMM reads the NHWC copy
]


@pytest.mark.parametrize("case", NCHW_CASES, ids=[f"c{c[0]}-k{c[2]}-s{c[3]}" for c in NCHW_CASES])
def test_conv2d_reads_an_nchw_image_as_its_nhwc_transpose(case):
    """input_layout "nchw": the same bits as the conv of the transposed image, on every path
    (the direct kernels' padded copy interleaves the planes; im2col reads an NHWC copy)."""
    c, o, k, stride, dilation, pads, batch, h, w, pool = case
    rng = np.random.default_rng(870 + NCHW_CASES.index(case))
    x_nchw = rand(rng, batch, c, h, w)
    weight, bias = rand(rng, o, k, k, c), rand(rng, o)
    attrs = {"kernel_shape": [k, k], "strides": [stride, stride],
             "dilations": [dilation, dilation], "pads": list(pads), "activation": "relu"}
    if pool:
        attrs.update({"pool_kernel_shape": [3, 3], "pool_strides": [2, 2],
                      "pool_pads": [1, 1, 1, 1]})
    inputs = [("const", weight), ("const", bias)]
    want = run_op("Conv2d", [("in", np.ascontiguousarray(x_nchw.transpose(0, 2, 3, 1)))] + inputs,
                  attrs)
    got = run_op("Conv2d", [("in", x_nchw)] + inputs, {**attrs, "input_layout": "nchw"})
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("attrs,channels,message", [
    ({"input_layout": "nchw"}, 5, "input_layout 'nchw' takes at most 4 input channels"),
    ({"input_layout": "nchw", "precision": "int8"}, 3, "input_layout 'nchw' needs precision float32"),
    ({"input_layout": "nhwc_"}, 3, "input_layout must be 'nhwc' or 'nchw'"),
])
def test_conv2d_input_layout_is_checked(attrs, channels, message):
    g = _core.Graph()
    g.add_input("x", [-1, channels, 6, 6])
    g.add_constant("w", np.ones((2, 3, 3, channels), np.float32))
    g.add_node("conv", "Conv2d", ["x", "w"], ["y"], {"kernel_shape": [3, 3], **attrs})
    g.add_output("y")
    with pytest.raises(_core.InvalidModel, match=f"node 'conv'.*{message}"):
        _core.Session(g, 1, "scalar")


def test_conv2d_empty_bias_input_and_default_attrs():
    """An absent optional bias ("") and omitted strides/dilations/pads/group (defaults)."""
    rng = np.random.default_rng(810)
    x, weight = rand(rng, 2, 5, 4, 3), rand(rng, 4, 2, 3, 3)
    y = run_op("Conv2d", [("in", x), ("const", weight), ""], {"kernel_shape": [2, 3]})
    close(y, numpy_ops.conv2d_nhwc(x, weight), atol=1e-5)


@pytest.mark.parametrize("batch,k,o,with_bias", [(1, 1, 1, True), (3, 17, 5, False), (4, 64, 70, True),
                                                 (2, 130, 129, True)])
def test_dense(batch, k, o, with_bias):
    rng = np.random.default_rng(batch * 1000 + k)
    x, weight, bias = rand(rng, batch, k), rand(rng, o, k), rand(rng, o)
    y = run_op("Dense", [("in", x), ("const", weight)] + ([("const", bias)] if with_bias else []))
    expected = numpy_ops.dense(x, weight, bias if with_bias else None)
    close(y, expected, atol=1e-5 * numpy_ops.dense(np.abs(x), np.abs(weight)).max())


@pytest.mark.parametrize("shape,o,with_bias", [((2, 3, 17), 5, True), ((1, 7, 64), 70, False),
                                              ((3, 1, 1), 1, True), ((2, 2, 3, 130), 33, True),
                                              ((2, 5, 1, 1, 9), 4, False)],
                         ids=["BxTxK", "1x7x64-o70", "3x1x1", "rank4", "rank5"])
def test_dense_any_rank(shape, o, with_bias):
    """[..., K] -> [..., O]: the leading axes are rows, read in place."""
    rng = np.random.default_rng(sum(shape) * 10 + o)
    x, weight, bias = rand(rng, *shape), rand(rng, o, shape[-1]), rand(rng, o)
    y = run_op("Dense", [("in", x), ("const", weight)] + ([("const", bias)] if with_bias else []))
    assert y.shape == shape[:-1] + (o,)
    expected = numpy_ops.dense(x, weight, bias if with_bias else None)
    close(y, expected, atol=1e-5 * numpy_ops.dense(np.abs(x), np.abs(weight)).max())
    # Row by row it is the rank-2 layer on the flattened rows, bit for bit.
    flat = run_op("Dense", [("in", x.reshape(-1, shape[-1])), ("const", weight)]
                  + ([("const", bias)] if with_bias else []))
    np.testing.assert_array_equal(y.reshape(-1, o), flat)


def test_dense_rank_1_rejected():
    g = _core.Graph()
    g.add_input("x", [8])
    g.add_constant("w", np.ones((3, 8), np.float32))
    g.add_node("dense", "Dense", ["x", "w"], ["y"], {})
    g.add_output("y")
    with pytest.raises(_core.InvalidModel, match=r"node 'dense'.*rank >= 2"):
        _core.Session(g, 1, "scalar").run([np.ones(8, np.float32)])


# ---------------------------------------------------------------------------------------------
# Element-wise with per-channel or no parameters
# ---------------------------------------------------------------------------------------------


def test_channel_affine():
    rng = np.random.default_rng(820)
    for shape in [(2, 3, 4, 5), (3, 70)]:
        x, scale, bias = rand(rng, *shape), rand(rng, shape[-1]), rand(rng, shape[-1])
        y = run_op("ChannelAffine", [("in", x), ("const", scale), ("const", bias)])
        close(y, numpy_ops.channel_affine(x, scale, bias), atol=1e-6)


def special_input(rng, shape):
    x = rand(rng, *shape)
    flat = x.reshape(-1)
    flat[: SPECIALS.size] = SPECIALS
    return x


def test_relu():
    x = special_input(np.random.default_rng(821), (2, 3, 4, 5))
    y = run_op("Relu", [("in", x)])
    np.testing.assert_array_equal(y, numpy_ops.relu(x))


@pytest.mark.parametrize("slope_shape", ["per_channel", "scalar"])
def test_prelu(slope_shape):
    rng = np.random.default_rng(822)
    x = special_input(rng, (2, 3, 4, 6))
    slope = rand(rng, 6) if slope_shape == "per_channel" else np.array([0.25], np.float32)
    y = run_op("PRelu", [("in", x), ("const", slope)])
    # One float32 product per element: the float64 product is exact, rounding it once matches.
    np.testing.assert_array_equal(y, numpy_ops.prelu(x, slope).astype(np.float32))


@pytest.mark.parametrize("op", ["Relu", "PRelu", "ChannelAffine", "Sign"])
def test_elementwise_on_many_short_rows(op):
    """A 3-channel image of 9000 rows: the ops take rows in tasks of 16384 floats, whole rows
    each (per-channel parameters), on 1 and 3 threads alike."""
    rng = np.random.default_rng(826)
    x = special_input(rng, (2, 60, 75, 3))
    scale, bias = rand(rng, 3), rand(rng, 3)
    params = {"Relu": [], "PRelu": [("const", scale)], "Sign": [],
              "ChannelAffine": [("const", scale), ("const", bias)]}[op]
    want = {"Relu": lambda: numpy_ops.relu(x), "Sign": lambda: numpy_ops.onnx_sign(x),
            "PRelu": lambda: numpy_ops.prelu(x, scale).astype(np.float32),
            "ChannelAffine": lambda: x * scale + bias}[op]()  # float32 multiply, then add
    np.testing.assert_array_equal(run_op(op, [("in", x)] + params), want)


@pytest.mark.parametrize("lo,hi", [(-0.5, 0.7), (-math.inf, 0.3), (-0.2, math.inf),
                                   (-math.inf, math.inf), (-1.0, 1.0)])
def test_clip(lo, hi):
    x = special_input(np.random.default_rng(823), (3, 20))
    y = run_op("Clip", [("in", x)], {"min": lo, "max": hi})
    # The bounds are float32 in the engine.
    np.testing.assert_array_equal(y, numpy_ops.clip(x, np.float32(lo), np.float32(hi)))


def test_sign_is_onnx_sign():
    """ONNX Sign: 0 -> 0 (unlike binarization), NaN stays NaN."""
    x = special_input(np.random.default_rng(824), (2, 13))
    y = run_op("Sign", [("in", x)])
    np.testing.assert_array_equal(y, numpy_ops.onnx_sign(x))
    assert y.reshape(-1)[0] == 0 and y.reshape(-1)[1] == 0 and np.isnan(y.reshape(-1)[2])


@pytest.mark.parametrize("op", ["Sigmoid", "Tanh"])
def test_sigmoid_and_tanh(op):
    """Within a few float32 ulps of float64 NumPy; NaN stays NaN, ±inf saturate, ±0 and tiny
    values keep their sign through Tanh."""
    rng = np.random.default_rng(825)
    x = special_input(rng, (3, 40))
    x[1] = np.linspace(-100, 100, 40, dtype=np.float32)  # exp overflows at the ends
    y = run_op(op, [("in", x)])
    expected = {"Sigmoid": numpy_ops.sigmoid, "Tanh": numpy_ops.tanh}[op](x)
    close(y, expected, rtol=1e-6, atol=1e-38)
    if op == "Tanh":
        np.testing.assert_array_equal(np.signbit(y[0, :2]), [False, True])


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------

MAX_POOL_CASES = [
    # kernel, strides, dilations, pads, ceil_mode, h, w
    ((2, 2), (2, 2), (1, 1), (0, 0, 0, 0), 0, 6, 7),
    ((2, 2), (2, 2), (1, 1), (0, 0, 0, 0), 1, 7, 5),
    ((3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 0, 7, 8),
    ((3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 1, 8, 6),
    ((3, 2), (1, 2), (2, 1), (2, 0, 1, 1), 0, 9, 6),
    ((3, 3), (3, 3), (1, 1), (0, 1, 2, 0), 1, 7, 7),
    ((5, 5), (1, 1), (1, 1), (2, 2, 2, 2), 0, 3, 3),
]


@pytest.mark.parametrize("case", MAX_POOL_CASES,
                         ids=[f"case{i}-seed{830 + i}" for i in range(len(MAX_POOL_CASES))])
def test_max_pool(case):
    kernel, strides, dilations, pads, ceil_mode, h, w = case
    rng = np.random.default_rng(830 + MAX_POOL_CASES.index(case))
    x = rand(rng, 2, h, w, 3) - 10.0  # all negative: a padded 0 would win if padding counted
    y = run_op("MaxPool", [("in", x)], {"kernel_shape": list(kernel), "strides": list(strides),
                                        "dilations": list(dilations), "pads": list(pads),
                                        "ceil_mode": ceil_mode})
    expected = numpy_ops.max_pool_nhwc(x, kernel, strides, dilations, pads, bool(ceil_mode))
    np.testing.assert_array_equal(y, expected)


AVG_POOL_CASES = [
    # kernel, strides, pads, h, w[, channels]: 5 channels run the kernels' tails; 37 their
    # vector steps too, over rows of interior columns that go in one kernel call.
    ((2, 2), (2, 2), (0, 0, 0, 0), 6, 7),
    ((2, 2), (2, 2), (0, 0, 0, 0), 6, 20, 37),
    ((3, 3), (2, 2), (1, 1, 1, 1), 9, 21, 37),
    ((3, 3), (2, 2), (1, 1, 1, 1), 7, 8),
    ((3, 3), (2, 2), (1, 1, 1, 1), 8, 6),
    ((3, 2), (2, 1), (0, 1, 2, 0), 9, 6),
    ((3, 3), (3, 3), (1, 0, 0, 2), 8, 7),
]


@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("ceil_mode", [0, 1])
@pytest.mark.parametrize("case", AVG_POOL_CASES,
                         ids=[f"case{i}-seed{840 + i}" for i in range(len(AVG_POOL_CASES))])
def test_average_pool(case, ceil_mode, count_include_pad):
    kernel, strides, pads, h, w, *channels = case
    rng = np.random.default_rng(840 + AVG_POOL_CASES.index(case))
    x = rand(rng, 2, h, w, *(channels or [5]))
    y = run_op("AveragePool", [("in", x)], {"kernel_shape": list(kernel), "strides": list(strides),
                                            "pads": list(pads), "ceil_mode": ceil_mode,
                                            "count_include_pad": count_include_pad})
    expected = numpy_ops.average_pool_nhwc(x, kernel, strides, pads, bool(ceil_mode),
                                           bool(count_include_pad))
    close(y, expected, rtol=1e-5, atol=1e-6)


def test_average_pool_matches_onnx_reference_divisors():
    """Hand-checked divisors: a 3x3 window, stride 2, pads 1 on a 4x4 ones input with ceil_mode.
    Output 3x3 (the last window starts at 3 < 4 + 1). The corner windows cover 4 cells
    (count_include_pad=0 gives 1.0 everywhere); with count_include_pad the top-left window
    covers 9 padded cells, 4 real -> 4/9, and the bottom-right one only reaches the end pad
    (rows 3..4 of the padded extent [-1, 5)): 2x2 padded cells, 1 real -> 1/4."""
    x = np.ones((1, 4, 4, 1), np.float32)
    attrs = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1}
    y = run_op("AveragePool", [("in", x)], dict(attrs, count_include_pad=0))
    np.testing.assert_array_equal(y, np.ones((1, 3, 3, 1)))
    y = run_op("AveragePool", [("in", x)], dict(attrs, count_include_pad=1))
    close(y[0, :, :, 0], [[4 / 9, 6 / 9, 2 / 6], [6 / 9, 1.0, 3 / 6], [2 / 6, 3 / 6, 1 / 4]], rtol=1e-6)


def test_global_average_pool():
    rng = np.random.default_rng(850)
    for shape in [(2, 5, 7, 3), (1, 1, 1, 70)]:
        x = rand(rng, *shape)
        close(run_op("GlobalAveragePool", [("in", x)]), numpy_ops.global_average_pool_nhwc(x), atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Broadcasting binary ops
# ---------------------------------------------------------------------------------------------

NUMPY_BINARY = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}
BROADCASTS = {
    # name: (shape of a, kind of a, shape of b, kind of b)
    "same_shape": ((2, 3, 4, 5), "in", (2, 3, 4, 5), "in"),
    "channel_input": ((2, 3, 4, 5), "in", (1, 1, 1, 5), "in_static"),
    "channel_input_first": ((1, 1, 1, 5), "in_static", (2, 3, 4, 5), "in"),
    "channel_const": ((2, 3, 4, 5), "in", (1, 1, 1, 5), "const"),
    "channel_const_first": ((1, 1, 1, 5), "const", (2, 3, 4, 5), "in"),
    "vector_const": ((2, 3, 4, 5), "in", (5,), "const"),
    "scalar_const": ((2, 3, 4, 5), "in", (), "const"),
    "scalar_const_first": ((), "const", (2, 3, 4, 5), "in"),
    "one_element_const": ((2, 6), "in", (1,), "const"),
    "two_way": ((2, 1, 4, 1), "in", (1, 3, 1, 5), "const"),
    "two_way_first": ((1, 3, 1, 5), "const", (2, 1, 4, 1), "in"),
}


@pytest.mark.parametrize("broadcast", list(BROADCASTS))
@pytest.mark.parametrize("op", list(NUMPY_BINARY))
def test_broadcast_binary(op, broadcast):
    shape_a, kind_a, shape_b, kind_b = BROADCASTS[broadcast]
    rng = np.random.default_rng(860 + list(BROADCASTS).index(broadcast))
    a = rand(rng, *shape_a)
    b = (rng.uniform(0.5, 2.0, shape_b) * rng.choice([-1.0, 1.0], shape_b)).astype(np.float32)
    g = _core.Graph()
    names, feeds = [], []
    for name, kind, value in (("a", kind_a, a), ("b", kind_b, b)):
        if kind == "const":
            g.add_constant(name, np.ascontiguousarray(value))
        else:
            shape = list(value.shape)
            if kind == "in":
                shape[0] = -1
            g.add_input(name, shape)
            feeds.append(value)
        names.append(name)
    g.add_node("node", op, names, ["y"], {})
    g.add_output("y")
    [y] = run_everywhere(g, feeds)
    expected = NUMPY_BINARY[op](a, b)  # float32 numpy: one IEEE operation per element
    assert y.shape == expected.shape
    close(y, expected.astype(np.float64), rtol=1e-6)


def test_broadcast_mismatch_rejected():
    g = _core.Graph()
    g.add_input("a", [-1, 3, 4])
    g.add_constant("b", np.ones((1, 5), np.float32))
    g.add_node("add", "Add", ["a", "b"], ["y"], {})
    g.add_output("y")
    with pytest.raises(_core.InvalidModel, match="node 'add'"):
        _core.Session(g, 1, "scalar").run([np.ones((2, 3, 4), np.float32)])


# ---------------------------------------------------------------------------------------------
# Layout: Concat, Reshape, Transpose; Softmax
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis,shapes", [
    (3, [(2, 3, 4, 5), (2, 3, 4, 1), (2, 3, 4, 7)]),
    (2, [(2, 3, 4, 5), (2, 3, 2, 5)]),
    (1, [(2, 3, 4, 5), (2, 1, 4, 5), (2, 2, 4, 5)]),
    (0, [(2, 3, 4, 5), (1, 3, 4, 5)]),
    (1, [(3, 5), (3, 70)]),
])
def test_concat(axis, shapes):
    rng = np.random.default_rng(870 + axis)
    xs = [rand(rng, *s) for s in shapes]
    y = run_op("Concat", [("in", x) for x in xs], {"axis": axis})
    np.testing.assert_array_equal(y, np.concatenate(xs, axis=axis))


def test_concat_with_constant():
    rng = np.random.default_rng(875)
    x, c = rand(rng, 2, 3, 4), rand(rng, 2, 3, 1)
    y = run_op("Concat", [("const", c), ("in", x)], {"axis": 2})
    np.testing.assert_array_equal(y, np.concatenate([c, x], axis=2))


@pytest.mark.parametrize("in_shape,target", [
    ((2, 3, 4, 5), [0, -1]),
    ((2, 3, 4, 5), [0, -1, 5]),
    ((2, 3, 4, 5), [0, 4, 3, 0]),
    ((2, 3, 4, 5), [-1, 5]),
    ((2, 3, 4, 5), [0, 60, 1, 1]),
    ((3, 12), [0, 2, -1, 3]),
])
def test_reshape_float(in_shape, target):
    x = rand(np.random.default_rng(880), *in_shape)
    y = run_op("Reshape", [("in", x)], {"shape": target})
    np.testing.assert_array_equal(y, numpy_ops.onnx_reshape(x, target))


@pytest.mark.parametrize("target", [[0, -1, 70], [0, 12, 70], [0, 4, 3, 70], [-1, 1, 12, 70]])
def test_reshape_bits_keeps_last_axis(target):
    """Packed bits reshaped with the last axis kept, then a BinaryDense over every position."""
    rng = np.random.default_rng(885)
    n, h, w, c, o = 2, 3, 4, 70, 5
    x = rand(rng, n, h, w, c)
    negative = rng.random((o, h * w, c)) < 0.5
    g = _core.Graph()
    g.add_input("x", [-1, h, w, c])
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    g.add_node("reshape", "Reshape", ["xb"], ["rb"], {"shape": target})
    g.add_constant("w", pack_bits(negative))
    g.add_constant("scale", np.ones(o, np.float32))
    g.add_constant("bias", np.zeros(o, np.float32))
    g.add_node("dense", "BinaryDense", ["rb", "w", "scale", "bias"], ["y"],
               {"in_channels": c, "groups_in": h * w, "output": "float"})
    g.add_output("y")
    [y] = run_everywhere(g, [x])
    expected = numpy_ops.dense(numpy_ops.sign_binarize(x).reshape(n, -1),
                               np.where(negative, -1.0, 1.0).reshape(o, -1))
    np.testing.assert_array_equal(y, expected)


def add_dense_output(g: _core.Graph, bits: str, in_channels: int) -> None:
    """A 2-output BinaryDense of `bits` (one group, zero weights) as the graph's output y."""
    g.add_constant("w", np.zeros((2, 1, (in_channels + 63) // 64), np.uint64))
    g.add_constant("scale", np.ones(2, np.float32))
    g.add_constant("bias", np.zeros(2, np.float32))
    g.add_node("dense", "BinaryDense", [bits, "w", "scale", "bias"], ["y"],
               {"in_channels": in_channels, "groups_in": 1, "output": "float"})
    g.add_output("y")


def test_reshape_bits_changing_last_axis_rejected():
    g = _core.Graph()
    g.add_input("x", [-1, 3, 4, 70])
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    g.add_node("flatten", "Reshape", ["xb"], ["fb"], {"shape": [0, -1]})
    add_dense_output(g, "fb", 840)
    with pytest.raises(_core.InvalidModel, match="node 'flatten'.*last axis"):
        _core.Session(g, 1, "scalar").run([np.ones((1, 3, 4, 70), np.float32)])


@pytest.mark.parametrize("inputs,message", [
    (["x", "", "s"], "scale and bias come together"),
    (["x", "", "s", "b5"], "bias has 5 values but the input has 70 channels"),
])
def test_binarize_pack_affine_inputs_are_checked(inputs, message):
    g = _core.Graph()
    g.add_input("x", [-1, 70])
    g.add_constant("s", np.ones(70, np.float32))
    g.add_constant("b5", np.zeros(5, np.float32))
    g.add_node("pack", "BinarizePack", inputs, ["xb"], {})
    add_dense_output(g, "xb", 70)
    with pytest.raises(_core.InvalidModel, match=f"node 'pack'.*{message}"):
        _core.Session(g, 1, "scalar").run([np.ones((1, 70), np.float32)])


@pytest.mark.parametrize("in_shape,perm", [
    ((2, 3, 4, 5), [0, 3, 1, 2]),
    ((2, 3, 4, 5), [0, 2, 3, 1]),
    ((2, 3, 4, 5), [0, 2, 1, 3]),
    ((2, 3, 4, 5), [3, 1, 2, 0]),
    ((2, 3, 4, 5), [0, 1, 2, 3]),
    ((3, 70), [1, 0]),
    # Batched matrix transposes (tiled): image layouts across tile edges, merged axes.
    ((3, 17, 33, 64), [0, 3, 1, 2]),
    ((2, 64, 17, 33), [0, 2, 3, 1]),
    ((1, 1, 1, 5), [0, 3, 1, 2]),
    ((16, 33), [1, 0]),
    ((2, 3, 4, 5, 6), [0, 3, 4, 1, 2]),
    ((5, 2, 3, 4), [2, 3, 0, 1]),
    # An RGB image's NCHW -> NHWC: 3 rows, columns in several bands of 1024; and the other
    # row counts interleaved in one pass (1, 2, 4).
    ((2, 3, 45, 51), [0, 2, 3, 1]),
    ((2, 1, 45, 51), [0, 2, 3, 1]),
    ((1, 2, 40, 30), [0, 2, 3, 1]),
    ((2, 4, 45, 51), [0, 2, 3, 1]),
    ((4, 1500), [1, 0]),
    ((1, 20, 33, 35), [0, 2, 3, 1]),
])
def test_transpose(in_shape, perm):
    x = rand(np.random.default_rng(890), *in_shape)
    y = run_op("Transpose", [("in", x)], {"perm": perm})
    np.testing.assert_array_equal(y, np.transpose(x, perm))


@pytest.mark.parametrize("in_shape,axis", [((2, 3, 4, 5), 3), ((2, 3, 4, 5), 1), ((2, 3, 4, 5), 0),
                                           ((3, 70), 1), ((4, 1), 1)])
def test_softmax(in_shape, axis):
    rng = np.random.default_rng(895)
    x = rand(rng, *in_shape) * 5
    x.reshape(-1)[0] = 80.0  # exp(80) overflows float32 without the max subtraction
    y = run_op("Softmax", [("in", x)], {"axis": axis})
    close(y, numpy_ops.softmax(x, axis), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=1e-5)


@pytest.mark.parametrize("in_shape,axis", [((2, 3, 4, 5), 3), ((2, 3, 4, 5), 1), ((2, 3, 4, 5), 0),
                                           ((3, 70), 1), ((4, 1), 1)])
def test_log_softmax(in_shape, axis):
    rng = np.random.default_rng(896)
    x = rand(rng, *in_shape) * 5
    x.reshape(-1)[0] = 80.0  # exp(80) overflows float32 without the max subtraction
    x.reshape(-1)[1] = -80.0  # exp(-80 - 80) underflows: log(softmax) would be -inf
    y = run_op("LogSoftmax", [("in", x)], {"axis": axis})
    expected = numpy_ops.log_softmax(x, axis)
    close(y, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.exp(y.astype(np.float64)).sum(axis=axis), 1.0, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# Session: plans per input shape, input shape checks
# ---------------------------------------------------------------------------------------------


def small_network():
    """x [-1, 5, 6, 3] -> Conv2d -> Relu -> MaxPool -> BinarizePack -> BinaryConv2d ->
    GlobalAveragePool -> Reshape -> Dense -> Softmax, with its NumPy forward function."""
    rng = np.random.default_rng(900)
    conv_w, conv_b = rand(rng, 8, 3, 3, 3), rand(rng, 8)
    bneg = rng.random((6, 3, 3, 8)) < 0.5
    dense_w, dense_b = rand(rng, 4, 6), rand(rng, 4)
    g = _core.Graph()
    g.add_input("x", [-1, 5, 6, 3])
    for name, arr in [("conv.w", conv_w), ("conv.b", conv_b), ("bconv.w", pack_bits(bneg)),
                      ("bconv.scale", np.full(6, 0.1, np.float32)),
                      ("bconv.bias", np.zeros(6, np.float32)),
                      ("dense.w", dense_w), ("dense.b", dense_b)]:
        g.add_constant(name, arr)
    g.add_node("conv", "Conv2d", ["x", "conv.w", "conv.b"], ["c"],
               {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]})
    g.add_node("relu", "Relu", ["c"], ["r"], {})
    g.add_node("pool", "MaxPool", ["r"], ["p"],
               {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1})
    g.add_node("pack", "BinarizePack", ["p"], ["pb"], {})
    g.add_node("bconv", "BinaryConv2d", ["pb", "bconv.w", "bconv.scale", "bconv.bias"], ["b"],
               {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 1, "in_channels": 8,
                "pad_value": 0, "output": "float"})
    g.add_node("gap", "GlobalAveragePool", ["b"], ["gp"], {})
    g.add_node("flat", "Reshape", ["gp"], ["f"], {"shape": [0, -1]})
    g.add_node("dense", "Dense", ["f", "dense.w", "dense.b"], ["d"], {})
    g.add_node("softmax", "Softmax", ["d"], ["y"], {"axis": 1})
    g.add_output("y")

    def forward(x):
        r = numpy_ops.relu(numpy_ops.conv2d_nhwc(x, conv_w, pads=(1, 1, 1, 1)) + conv_b)
        p = numpy_ops.max_pool_nhwc(r.astype(np.float32), (2, 2), (2, 2), ceil_mode=True)
        b = numpy_ops.conv2d_nhwc(numpy_ops.sign_binarize(p), np.where(bneg, -1.0, 1.0),
                                  pads=(1, 1, 1, 1)) * np.float32(0.1)
        f = numpy_ops.global_average_pool_nhwc(b).reshape(x.shape[0], -1)
        return numpy_ops.softmax(numpy_ops.dense(f, dense_w, dense_b), 1)

    return g, forward


@pytest.mark.parametrize("isa", ISAS)
def test_plans_cached_per_batch_size(isa):
    """One session, batch sizes alternating: each run is correct and repeats give identical
    results (a plan reused with another batch's shapes would read or write out of bounds)."""
    g, forward = small_network()
    session = _core.Session(g, 3, isa)
    rng = np.random.default_rng(901)
    inputs = {n: rand(rng, n, 5, 6, 3) for n in (2, 5, 1)}
    first = {}
    for n in [2, 5, 2, 5, 1, 5, 2]:
        [y] = session.run([inputs[n]])
        assert y.shape == (n, 4)
        if n in first:
            np.testing.assert_array_equal(y, first[n])
        else:
            first[n] = y
            # Sign flips of near-zero pooled values are possible in principle; the seed has none.
            close(y, forward(inputs[n]), rtol=1e-4, atol=1e-6)
    # Batch rows are independent: row i of a batch equals the same input run alone.
    [single] = session.run([np.ascontiguousarray(inputs[5][3:4])])
    np.testing.assert_array_equal(single, first[5][3:4])


@pytest.mark.parametrize("shape", [(2, 5, 7, 3), (2, 6, 5, 3), (2, 5, 6, 4), (2, 5, 6), (2, 5, 6, 3, 1),
                                   (0, 5, 6, 3)])
def test_wrong_input_shape_rejected(shape):
    g, _ = small_network()
    session = _core.Session(g, 1, "scalar")
    with pytest.raises(_core.InvalidArgument, match="input 'x'"):
        session.run([np.zeros(shape, np.float32)])
    # The session still works afterwards.
    [y] = session.run([np.zeros((1, 5, 6, 3), np.float32)])
    assert y.shape == (1, 4)


def test_wrong_input_count_rejected():
    g, _ = small_network()
    session = _core.Session(g, 1, "scalar")
    x = np.zeros((1, 5, 6, 3), np.float32)
    with pytest.raises(_core.InvalidArgument):
        session.run([x, x])


@pytest.mark.parametrize("isa", ["scalar", "avx2", "avx512"])
def test_session_isa_selection(isa):
    """An available ISA is used as asked; one this CPU lacks raises UnsupportedIsa."""
    g, _ = small_network()
    if isa in ISAS:
        assert _core.Session(g, 1, isa).isa == isa
    else:
        with pytest.raises(_core.UnsupportedIsa):
            _core.Session(g, 1, isa)


def test_session_unknown_isa_and_bad_thread_count():
    g, _ = small_network()
    with pytest.raises(_core.InvalidArgument, match="unknown ISA"):
        _core.Session(g, 1, "sse9")
    with pytest.raises(_core.InvalidArgument, match="num_threads"):
        _core.Session(g, -1, "scalar")


def test_non_contiguous_input_is_accepted():
    """A strided view runs like its contiguous copy."""
    g, _ = small_network()
    session = _core.Session(g, 1, "scalar")
    base = rand(np.random.default_rng(902), 4, 10, 6, 3)
    view = base[::2, ::2]
    assert not view.flags.c_contiguous
    [y_view] = session.run([view])
    [y_copy] = session.run([np.ascontiguousarray(view)])
    np.testing.assert_array_equal(y_view, y_copy)


def test_concurrent_runs_of_one_session():
    """Session.run releases the GIL: four Python threads share one session with different batch
    sizes, and every result equals the sequential one."""
    g, _ = small_network()
    session = _core.Session(g, 2, ISAS[-1])
    rng = np.random.default_rng(903)
    inputs = [rand(rng, 1 + i % 3, 5, 6, 3) for i in range(12)]
    expected = [session.run([x])[0] for x in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda x: session.run([x])[0], inputs * 3))
    for i, y in enumerate(results):
        np.testing.assert_array_equal(y, expected[i % len(inputs)])
