"""Ternary activations (ONNX Sign(0) = 0, docs/ir.md) and XNOR-Net's scaling factors.

``BinarizePack(output="ternary")`` writes each row's sign plane then its nonzero plane; a
ternary ``BinaryConv2d`` / ``BinaryDense`` counts only nonzero activations (zero padding adds
nothing, ``pad_value`` ±1 pads are ±1 products). Every graph runs on every ISA at 1 and 3
threads bit-identically (run_everywhere) and is compared against the NumPy oracle
(tests/reference/ir_reference.py) and against a convolution of ``np.sign(x)``: exactly for the
integer dot products and the float32 epilogue, with a tolerance only where a K map or β sums
floats in an order the oracle does not reproduce.

Also here: ``BinaryDense``'s ``batch_axes`` and β (``beta_src``), ``BinaryConv2d``'s per-sample
``scaling="sample"``, ``BinarizePack``'s ``abs_mean`` at any rank, and their validation errors.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from engine_runs import random_activations, run_everywhere
from reference import ir_reference, numpy_ops
from test_binary_conv2d import (add_bits_probe, complete_case, conv_attrs, decode_probe,
                                greedy_cover, random_weights)
from test_binary_dense import random_dense_weights
from xnorinfer import _core
from xnorinfer.bitpack import pack_bits, packed_words

ZERO_DENSITIES = [0.0, 0.1, 0.9, 1.0]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def ternary_input(rng: np.random.Generator, shape, zero_density: float) -> np.ndarray:
    """Normal floats with a fraction zero_density of exact zeros, half +0.0 and half -0.0 (both
    are Sign 0)."""
    return random_activations(rng, shape, zeros=zero_density / 2)


def random_epilogue(rng: np.random.Generator, o: int):
    """(scale, bias, out_offset) float32 [O]: |scale| in [0.25, 1.5] so distinct integer dots give
    distinct outputs; out_offset[0] = -bias[0], so channel 0 ties where the dot is 0."""
    scale = (rng.uniform(0.25, 1.5, o) * rng.choice([-1.0, 1.0], o)).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    out_offset = rng.standard_normal(o).astype(np.float32)
    out_offset[0] = -bias[0]
    return scale, bias, out_offset


def random_post(rng: np.random.Generator, o: int, low: float = -2.0):
    """(post_scale, post_bias) float32 [O] for the K map / β epilogue."""
    return (rng.uniform(low, 2.0, o).astype(np.float32), rng.standard_normal(o).astype(np.float32))


def add_constants(g: _core.Graph, constants: dict) -> None:
    for name, value in constants.items():
        if value is not None:
            g.add_constant(name, value)


def slot_inputs(slots: list) -> list[str]:
    """Node inputs: None -> "" (an absent optional input), trailing absent ones dropped."""
    names = ["" if s is None else s for s in slots]
    while names and not names[-1]:
        names.pop()
    return names


def sign_dots(case: dict, x: np.ndarray, w_pm1: np.ndarray) -> np.ndarray:
    """The integer dot products of a ternary conv, independently of the IR oracle: a float64
    convolution of np.sign(x) (zero padding = 0, pad_value ±1 = ±1 cells)."""
    return numpy_ops.conv2d_nhwc(np.sign(x), w_pm1, (case["stride"],) * 2,
                                 (case["dilation"],) * 2, case["pads"], 1,
                                 float(case["pad_value"]))


def ternary_probe_values(y: np.ndarray) -> np.ndarray:
    """The -1/0/+1 activations behind a probe output [..., C + 1] (see add_bits_probe): output o
    is sum(a) - 2 a_o, output C is sum(a)."""
    return (y[..., -1:] - y[..., :-1]) / 2


# ---------------------------------------------------------------------------------------------
# BinaryConv2d with a ternary input: a pairwise sample of geometry, zeros and epilogue
# ---------------------------------------------------------------------------------------------

FACTORS = {
    "c": [1, 3, 63, 64, 65, 130],
    "k": [1, 3, 5],
    "stride": [1, 2],
    "dilation": [1, 2],
    "pads": ["zero", "one", "same", "asym"],
    "pad_value": [0, 1, -1],
    "batch": [1, 3],
    "image": ["square", "tall", "wide", "one"],
    "zeros": ZERO_DENSITIES,
    "output": ["float", "bits"],
    "scaling": ["none", "kmap", "sample"],
    "o": [1, 5, 33, 70, 130],  # over 64: several channel chunks per task split
}


def pairwise_sample(seed: int, min_cases: int, pool_size: int = 600) -> list[dict]:
    """Greedy pairwise covering of FACTORS over a seeded pool of valid cases (geometry completed
    by test_binary_conv2d.complete_case, group 1), topped up with random cases to min_cases.
    Deterministic for a given seed."""
    rng = random.Random(seed)
    names = list(FACTORS)
    pool = []
    while len(pool) < pool_size:
        values = {n: rng.choice(FACTORS[n]) for n in names}
        case = complete_case(dict(values, group=1), rng)
        if case is not None:
            case["o"] = values["o"]
            pool.append((case, frozenset(itertools.combinations(list(values.items()), 2))))
    return greedy_cover(pool, rng, min_cases, len(pool), first_seed=30_000)


def case_id(case: dict) -> str:
    return (f"c{case['c']}-k{case['k']}-s{case['stride']}-d{case['dilation']}-p{case['pads_kind']}"
            f"-pv{case['pad_value']}-n{case['batch']}-{case['h']}x{case['w']}-o{case['o']}"
            f"-z{case['zeros']}-{case['output']}-{case['scaling']}-seed{case['seed']}")


TERNARY_CONV_CASES = pairwise_sample(seed=77, min_cases=64)


def ternary_conv_graph(case: dict, words, scale, bias, output: str, out_offset=None,
                       post=None) -> _core.Graph:
    """x -> BinarizePack(ternary) -> BinaryConv2d; outputs the conv's y (or a probe decoding it
    when the output is bits) and the pack's abs_mean. `post` (post_scale, post_bias) turns on
    the K map with case["scaling"]."""
    g = _core.Graph()
    g.add_input("x", [-1, case["h"], case["w"], case["c"]])
    g.add_node("pack", "BinarizePack", ["x"], ["xt", "amean"], {"output": "ternary"})
    add_constants(g, {"w": words, "scale": scale, "bias": bias,
                      "out_offset": out_offset if output == "bits" else None})
    attrs = conv_attrs(case, output)
    slots = ["xt", "w", "scale", "bias", "out_offset" if output == "bits" else None]
    if post is not None:
        add_constants(g, {"post_scale": post[0], "post_bias": post[1]})
        slots += ["amean", "post_scale", "post_bias"]
        attrs["scaling"] = case["scaling"]
        if case["scaling"] == "kmap":
            attrs["kmap_kernel_value"] = 1.0 / (case["k"] * case["k"])
    g.add_node("bconv", "BinaryConv2d", slot_inputs(slots), ["y"], attrs)
    if output == "bits":
        add_bits_probe(g, "y", words.shape[0], "probe", spatial=True)
        g.add_output("probe")
    else:
        g.add_output("y")
    g.add_output("amean")
    return g


def test_ternary_conv_sample_covers_every_value():
    assert 64 <= len(TERNARY_CONV_CASES) <= 80
    for name, values in FACTORS.items():
        seen = {c["pads_kind"] if name == "pads" else c[name] for c in TERNARY_CONV_CASES}
        assert set(values) <= seen, name


@pytest.mark.parametrize("case", TERNARY_CONV_CASES, ids=[case_id(c) for c in TERNARY_CONV_CASES])
def test_ternary_conv(case):
    rng = np.random.default_rng(case["seed"])
    o, output = case["o"], case["output"]
    x = ternary_input(rng, (case["batch"], case["h"], case["w"], case["c"]), case["zeros"])
    w_pm1, words = random_weights(rng, o, case["k"], case["k"], case["c"])
    scale, bias, out_offset = random_epilogue(rng, o)
    post = None
    if case["scaling"] != "none":
        post = random_post(rng, o)
    g = ternary_conv_graph(case, words, scale, bias, output, out_offset, post)
    y, amean = run_everywhere(g, [x])

    # The pack's abs_mean: mean |x| over channels, zeros included.
    assert amean.shape == x.shape[:3] + (1,)
    np.testing.assert_allclose(amean[..., 0], np.abs(x.astype(np.float64)).mean(axis=3), rtol=1e-5)

    # The oracle, fed the engine's own abs_mean so only the K map's summation can differ.
    attrs = conv_attrs(case, output)
    if post is not None:
        attrs["scaling"] = case["scaling"]
        attrs["kmap_kernel_value"] = 1.0 / (case["k"] * case["k"])
    xt, _ = ir_reference.binarize_pack({"output": "ternary"}, x)
    expected, _ = ir_reference.binary_conv2d(
        attrs, xt, words, scale, bias, out_offset if output == "bits" else None,
        *((amean,) + post if post is not None else ()))
    dots = sign_dots(case, x, w_pm1).astype(np.float32)  # exact integers
    if post is None:
        v = dots * scale + bias  # the float32 epilogue, multiply then add
        if output == "float":
            assert y.shape == dots.shape
            np.testing.assert_array_equal(y, v)
            np.testing.assert_array_equal(y, expected)
        else:
            np.testing.assert_array_equal(decode_probe(y), np.where(v + out_offset < 0, -1.0, 1.0))
            np.testing.assert_array_equal(decode_probe(y), ir_reference.unpack_pm1(expected, o))
        return
    if output == "float":
        assert y.shape == dots.shape
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5 * (1 + np.abs(expected).max()))
        return
    # K map with bits output: each bit is (v + out_offset) < 0 for exactly the v the same node
    # gives with a float output.
    v, _ = run_everywhere(ternary_conv_graph(case, words, scale, bias, "float", None, post), [x])
    np.testing.assert_array_equal(decode_probe(y), np.where(v + out_offset < 0, -1.0, 1.0))
    float_expected, _ = ir_reference.binary_conv2d(attrs | {"output": "float"}, xt, words, scale,
                                                   bias, None, amean, *post)
    np.testing.assert_allclose(v, float_expected, rtol=1e-5,
                               atol=1e-5 * (1 + np.abs(float_expected).max()))


@pytest.mark.parametrize("pad_value", [0, 1, -1])
def test_ternary_conv_all_zero_input_sees_only_padding(pad_value):
    """An all-zero input (+0.0 and -0.0) against all +1 weights: interior dots are 0, a border
    pixel's dot is pad_value * C * (its padded taps); zero padding adds nothing at all."""
    case = dict(c=65, k=3, stride=1, dilation=1, group=1, pads=(1, 2, 0, 1), pad_value=pad_value,
                h=4, w=5, o=3)
    x = np.zeros((2, 4, 5, 65), np.float32)
    x[1] = -0.0
    words = pack_bits(np.zeros((3, 3, 3, 65), bool))
    g = ternary_conv_graph(case | {"batch": 2}, words, np.ones(3, np.float32),
                           np.zeros(3, np.float32), "float")
    y, _ = run_everywhere(g, [x])
    inside = numpy_ops.conv2d_nhwc(np.ones((2, 4, 5, 1)), np.ones((1, 3, 3, 1)), pads=case["pads"])
    padded_taps = 9 - inside
    np.testing.assert_array_equal(y, np.broadcast_to(pad_value * 65 * padded_taps, y.shape))


