"""Int8 direct convolution kernels (kernels/qconv): every registered kernel equal to NumPy's
exact int64 product, then bit for bit to the float32 dequantization the contract specifies,
over random and awkward shapes (tile edges, channel tails, multi-row windows, the extreme
values 255 x -128 and 255 x 127).

``_core.testing.qconv(kernel, a[m, k] uint8, w[k, n] int8, rows, correction, multiplier,
bias)`` runs a kernel with each row of a as one pixel whose window is ``rows`` rows of
``k / rows`` bytes, and returns ``float(a @ w - correction) * multiplier + bias``.
"""

from __future__ import annotations

import numpy as np
import pytest

from xnorinfer import _core

KERNELS = [k for k in _core.testing.list_kernels() if k["family"] == "qconv"]
# (m, k, n, rows): the Bi-Real stem's 7 rows of 24 bytes, AlexNet's 11 rows of 36, tile edges
# and channel tails on both sides of 16 and 64.
SHAPES = [(1, 4, 1, 1), (6, 168, 64, 7), (13, 168, 64, 7), (7, 396, 96, 11), (5, 8, 17, 2),
          (12, 48, 130, 3), (4, 12, 63, 1), (25, 36, 65, 3)]


def test_the_portable_kernel_is_listed():
    assert any(k["isa"] == "scalar" for k in KERNELS)


def qconv(kernel: dict, a: np.ndarray, w: np.ndarray, rows: int, correction=None,
          multiplier=None, bias=None) -> np.ndarray:
    """The kernel's output; by default the plain sums (exact in float32 below 2^24)."""
    n = w.shape[1]
    correction = np.zeros(n, np.int32) if correction is None else correction
    multiplier = np.ones(n, np.float32) if multiplier is None else multiplier
    bias = np.zeros(n, np.float32) if bias is None else bias
    return _core.testing.qconv(kernel["name"], a, w, rows, correction, multiplier, bias)


def require_runs_here(kernel: dict) -> None:
    if not kernel["runs_here"]:
        pytest.skip(f"{kernel['name']} needs a CPU feature this one lacks")


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
@pytest.mark.parametrize("m,k,n,rows", SHAPES)
def test_equals_integer_product(kernel, m, k, n, rows):
    require_runs_here(kernel)
    rng = np.random.default_rng(m * 7919 + k * 31 + n)
    a = rng.integers(0, 256, (m, k), dtype=np.uint8)
    w = rng.integers(-127, 128, (k, n), dtype=np.int8)
    sums = a.astype(np.int64) @ w.astype(np.int64)
    np.testing.assert_array_equal(qconv(kernel, a, w, rows), sums)
    correction = rng.integers(-10**6, 10**6, n, dtype=np.int32)
    multiplier = rng.standard_normal(n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    want = (sums - correction).astype(np.float32) * multiplier + bias  # float32 mul, then add
    got = qconv(kernel, a, w, rows, correction, multiplier, bias)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
@pytest.mark.parametrize("weight", [127, -128])
def test_extreme_values_do_not_saturate(kernel, weight):
    """VPDPBUSD (unlike VPMADDUBSW) adds four u8 x s8 products without 16-bit saturation."""
    require_runs_here(kernel)
    a = np.full((6, 196), 255, dtype=np.uint8)
    w = np.full((196, 64), weight, dtype=np.int8)
    assert np.all(qconv(kernel, a, w, 7) == 255 * weight * 196)


def test_bad_rows_is_an_error():
    with pytest.raises(ValueError, match="multiples of 4"):
        qconv(KERNELS[0], np.zeros((1, 6), np.uint8), np.zeros((6, 1), np.int8), 1)


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
@pytest.mark.parametrize("m,k,n,rows", [(6, 168, 64, 7), (13, 48, 130, 3)])
def test_fused_relu_equals_the_ops_relu(kernel, m, k, n, rows):
    """The relu after the dequantization, as Conv2d's activation would apply it: v < 0 ? 0 : v,
    bit for bit (a -0 result stays -0)."""
    require_runs_here(kernel)
    rng = np.random.default_rng(m + n)
    a = rng.integers(0, 256, (m, k), dtype=np.uint8)
    w = rng.integers(-127, 128, (k, n), dtype=np.int8)
    correction = (a[0].astype(np.int64) @ w.astype(np.int64)).astype(np.int32)  # row 0: sum 0
    multiplier = rng.standard_normal(n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    bias[0] = -0.0  # row 0, column 0: 0 * m + -0 = -0 (or +0, by m's sign): kept
    args = (kernel["name"], a, w, rows, correction, multiplier, bias)
    plain = _core.testing.qconv(*args)
    got = _core.testing.qconv(*args, relu=True)
    want = np.where(plain < 0, np.float32(0), plain)
    assert (plain < 0).any()
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
