"""Bit-packing kernels: every registered kernel against ``ref`` and against NumPy packing.

Contract (kernels/bitpack/bitpack.h): bit = ``(x + offset) < 0`` (so +0.0, -0.0 and NaN give
0), channel ``c`` in bit ``c % 64`` of word ``c // 64``, tail bits 0, and ``abs_mean`` = mean of
``|x|`` (without the offset) summed in channel order, bit-identical across kernels.

Ternary packing (ONNX Sign(0) = 0): ``ternary=True`` writes each row as the sign plane (as
above) then the nonzero plane, bit = ``(x + offset) != 0`` (NaN counts as nonzero, its sign bit
stays 0), ``2 * ceil(C/64)`` words per row, tail bits 0 in both planes; ``abs_mean`` unchanged.

With ``scale`` and ``bias`` (a fused ChannelAffine) every kernel packs ``v = x * scale + bias``,
a float32 multiply then an add, in place of ``x``: for the sign test, the nonzero plane and
``abs_mean`` alike.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import numpy_ops
from xnorinfer import _core
from xnorinfer.bitpack import pack_bits, packed_words, unpack_bits

AVAILABLE_ISAS = _core.available_isas()
KERNELS = [k for k in _core.testing.list_kernels() if k["family"] == "bitpack"]
COLUMNS = [1, 3, 63, 64, 65, 130, 511, 512, 513, 1000]
ROWS = [1, 2, 7]


def kernel_param():
    return pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])


def require_isa(kernel: dict) -> None:
    if kernel["isa"] not in AVAILABLE_ISAS:
        pytest.skip(f"{kernel['name']} needs ISA {kernel['isa']}, this CPU runs {AVAILABLE_ISAS}")


def assert_tail_bits_zero(words: np.ndarray, columns: int) -> None:
    used = columns - 64 * (packed_words(columns) - 1)
    if used < 64:
        unused_mask = ~np.uint64((1 << used) - 1)
        assert not np.any(words[:, -1] & unused_mask), "tail bits past the last channel are set"


def check_against_ref(kernel: dict, x: np.ndarray, offset: np.ndarray | None = None):
    """Runs kernel and ref on x; asserts identical words and abs_mean; returns the words."""
    words, abs_mean = _core.testing.bitpack(kernel["name"], x, offset)
    ref_words, ref_abs_mean = _core.testing.bitpack("ref", x, offset)
    assert words.dtype == np.uint64 and words.shape == (x.shape[0], packed_words(x.shape[1]))
    np.testing.assert_array_equal(words, ref_words)
    # abs_mean is summed in channel order by every kernel: equal bit for bit, NaN included.
    np.testing.assert_array_equal(abs_mean.view(np.uint32), ref_abs_mean.view(np.uint32))
    assert_tail_bits_zero(words, x.shape[1])
    return words, abs_mean


# Cases: (columns, rows, seed); the seed is in the test id.
RANDOM_CASES = [(c, r, 1000 * c + r) for c in COLUMNS for r in ROWS]


@kernel_param()
@pytest.mark.parametrize("columns,rows,seed", RANDOM_CASES,
                         ids=[f"c{c}-r{r}-seed{s}" for c, r, s in RANDOM_CASES])
def test_random_matches_ref_and_numpy(kernel, columns, rows, seed):
    require_isa(kernel)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, columns)).astype(np.float32)
    words, abs_mean = check_against_ref(kernel, x)
    np.testing.assert_array_equal(words, pack_bits(x < 0))
    np.testing.assert_array_equal(words, numpy_ops.pack_reference(x < 0))
    np.testing.assert_allclose(abs_mean, np.abs(x.astype(np.float64)).mean(axis=1), rtol=1e-5)


@kernel_param()
@pytest.mark.parametrize("columns,rows,seed", RANDOM_CASES,
                         ids=[f"c{c}-r{r}-seed{s}" for c, r, s in RANDOM_CASES])
def test_offset(kernel, columns, rows, seed):
    require_isa(kernel)
    rng = np.random.default_rng(seed + 7)
    x = rng.standard_normal((rows, columns)).astype(np.float32)
    offset = rng.standard_normal(columns).astype(np.float32)
    # Some channels land exactly on 0 after the offset (bit 0), some just below (bit 1).
    offset[::5] = -x[0, ::5]
    offset[1::7] = np.nextafter(-x[0, 1::7], np.float32(-np.inf))
    words, abs_mean = check_against_ref(kernel, x, offset)
    np.testing.assert_array_equal(words, pack_bits((x + offset) < 0))  # float32 add, as the engine
    # abs_mean ignores the offset.
    _, plain_abs_mean = _core.testing.bitpack(kernel["name"], x)
    np.testing.assert_array_equal(abs_mean, plain_abs_mean)


def structured_inputs(columns: int) -> dict[str, np.ndarray]:
    """Rows of special values, one named pattern per entry, each [2, columns] float32."""
    c = np.arange(columns)
    tiny = np.float32(1e-45)  # the smallest subnormal; -tiny < 0 must give bit 1
    patterns = {
        "all_plus": np.ones(columns),
        "all_minus": -np.ones(columns),
        "pos_zero": np.zeros(columns),
        "neg_zero": np.full(columns, -0.0),
        "nan": np.full(columns, np.nan),
        "neg_nan": -np.full(columns, np.nan),
        "pos_inf": np.full(columns, np.inf),
        "neg_inf": np.full(columns, -np.inf),
        "neg_subnormal": np.full(columns, -tiny),
        "alternating": np.where(c % 2 == 0, -1.0, 1.0),
        "alternating_zeros": np.where(c % 2 == 0, -0.0, 0.0),
        "first_negative": np.where(c == 0, -1.0, 1.0),
        "last_negative": np.where(c == columns - 1, -1.0, 1.0),
        "word_edges_negative": np.where((c % 64 == 0) | (c % 64 == 63), -1.0, 1.0),
        "mixed_specials": np.array([[-1.0, 0.0, -0.0, np.nan, np.inf, -np.inf, 1.0][i % 7]
                                    for i in range(columns)]),
    }
    return {name: np.stack([v, v[::-1]]).astype(np.float32) for name, v in patterns.items()}


@kernel_param()
@pytest.mark.parametrize("columns", COLUMNS, ids=[f"c{c}" for c in COLUMNS])
def test_structured(kernel, columns):
    require_isa(kernel)
    for name, x in structured_inputs(columns).items():
        words, abs_mean = check_against_ref(kernel, x)
        with np.errstate(invalid="ignore"):
            negative = x < 0
        np.testing.assert_array_equal(words, numpy_ops.pack_reference(negative), err_msg=name)
        with np.errstate(invalid="ignore"):
            expected_mean = np.abs(x.astype(np.float64)).mean(axis=1)
        np.testing.assert_allclose(abs_mean, expected_mean, rtol=1e-6, err_msg=name)
    # All +1 (and all zeros) pack to 0 words; all -1 to every valid bit set.
    assert not np.any(_core.testing.bitpack(kernel["name"], np.zeros((1, columns), np.float32))[0])
    all_minus = _core.testing.bitpack(kernel["name"], -np.ones((1, columns), np.float32))[0]
    assert numpy_ops.popcount(all_minus).sum() == columns


def structured_offset_cases(columns: int = 130):
    """(offset value, x, offset): rows of ±1, ±0, ±inf and 2 with offsets ±0, ±inf, NaN, ±1."""
    x = np.tile(np.array([1.0, -1.0, 0.0, -0.0, np.inf, -np.inf, 2.0], np.float32), 19)[:columns]
    x = np.stack([x, x[::-1]])
    for offset_value in [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, 1.0]:
        yield offset_value, x, np.full(columns, offset_value, np.float32)


@kernel_param()
def test_structured_offsets(kernel):
    """Offsets that are ±0, ±inf and NaN: bit = (x + offset) < 0 with IEEE float32 addition."""
    require_isa(kernel)
    for offset_value, x, offset in structured_offset_cases():
        words, _ = check_against_ref(kernel, x, offset)
        with np.errstate(invalid="ignore"):
            negative = (x + offset) < 0
        np.testing.assert_array_equal(words, pack_bits(negative), err_msg=f"offset {offset_value}")


@kernel_param()
def test_single_bits(kernel):
    """Each channel of a 513-wide row, alone negative, sets exactly its own bit."""
    require_isa(kernel)
    columns = 513
    x = np.ones((columns, columns), np.float32)
    np.fill_diagonal(x, -1.0)
    words, _ = check_against_ref(kernel, x)
    for c in range(columns):
        row = np.zeros(packed_words(columns), np.uint64)
        row[c // 64] = np.uint64(1) << np.uint64(c % 64)
        np.testing.assert_array_equal(words[c], row, err_msg=f"channel {c}")


@kernel_param()
def test_non_contiguous_and_float64_input(kernel):
    """Strided views and float64 arrays are accepted (converted) and pack like a copy."""
    require_isa(kernel)
    rng = np.random.default_rng(31)
    base = rng.standard_normal((6, 260)).astype(np.float32)
    view = base[::2, ::2]
    assert not view.flags.c_contiguous
    words, _ = check_against_ref(kernel, view)
    np.testing.assert_array_equal(words, pack_bits(np.ascontiguousarray(view) < 0))
    words64, _ = _core.testing.bitpack(kernel["name"], base.astype(np.float64))
    np.testing.assert_array_equal(words64, pack_bits(base < 0))


def test_pack_helpers_agree_with_bit_by_bit_oracle():
    """xnorinfer.bitpack's vectorized helpers against the one-bit-at-a-time oracle."""
    rng = np.random.default_rng(5)
    for columns in COLUMNS:
        negative = rng.random((3, 2, columns)) < 0.5
        words = pack_bits(negative)
        np.testing.assert_array_equal(words, numpy_ops.pack_reference(negative))
        np.testing.assert_array_equal(unpack_bits(words, columns), negative)