@pytest.mark.parametrize("pad_value", [0, 1, -1])
def test_ternary_without_zeros_equals_bits(pad_value):
    """With no zero in the input, a ternary conv is the ±1 conv: bit-identical to the same node
    fed by a bits BinarizePack, borders included."""
    case = dict(c=130, k=3, stride=2, dilation=1, group=1, pads=(1, 0, 2, 1), pad_value=pad_value,
                h=7, w=6, o=70, batch=2)
    rng = np.random.default_rng(91 + pad_value)
    x = ternary_input(rng, (2, 7, 6, 130), 0.0)
    _, words = random_weights(rng, 70, 3, 3, 130)
    scale, bias, _ = random_epilogue(rng, 70)
    y, _ = run_everywhere(ternary_conv_graph(case, words, scale, bias, "float"), [x])
    bits = _core.Graph()  # the same graph with a bits pack
    bits.add_input("x", [-1, 7, 6, 130])
    bits.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    add_constants(bits, {"w": words, "scale": scale, "bias": bias})
    bits.add_node("bconv", "BinaryConv2d", ["xb", "w", "scale", "bias"], ["y"], conv_attrs(case))
    bits.add_output("y")
    [y_bits] = run_everywhere(bits, [x])
    np.testing.assert_array_equal(y.view(np.uint32), y_bits.view(np.uint32))


