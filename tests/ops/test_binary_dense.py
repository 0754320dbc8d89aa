"""BinaryDense (docs/ir.md) against NumPy: sign, flatten, integer matmul; exact on every ISA
and thread count. Rank-2 inputs reduce over C bits, rank-3/4 inputs over G = prod(middle dims)
groups of C bits each (a flattened NHWC map, no repacking)."""

from __future__ import annotations

import numpy as np
import pytest

from engine_runs import run_everywhere, random_activations
from reference import numpy_ops
from xnorinfer import _core
from xnorinfer.bitpack import pack_bits, packed_words

WIDTHS = [1, 63, 64, 65, 130, 1000]


def dense_graph(middle: tuple[int, ...], c: int, words: np.ndarray, scale, bias,
                out_offset=None, probe: bool = False) -> _core.Graph:
    """x [N, *middle, C] -> BinarizePack -> BinaryDense -> y (or a probe decoding bits)."""
    groups = int(np.prod(middle)) if middle else 1
    o = words.shape[0]
    g = _core.Graph()
    g.add_input("x", [-1, *middle, c])
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    g.add_constant("w", words)
    g.add_constant("scale", np.asarray(scale, np.float32))
    g.add_constant("bias", np.asarray(bias, np.float32))
    inputs = ["xb", "w", "scale", "bias"]
    attrs = {"in_channels": c, "groups_in": groups, "output": "float"}
    if out_offset is not None:
        g.add_constant("out_offset", np.asarray(out_offset, np.float32))
        inputs.append("out_offset")
        attrs["output"] = "bits"
    g.add_node("dense", "BinaryDense", inputs, ["y"], attrs)
    if probe:
        # Output j < O: weights +1 except -1 at channel j; output O: all +1.
        # a_j = (probe[O] - probe[j]) / 2.
        negative = np.zeros((o + 1, o), bool)
        negative[np.arange(o), np.arange(o)] = True
        g.add_constant("probe.w", pack_bits(negative).reshape(o + 1, 1, packed_words(o)))
        g.add_constant("probe.scale", np.ones(o + 1, np.float32))
        g.add_constant("probe.bias", np.zeros(o + 1, np.float32))
        g.add_node("probe", "BinaryDense", ["y", "probe.w", "probe.scale", "probe.bias"], ["p"],
                   {"in_channels": o, "groups_in": 1, "output": "float"})
        g.add_output("p")
    else:
        g.add_output("y")
    return g


def random_dense_weights(rng, o: int, groups: int, c: int):
    """(±1 weights [O, G, C], packed [O, G, ceil(C/64)])."""
    negative = rng.random((o, groups, c)) < 0.5
    return np.where(negative, -1.0, 1.0), pack_bits(negative)


CASES = [(middle, c, o, batch) for c in WIDTHS
         for middle, o, batch in [((), 70, 3), ((2, 3), 5, 2), ((3,), 130, 1), ((1, 1), 1, 5)]]


def case_id(middle, c, o, batch, seed):
    return f"in{'x'.join(map(str, middle)) or 'rank2'}-c{c}-o{o}-n{batch}-seed{seed}"


SEEDED = [(m, c, o, n, 500 + i) for i, (m, c, o, n) in enumerate(CASES)]


