"""BinaryConv2d (docs/ir.md) against the NumPy oracle: sign, then a float convolution.

With scale 1 and bias 0 the float output is the integer dot product, which must equal the
oracle's exactly on every ISA and thread count. The geometry cases are a seeded pairwise
sample over channels, kernel, stride, dilation, groups, pads, pad_value, batch and image shape.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from engine_runs import add_bits_probe, random_activations, run_everywhere
from reference import numpy_ops
from xnorinfer import _core
from xnorinfer.bitpack import pack_bits, packed_words


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def random_weights(rng: np.random.Generator, o: int, kh: int, kw: int, cg: int):
    """(±1 float weights [O, KH, KW, C/group], their packed words)."""
    negative = rng.random((o, kh, kw, cg)) < 0.5
    return np.where(negative, -1.0, 1.0), pack_bits(negative)


def conv_attrs(case: dict, output: str = "float") -> dict:
    return {
        "kernel_shape": [case["k"], case["k"]],
        "strides": [case["stride"], case["stride"]],
        "dilations": [case["dilation"], case["dilation"]],
        "pads": list(case["pads"]),
        "group": case["group"],
        "in_channels": case["c"],
        "pad_value": case["pad_value"],
        "output": output,
    }


def decode_probe(y: np.ndarray) -> np.ndarray:
    """The ±1 values behind a probe's output [..., channels + 1]."""
    values = (y[..., -1:] - y[..., :-1]) / 2
    assert np.all(np.abs(values) == 1), "probe output is not a ±1 decoding: tail bits set?"
    return values


# ---------------------------------------------------------------------------------------------
# Pairwise geometry sample
# ---------------------------------------------------------------------------------------------

FACTORS = {
    "c": [1, 3, 63, 64, 65, 130, 512],
    "k": [1, 3, 5, 7],
    "stride": [1, 2],
    "dilation": [1, 2],
    "group": [1, 2, 4],
    "pads": ["zero", "one", "same", "asym"],
    "pad_value": [0, 1, -1],
    "batch": [1, 4],
    "image": ["square", "tall", "wide", "one"],
}
ASYM_PADS = (1, 0, 2, 1)  # top, left, bottom, right