def test_ternary_conv_kmap_exact_with_dyadic_values():
    """The K map with values whose float32 sums are exact in any order (multiples of 1/8): the
    whole K-map epilogue then matches the oracle bit for bit, borders and strides included."""
    case = dict(c=65, k=3, stride=2, dilation=1, group=1, pads=(1, 1, 2, 0), pad_value=0,
                h=5, w=6, o=9, batch=2)
    rng = np.random.default_rng(5150)
    x = ternary_input(rng, (2, 5, 6, 65), 0.3)
    w_pm1, words = random_weights(rng, 9, 3, 3, 65)
    scale, bias, _ = random_epilogue(rng, 9)
    kmap_src = (rng.integers(0, 64, (2, 5, 6, 1)) / 8).astype(np.float32)
    post_scale, post_bias = random_post(rng, 9)
    g = _core.Graph()
    g.add_input("x", [2, 5, 6, 65])
    g.add_input("a", [2, 5, 6, 1])
    g.add_node("pack", "BinarizePack", ["x"], ["xt"], {"output": "ternary"})
    add_constants(g, {"w": words, "scale": scale, "bias": bias, "ps": post_scale, "pb": post_bias})
    attrs = conv_attrs(case) | {"kmap_kernel_value": 0.5}
    g.add_node("bconv", "BinaryConv2d", ["xt", "w", "scale", "bias", "", "a", "ps", "pb"], ["y"],
               attrs)
    g.add_output("y")
    [y] = run_everywhere(g, [x, kmap_src])
    xt, _ = ir_reference.binarize_pack({"output": "ternary"}, x)
    [expected, _] = ir_reference.binary_conv2d(attrs, xt, words, scale, bias, None, kmap_src,
                                               post_scale, post_bias)
    np.testing.assert_array_equal(y, expected)
    box = numpy_ops.box_sum_nhwc(kmap_src, (3, 3), (2, 2), (1, 1), case["pads"])
    k = np.float32(0.5) * box.astype(np.float32)
    v = sign_dots(case, x, w_pm1).astype(np.float32) * scale + bias
    np.testing.assert_array_equal(y, (v * k) * post_scale + post_bias)