AFFINE_CASES = [(c, r, 3000 * c + r) for c in COLUMNS for r in (1, 7)]


@kernel_param()
@pytest.mark.parametrize("ternary", [False, True], ids=["bits", "ternary"])
@pytest.mark.parametrize("with_offset", [False, True], ids=["", "offset"])
@pytest.mark.parametrize("columns,rows,seed", AFFINE_CASES,
                         ids=[f"c{c}-r{r}-seed{s}" for c, r, s in AFFINE_CASES])
def test_affine_packs_what_channel_affine_writes(kernel, columns, rows, seed, with_offset,
                                                  ternary):
    """x * scale + bias as ChannelAffine rounds it (float32 multiply, then add), then packed:
    equal to ref and to NumPy's float32 arithmetic, exact zeros and NaN included."""
    require_isa(kernel)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, columns)).astype(np.float32)
    x[0, ::11] = np.nan
    scale = rng.standard_normal(columns).astype(np.float32)
    scale[::9] = 0.0
    bias = rng.standard_normal(columns).astype(np.float32)
    bias[1::5] = -(x[0, 1::5] * scale[1::5])  # v exactly 0 on row 0
    offset = rng.standard_normal(columns).astype(np.float32) if with_offset else None
    out, abs_mean = _core.testing.bitpack(kernel["name"], x, offset, ternary, scale, bias)
    ref_out, ref_abs_mean = _core.testing.bitpack("ref", x, offset, ternary, scale, bias)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(abs_mean.view(np.uint32), ref_abs_mean.view(np.uint32))
    v = x * scale + bias  # float32 throughout: the rounding ChannelAffine does
    # The unfused pair: ChannelAffine's output packed by the same kernel.
    unfused, unfused_abs_mean = _core.testing.bitpack(kernel["name"], v, offset, ternary)
    np.testing.assert_array_equal(out, unfused)
    np.testing.assert_array_equal(abs_mean.view(np.uint32), unfused_abs_mean.view(np.uint32))
    tested = v if offset is None else v + offset
    words = packed_words(columns)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(out[:, :words], pack_bits(tested < 0))
    if ternary:
        np.testing.assert_array_equal(out[:, words:], pack_bits(tested != 0))