@pytest.mark.parametrize("middle,c,o,batch,seed", SEEDED, ids=[case_id(*s) for s in SEEDED])
def test_float_output_exact(middle, c, o, batch, seed):
    rng = np.random.default_rng(seed)
    groups = int(np.prod(middle)) if middle else 1
    x = random_activations(rng, (batch, *middle, c))
    w_pm1, words = random_dense_weights(rng, o, groups, c)
    [y] = run_everywhere(dense_graph(middle, c, words, np.ones(o), np.zeros(o)), [x])
    expected = numpy_ops.dense(numpy_ops.sign_binarize(x).reshape(batch, -1), w_pm1.reshape(o, -1))
    assert y.shape == (batch, o)
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("middle,c,o,batch,seed", SEEDED, ids=[case_id(*s) for s in SEEDED])
def test_scale_bias_and_bits_output(middle, c, o, batch, seed):
    rng = np.random.default_rng(seed + 1000)
    groups = int(np.prod(middle)) if middle else 1
    x = random_activations(rng, (batch, *middle, c))
    w_pm1, words = random_dense_weights(rng, o, groups, c)
    scale = rng.uniform(-1.0, 1.0, o).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    out_offset = rng.standard_normal(o).astype(np.float32)
    dots = numpy_ops.dense(numpy_ops.sign_binarize(x).reshape(batch, -1),
                           w_pm1.reshape(o, -1)).astype(np.float32)
    [y] = run_everywhere(dense_graph(middle, c, words, scale, bias), [x])
    np.testing.assert_allclose(y, dots.astype(np.float64) * scale + bias, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(y, dots * scale + bias)  # float32 multiply, then add
    [p] = run_everywhere(dense_graph(middle, c, words, scale, bias, out_offset, probe=True), [x])
    decoded = (p[:, -1:] - p[:, :-1]) / 2
    negative = (dots * scale + bias) + out_offset < 0
    np.testing.assert_array_equal(decoded, np.where(negative, -1.0, 1.0))


def test_structured():
    """All +1 / all -1 inputs against all +1 / all -1 / alternating weights give ±K and 0."""
    c, o = 130, 3
    negative = np.zeros((o, 1, c), bool)
    negative[1] = True
    negative[2, 0, ::2] = True
    words = pack_bits(negative)
    g = dense_graph((), c, words, np.ones(o), np.zeros(o))
    x = np.stack([np.ones(c), -np.ones(c), np.zeros(c), np.full(c, -0.0)]).astype(np.float32)
    [y] = run_everywhere(g, [x])
    np.testing.assert_array_equal(y, [[c, -c, 0], [-c, c, 0], [c, -c, 0], [c, -c, 0]])


def test_garbage_weight_tail_bits_are_ignored():
    rng = np.random.default_rng(9)
    w_pm1, words = random_dense_weights(rng, 4, 2, 65)
    dirty = words.copy()
    dirty[..., -1] |= np.uint64(0xFFFF_FFFF_FFFF_FFFE)  # only bit 0 of the last word is a channel
    x = random_activations(rng, (3, 2, 65))
    [y] = run_everywhere(dense_graph((2,), 65, dirty, np.ones(4), np.zeros(4)), [x])
    np.testing.assert_array_equal(y, numpy_ops.dense(numpy_ops.sign_binarize(x).reshape(3, -1),
                                                     w_pm1.reshape(4, -1)))


INVALID = {
    "groups_in_mismatch": dict(groups_in=5),
    "in_channels_mismatch": dict(in_channels=9),
    "weight_words": dict(weight_shape=(4, 6, 2)),
    "bits_without_out_offset": dict(output="bits"),
    "scale_size": dict(scale_size=3),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_validation_errors(name):
    spec = dict(groups_in=6, in_channels=8, weight_shape=(4, 6, 1), output="float", scale_size=4)
    spec.update(INVALID[name])
    g = _core.Graph()
    g.add_input("x", [-1, 2, 3, 8])
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    g.add_constant("w", np.zeros(spec["weight_shape"], np.uint64))
    g.add_constant("scale", np.ones(spec["scale_size"], np.float32))
    g.add_constant("bias", np.zeros(4, np.float32))
    g.add_node("dense", "BinaryDense", ["xb", "w", "scale", "bias"], ["y"],
               {"in_channels": spec["in_channels"], "groups_in": spec["groups_in"],
                "output": spec["output"]})
    g.add_output("y")
    with pytest.raises(_core.InvalidModel, match="node 'dense'"):
        _core.Session(g, 1, "scalar").run([np.ones((1, 2, 3, 8), np.float32)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_packed_output_thresholds_are_exact_at_ties(seed):
    """The engine turns the packed output's float test into integer thresholds; they must agree
    with ``((dot * scale + bias) + out_offset) < 0`` in float32 even where the sum is exactly 0,
    for negative, zero and positive scales."""
    rng = np.random.default_rng(seed)
    batch, c, o = 9, 37, 70
    x = random_activations(rng, (batch, c))
    w_pm1, words = random_dense_weights(rng, o, 1, c)
    scale = rng.choice([-0.75, -0.1, 0.0, 0.1, 0.3, 1.0], size=o).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    dots = numpy_ops.dense(numpy_ops.sign_binarize(x), w_pm1.reshape(o, -1)).astype(np.float32)
    out_offset = rng.standard_normal(o).astype(np.float32)
    ties = rng.random(o) < 0.5  # these channels sum to exactly 0 for sample 0
    out_offset[ties] = -(dots[0, ties] * scale[ties] + bias[ties])
    [p] = run_everywhere(dense_graph((), c, words, scale, bias, out_offset, probe=True), [x])
    negative = (dots * scale + bias) + out_offset < 0
    np.testing.assert_array_equal((p[:, -1:] - p[:, :-1]) / 2, np.where(negative, -1.0, 1.0))


@pytest.mark.parametrize("attrs, numpy_fn", [
    ({"activation": "relu"}, lambda y: np.where(y < 0, np.float32(0), y)),
    ({"activation": "clip", "activation_min": -1.0, "activation_max": 0.5},
     lambda y: np.clip(y, np.float32(-1.0), np.float32(0.5))),
    ({"activation": "prelu", "activation_slope": [0.25]}, lambda y: np.where(y < 0, y * np.float32(0.25), y)),
    ({"activation": "prelu", "activation_slope": [0.1 * i for i in range(70)]},
     lambda y: np.where(y < 0, y * np.float32([0.1 * i for i in range(70)]), y)),
], ids=["relu", "clip", "prelu-shared", "prelu-per-channel"])
def test_fused_activation(attrs, numpy_fn):
    """A Relu / HardTanh / PRelu fused into the layer: applied to its float output, exactly as
    the float op would, on every ISA and thread count."""
    rng = np.random.default_rng(7)
    c, o = 37, 70
    x = random_activations(rng, (5, c))
    w_pm1, words = random_dense_weights(rng, o, 1, c)
    scale = rng.uniform(-1.0, 1.0, o).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    g = dense_graph((), c, words, scale, bias)
    g2 = _core.Graph()  # the same graph with the activation attributes on the dense node
    g2.add_input("x", [-1, c])
    g2.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    for name, value in [("w", words), ("scale", scale), ("bias", bias)]:
        g2.add_constant(name, value)
    g2.add_node("dense", "BinaryDense", ["xb", "w", "scale", "bias"], ["y"],
                {"in_channels": c, "groups_in": 1, "output": "float", **attrs})
    g2.add_output("y")
    [plain] = run_everywhere(g, [x])
    [fused] = run_everywhere(g2, [x])
    np.testing.assert_array_equal(fused, numpy_fn(plain))


@pytest.mark.parametrize("attrs, match", [
    ({"activation": "gelu"}, "activation must be none, relu, clip or prelu"),
    ({"activation": "prelu", "activation_slope": [0.1, 0.2]}, "activation_slope must have 1 or 4"),
    ({"activation": "clip", "activation_min": 1.0, "activation_max": 0.0}, "must not exceed"),
])
def test_fused_activation_validation(attrs, match):
    g = _core.Graph()
    g.add_input("x", [1, 8])
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    g.add_constant("w", pack_bits(np.zeros((4, 1, 8), bool)))
    g.add_constant("s", np.ones(4, np.float32))
    g.add_constant("b", np.zeros(4, np.float32))
    g.add_node("dense", "BinaryDense", ["xb", "w", "s", "b"], ["y"],
               {"in_channels": 8, "groups_in": 1, "output": "float", **attrs})
    g.add_output("y")
    with pytest.raises(_core.InvalidModel, match=match):
        _core.Session(g, 1, "scalar")