# ---------------------------------------------------------------------------------------------
# BinaryConv2d scaling = "sample": XNOR-Net's per-sample β
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("packing", ["bits", "ternary"])
@pytest.mark.parametrize("output", ["float", "bits"])
def test_sample_scaling_exact(packing, output):
    """K[n] = mean over H, W of kmap_src[n], one value per image: with dyadic kmap_src values and
    H * W = 8 the mean is exact, so v = ((dot * scale + bias) * K[n]) * post_scale + post_bias
    matches in float32 bit for bit. The images' means differ widely, so mixing images (or using
    a box filter) shows."""
    case = dict(c=64, k=3, stride=1, dilation=1, group=1, pads=(1, 1, 1, 1), pad_value=-1,
                h=2, w=4, o=66, batch=3)
    rng = np.random.default_rng(6000 + (packing == "bits") + 2 * (output == "bits"))
    x = ternary_input(rng, (3, 2, 4, 64), 0.2 if packing == "ternary" else 0.0)
    w_pm1, words = random_weights(rng, 66, 3, 3, 64)
    scale, bias, out_offset = random_epilogue(rng, 66)
    post_scale, post_bias = random_post(rng, 66)
    kmap_src = (rng.integers(0, 32, (3, 2, 4, 1)) / 8).astype(np.float32)
    kmap_src[1] *= 16  # image means ~2, ~32, ~2
    g = _core.Graph()
    g.add_input("x", [-1, 2, 4, 64])
    g.add_input("a", [-1, 2, 4, 1])
    g.add_node("pack", "BinarizePack", ["x"], ["xp"], {"output": packing})
    add_constants(g, {"w": words, "scale": scale, "bias": bias, "ps": post_scale, "pb": post_bias,
                      "off": out_offset if output == "bits" else None})
    attrs = conv_attrs(case, output) | {"scaling": "sample"}  # no kmap_kernel_value needed
    slots = ["xp", "w", "scale", "bias", "off" if output == "bits" else None, "a", "ps", "pb"]
    g.add_node("bconv", "BinaryConv2d", slot_inputs(slots), ["y"], attrs)
    if output == "bits":
        add_bits_probe(g, "y", 66, "probe", spatial=True)
        g.add_output("probe")
    else:
        g.add_output("y")
    [y] = run_everywhere(g, [x, kmap_src])
    signs = np.sign(x) if packing == "ternary" else numpy_ops.sign_binarize(x)
    dots = numpy_ops.conv2d_nhwc(signs, w_pm1, pads=case["pads"], pad_value=-1.0).astype(np.float32)
    k = kmap_src.mean(axis=(1, 2), keepdims=True, dtype=np.float64).astype(np.float32)
    v = ((dots * scale + bias) * k) * post_scale + post_bias
    packed_x = ir_reference.binarize_pack({"output": packing}, x)[0]
    [expected, _] = ir_reference.binary_conv2d(attrs, packed_x, words, scale, bias,
                                               out_offset if output == "bits" else None,
                                               kmap_src, post_scale, post_bias)
    if output == "float":
        np.testing.assert_array_equal(y, v)
        np.testing.assert_array_equal(y, expected)
    else:
        np.testing.assert_array_equal(decode_probe(y), np.where(v + out_offset < 0, -1.0, 1.0))
        np.testing.assert_array_equal(decode_probe(y), ir_reference.unpack_pm1(expected, 66))


def test_sample_scaling_from_abs_mean():
    """The XNOR-Net chain: kmap_src is the pack's abs_mean, so K[n] = mean |x[n]| over C, H, W
    (up to float32 summation order)."""
    case = dict(c=70, k=3, stride=2, dilation=2, group=1, pads=(2, 1, 0, 2), pad_value=0,
                h=9, w=7, o=5, batch=3, scaling="sample")
    rng = np.random.default_rng(6100)
    x = ternary_input(rng, (3, 9, 7, 70), 0.1)
    x[2] *= 10  # a different β per image
    w_pm1, words = random_weights(rng, 5, 3, 3, 70)
    scale, bias, _ = random_epilogue(rng, 5)
    post = random_post(rng, 5, low=0.5)
    y, _ = run_everywhere(ternary_conv_graph(case, words, scale, bias, "float", post=post), [x])
    beta = np.abs(x.astype(np.float64)).mean(axis=(1, 2, 3), keepdims=True)
    v = sign_dots(case, x, w_pm1) * scale.astype(np.float64) + bias
    expected = (v * beta) * post[0] + post[1]
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


# ---------------------------------------------------------------------------------------------
# BinarizePack: ternary output and abs_mean at any rank
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 65), (2, 3, 130), (2, 3, 2, 1), (1, 2, 2, 2, 64)],
                         ids=lambda s: "x".join(map(str, s)))
def test_binarize_pack_ternary_and_abs_mean_any_rank(shape):
    """The ternary planes of a rank-2..5 input read back through a BinaryDense probe (its rows
    are every position: batch_axes = rank - 1) equal np.sign(x); abs_mean is x.shape[:-1] + [1]
    and bit-identical to the ref kernel's."""
    rng = np.random.default_rng(sum(shape))
    x = ternary_input(rng, shape, 0.3)
    x.reshape(-1)[:3] = [np.nan, -np.nan, np.inf]  # NaN: nonzero with sign +1, so it reads +1
    c = shape[-1]
    negative = np.zeros((c + 1, c), bool)
    negative[np.arange(c), np.arange(c)] = True
    g = _core.Graph()
    g.add_input("x", [-1, *shape[1:]])
    g.add_node("pack", "BinarizePack", ["x"], ["xt", "amean"], {"output": "ternary"})
    add_constants(g, {"pw": pack_bits(negative).reshape(c + 1, 1, packed_words(c)),
                      "ps": np.ones(c + 1, np.float32), "pb": np.zeros(c + 1, np.float32)})
    g.add_node("probe", "BinaryDense", ["xt", "pw", "ps", "pb"], ["p"],
               {"in_channels": c, "groups_in": 1, "batch_axes": len(shape) - 1, "output": "float"})
    g.add_output("p")
    g.add_output("amean")
    p, amean = run_everywhere(g, [x])
    assert p.shape == shape[:-1] + (c + 1,)
    expected = np.where(np.isnan(x), 1.0, np.sign(x))
    np.testing.assert_array_equal(ternary_probe_values(p), expected)
    assert amean.shape == shape[:-1] + (1,)
    _, ref_mean = _core.testing.bitpack("ref", x.reshape(-1, c))
    np.testing.assert_array_equal(amean.reshape(-1).view(np.uint32), ref_mean.view(np.uint32))