@pytest.mark.parametrize("bad", ["x_1d", "offset_size", "no_columns"])
def test_invalid_arguments(bad):
    x = np.ones((2, 5), np.float32)
    with pytest.raises(_core.InvalidArgument):
        if bad == "x_1d":
            _core.testing.bitpack("ref", np.ones(5, np.float32))
        elif bad == "offset_size":
            _core.testing.bitpack("ref", x, np.zeros(4, np.float32))
        else:
            _core.testing.bitpack("ref", np.ones((2, 0), np.float32))


# ---------------------------------------------------------------------------------------------
# Ternary packing: sign plane, then nonzero plane
# ---------------------------------------------------------------------------------------------

TERNARY_COLUMNS = [1, 3, 63, 64, 65, 130]
ZERO_DENSITIES = [0.0, 0.1, 0.9, 1.0]


def check_ternary_against_ref(kernel: dict, x: np.ndarray, offset: np.ndarray | None = None):
    """Runs kernel and ref with ternary=True; asserts identical planes and abs_mean, tail bits 0
    in both planes, the sign plane equal to the plain (bits) packing and abs_mean unchanged.
    Returns (signs, nonzero, abs_mean)."""
    rows, columns = x.shape
    words = packed_words(columns)
    out, abs_mean = _core.testing.bitpack(kernel["name"], x, offset, ternary=True)
    ref_out, ref_abs_mean = _core.testing.bitpack("ref", x, offset, ternary=True)
    assert out.dtype == np.uint64 and out.shape == (rows, 2 * words)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(abs_mean.view(np.uint32), ref_abs_mean.view(np.uint32))
    signs, nonzero = out[:, :words], out[:, words:]
    assert_tail_bits_zero(signs, columns)
    assert_tail_bits_zero(nonzero, columns)
    plain, plain_abs_mean = _core.testing.bitpack(kernel["name"], x, offset)
    np.testing.assert_array_equal(signs, plain)
    np.testing.assert_array_equal(abs_mean.view(np.uint32), plain_abs_mean.view(np.uint32))
    return signs, nonzero, abs_mean


