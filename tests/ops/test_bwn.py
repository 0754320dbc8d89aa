"""BwnConv2d and BwnDense (float activations, packed ±1 weights, per-output scale and bias)
against NumPy with a float tolerance; every ISA and thread count bit-identical."""

from __future__ import annotations

import numpy as np
import pytest

from engine_runs import run_everywhere
from reference import numpy_ops
from xnorinfer import _core
from xnorinfer.bitpack import pack_bits


def assert_close(actual: np.ndarray, expected: np.ndarray, magnitude: np.ndarray) -> None:
    """float32 accumulation against a float64 oracle: relative to the size of the summed terms."""
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5 * float(np.max(magnitude)))


CONV_CASES = [
    # c, o, k, stride, dilation, group, pads, batch, h, w
    (3, 8, 3, 1, 1, 1, (1, 1, 1, 1), 2, 6, 7),
    (64, 16, 3, 2, 1, 2, (1, 0, 2, 1), 1, 9, 5),
    (65, 5, 1, 1, 1, 1, (0, 0, 0, 0), 3, 4, 4),
    (130, 70, 1, 2, 1, 2, (0, 0, 0, 0), 1, 5, 6),
    (16, 8, 5, 1, 2, 4, (4, 4, 4, 4), 2, 5, 5),
    (1, 3, 7, 1, 1, 1, (3, 3, 3, 3), 1, 1, 1),
    (20, 9, 3, 1, 1, 1, (0, 0, 0, 0), 4, 12, 11),
]


def conv_id(case):
    c, o, k, s, d, grp, pads, n, h, w = case
    return f"c{c}-o{o}-k{k}-s{s}-d{d}-g{grp}-p{'_'.join(map(str, pads))}-n{n}-{h}x{w}"


@pytest.mark.parametrize("case", CONV_CASES,
                         ids=[f"{conv_id(c)}-seed{600 + i}" for i, c in enumerate(CONV_CASES)])