def test_binarize_pack_ternary_offset():
    """With an offset both planes test x + offset (float32 add): channels that land exactly on
    0 are Sign 0, channels just below are -1. Read back through a probe."""
    rng = np.random.default_rng(8080)
    n, c = 5, 70
    x = ternary_input(rng, (n, c), 0.2)
    offset = rng.standard_normal(c).astype(np.float32)
    offset[::4] = -x[0, ::4]
    offset[1::4] = np.nextafter(-x[0, 1::4], np.float32(-np.inf))
    negative = np.zeros((c + 1, c), bool)
    negative[np.arange(c), np.arange(c)] = True
    g = _core.Graph()
    g.add_input("x", [-1, c])
    add_constants(g, {"offset": offset, "pw": pack_bits(negative).reshape(c + 1, 1, packed_words(c)),
                      "ps": np.ones(c + 1, np.float32), "pb": np.zeros(c + 1, np.float32)})
    g.add_node("pack", "BinarizePack", ["x", "offset"], ["xt"], {"output": "ternary"})
    g.add_node("probe", "BinaryDense", ["xt", "pw", "ps", "pb"], ["p"],
               {"in_channels": c, "groups_in": 1, "output": "float"})
    g.add_output("p")
    [p] = run_everywhere(g, [x])
    values = ternary_probe_values(p)
    np.testing.assert_array_equal(values, np.sign(x + offset))
    assert not np.any(values[0, ::4]) and np.all(values[0, 1::4] == -1)
    xt, _ = ir_reference.binarize_pack({"output": "ternary"}, x, offset)
    np.testing.assert_array_equal(values, ir_reference.unpack_activation(xt, c))


def test_ternary_reshape_then_dense():
    """A ternary [N, H, W, C] map reshaped to [N, H*W, C] (last axis kept, so the storage of
    both planes is unchanged) feeds a BinaryDense over H*W groups."""
    rng = np.random.default_rng(8181)
    n, h, w, c, o = 2, 3, 2, 65, 5
    x = ternary_input(rng, (n, h, w, c), 0.3)
    w_pm1, words = random_dense_weights(rng, o, h * w, c)
    g = _core.Graph()
    g.add_input("x", [-1, h, w, c])
    add_constants(g, {"w": words, "s": np.ones(o, np.float32), "b": np.zeros(o, np.float32)})
    g.add_node("pack", "BinarizePack", ["x"], ["xt"], {"output": "ternary"})
    g.add_node("reshape", "Reshape", ["xt"], ["rt"], {"shape": [0, -1, c]})
    g.add_node("dense", "BinaryDense", ["rt", "w", "s", "b"], ["y"],
               {"in_channels": c, "groups_in": h * w, "output": "float"})
    g.add_output("y")
    [y] = run_everywhere(g, [x])
    np.testing.assert_array_equal(y, numpy_ops.dense(np.sign(x).reshape(n, -1), w_pm1.reshape(o, -1)))


# ---------------------------------------------------------------------------------------------
# BinaryDense: ternary input, batch_axes, β
# ---------------------------------------------------------------------------------------------

# (input shape without the batch, C last; batch_axes; O)
DENSE_SHAPES = [
    ((1,), 1, 3),
    ((63,), 1, 70),
    ((64,), 1, 5),
    ((65,), 1, 65),
    ((130,), 1, 9),
    ((2, 3, 65), 1, 7),     # [N, H, W, C]: 6 groups straddling words
    ((3, 2, 3), 1, 4),      # [N, H, W, C], 3-bit groups
    ((4, 130), 2, 70),      # [B, T, C] with batch_axes 2: one row per token
    ((3, 2, 64), 2, 5),     # [B, T, G, C] with batch_axes 2: 2 groups per token
]
DENSE_CASES = [(shape, axes, o, d, out, 900 + i)
               for i, ((shape, axes, o), d, out) in enumerate(
                   (s, d, out) for s in DENSE_SHAPES for d in ZERO_DENSITIES
                   for out in ["float", "bits"] if (d in (0.1, 0.9)) or out == "float")]


def dense_id(shape, axes, o, density, output, seed):
    return f"x{'x'.join(map(str, shape))}-ba{axes}-o{o}-z{density}-{output}-seed{seed}"