def with_zeros(rng: np.random.Generator, shape, density: float) -> np.ndarray:
    """Normal floats with a fraction `density` replaced by zeros, half +0.0 and half -0.0."""
    x = rng.standard_normal(shape).astype(np.float32)
    u = rng.random(shape)
    x[u < density] = 0.0
    x[u < density / 2] = -0.0
    return x


TERNARY_CASES = [(c, r, d, 3000 * c + 10 * r + int(10 * d))
                 for c in TERNARY_COLUMNS for r in (1, 7) for d in ZERO_DENSITIES]


@kernel_param()
@pytest.mark.parametrize("columns,rows,density,seed", TERNARY_CASES,
                         ids=[f"c{c}-r{r}-z{d}-seed{s}" for c, r, d, s in TERNARY_CASES])
def test_ternary_random(kernel, columns, rows, density, seed):
    require_isa(kernel)
    rng = np.random.default_rng(seed)
    x = with_zeros(rng, (rows, columns), density)
    signs, nonzero, abs_mean = check_ternary_against_ref(kernel, x)
    np.testing.assert_array_equal(signs, numpy_ops.pack_reference(x < 0))
    np.testing.assert_array_equal(nonzero, numpy_ops.pack_reference(x != 0))
    # Decoded, the two planes are exactly np.sign(x).
    decoded = (1.0 - 2.0 * unpack_bits(signs, columns)) * unpack_bits(nonzero, columns)
    np.testing.assert_array_equal(decoded, np.sign(x))
    np.testing.assert_allclose(abs_mean, np.abs(x.astype(np.float64)).mean(axis=1), rtol=1e-5)


@kernel_param()
@pytest.mark.parametrize("columns", TERNARY_COLUMNS + [513],
                         ids=[f"c{c}" for c in TERNARY_COLUMNS + [513]])
