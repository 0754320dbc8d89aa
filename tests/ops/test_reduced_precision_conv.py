"""Conv2d with precision "int8" or "bf16" (the opt-in first layer, docs/ir.md): the engine's
arithmetic against a NumPy model of the same steps (int8: to float rounding of the last step;
bf16: up to float32 summation order), bit-identical on every ISA path and thread count, close to
the float conv, and clear errors for what it cannot take."""

from __future__ import annotations

import numpy as np
import pytest

from engine_runs import run_everywhere
from reference import numpy_ops
from xnorinfer import _core

CASES = [
    # c, o, k, stride, dilations, pads, batch, h, w
    (3, 64, 7, 2, (1, 1), (3, 3, 3, 3), 2, 23, 19),     # a Bi-Real / ResNet stem
    (3, 96, 11, 4, (1, 1), (2, 2, 2, 2), 1, 35, 35),    # an AlexNet stem
    (1, 70, 5, 1, (1, 1), (2, 0, 1, 3), 1, 9, 12),      # one channel, asymmetric pads, tail
    (4, 130, 3, 1, (2, 1), (1, 1, 1, 1), 3, 8, 7),      # vertical dilation, 3 channel blocks
    (5, 8, 1, 1, (1, 1), (0, 0, 0, 0), 2, 5, 5),        # 1x1, row bytes padded 5 -> 8
]


def conv_graph(c: int, o: int, k: int, stride: int, dilations, pads, weight: np.ndarray,
               bias: np.ndarray, precision: str = "int8") -> _core.Graph:
    g = _core.Graph()
    g.add_input("x", [-1, -1, -1, c])
    g.add_constant("w", weight)
    g.add_constant("b", bias)
    g.add_node("stem", "Conv2d", ["x", "w", "b"], ["y"],
               {"kernel_shape": [k, k], "strides": [stride, stride],
                "dilations": list(dilations), "pads": list(pads), "group": 1,
                "precision": precision})
    g.add_output("y")
    return g


def images(rng: np.random.Generator, batch: int, h: int, w: int, c: int) -> np.ndarray:
    """Images of different ranges: normalized, all positive (zero point 0), large."""
    x = rng.standard_normal((batch, h, w, c)).astype(np.float32)
    if batch > 1:
        x[1] = np.abs(x[1])
    if batch > 2:
        x[2] *= 100
    return x


# precision: (NumPy model, tolerance against it, tolerance against fp32), relative to the
# largest possible sum. int8: 8-bit activations, 7-bit weights; bf16: 8-bit mantissas.
PRECISIONS = {"int8": (numpy_ops.int8_conv2d_nhwc, 1e-6, 0.02),
              "bf16": (numpy_ops.bf16_conv2d_nhwc, 2e-6, 0.01)}


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("case", CASES, ids=[f"c{c[0]}-o{c[1]}-k{c[2]}-s{c[3]}-d{c[4][0]}"
                                             f"-n{c[6]}" for c in CASES])
def test_matches_its_model_and_the_float_conv(precision, case):
    c, o, k, stride, dilations, pads, batch, h, w = case
    rng = np.random.default_rng(c * 100 + o)
    weight = rng.standard_normal((o, k, k, c)).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    x = images(rng, batch, h, w, c)
    graph = conv_graph(c, o, k, stride, dilations, pads, weight, bias, precision)
    [y] = run_everywhere(graph, [x])
    geometry = ((stride, stride), dilations, pads)
    model, model_tolerance, fp32_tolerance = PRECISIONS[precision]
    magnitude = numpy_ops.conv2d_nhwc(np.abs(x), np.abs(weight), *geometry).max()
    np.testing.assert_allclose(y, model(x, weight, *geometry) + bias, rtol=1e-6,
                               atol=model_tolerance * magnitude)
    fp32 = numpy_ops.conv2d_nhwc(x, weight, *geometry) + bias
    error = np.abs(y - fp32).max(axis=(1, 2, 3))
    assert np.all(error < fp32_tolerance * magnitude), error / magnitude
    assert np.abs(y - fp32).max() > 0  # it is not the fp32 conv