def binary_dense_graph(shape: tuple, batch_axes: int, words, scale, bias, *, packing="ternary",
                       output="float", out_offset=None, post=None, beta_input=False) -> _core.Graph:
    """x [N, *shape] -> BinarizePack(packing) -> BinaryDense -> y, plus the pack's abs_mean.
    A bits y is flattened to [-1, O] (Reshape keeps the last axis) and read through a probe.
    `post` = (post_scale, post_bias) turns on β from the abs_mean, or from a graph input "beta"
    [N, *shape[:-1], 1] when beta_input."""
    c, o = shape[-1], words.shape[0]
    groups = int(np.prod(shape[batch_axes - 1:-1]))
    g = _core.Graph()
    g.add_input("x", [-1, *shape])
    if beta_input:
        g.add_input("beta", [-1, *shape[:-1], 1])
    g.add_node("pack", "BinarizePack", ["x"], ["xp", "amean"], {"output": packing})
    add_constants(g, {"w": words, "scale": scale, "bias": bias,
                      "out_offset": out_offset if output == "bits" else None})
    slots = ["xp", "w", "scale", "bias", "out_offset" if output == "bits" else None]
    if post is not None:
        add_constants(g, {"post_scale": post[0], "post_bias": post[1]})
        slots += ["beta" if beta_input else "amean", "post_scale", "post_bias"]
    g.add_node("dense", "BinaryDense", slot_inputs(slots), ["y"],
               {"in_channels": c, "groups_in": groups, "batch_axes": batch_axes, "output": output})
    if output == "bits":
        g.add_node("flatten", "Reshape", ["y"], ["yf"], {"shape": [-1, o]})
        add_bits_probe(g, "yf", o, "probe", spatial=False)
        g.add_output("probe")
    else:
        g.add_output("y")
    g.add_output("amean")
    return g


def dense_dots(x: np.ndarray, signs, w_pm1: np.ndarray, batch_axes: int) -> np.ndarray:
    """Integer dots [rows..., O]: signs(x) flattened after the row axes, times the weights."""
    rows = x.shape[:batch_axes]
    return numpy_ops.dense(signs(x).reshape(rows + (-1,)), w_pm1.reshape(len(w_pm1), -1))


@pytest.mark.parametrize("shape,batch_axes,o,density,output,seed", DENSE_CASES,
                         ids=[dense_id(*c) for c in DENSE_CASES])
def test_ternary_dense(shape, batch_axes, o, density, output, seed):
    rng = np.random.default_rng(seed)
    batch, c = 3, shape[-1]
    groups = int(np.prod(shape[batch_axes - 1:-1]))
    x = ternary_input(rng, (batch, *shape), density)
    w_pm1, words = random_dense_weights(rng, o, groups, c)
    scale, bias, out_offset = random_epilogue(rng, o)
    y, _ = run_everywhere(binary_dense_graph(shape, batch_axes, words, scale, bias, output=output,
                                             out_offset=out_offset), [x])
    attrs = {"in_channels": c, "groups_in": groups, "batch_axes": batch_axes, "output": output}
    xt, _ = ir_reference.binarize_pack({"output": "ternary"}, x)
    [expected] = ir_reference.binary_dense(attrs, xt, words, scale, bias,
                                           out_offset if output == "bits" else None)
    v = dense_dots(x, np.sign, w_pm1, batch_axes).astype(np.float32) * scale + bias
    out_shape = x.shape[:batch_axes] + (o,)
    if output == "float":
        assert y.shape == out_shape
        np.testing.assert_array_equal(y, v)
        np.testing.assert_array_equal(y, expected)
    else:
        decoded = decode_probe(y).reshape(out_shape)
        np.testing.assert_array_equal(decoded, np.where(v + out_offset < 0, -1.0, 1.0))
        np.testing.assert_array_equal(decoded, ir_reference.unpack_pm1(expected, o))


@pytest.mark.parametrize("shape,o", [((4, 130), 70), ((3, 2, 65), 5), ((5, 1, 1, 64), 3)],
                         ids=["BxTxC", "BxTxGxC", "BxTx1x1xC"])
def test_bits_dense_batch_axes_2(shape, o):
    """batch_axes = 2 with a bits input: one output row per [B, T] position, groups after T."""
    rng = np.random.default_rng(sum(shape) + o)
    groups, c = int(np.prod(shape[1:-1])), shape[-1]
    x = random_activations(rng, (2, *shape))
    w_pm1, words = random_dense_weights(rng, o, groups, c)
    scale, bias, _ = random_epilogue(rng, o)
    y, _ = run_everywhere(binary_dense_graph(shape, 2, words, scale, bias, packing="bits"), [x])
    assert y.shape == (2, shape[0], o)
    v = dense_dots(x, numpy_ops.sign_binarize, w_pm1, 2).astype(np.float32) * scale + bias
    np.testing.assert_array_equal(y, v)