def test_ternary_structured(kernel, columns):
    """+0.0 and -0.0 give sign 0 / mask 0; NaN (either sign) gives sign 0 / mask 1; infinities
    and the smallest subnormals are nonzero."""
    require_isa(kernel)
    for name, x in structured_inputs(columns).items():
        signs, nonzero, _ = check_ternary_against_ref(kernel, x)
        with np.errstate(invalid="ignore"):
            negative = x < 0
        np.testing.assert_array_equal(signs, numpy_ops.pack_reference(negative), err_msg=name)
        np.testing.assert_array_equal(nonzero, numpy_ops.pack_reference(x != 0), err_msg=name)
    count = lambda words: numpy_ops.popcount(words).sum()  # noqa: E731
    for value, sign_bits, mask_bits in [(0.0, 0, 0), (-0.0, 0, 0), (np.nan, 0, columns),
                                        (-np.nan, 0, columns), (-1.0, columns, columns),
                                        (1.0, 0, columns)]:
        signs, nonzero, _ = check_ternary_against_ref(kernel, np.full((1, columns), value, np.float32))
        assert (count(signs), count(nonzero)) == (sign_bits, mask_bits), value


@kernel_param()
@pytest.mark.parametrize("columns", TERNARY_COLUMNS, ids=[f"c{c}" for c in TERNARY_COLUMNS])
def test_ternary_offset(kernel, columns):
    """With an offset both planes test x + offset (float32 add): channels landing exactly on 0
    are zeros (mask 0), just below are -1; abs_mean ignores the offset."""
    require_isa(kernel)
    rng = np.random.default_rng(77 + columns)
    x = with_zeros(rng, (5, columns), 0.1)
    offset = rng.standard_normal(columns).astype(np.float32)
    offset[::4] = -x[0, ::4]
    offset[1::4] = np.nextafter(-x[0, 1::4], np.float32(-np.inf))
    offset[2::4] = 0.0  # x's own zeros stay zeros there
    signs, nonzero, abs_mean = check_ternary_against_ref(kernel, x, offset)
    v = x + offset
    np.testing.assert_array_equal(signs, numpy_ops.pack_reference(v < 0))
    np.testing.assert_array_equal(nonzero, numpy_ops.pack_reference(v != 0))
    assert not np.any(unpack_bits(nonzero, columns)[0, ::4]), "x + offset == 0 must be a zero"
    assert np.all(unpack_bits(signs, columns)[0, 1::4]), "x + offset just below 0 must be -1"
    _, plain_abs_mean = _core.testing.bitpack(kernel["name"], x, ternary=True)
    np.testing.assert_array_equal(abs_mean, plain_abs_mean)


@kernel_param()
def test_ternary_structured_offsets(kernel):
    """Offsets ±0, ±inf, NaN: inf + -inf and anything + NaN are NaN (nonzero, sign 0)."""
    require_isa(kernel)
    for offset_value, x, offset in structured_offset_cases():
        signs, nonzero, _ = check_ternary_against_ref(kernel, x, offset)
        with np.errstate(invalid="ignore"):
            v = x + offset
            np.testing.assert_array_equal(signs, pack_bits(v < 0), err_msg=f"offset {offset_value}")
        np.testing.assert_array_equal(nonzero, pack_bits(v != 0), err_msg=f"offset {offset_value}")


@kernel_param()
def test_ternary_single_zeros(kernel):
    """Each channel of a 130-wide row of -1s, alone zero, clears exactly its own mask bit."""
    require_isa(kernel)
    columns = 130
    x = -np.ones((columns, columns), np.float32)
    np.fill_diagonal(x, 0.0)
    signs, nonzero, _ = check_ternary_against_ref(kernel, x)
    np.testing.assert_array_equal(unpack_bits(nonzero, columns), ~np.eye(columns, dtype=bool))
    np.testing.assert_array_equal(unpack_bits(signs, columns), ~np.eye(columns, dtype=bool))