def test_an_all_zero_image_gives_the_bias():
    weight = np.ones((8, 3, 3, 3), np.float32)
    bias = np.arange(8, dtype=np.float32)
    x = np.zeros((1, 6, 6, 3), np.float32)
    [y] = run_everywhere(conv_graph(3, 8, 3, 1, (1, 1), (1, 1, 1, 1), weight, bias), [x])
    np.testing.assert_array_equal(y, np.broadcast_to(bias, y.shape))


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("batch_mode", ["whole", "per_sample"])
def test_a_non_finite_input_is_a_clear_error(precision, bad, batch_mode):
    """Also when the batch runs one sample at a time, side by side on two threads: the
    error names the image in the batch, and never leaves a thread of the team (a crash)."""
    weight = np.ones((8, 3, 3, 3), np.float32)
    g = conv_graph(3, 8, 3, 1, (1, 1), (1, 1, 1, 1), weight, np.zeros(8, np.float32), precision)
    x = np.zeros((3, 6, 6, 3), np.float32)
    x[1, 2, 3, 1] = bad
    session = _core.Session(g, 2, _core.available_isas()[-1], batch_mode)
    assert session.batch_split_node([list(x.shape)]) == (0 if batch_mode == "whole" else 1)
    with pytest.raises(ValueError, match=rf"node 'stem' \(Conv2d\): image 1 .* NaN or infinity, "
                                         rf"which precision {precision} does not take"):
        session.run([x])


def test_bf16_rounds_subnormal_inputs_to_zero():
    """An input below FLT_MIN counts as 0 (VDPBF16PS treats subnormal inputs as zero)."""
    weight = np.ones((4, 1, 1, 1), np.float32)
    x = np.full((1, 2, 2, 1), 1e-39, np.float32)
    [y] = run_everywhere(conv_graph(1, 4, 1, 1, (1, 1), (0, 0, 0, 0), weight,
                                    np.zeros(4, np.float32), "bf16"), [x])
    assert np.all(y == 0)


@pytest.mark.parametrize("attrs,message", [
    ({"precision": "int4"}, "precision must be float32, int8 or bf16, got 'int4'"),
    ({"group": 3}, "precision int8 needs group 1"),
    ({"dilations": [1, 2]}, r"precision int8 needs dilations\[1\] == 1"),
    ({"precision": "bf16", "dilations": [1, 2]}, r"precision bf16 needs dilations\[1\] == 1"),
])
def test_unsupported_settings_are_refused(attrs, message):
    weight = np.ones((6, 3, 3, 3 // attrs.get("group", 1)), np.float32)
    g = _core.Graph()
    g.add_input("x", [-1, 6, 6, 3])
    g.add_constant("w", weight)
    g.add_node("stem", "Conv2d", ["x", "w"], ["y"],
               {"kernel_shape": [3, 3], "precision": "int8", **attrs})
    g.add_output("y")
    with pytest.raises(ValueError, match=message):
        _core.Session(g, 1, "scalar")


def test_only_int8_limits_the_window():
    """int8 sums must stay within int32, so its windows are limited; bf16 sums in float32 and
    takes a window of any size (a 1x1 conv over 34000 channels: 34000 bytes in int8)."""
    rng = np.random.default_rng(9)
    weight = rng.standard_normal((3, 1, 1, 34000)).astype(np.float32)
    x = rng.standard_normal((1, 1, 2, 34000)).astype(np.float32)
    bias = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="precision int8 takes windows of up to 33155 bytes"):
        _core.Session(conv_graph(34000, 3, 1, 1, (1, 1), (0, 0, 0, 0), weight, bias), 1)
    graph = conv_graph(34000, 3, 1, 1, (1, 1), (0, 0, 0, 0), weight, bias, "bf16")
    [y] = run_everywhere(graph, [x])
    np.testing.assert_allclose(y, numpy_ops.bf16_conv2d_nhwc(x, weight), rtol=1e-4, atol=1e-3)