@pytest.mark.parametrize("packing", ["bits", "ternary"])
@pytest.mark.parametrize("output", ["float", "bits"])
@pytest.mark.parametrize("shape,batch_axes", [((65,), 1), ((130,), 2)], ids=["NxC", "BxTxC"])
def test_dense_beta_exact_one_group(packing, output, shape, batch_axes):
    """β with one group per row is the row's abs_mean itself:
    v = ((dot * scale + bias) * abs_mean) * post_scale + post_bias in float32, bit for bit."""
    if batch_axes == 2:
        shape = (3,) + shape  # [B, T=3, C]
    rng = np.random.default_rng(7000 + len(shape) + 2 * (packing == "bits") + 4 * (output == "bits"))
    o, c = 70, shape[-1]
    x = ternary_input(rng, (4, *shape), 0.25 if packing == "ternary" else 0.02)
    x[1] *= 8.0  # rows of very different magnitude
    w_pm1, words = random_dense_weights(rng, o, 1, c)
    scale, bias, out_offset = random_epilogue(rng, o)
    post = random_post(rng, o)
    g = binary_dense_graph(shape, batch_axes, words, scale, bias, packing=packing, output=output,
                           out_offset=out_offset, post=post)
    y, amean = run_everywhere(g, [x])
    signs = np.sign if packing == "ternary" else numpy_ops.sign_binarize
    dots = dense_dots(x, signs, w_pm1, batch_axes).astype(np.float32)
    beta = amean.reshape(dots.shape[:-1] + (1,))  # one group: the row's abs_mean
    np.testing.assert_allclose(beta, np.abs(x.astype(np.float64)).mean(axis=-1, keepdims=True),
                               rtol=1e-5)
    v = ((dots * scale + bias) * beta) * post[0] + post[1]
    attrs = {"in_channels": c, "groups_in": 1, "batch_axes": batch_axes, "output": output}
    packed_x = ir_reference.binarize_pack({"output": packing}, x)[0]
    [expected] = ir_reference.binary_dense(attrs, packed_x, words, scale, bias,
                                           out_offset if output == "bits" else None, amean, *post)
    if output == "float":
        np.testing.assert_array_equal(y, v)
        np.testing.assert_array_equal(y, expected)
    else:
        decoded = decode_probe(y).reshape(v.shape)
        np.testing.assert_array_equal(decoded, np.where(v + out_offset < 0, -1.0, 1.0))
        np.testing.assert_array_equal(decoded, ir_reference.unpack_pm1(expected, o))


@pytest.mark.parametrize("packing", ["bits", "ternary"])
@pytest.mark.parametrize("shape,batch_axes", [((2, 2, 65), 1), ((3, 4, 64), 2)],
                         ids=["NxHxWxC", "BxTxGxC"])
def test_dense_beta_exact_groups(packing, shape, batch_axes):
    """β = mean of the row's G beta_src values (G = 4): dyadic values from a graph input make
    the mean exact, so the epilogue matches bit for bit; each row has its own β."""
    rng = np.random.default_rng(7100 + batch_axes + 2 * (packing == "bits"))
    o, c = 9, shape[-1]
    groups = int(np.prod(shape[batch_axes - 1:-1]))
    assert groups == 4
    x = ternary_input(rng, (3, *shape), 0.3 if packing == "ternary" else 0.0)
    w_pm1, words = random_dense_weights(rng, o, groups, c)
    scale, bias, _ = random_epilogue(rng, o)
    post = random_post(rng, o)
    beta_src = (rng.integers(1, 200, (3, *shape[:-1], 1)) / 16).astype(np.float32)
    g = binary_dense_graph(shape, batch_axes, words, scale, bias, packing=packing, post=post,
                           beta_input=True)
    y, _ = run_everywhere(g, [x, beta_src])
    signs = np.sign if packing == "ternary" else numpy_ops.sign_binarize
    dots = dense_dots(x, signs, w_pm1, batch_axes).astype(np.float32)
    rows = x.shape[:batch_axes]
    beta = beta_src.reshape(rows + (-1,)).mean(axis=-1, keepdims=True, dtype=np.float64)
    beta = beta.astype(np.float32)
    np.testing.assert_array_equal(y, ((dots * scale + bias) * beta) * post[0] + post[1])
    attrs = {"in_channels": c, "groups_in": groups, "batch_axes": batch_axes, "output": "float"}
    packed_x = ir_reference.binarize_pack({"output": packing}, x)[0]
    [expected] = ir_reference.binary_dense(attrs, packed_x, words, scale, bias, None, beta_src, *post)
    np.testing.assert_array_equal(y, expected)