def pads_of(kind: str, k: int, dilation: int) -> tuple[int, int, int, int]:
    p = {"zero": 0, "one": 1, "same": dilation * (k - 1) // 2}.get(kind)
    return ASYM_PADS if p is None else (p, p, p, p)


def complete_case(values: dict, rng: random.Random) -> dict | None:
    """Adds pads, image size and output channels to a factor assignment; None when the
    combination is impossible (channels not divisible by group, window larger than a 1x1
    image)."""
    c, k, group, dilation = values["c"], values["k"], values["group"], values["dilation"]
    if c % group:
        return None
    pads = pads_of(values["pads"], k, dilation)
    span = dilation * (k - 1) + 1
    min_h = max(1, span - pads[0] - pads[2])
    min_w = max(1, span - pads[1] - pads[3])
    image = values["image"]
    if image == "one":
        if min_h > 1 or min_w > 1:
            return None
        h = w = 1
    elif image == "square":
        h = w = max(min_h, min_w) + rng.randint(0, 7)
    elif image == "tall":
        h, w = min_h + rng.randint(3, 6), min_w + rng.randint(0, 1)
    else:
        h, w = min_h + rng.randint(0, 1), min_w + rng.randint(3, 6)
    out_per_group = rng.choice([1, 3, 8]) if group > 1 else rng.choice([1, 5, 16, 33])
    return dict(values, pads=pads, pads_kind=values["pads"], h=h, w=w, o=group * out_per_group)


def pairwise_cases(seed: int, min_cases: int, max_cases: int) -> list[dict]:
    """Greedy pairwise covering (AETG-style) over a seeded pool of valid random cases, topped up
    with random cases to min_cases. Deterministic for a given seed."""
    rng = random.Random(seed)
    names = list(FACTORS)
    pool = []
    while len(pool) < 1500:
        case = complete_case({n: rng.choice(FACTORS[n]) for n in names}, rng)
        if case is not None:
            key = [(n, case["pads_kind"] if n == "pads" else case[n]) for n in names]
            pool.append((case, frozenset(itertools.combinations(key, 2))))
    return greedy_cover(pool, rng, min_cases, max_cases, first_seed=10_000)


def greedy_cover(pool: list[tuple[dict, frozenset]], rng: random.Random, min_cases: int,
                 max_cases: int, first_seed: int) -> list[dict]:
    """Picks from ``pool`` ((case, its factor pairs)) the case covering most uncovered pairs
    until all are covered (or max_cases), tops up with random ones to min_cases, and numbers
    their seeds from first_seed."""
    uncovered = set().union(*(pairs for _, pairs in pool))
    chosen = []
    while uncovered and len(chosen) < max_cases:
        best = max(range(len(pool)), key=lambda i: len(pool[i][1] & uncovered))
        case, pairs = pool.pop(best)
        chosen.append(case)
        uncovered -= pairs
    while len(chosen) < min_cases:
        chosen.append(pool.pop(rng.randrange(len(pool)))[0])
    for i, case in enumerate(chosen):
        case["seed"] = first_seed + i
    return chosen


def case_id(case: dict) -> str:
    return (f"c{case['c']}-k{case['k']}-s{case['stride']}-d{case['dilation']}-g{case['group']}"
            f"-p{case['pads_kind']}-pv{case['pad_value']}-n{case['batch']}-{case['h']}x{case['w']}"
            f"-o{case['o']}-seed{case['seed']}")


GEOMETRY_CASES = pairwise_cases(seed=2024, min_cases=96, max_cases=110)
# Fixed cases the sample might not hit: 4 groups (64 and 512 channels, pad -1), 65-bit groups
# that straddle words, a tall image with several 32-pixel tiles per image and batch 4.
GEOMETRY_CASES += [
    dict(c=64, k=3, stride=1, dilation=1, group=4, pads=(1, 1, 1, 1), pads_kind="one",
         pad_value=-1, batch=2, image="square", h=6, w=6, o=8, seed=20_001),
    dict(c=512, k=3, stride=2, dilation=1, group=4, pads=ASYM_PADS, pads_kind="asym",
         pad_value=0, batch=1, image="wide", h=5, w=9, o=12, seed=20_002),
    dict(c=130, k=3, stride=1, dilation=2, group=2, pads=(2, 2, 2, 2), pads_kind="same",
         pad_value=-1, batch=1, image="square", h=7, w=7, o=6, seed=20_003),
    dict(c=65, k=3, stride=1, dilation=1, group=1, pads=(1, 1, 1, 1), pads_kind="one",
         pad_value=0, batch=4, image="tall", h=13, w=9, o=70, seed=20_004),
]


def reference_dots(case: dict, x: np.ndarray, w_pm1: np.ndarray) -> np.ndarray:
    return numpy_ops.conv2d_nhwc(
        numpy_ops.sign_binarize(x), w_pm1, (case["stride"],) * 2, (case["dilation"],) * 2,
        case["pads"], case["group"], float(case["pad_value"]))


def single_conv_graph(case: dict, words: np.ndarray, scale: np.ndarray, bias: np.ndarray,
                      output: str = "float", out_offset: np.ndarray | None = None,
                      kmap: dict | None = None) -> _core.Graph:
    """x -> BinarizePack -> BinaryConv2d -> y (float), or -> probe when the output is bits."""
    g = _core.Graph()
    g.add_input("x", [-1, case["h"], case["w"], case["c"]])
    g.add_node("pack", "BinarizePack", ["x"], ["xb", "amean"] if kmap else ["xb"], {})
    g.add_constant("w", words)
    g.add_constant("scale", scale.astype(np.float32))
    g.add_constant("bias", bias.astype(np.float32))
    inputs = ["xb", "w", "scale", "bias"]
    attrs = conv_attrs(case, output)
    if out_offset is not None:
        g.add_constant("out_offset", out_offset.astype(np.float32))
        inputs.append("out_offset")
    if kmap:
        if out_offset is None:
            inputs.append("")
        g.add_constant("post_scale", kmap["post_scale"].astype(np.float32))
        g.add_constant("post_bias", kmap["post_bias"].astype(np.float32))
        inputs += ["amean", "post_scale", "post_bias"]
        attrs["kmap_kernel_value"] = kmap["kernel_value"]
    g.add_node("bconv", "BinaryConv2d", inputs, ["y"], attrs)
    if output == "bits":
        add_bits_probe(g, "y", words.shape[0], "probe", spatial=True)
        g.add_output("probe")
    else:
        g.add_output("y")
    return g


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def test_pairwise_sample_size():
    """The sample stays within the brief (~60-120 cases) and covers every factor value."""
    assert 60 <= len(GEOMETRY_CASES) <= 120
    for name, values in FACTORS.items():
        seen = {c["pads_kind"] if name == "pads" else c[name] for c in GEOMETRY_CASES}
        assert set(values) <= seen, name


@pytest.mark.parametrize("case", GEOMETRY_CASES, ids=[case_id(c) for c in GEOMETRY_CASES])
def test_integer_dot_products_exact(case):
    rng = np.random.default_rng(case["seed"])
    x = random_activations(rng, (case["batch"], case["h"], case["w"], case["c"]))
    w_pm1, words = random_weights(rng, case["o"], case["k"], case["k"], case["c"] // case["group"])
    g = single_conv_graph(case, words, np.ones(case["o"]), np.zeros(case["o"]))
    [y] = run_everywhere(g, [x])
    expected = reference_dots(case, x, w_pm1)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y, expected)


STRUCTURED = ["all_plus", "all_minus", "zeros", "neg_zeros", "nan", "alternating"]


@pytest.mark.parametrize("pattern", STRUCTURED)
@pytest.mark.parametrize("pad_value", [0, 1, -1])
def test_structured_inputs(pattern, pad_value):
    """All-equal and alternating activations, and all-+1 / all--1 weights, with each padding
    mode: the dot products at the border show the pad value exactly."""
    case = dict(c=65, k=3, stride=1, dilation=1, group=1, pads=(1, 1, 1, 1), pad_value=pad_value,
                h=4, w=5, o=4)
    shape = (2, case["h"], case["w"], case["c"])
    channel = np.arange(case["c"])
    x = {
        "all_plus": np.ones(shape),
        "all_minus": -np.ones(shape),
        "zeros": np.zeros(shape),
        "neg_zeros": np.full(shape, -0.0),
        "nan": np.full(shape, np.nan),
        "alternating": np.broadcast_to(np.where(channel % 2, -1.0, 1.0), shape),
    }[pattern].astype(np.float32)
    negative = np.zeros((4, 3, 3, 65), bool)
    negative[1] = True                     # all -1
    negative[2, :, :, ::2] = True          # alternating
    negative[3, 1, 1, 64] = True           # one -1 in the second word of the centre tap
    g = single_conv_graph(case, pack_bits(negative), np.ones(4), np.zeros(4))
    [y] = run_everywhere(g, [x])
    np.testing.assert_array_equal(y, reference_dots(case, x, np.where(negative, -1.0, 1.0)))


def test_garbage_weight_tail_bits_are_ignored():
    """Bits past in_channels in a weight word are cleared when the weights are loaded
    (binary_weights.h): they must not change the result."""
    case = dict(c=70, k=3, stride=1, dilation=1, group=2, pads=(1, 1, 1, 1), pad_value=0,
                h=5, w=4, o=4)
    rng = np.random.default_rng(77)
    x = random_activations(rng, (1, 5, 4, 70))
    w_pm1, words = random_weights(rng, 4, 3, 3, 35)
    dirty = words | np.uint64(0xFFFF_FFF8_0000_0000)  # bits 35..63 of the one word per tap
    [y] = run_everywhere(single_conv_graph(case, dirty, np.ones(4), np.zeros(4)), [x])
    np.testing.assert_array_equal(y, reference_dots(case, x, w_pm1))


EPILOGUE_CASES = [
    dict(c=64, k=3, stride=1, dilation=1, group=1, pads=(1, 1, 1, 1), pad_value=0, h=5, w=6, o=9,
         batch=2, seed=301),
    dict(c=130, k=3, stride=2, dilation=1, group=2, pads=ASYM_PADS, pad_value=-1, h=7, w=5, o=70,
         batch=1, seed=302),
    dict(c=3, k=5, stride=1, dilation=2, group=1, pads=(2, 3, 1, 0), pad_value=1, h=9, w=8, o=5,
         batch=3, seed=303),
]


def epilogue_id(case):
    return (f"c{case['c']}-k{case['k']}-g{case['group']}-pv{case['pad_value']}-o{case['o']}"
            f"-seed{case['seed']}")


@pytest.mark.parametrize("case", EPILOGUE_CASES, ids=[epilogue_id(c) for c in EPILOGUE_CASES])
def test_scale_bias_epilogue(case):
    """v = dot * scale[o] + bias[o]: float32 multiply then add, no FMA."""
    rng = np.random.default_rng(case["seed"])
    x = random_activations(rng, (case["batch"], case["h"], case["w"], case["c"]))
    w_pm1, words = random_weights(rng, case["o"], case["k"], case["k"], case["c"] // case["group"])
    scale = (rng.standard_normal(case["o"]) * 0.1).astype(np.float32)
    scale[0] = -scale[0]
    bias = rng.standard_normal(case["o"]).astype(np.float32)
    [y] = run_everywhere(single_conv_graph(case, words, scale, bias), [x])
    dots = reference_dots(case, x, w_pm1)
    np.testing.assert_allclose(y, dots * scale.astype(np.float64) + bias, rtol=1e-6, atol=1e-6)
    # The documented order (float32 product, then float32 sum) gives the same bits.
    np.testing.assert_array_equal(y, dots.astype(np.float32) * scale + bias)


@pytest.mark.parametrize("case", EPILOGUE_CASES, ids=[epilogue_id(c) for c in EPILOGUE_CASES])
def test_kmap(case):
    """The XNOR-Net K map: K = kmap_kernel_value * box-filter sum of mean|x| over the taps inside
    the image; v = (v * K) * post_scale + post_bias."""
    rng = np.random.default_rng(case["seed"] + 1)
    x = random_activations(rng, (case["batch"], case["h"], case["w"], case["c"]))
    w_pm1, words = random_weights(rng, case["o"], case["k"], case["k"], case["c"] // case["group"])
    scale = rng.uniform(0.5, 1.5, case["o"]).astype(np.float32)
    bias = rng.standard_normal(case["o"]).astype(np.float32)
    kmap = {"post_scale": rng.uniform(0.5, 2.0, case["o"]), "post_bias": rng.standard_normal(case["o"]),
            "kernel_value": 1.0 / (case["k"] * case["k"])}
    [y] = run_everywhere(single_conv_graph(case, words, scale, bias, kmap=kmap), [x])
    dots = reference_dots(case, x, w_pm1)
    abs_mean = np.abs(x.astype(np.float64)).mean(axis=3, keepdims=True)
    k_map = kmap["kernel_value"] * numpy_ops.box_sum_nhwc(
        abs_mean, (case["k"], case["k"]), (case["stride"],) * 2, (case["dilation"],) * 2, case["pads"])
    v = dots * scale.astype(np.float64) + bias
    expected = (v * k_map) * kmap["post_scale"].astype(np.float32) + kmap["post_bias"].astype(np.float32)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("case", EPILOGUE_CASES, ids=[epilogue_id(c) for c in EPILOGUE_CASES])
def test_bits_output(case):
    """output = "bits": bit = (dot * scale + bias + out_offset) < 0 in float32, read back through
    a probe op."""
    rng = np.random.default_rng(case["seed"] + 2)
    x = random_activations(rng, (case["batch"], case["h"], case["w"], case["c"]))
    w_pm1, words = random_weights(rng, case["o"], case["k"], case["k"], case["c"] // case["group"])
    scale = rng.uniform(-1.0, 1.0, case["o"]).astype(np.float32)
    bias = rng.standard_normal(case["o"]).astype(np.float32)
    out_offset = rng.standard_normal(case["o"]).astype(np.float32)
    out_offset[0] = -bias[0]  # channel 0: v + out_offset == dot * scale exactly, ties at dot 0
    g = single_conv_graph(case, words, scale, bias, output="bits", out_offset=out_offset)
    [probe] = run_everywhere(g, [x])
    dots = reference_dots(case, x, w_pm1).astype(np.float32)
    negative = (dots * scale + bias) + out_offset < 0
    np.testing.assert_array_equal(decode_probe(probe), np.where(negative, -1.0, 1.0))


def test_bits_output_feeds_second_conv():
    """Two stacked binary convs (the fused BatchNorm + Sign threshold in between) against the
    oracle applied twice."""
    rng = np.random.default_rng(404)
    first = dict(c=20, k=3, stride=1, dilation=1, group=1, pads=(1, 1, 1, 1), pad_value=0,
                 h=6, w=7, o=66)
    second = dict(c=66, k=3, stride=2, dilation=1, group=2, pads=(1, 1, 1, 1), pad_value=-1,
                  h=6, w=7, o=4)
    x = random_activations(rng, (2, 6, 7, 20))
    w1, words1 = random_weights(rng, 66, 3, 3, 20)
    w2, words2 = random_weights(rng, 4, 3, 3, 33)
    out_offset = rng.standard_normal(66).astype(np.float32)
    g = _core.Graph()
    g.add_input("x", [-1, 6, 7, 20])
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    for name, arr in [("w1", words1), ("s1", np.ones(66, np.float32)), ("b1", np.zeros(66, np.float32)),
                      ("off1", out_offset), ("w2", words2), ("s2", np.ones(4, np.float32)),
                      ("b2", np.zeros(4, np.float32))]:
        g.add_constant(name, arr)
    g.add_node("conv1", "BinaryConv2d", ["xb", "w1", "s1", "b1", "off1"], ["h"],
               conv_attrs(first, "bits"))
    g.add_node("conv2", "BinaryConv2d", ["h", "w2", "s2", "b2"], ["y"], conv_attrs(second))
    g.add_output("y")
    [y] = run_everywhere(g, [x])
    hidden = reference_dots(first, x, w1).astype(np.float32) + out_offset  # scale 1, bias 0
    np.testing.assert_array_equal(y, reference_dots(second, np.where(hidden < 0, -1.0, 1.0), w2))


# Validation: each broken node raises InvalidModel naming the node.

def _base_graph(c=8, o=4, k=3, weight_shape=None, attrs=None, with_offset=False, extra_inputs=()):
    g = _core.Graph()
    g.add_input("x", [-1, 5, 5, c])
    g.add_node("pack", "BinarizePack", ["x"], ["xb", "amean"], {})
    shape = weight_shape or (o, k, k, packed_words(c))
    g.add_constant("w", np.zeros(shape, np.uint64))
    g.add_constant("scale", np.ones(o, np.float32))
    g.add_constant("bias", np.zeros(o, np.float32))
    g.add_constant("off", np.zeros(o, np.float32))
    a = {"kernel_shape": [k, k], "pads": [1, 1, 1, 1], "group": 1, "in_channels": c,
         "pad_value": 0, "output": "float"}
    a.update(attrs or {})
    inputs = ["xb", "w", "scale", "bias"] + (["off"] if with_offset else []) + list(extra_inputs)
    g.add_node("bconv", "BinaryConv2d", inputs, ["y"], a)
    g.add_output("y")
    return g


INVALID = {
    "weight_kernel_shape": dict(weight_shape=(4, 3, 1, 1)),
    "weight_words": dict(c=130, weight_shape=(4, 3, 3, 2)),
    "weight_rank": dict(weight_shape=(4, 9, 1)),
    "in_channels_not_multiple_of_group": dict(attrs={"group": 3}),
    "out_channels_not_multiple_of_group": dict(o=3, attrs={"group": 2}),
    "pad_value_2": dict(attrs={"pad_value": 2}),
    "bits_without_out_offset": dict(attrs={"output": "bits"}),
    "out_offset_with_float_output": dict(with_offset=True),
    "unknown_output_kind": dict(attrs={"output": "int8"}),
    "input_channel_mismatch": dict(attrs={"in_channels": 9}, weight_shape=(4, 3, 3, 1)),
    "post_scale_without_kmap": dict(extra_inputs=["", "", "scale"]),
    "kmap_without_post_scale": dict(extra_inputs=["", "amean"], attrs={"kmap_kernel_value": 1.0}),
    "window_larger_than_padded_image": dict(k=9),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_validation_errors(name):
    """Refused when the node is added (the op schema), the session is made, or it first runs."""
    x = np.ones((1, 5, 5, 8), np.float32)
    with pytest.raises(_core.InvalidModel, match="node 'bconv'"):
        g = _base_graph(**INVALID[name])
        _core.Session(g, 1, "scalar").run([x])


def test_input_channel_mismatch_message():
    g = _base_graph(attrs={"in_channels": 9}, weight_shape=(4, 3, 3, 1))
    with pytest.raises(_core.InvalidModel, match=r"node 'bconv'.*8 channels, expected 9"):
        _core.Session(g, 1, "scalar").run([np.ones((1, 5, 5, 8), np.float32)])


def test_kmap_with_bits_output_matches_float_output():
    """With the K map and output "bits", each bit is (v + out_offset) < 0 for exactly the v that
    the same node produces with output "float"."""
    case = dict(c=65, k=3, stride=2, dilation=1, group=1, pads=ASYM_PADS, pad_value=0, h=7, w=8, o=70)
    rng = np.random.default_rng(505)
    x = random_activations(rng, (2, 7, 8, 65))
    _, words = random_weights(rng, 70, 3, 3, 65)
    scale, bias = rng.uniform(0.5, 1.5, 70), rng.standard_normal(70)
    out_offset = rng.standard_normal(70).astype(np.float32)
    kmap = {"post_scale": rng.uniform(-2.0, 2.0, 70), "post_bias": rng.standard_normal(70),
            "kernel_value": 0.125}
    [v] = run_everywhere(single_conv_graph(case, words, scale, bias, kmap=kmap), [x])
    g = single_conv_graph(case, words, scale, bias, output="bits", out_offset=out_offset, kmap=kmap)
    [probe] = run_everywhere(g, [x])
    np.testing.assert_array_equal(decode_probe(probe), np.where(v + out_offset < 0, -1.0, 1.0))


def test_binarize_pack_offset_and_abs_mean():
    """BinarizePack inside a graph: bit = (x + offset) < 0 (read back through a probe) and the
    abs_mean output, bit-identical to the ref kernel (it sums in channel order)."""
    rng = np.random.default_rng(606)
    n, h, w, c = 3, 5, 4, 70
    x = random_activations(rng, (n, h, w, c))
    offset = rng.standard_normal(c).astype(np.float32)
    offset[:5] = -x[0, 0, 0, :5]  # exact zeros after the offset: bit 0 (+1)
    g = _core.Graph()
    g.add_input("x", [-1, h, w, c])
    g.add_constant("offset", offset)
    g.add_node("pack", "BinarizePack", ["x", "offset"], ["xb", "amean"], {})
    add_bits_probe(g, "xb", c, "probe", spatial=True)
    g.add_output("probe")
    g.add_output("amean")
    probe, amean = run_everywhere(g, [x])
    np.testing.assert_array_equal(decode_probe(probe), numpy_ops.sign_binarize(x + offset))
    assert amean.shape == (n, h, w, 1)
    _, ref_mean = _core.testing.bitpack("ref", x.reshape(-1, c))
    np.testing.assert_array_equal(amean.reshape(-1), ref_mean)
    np.testing.assert_allclose(amean[..., 0], np.abs(x.astype(np.float64)).mean(axis=3), rtol=1e-5)


def test_bits_graph_output_rejected():
    """Graph outputs must be float32: a packed output is refused."""
    g = _core.Graph()
    g.add_input("x", [-1, 3, 3, 8])
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    g.add_output("xb")
    with pytest.raises(_core.InvalidModel, match="'xb' must be float32"):
        _core.Session(g, 1, "scalar").run([np.ones((1, 3, 3, 8), np.float32)])


def _residual_and_sum_bits(case, pick_offsets):
    """Runs a conv with a residual and sum bits (every ISA, every thread count) with the
    sum_offset that pick_offsets(rng, expected y) returns; asserts y, returns the decoded bits,
    the expected y and the offsets."""
    rng = np.random.default_rng(case["seed"] + 3)
    x = random_activations(rng, (case["batch"], case["h"], case["w"], case["c"]))
    w_pm1, words = random_weights(rng, case["o"], case["k"], case["k"], case["c"] // case["group"])
    scale = rng.uniform(-1.0, 1.0, case["o"]).astype(np.float32)
    bias = rng.standard_normal(case["o"]).astype(np.float32)
    dots = reference_dots(case, x, w_pm1).astype(np.float32)
    residual = rng.standard_normal(dots.shape).astype(np.float32)
    expected = (dots * scale + bias) + residual
    sum_offset = pick_offsets(rng, expected).astype(np.float32)
    g = _core.Graph()
    g.add_input("x", list(x.shape))
    g.add_input("r", list(residual.shape))
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    for name, value in [("w", words), ("scale", scale), ("bias", bias), ("sum_offset", sum_offset)]:
        g.add_constant(name, value)
    g.add_node("bconv", "BinaryConv2d",
               ["xb", "w", "scale", "bias", "", "", "", "", "r", "sum_offset"], ["y", "yb"],
               conv_attrs(case))
    add_bits_probe(g, "yb", case["o"], "probe", spatial=True)
    g.add_output("y")
    g.add_output("probe")
    y, probe = run_everywhere(g, [x, residual])
    np.testing.assert_array_equal(y, expected)
    return decode_probe(probe), expected, sum_offset


@pytest.mark.parametrize("case", EPILOGUE_CASES, ids=[epilogue_id(c) for c in EPILOGUE_CASES])
def test_residual_and_sum_bits(case):
    """A real-valued shortcut fused into the conv: y = (dot * scale + bias) + residual, and the
    second output holds bits of (y + sum_offset) < 0, read back through a probe."""
    bits, expected, sum_offset = _residual_and_sum_bits(
        case, lambda rng, expected: rng.standard_normal(case["o"]))
    np.testing.assert_array_equal(bits, np.where(expected + sum_offset < 0, -1.0, 1.0))


@pytest.mark.parametrize("case", EPILOGUE_CASES, ids=[epilogue_id(c) for c in EPILOGUE_CASES])
def test_sum_bits_at_the_threshold(case):
    """The kernels compare y < -sum_offset: the same bit as (y + sum_offset) < 0 where the sum
    is exactly 0 (offset -y of the first pixel) or one step either side, and with offsets ±0,
    ±inf and NaN."""
    def pick_offsets(rng, expected):
        first = expected.reshape(-1, case["o"])[0]
        specials = [-first, np.zeros_like(first), -np.zeros_like(first),
                    np.full_like(first, np.inf), np.full_like(first, -np.inf),
                    np.full_like(first, np.nan), -np.nextafter(first, np.float32(np.inf)),
                    -np.nextafter(first, np.float32(-np.inf))]
        return np.choose(np.arange(case["o"]) % len(specials), specials)

    bits, expected, sum_offset = _residual_and_sum_bits(case, pick_offsets)
    with np.errstate(invalid="ignore"):
        want = np.where(expected + sum_offset < 0, -1.0, 1.0)
    np.testing.assert_array_equal(bits, want)
    first = bits.reshape(-1, case["o"])[0]
    assert (first[0::8] == 1.0).all()  # y + (-y) = +0: not negative


@pytest.mark.parametrize("later", ["read by a later node", "a graph output", "read last"])
def test_the_sum_takes_the_residuals_bytes_only_from_its_last_reader(later):
    """The conv's output may overwrite its residual (the session gives both one buffer) only
    when no node reads the residual afterwards and it is no graph output: else the later reads
    still see the residual's own values."""
    case = EPILOGUE_CASES[0]  # the kernels write the whole output: the in-place case
    rng = np.random.default_rng(7)
    x = random_activations(rng, (case["batch"], case["h"], case["w"], case["c"]))
    w_pm1, words = random_weights(rng, case["o"], 3, 3, case["c"])
    scale = rng.uniform(-1.0, 1.0, case["o"]).astype(np.float32)
    bias = rng.standard_normal(case["o"]).astype(np.float32)
    dots = reference_dots(case, x, w_pm1).astype(np.float32)
    r = rng.standard_normal(dots.shape).astype(np.float32)
    g = _core.Graph()
    g.add_input("x", list(x.shape))
    g.add_input("r", list(r.shape))
    g.add_node("relu", "Relu", ["r"], ["shortcut"], {})
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    for name, value in [("w", words), ("scale", scale), ("bias", bias)]:
        g.add_constant(name, value)
    g.add_node("bconv", "BinaryConv2d", ["xb", "w", "scale", "bias", "", "", "", "", "shortcut"],
               ["y"], conv_attrs(case))
    g.add_output("y")
    if later == "read by a later node":
        g.add_node("twice", "Add", ["shortcut", "shortcut"], ["z"], {})
        g.add_output("z")
    elif later == "a graph output":
        g.add_output("shortcut")
    r_before = r.copy()
    outputs = run_everywhere(g, [x, r])
    np.testing.assert_array_equal(r, r_before)  # the caller's input is never written
    shortcut = np.maximum(r, 0)
    np.testing.assert_array_equal(outputs[0], (dots * scale + bias) + shortcut)
    if later == "read by a later node":
        np.testing.assert_array_equal(outputs[1], shortcut + shortcut)
    elif later == "a graph output":
        np.testing.assert_array_equal(outputs[1], shortcut)


@pytest.mark.parametrize("inputs, outputs, match", [
    (["xb", "w", "s", "b", "t", "", "", "", "r"], ["y"], "residual is added to a float output"),
    (["xb", "w", "s", "b", "", "", "", "", "", "t"], ["y"], "second .packed. output needs"),
    (["xb", "w", "s", "b"], ["y", "yb"], "second .packed. output needs"),
])
def test_residual_validation(inputs, outputs, match):
    g = _core.Graph()
    g.add_input("x", [1, 4, 4, 8])
    g.add_input("r", [1, 4, 4, 4])
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    g.add_constant("w", pack_bits(np.zeros((4, 3, 3, 8), bool)))
    for name in ("s", "b", "t"):
        g.add_constant(name, np.ones(4, np.float32))
    attrs = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "in_channels": 8,
             "output": "bits" if "t" in inputs[:5] else "float"}
    g.add_node("bconv", "BinaryConv2d", inputs, outputs, attrs)
    with pytest.raises(_core.InvalidModel, match=match):
        _core.Session(g, 1, "scalar")
