"""Float GEMM kernels: every registered kernel bit-identical to ``ref``, and close to NumPy.

Contract (kernels/sgemm/sgemm.h): ``c[i, j] = sum_p a[i, p] * b[p, j]`` accumulated from 0 in
increasing ``p``, one fused multiply-add per step, so every variant rounds identically.
"""

from __future__ import annotations

import numpy as np
import pytest

from xnorinfer import _core

AVAILABLE_ISAS = _core.available_isas()
KERNELS = [k for k in _core.testing.list_kernels() if k["family"] == "sgemm"]
K_VALUES = [1, 7, 64, 129]


def tile_edges(t: int, prime: int) -> list[int]:
    return sorted({v for v in (1, t - 1, t, t + 1, 2 * t + 1, prime) if v >= 1})


def column_edges(nr: int) -> list[int]:
    """Tile edges, and past the groups of up to 4 panels that a few rows take side by side."""
    return sorted(set(tile_edges(nr, 37)) | {4 * nr + 1, 9 * nr - 1})


CASES = [(k, m, n) for k in KERNELS for m in tile_edges(k["mr"], 13) for n in column_edges(k["nr"])]


def require_isa(kernel: dict) -> None:
    if kernel["isa"] not in AVAILABLE_ISAS:
        pytest.skip(f"{kernel['name']} needs ISA {kernel['isa']}, this CPU runs {AVAILABLE_ISAS}")


def assert_bit_identical(actual: np.ndarray, expected: np.ndarray, msg: str = "") -> None:
    """Same float32 bits (so -0.0 differs from +0.0, and NaNs must match exactly)."""
    assert actual.dtype == np.float32 and actual.shape == expected.shape
    np.testing.assert_array_equal(actual.view(np.uint32), expected.view(np.uint32), err_msg=msg)


@pytest.mark.parametrize(
    "kernel,m,n", CASES, ids=[f"{k['name']}-m{m}-n{n}-seed{1000 * m + n}" for k, m, n in CASES])
def test_random_matches_ref_and_numpy(kernel, m, n):
    require_isa(kernel)
    rng = np.random.default_rng(1000 * m + n)
    for k in K_VALUES:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        c = _core.testing.sgemm(kernel["name"], a, b)
        assert_bit_identical(c, _core.testing.sgemm("ref", a, b), f"k={k}")
        exact = a.astype(np.float64) @ b.astype(np.float64)
        bound = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
        np.testing.assert_allclose(c, exact, rtol=1e-5, atol=1e-6 * bound.max(), err_msg=f"k={k}")


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
def test_ref_is_sequential_float32_fma(kernel):
    """Operands chosen so the summation order changes the float32 result: the kernels must
    accumulate in increasing p with one rounding per step, like ref and a plain loop."""
    require_isa(kernel)
    rng = np.random.default_rng(11)
    m, n, k = 5, 2 * kernel["nr"] + 1, 33
    a = (rng.standard_normal((m, k)) * 10.0 ** rng.integers(-4, 5, size=(m, k))).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    expected = np.zeros((m, n), np.float32)
    for p in range(k):  # fma in p order: the float32 product is exact in float64, one rounding
        product = a[:, p:p + 1].astype(np.float64) * b[p:p + 1, :]
        expected = (product + expected).astype(np.float32)
    assert_bit_identical(_core.testing.sgemm("ref", a, b), expected)
    assert_bit_identical(_core.testing.sgemm(kernel["name"], a, b), expected)


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
def test_special_values_match_ref(kernel):
    """Zeros, signed zeros, infinities and NaN propagate exactly as in ref."""
    require_isa(kernel)
    m, n, k = kernel["mr"] + 1, kernel["nr"] + 3, 9
    a = np.ones((m, k), np.float32)
    b = np.ones((k, n), np.float32)
    a[0, :] = -0.0
    a[1, 2] = np.inf
    b[2, 1] = 0.0  # a[1, 2] * b[2, 1] = inf * 0 -> NaN at row 1, column 1
    b[5, 0] = np.nan
    b[:, -1] = -0.0
    c = _core.testing.sgemm(kernel["name"], a, b)
    assert_bit_identical(c, _core.testing.sgemm("ref", a, b))
    assert np.isnan(c[1, 1]) and np.isinf(c[1, 2]) and np.isnan(c[:, 0]).all()


def bias_then_relu(c: np.ndarray, bias: np.ndarray | None, relu: bool) -> np.ndarray:
    """The epilogue of sgemm.h in NumPy: a float32 add, then v < 0 ? 0 : v (NaN stays)."""
    v = c + bias if bias is not None else c.copy()
    return np.where(v < 0, np.float32(0), v).astype(np.float32) if relu else v


EPILOGUE_CASES = [(k, m, n, bias, relu) for k in KERNELS for m in (1, k["mr"] + 3)
                  for n in (k["nr"] - 1, 4 * k["nr"] + 5) for bias, relu in
                  ((True, False), (False, True), (True, True))]


@pytest.mark.parametrize("kernel,m,n,with_bias,relu", EPILOGUE_CASES, ids=[
    f"{k['name']}-m{m}-n{n}-{'bias' if b else ''}{'relu' if r else ''}"
    for k, m, n, b, r in EPILOGUE_CASES])
def test_epilogue_bias_then_relu(kernel, m, n, with_bias, relu):
    """The bias and relu in the kernel are the ops' add and Relu on ref's sums, bit for bit:
    each column's own bias (NaN and infinities included), over k past the NEON kernel's
    chunk of 256 (the epilogue goes with the last chunk only)."""
    require_isa(kernel)
    rng = np.random.default_rng(100 * m + n)
    k = 300
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32) * 10 if with_bias else None
    if bias is not None:
        bias[0], bias[-1] = np.nan, -np.inf
    c = _core.testing.sgemm(kernel["name"], a, b, bias=bias, relu=relu)
    assert_bit_identical(c, bias_then_relu(_core.testing.sgemm("ref", a, b), bias, relu))
    if relu:
        assert (c >= 0).sum() + np.isnan(c).sum() == c.size and (c == 0).any()


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
def test_non_contiguous_inputs(kernel):
    require_isa(kernel)
    rng = np.random.default_rng(3)
    a = rng.standard_normal((10, 40)).astype(np.float32)[::2, ::3]
    b = rng.standard_normal((28, 50)).astype(np.float32)[::2, 1::2]
    assert a.shape[1] == b.shape[0]
    assert_bit_identical(_core.testing.sgemm(kernel["name"], a, b),
                         _core.testing.sgemm("ref", np.ascontiguousarray(a), np.ascontiguousarray(b)))


def test_shape_mismatch_rejected():
    with pytest.raises(_core.InvalidArgument):
        _core.testing.sgemm("ref", np.zeros((2, 3), np.float32), np.zeros((4, 2), np.float32))