def test_dense_beta_from_abs_mean_groups():
    """The XNOR-Net chain on a flattened map: β[n] = mean |x[n]| over H, W, C (through the
    groups' abs_mean values; float32 summation order aside)."""
    rng = np.random.default_rng(7200)
    shape, o = (3, 5, 70), 66
    x = ternary_input(rng, (4, *shape), 0.1)
    x[3] *= 5.0
    w_pm1, words = random_dense_weights(rng, o, 15, 70)
    scale, bias, out_offset = random_epilogue(rng, o)
    post = random_post(rng, o, low=0.5)
    y, _ = run_everywhere(binary_dense_graph(shape, 1, words, scale, bias, post=post), [x])
    beta = np.abs(x.astype(np.float64)).reshape(4, -1).mean(axis=1, keepdims=True)
    v = dense_dots(x, np.sign, w_pm1, 1) * scale.astype(np.float64) + bias
    expected = (v * beta) * post[0] + post[1]
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    # Bits output with β: each bit is (v + out_offset) < 0 for the float output's v.
    g = binary_dense_graph(shape, 1, words, scale, bias, output="bits", out_offset=out_offset,
                           post=post)
    p, _ = run_everywhere(g, [x])
    np.testing.assert_array_equal(decode_probe(p), np.where(y + out_offset < 0, -1.0, 1.0))


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def conv_validation_graph(group=1, scaling=None, packing="ternary", kmap=True) -> _core.Graph:
    g = _core.Graph()
    g.add_input("x", [1, 5, 5, 8])
    g.add_node("pack", "BinarizePack", ["x"], ["xp", "amean"], {"output": packing})
    add_constants(g, {"w": pack_bits(np.zeros((4, 3, 3, 8 // group), bool)),
                      "s": np.ones(4, np.float32), "b": np.zeros(4, np.float32)})
    inputs = ["xp", "w", "s", "b"]
    attrs = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": group, "in_channels": 8,
             "output": "float"}
    if scaling is not None:
        inputs += ["", "amean", "s", "b"] if kmap else []
        attrs |= {"scaling": scaling, "kmap_kernel_value": 1.0}
    g.add_node("bconv", "BinaryConv2d", inputs, ["y"], attrs)
    g.add_output("y")
    return g


def dense_validation_graph(beta_shape=None, beta_constant=False, batch_axes=1, x_shape=(2, 3, 8),
                           post=True) -> _core.Graph:
    g = _core.Graph()
    g.add_input("x", [1, *x_shape])
    g.add_node("pack", "BinarizePack", ["x"], ["xp", "amean"], {"output": "ternary"})
    groups = int(np.prod(x_shape[batch_axes - 1:-1]))
    add_constants(g, {"w": pack_bits(np.zeros((4, groups, 8), bool)),
                      "s": np.ones(4, np.float32), "b": np.zeros(4, np.float32)})
    inputs = ["xp", "w", "s", "b"]
    if beta_shape is not None:
        if beta_constant:
            g.add_constant("beta", np.ones(beta_shape, np.float32))
        else:
            g.add_input("beta", list(beta_shape))
        inputs += ["", "beta"] + (["s", "b"] if post else [])
    g.add_node("dense", "BinaryDense", inputs, ["y"],
               {"in_channels": 8, "groups_in": groups, "batch_axes": batch_axes, "output": "float"})
    g.add_output("y")
    return g


def run_validation(g: _core.Graph, feeds) -> None:
    _core.Session(g, 1, "scalar").run([np.ones(f, np.float32) for f in feeds])


VALIDATION = [
    ("ternary_group_2", lambda: conv_validation_graph(group=2), [(1, 5, 5, 8)],
     r"node 'bconv'.*a ternary input needs group = 1"),
    ("scaling_unknown", lambda: conv_validation_graph(scaling="box"), [(1, 5, 5, 8)],
     r"node 'bconv'.*scaling must be 'kmap' or 'sample'"),
    ("scaling_unknown_bits_input", lambda: conv_validation_graph(scaling="Sample", packing="bits"),
     [(1, 5, 5, 8)], r"node 'bconv'.*scaling must be 'kmap' or 'sample'"),
    ("scaling_unknown_without_kmap", lambda: conv_validation_graph(scaling="bogus", kmap=False),
     [(1, 5, 5, 8)], r"node 'bconv'.*scaling must be 'kmap' or 'sample'"),
    ("beta_src_per_input_row", lambda: dense_validation_graph(beta_shape=(1, 1)),
     [(1, 2, 3, 8), (1, 1)], r"node 'dense'.*beta_src must be \[1, 2, 3, 1\]"),
    ("beta_src_no_trailing_1", lambda: dense_validation_graph(beta_shape=(1, 2, 3)),
     [(1, 2, 3, 8), (1, 2, 3)], r"node 'dense'.*beta_src must be \[1, 2, 3, 1\]"),
    ("beta_src_batch_axes_2", lambda: dense_validation_graph(beta_shape=(1, 2, 1), batch_axes=2),
     [(1, 2, 3, 8), (1, 2, 1)], r"node 'dense'.*beta_src must be \[1, 2, 3, 1\]"),
    ("beta_src_constant", lambda: dense_validation_graph(beta_shape=(1, 2, 3, 1), beta_constant=True),
     [(1, 2, 3, 8)], r"node 'dense'.*beta_src must be a computed value"),
    ("beta_src_without_post_scale", lambda: dense_validation_graph(beta_shape=(1, 2, 3, 1), post=False),
     [(1, 2, 3, 8), (1, 2, 3, 1)], r"node 'dense'.*post_scale"),
    ("batch_axes_past_rank", lambda: dense_validation_graph(batch_axes=4), [(1, 2, 3, 8)],
     r"node 'dense'.*rank >= batch_axes \+ 1"),
]


@pytest.mark.parametrize("name, graph, feeds, match", VALIDATION, ids=[v[0] for v in VALIDATION])
def test_validation_errors(name, graph, feeds, match):
    with pytest.raises(_core.InvalidModel, match=match):
        run_validation(graph(), feeds)


def test_binarize_pack_unknown_output_rejected():
    g = _core.Graph()
    g.add_input("x", [1, 8])
    g.add_node("pack", "BinarizePack", ["x"], ["xp"], {"output": "int2"})
    g.add_node("probe", "Relu", ["x"], ["y"], {})
    g.add_output("y")
    with pytest.raises(_core.InvalidModel, match=r"node 'pack'.*output must be 'bits' or 'ternary'"):
        run_validation(g, [(1, 8)])


def test_ternary_graph_output_rejected():
    """Graph outputs must be float32: a ternary value is refused like a bits one."""
    g = _core.Graph()
    g.add_input("x", [1, 3, 3, 8])
    g.add_node("pack", "BinarizePack", ["x"], ["xt"], {"output": "ternary"})
    g.add_output("xt")
    with pytest.raises(_core.InvalidModel, match="'xt' must be float32"):
        run_validation(g, [(1, 3, 3, 8)])
