"""Indirect binary convolution kernels: every registered kernel against ``ref``, and ``ref``
against NumPy.

Contract (kernels/bconv/bconv.h): ``counts[p, j] = sum_t sum_w popcount(a[p][t][w] ^ w_j[t][w])``
for up to ``mr`` pixels against one block of ``nb`` output channels. The test hook
``_core.testing.bconv(kernel, a[m, taps, words], w[n, taps, words])`` blocks the weights and
chunks the pixels as the ops do, so any m and n reach every edge of the register tile.

Masked twins (ternary activations, ONNX Sign(0) = 0): with ``masked=True`` each tap of ``a``
holds its sign words then its nonzero-mask words, ``a[m, taps, 2 * words]``, and
``counts[p, j] = sum popcount((a_sign ^ w_j) & a_mask)``: only nonzero activations count.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import numpy_ops
from xnorinfer import _core

AVAILABLE_ISAS = _core.available_isas()
KERNELS = [k for k in _core.testing.list_kernels() if k["family"] == "bconv"]
# (taps, words per tap): 1x1 convs and dense layers, 3x3 with 64 and 128 channels, wide rows.
TAP_SHAPES = [(1, 1), (9, 1), (9, 2), (1, 13), (25, 3), (2, 65)]
PRIME = 13
ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def tile_edges(t: int) -> list[int]:
    """1, t-1, t, t+1, 2t+1 and a prime, without zeros or repeats."""
    return sorted({v for v in (1, t - 1, t, t + 1, 2 * t + 1, PRIME) if v >= 1})


CASES = [(k, m, n) for k in KERNELS for m in tile_edges(k["mr"]) for n in tile_edges(k["nr"])]


def require_isa(kernel: dict) -> None:
    if kernel["isa"] not in AVAILABLE_ISAS:
        pytest.skip(f"{kernel['name']} needs ISA {kernel['isa']}, this CPU runs {AVAILABLE_ISAS}")


def random_words(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.integers(0, 2**64, size=shape, dtype=np.uint64, endpoint=False)


def hamming(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    return numpy_ops.hamming_matrix(a.reshape(len(a), -1), w.reshape(len(w), -1))


def test_every_isa_has_a_kernel():
    assert {k["isa"] for k in KERNELS} == set(_core.build_info()["isa_compiled"])


@pytest.mark.parametrize(
    "kernel,m,n", CASES,
    ids=[f"{k['name']}-m{m}-n{n}-seed{100 * m + n}" for k, m, n in CASES])
def test_random_matches_ref(kernel, m, n):
    require_isa(kernel)
    rng = np.random.default_rng(100 * m + n)
    for taps, words in TAP_SHAPES:
        a = random_words(rng, (m, taps, words))
        w = random_words(rng, (n, taps, words))
        c = _core.testing.bconv(kernel["name"], a, w)
        assert c.dtype == np.int32 and c.shape == (m, n)
        np.testing.assert_array_equal(c, _core.testing.bconv("ref", a, w),
                                      err_msg=f"taps={taps} words={words}")


def structured_operands(m: int, n: int, taps: int, words: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    zeros_a = np.zeros((m, taps, words), np.uint64)
    zeros_w = np.zeros((n, taps, words), np.uint64)
    bits = 64 * taps * words
    single_a, single_w = zeros_a.copy(), zeros_w.copy()
    for i in range(m):  # one bit set per pixel, walking across taps, words and bits
        bit = (37 * i + 5) % bits
        single_a.reshape(m, -1)[i, bit // 64] = np.uint64(1) << np.uint64(bit % 64)
    for j in range(n):
        bit = (53 * j + 11) % bits
        single_w.reshape(n, -1)[j, bit // 64] = np.uint64(1) << np.uint64(bit % 64)
    alt_a = np.full((m, taps, words), 0x5555_5555_5555_5555, np.uint64)
    alt_w = np.full((n, taps, words), 0xAAAA_AAAA_AAAA_AAAA, np.uint64)
    return {
        "all_plus": (zeros_a, zeros_w),
        "all_minus": (zeros_a + ALL_ONES, zeros_w + ALL_ONES),
        "all_differ": (zeros_a + ALL_ONES, zeros_w),
        "single_bits": (single_a, single_w),
        "single_vs_all_ones": (single_a, zeros_w + ALL_ONES),
        "alternating_opposite": (alt_a, alt_w),
        "alternating_same": (alt_a, np.full((n, taps, words), 0x5555_5555_5555_5555, np.uint64)),
        "top_bits": (zeros_a + np.uint64(1 << 63), zeros_w + np.uint64(1)),
    }


@pytest.mark.parametrize(
    "kernel,m,n", CASES, ids=[f"{k['name']}-m{m}-n{n}" for k, m, n in CASES])
def test_structured(kernel, m, n):
    require_isa(kernel)
    for taps, words in [(1, 8), (9, 1)]:
        for name, (a, w) in structured_operands(m, n, taps, words).items():
            np.testing.assert_array_equal(_core.testing.bconv(kernel["name"], a, w), hamming(a, w),
                                          err_msg=name)


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
@pytest.mark.parametrize("taps,words", [(9, 64), (1, 4096)])
def test_maximum_count(kernel, taps, words):
    """Every bit differs: the count is 64 * taps * words everywhere (262144 bits for the dense
    case, far past any layer's K)."""
    require_isa(kernel)
    m, n = 2 * kernel["mr"] + 1, 2 * kernel["nr"] + 1
    a = np.full((m, taps, words), ALL_ONES, np.uint64)
    w = np.zeros((n, taps, words), np.uint64)
    expected = np.full((m, n), 64 * taps * words, np.int32)
    np.testing.assert_array_equal(_core.testing.bconv(kernel["name"], a, w), expected)
    np.testing.assert_array_equal(_core.testing.bconv(kernel["name"], w, a), expected.T)


@pytest.mark.parametrize("taps,words", TAP_SHAPES)
def test_ref_matches_numpy_popcount(taps, words):
    """The oracle chain: ref against a NumPy byte-unpacking popcount."""
    rng = np.random.default_rng(taps * 100 + words)
    for m, n in [(1, 1), (3, 5), (7, 2)]:
        a = random_words(rng, (m, taps, words))
        w = random_words(rng, (n, taps, words))
        np.testing.assert_array_equal(_core.testing.bconv("ref", a, w), hamming(a, w))
    for name, (a, w) in structured_operands(3, 4, taps, words).items():
        np.testing.assert_array_equal(_core.testing.bconv("ref", a, w), hamming(a, w), err_msg=name)


def test_numpy_popcount_oracle():
    """The NumPy popcount itself, on values whose counts are known."""
    words = np.array([0, 1, 3, 1 << 63, 0xFFFF_FFFF_FFFF_FFFF, 0x5555_5555_5555_5555], np.uint64)
    np.testing.assert_array_equal(numpy_ops.popcount(words), [0, 1, 2, 1, 64, 32])


def test_mismatched_operands_rejected():
    with pytest.raises(_core.InvalidArgument):
        _core.testing.bconv("ref", np.zeros((2, 9, 1), np.uint64), np.zeros((2, 9, 2), np.uint64))


# ---------------------------------------------------------------------------------------------
# Masked twins (ternary activations)
# ---------------------------------------------------------------------------------------------

# Fraction of mask bits cleared (activations that are 0): none, some, most, all.
ZERO_DENSITIES = [0.0, 0.1, 0.9, 1.0]


def random_ternary(rng: np.random.Generator, m: int, taps: int, words: int,
                   zero_density: float) -> np.ndarray:
    """Ternary pixels [m, taps, 2 * words]: random sign words, then mask words with each bit
    cleared at rate zero_density. Sign bits under a cleared mask bit stay random: the kernel
    must ignore them (the engine writes them as 0, so this is the stronger test)."""
    signs = random_words(rng, (m, taps, words))
    cleared = rng.random((m, taps, words, 64)) < zero_density
    mask = np.zeros((m, taps, words), np.uint64)
    for b in range(64):
        mask |= np.where(cleared[..., b], np.uint64(0), np.uint64(1) << np.uint64(b))
    return np.concatenate([signs, mask], axis=-1)


def masked_hamming(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """NumPy oracle: sum over taps and words of popcount((a_sign ^ w) & a_mask)."""
    words = w.shape[-1]
    signs, mask = a[..., :words], a[..., words:]
    differ = (signs[:, None] ^ w[None, :]) & mask[:, None]  # [m, n, taps, words]
    return numpy_ops.popcount(differ).sum(axis=(-2, -1))


@pytest.mark.parametrize(
    "kernel,m,n", CASES,
    ids=[f"{k['name']}-m{m}-n{n}-seed{100 * m + n + 7}" for k, m, n in CASES])
def test_masked_random_matches_ref(kernel, m, n):
    require_isa(kernel)
    rng = np.random.default_rng(100 * m + n + 7)
    for taps, words in TAP_SHAPES:
        for density in ZERO_DENSITIES:
            a = random_ternary(rng, m, taps, words, density)
            w = random_words(rng, (n, taps, words))
            c = _core.testing.bconv(kernel["name"], a, w, masked=True)
            assert c.dtype == np.int32 and c.shape == (m, n)
            np.testing.assert_array_equal(c, _core.testing.bconv("ref", a, w, masked=True),
                                          err_msg=f"taps={taps} words={words} zeros={density}")
            if density == 1.0:
                assert not np.any(c), "an all-zero mask must count nothing"


@pytest.mark.parametrize("taps,words", TAP_SHAPES)
@pytest.mark.parametrize("density", ZERO_DENSITIES)
def test_masked_ref_matches_numpy(taps, words, density):
    rng = np.random.default_rng(taps * 100 + words + int(density * 1000))
    for m, n in [(1, 1), (3, 5), (7, 2)]:
        a = random_ternary(rng, m, taps, words, density)
        w = random_words(rng, (n, taps, words))
        np.testing.assert_array_equal(_core.testing.bconv("ref", a, w, masked=True),
                                      masked_hamming(a, w))


def test_masked_numpy_oracle():
    """The masked oracle on values whose counts are known: one tap of one word."""
    a = np.array([[[0b1100, 0b1010]]], np.uint64)  # signs 1100, mask 1010
    w = np.array([[[0b0110]], [[0b0000]], [[0xFFFF_FFFF_FFFF_FFFF]]], np.uint64)
    # (1100 ^ 0110) & 1010 = 1010 -> 2; 1100 & 1010 = 1000 -> 1; ~1100 & 1010 = 0010 -> 1
    np.testing.assert_array_equal(masked_hamming(a, w), [[2, 1, 1]])
    np.testing.assert_array_equal(_core.testing.bconv("ref", a, w, masked=True), [[2, 1, 1]])


@pytest.mark.parametrize("kernel", ["ref"] + KERNELS,
                         ids=["ref"] + [k["name"] for k in KERNELS])
def test_all_ones_mask_equals_unmasked(kernel):
    """With every mask bit set, the masked twin counts exactly what the unmasked kernel does."""
    name = kernel if kernel == "ref" else kernel["name"]
    if kernel != "ref":
        require_isa(kernel)
    rng = np.random.default_rng(4242)
    for taps, words in TAP_SHAPES:
        for m, n in [(1, 1), (5, 9), (13, 33)]:
            signs = random_words(rng, (m, taps, words))
            w = random_words(rng, (n, taps, words))
            a = np.concatenate([signs, np.full_like(signs, ALL_ONES)], axis=-1)
            np.testing.assert_array_equal(_core.testing.bconv(name, a, w, masked=True),
                                          _core.testing.bconv(name, signs, w),
                                          err_msg=f"taps={taps} words={words} m={m} n={n}")


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
def test_masked_structured(kernel):
    """Masks that select single bits, word edges and alternate taps, against NumPy."""
    require_isa(kernel)
    m, n = 2 * kernel["mr"] + 1, 2 * kernel["nr"] + 1
    for taps, words in [(1, 8), (9, 1), (9, 2)]:
        for name, (signs, w) in structured_operands(m, n, taps, words).items():
            masks = {
                "top_and_bottom_bits": np.full_like(signs, np.uint64(1 << 63 | 1)),
                "alternating_bits": np.full_like(signs, np.uint64(0x5555_5555_5555_5555)),
                "every_other_tap": np.where((np.arange(taps) % 2 == 0)[None, :, None],
                                            ALL_ONES, np.uint64(0)) + np.zeros_like(signs),
                "last_word_only": np.where((np.arange(words) == words - 1)[None, None, :],
                                           ALL_ONES, np.uint64(0)) + np.zeros_like(signs),
            }
            for mask_name, mask in masks.items():
                a = np.concatenate([signs, mask], axis=-1)
                np.testing.assert_array_equal(
                    _core.testing.bconv(kernel["name"], a, w, masked=True), masked_hamming(a, w),
                    err_msg=f"{name} / {mask_name} taps={taps} words={words}")


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
def test_masked_maximum_count(kernel):
    """Every bit differs and every mask bit is set: 64 * taps * words everywhere."""
    require_isa(kernel)
    m, n, taps, words = 2 * kernel["mr"] + 1, 2 * kernel["nr"] + 1, 9, 64
    a = np.full((m, taps, 2 * words), ALL_ONES, np.uint64)
    w = np.zeros((n, taps, words), np.uint64)
    np.testing.assert_array_equal(_core.testing.bconv(kernel["name"], a, w, masked=True),
                                  np.full((m, n), 64 * taps * words, np.int32))


def test_masked_operands_rejected():
    """A masked `a` must hold twice the weight words per tap."""
    with pytest.raises(_core.InvalidArgument):
        _core.testing.bconv("ref", np.zeros((2, 9, 1), np.uint64), np.zeros((2, 9, 1), np.uint64),
                            masked=True)


@pytest.mark.parametrize("masked", [False, True], ids=["bits", "ternary"])
def test_ref_counts_the_same_in_32_and_64_bit_lanes(masked):
    """The oracle in 32-bit lanes (the AVX-512 kernel's weight layout) against 64-bit lanes."""
    rng = np.random.default_rng(4242)
    for taps, words in TAP_SHAPES:
        a = random_words(rng, (7, taps, (2 if masked else 1) * words))
        w = random_words(rng, (11, taps, words))
        np.testing.assert_array_equal(_core.testing.bconv("ref32", a, w, masked=masked),
                                      _core.testing.bconv("ref", a, w, masked=masked))