def test_bwn_conv2d(case):
    c, o, k, stride, dilation, group, pads, batch, h, w = case
    rng = np.random.default_rng(600 + CONV_CASES.index(case))
    negative = rng.random((o, k, k, c // group)) < 0.5
    w_pm1 = np.where(negative, -1.0, 1.0)
    scale = rng.uniform(-0.5, 0.5, o).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    x = rng.standard_normal((batch, h, w, c)).astype(np.float32)
    g = _core.Graph()
    g.add_input("x", [-1, h, w, c])
    g.add_constant("w", pack_bits(negative))
    g.add_constant("scale", scale)
    g.add_constant("bias", bias)
    g.add_node("bwn", "BwnConv2d", ["x", "w", "scale", "bias"], ["y"],
               {"kernel_shape": [k, k], "strides": [stride, stride], "dilations": [dilation, dilation],
                "pads": list(pads), "group": group, "in_channels": c, "pad_value": 0})
    g.add_output("y")
    [y] = run_everywhere(g, [x])
    geometry = ((stride, stride), (dilation, dilation), pads, group)
    expected = numpy_ops.conv2d_nhwc(x, w_pm1, *geometry) * scale + bias
    magnitude = numpy_ops.conv2d_nhwc(np.abs(x), np.abs(w_pm1), *geometry) * np.abs(scale)
    assert_close(y, expected, magnitude + np.abs(bias))


DENSE_CASES = [(1, 1, 1), (3, 63, 5), (2, 64, 64), (5, 65, 70), (1, 1000, 3), (4, 130, 130)]


@pytest.mark.parametrize("batch,k,o", DENSE_CASES,
                         ids=[f"n{n}-k{k}-o{o}-seed{700 + i}"
                              for i, (n, k, o) in enumerate(DENSE_CASES)])
def test_bwn_dense(batch, k, o):
    rng = np.random.default_rng(700 + DENSE_CASES.index((batch, k, o)))
    negative = rng.random((o, 1, k)) < 0.5
    w_pm1 = np.where(negative[:, 0, :], -1.0, 1.0)
    scale = rng.uniform(-0.5, 0.5, o).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    x = rng.standard_normal((batch, k)).astype(np.float32)
    g = _core.Graph()
    g.add_input("x", [-1, k])
    g.add_constant("w", pack_bits(negative))
    g.add_constant("scale", scale)
    g.add_constant("bias", bias)
    g.add_node("bwn", "BwnDense", ["x", "w", "scale", "bias"], ["y"], {"in_channels": k, "groups_in": 1})
    g.add_output("y")
    [y] = run_everywhere(g, [x])
    expected = numpy_ops.dense(x, w_pm1) * scale + bias
    magnitude = numpy_ops.dense(np.abs(x), np.ones_like(w_pm1)) * np.abs(scale) + np.abs(bias)
    assert_close(y, expected, magnitude)


@pytest.mark.parametrize("shape,o", [((2, 3, 65), 70), ((1, 4, 1), 3), ((2, 2, 3, 130), 5)],
                         ids=["BxTxK", "1x4x1", "rank4"])
def test_bwn_dense_any_rank(shape, o):
    """[..., K] -> [..., O], leading axes rows: equal to the rank-2 layer on the flattened rows."""
    k = shape[-1]
    rng = np.random.default_rng(750 + sum(shape))
    negative = rng.random((o, 1, k)) < 0.5
    w_pm1 = np.where(negative[:, 0, :], -1.0, 1.0)
    scale = rng.uniform(-0.5, 0.5, o).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    x = rng.standard_normal(shape).astype(np.float32)
    outputs = []
    for in_shape in (shape, (int(np.prod(shape[:-1])), k)):
        g = _core.Graph()
        g.add_input("x", [-1, *in_shape[1:]])
        g.add_constant("w", pack_bits(negative))
        g.add_constant("scale", scale)
        g.add_constant("bias", bias)
        g.add_node("bwn", "BwnDense", ["x", "w", "scale", "bias"], ["y"],
                   {"in_channels": k, "groups_in": 1})
        g.add_output("y")
        [y] = run_everywhere(g, [x.reshape(in_shape)])
        outputs.append(y)
    y, flat = outputs
    assert y.shape == shape[:-1] + (o,)
    np.testing.assert_array_equal(y.reshape(-1, o), flat)
    expected = numpy_ops.dense(x, w_pm1) * scale + bias
    magnitude = numpy_ops.dense(np.abs(x), np.ones_like(w_pm1)) * np.abs(scale) + np.abs(bias)
    assert_close(y, expected, magnitude)


def _bwn_conv_graph(attrs_update=None, weight_shape=(4, 3, 3, 1)):
    g = _core.Graph()
    g.add_input("x", [-1, 5, 5, 8])
    g.add_constant("w", np.zeros(weight_shape, np.uint64))
    g.add_constant("scale", np.ones(4, np.float32))
    g.add_constant("bias", np.zeros(4, np.float32))
    attrs = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 1, "in_channels": 8, "pad_value": 0}
    attrs.update(attrs_update or {})
    g.add_node("bwn", "BwnConv2d", ["x", "w", "scale", "bias"], ["y"], attrs)
    g.add_output("y")
    return g


@pytest.mark.parametrize("name,graph_args", [
    ("pad_value_1", ({"pad_value": 1},)),
    ("weight_kernel_shape", ({}, (4, 3, 2, 1))),
    ("weight_words", ({}, (4, 3, 3, 2))),
    ("in_channels_mismatch", ({"in_channels": 7},)),
    ("group_does_not_divide", ({"group": 3},)),
])
def test_bwn_conv2d_validation(name, graph_args):
    """Refused when the node is added (the op schema), the session is made, or it first runs."""
    with pytest.raises(_core.InvalidModel, match="node 'bwn'"):
        g = _bwn_conv_graph(*graph_args)
        _core.Session(g, 1, "scalar").run([np.ones((1, 5, 5, 8), np.float32)])
