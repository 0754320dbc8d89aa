"""Direct float convolution kernels (kernels/sconv): every registered kernel bit for bit equal
to the sgemm kernels on the same im2col rows, and close to NumPy.

Both are fused multiply-add chains in the row's order, which is what lets the stem read its
windows in place on one ISA path while the others copy them (im2col) and stay bit-identical.
``_core.testing.sconv(kernel, a[m, width], b[k, n], offsets[k])`` runs a kernel with each row of a
as one pixel whose window float i is at ``offsets[i]`` in the row (default: the whole row).
"""

from __future__ import annotations

import numpy as np
import pytest

from xnorinfer import _core

AVAILABLE_ISAS = _core.available_isas()
KERNELS = [k for k in _core.testing.list_kernels() if k["family"] == "sconv"]
SGEMM = [k for k in _core.testing.list_kernels() if k["family"] == "sgemm"]
# (m, k, n, window rows): the Bi-Real and AlexNet stems' 147- and 363-long windows, tile edges.
SHAPES = [(1, 1, 1, 1), (6, 147, 64, 7), (13, 147, 64, 7), (5, 21, 96, 1), (7, 363, 96, 11),
          (4, 16, 17, 2), (12, 30, 130, 3)]


def window_offsets(k: int, rows: int, gap: int = 5) -> np.ndarray:
    """A window of `rows` rows of k / rows floats, `gap` floats apart, as in an image row."""
    length = k // rows
    return np.concatenate([r * (length + gap) + np.arange(length) for r in range(rows)])


def pixel_rows(rng: np.random.Generator, m: int, k: int, rows: int) -> tuple:
    """(a [m, width], offsets [k], the windows a[:, offsets] [m, k]): the gaps hold NaN, which
    a kernel that reads outside its window spreads to its output."""
    offsets = window_offsets(k, rows)
    a = np.full((m, offsets[-1] + 1), np.nan, np.float32)
    a[:, offsets] = rng.standard_normal((m, k)).astype(np.float32)
    return a, offsets, a[:, offsets]


def require_isa(kernel: dict) -> None:
    if kernel["isa"] not in AVAILABLE_ISAS:
        pytest.skip(f"{kernel['name']} needs ISA {kernel['isa']}, this CPU runs {AVAILABLE_ISAS}")


def test_every_kernel_is_listed():
    assert {k["isa"] for k in KERNELS} >= {"scalar"}


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
@pytest.mark.parametrize("m,k,n,rows", SHAPES)
def test_equals_sgemm_bit_for_bit(kernel, m, k, n, rows):
    require_isa(kernel)
    rng = np.random.default_rng(m * 7919 + k * 31 + n)
    a, offsets, windows = pixel_rows(rng, m, k, rows)
    b = rng.standard_normal((k, n)).astype(np.float32)
    got = _core.testing.sconv(kernel["name"], a, b, offsets)
    np.testing.assert_allclose(got, windows.astype(np.float64) @ b, rtol=1e-4,
                               atol=1e-4 * np.sqrt(k))
    for gemm in SGEMM:
        if gemm["isa"] in AVAILABLE_ISAS:
            want = _core.testing.sgemm(gemm["name"], windows, b)
            np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32),
                                          err_msg=f"vs {gemm['name']}")


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
def test_window_order_is_the_offsets_order(kernel):
    """Offsets out of order and repeated: the sum runs in the table's order, as sgemm on
    a[:, offsets] does."""
    require_isa(kernel)
    rng = np.random.default_rng(5)
    a = rng.standard_normal((7, 40)).astype(np.float32)
    offsets = np.concatenate([rng.permutation(40), [3, 3, 39]])
    b = rng.standard_normal((len(offsets), 70)).astype(np.float32)
    got = _core.testing.sconv(kernel["name"], a, b, offsets)
    scalar = next(g for g in SGEMM if g["isa"] == "scalar")
    want = _core.testing.sgemm(scalar["name"], a[:, offsets], b)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
@pytest.mark.parametrize("m,k,n,rows", [(6, 147, 64, 7), (13, 21, 70, 1), (5, 16, 130, 2)])
@pytest.mark.parametrize("relu", [False, True])
def test_fused_bias_and_relu_equal_the_ops_epilogue(kernel, m, k, n, rows, relu):
    """conv, then + bias, then the relu (-0 and NaN kept), bit for bit as a second pass does."""
    require_isa(kernel)
    rng = np.random.default_rng(m * 131 + n)
    a, offsets, _ = pixel_rows(rng, m, k, rows)
    a[0, offsets] = 0.0  # a zero window: conv +0, and with a -0 bias the sum is +0 (not -0)
    a[1, offsets[0]] = np.nan  # a NaN window passes through the relu
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    bias[0] = -0.0
    conv = _core.testing.sconv(kernel["name"], a, b, offsets)
    want = conv + bias
    if relu:
        want = np.where(want < 0, np.float32(0), want)
    got = _core.testing.sconv(kernel["name"], a, b, offsets, bias=bias, relu=relu)
    assert np.isnan(got[1]).all()
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_bias_must_have_one_value_per_column():
    a = np.ones((2, 3), np.float32)
    b = np.ones((3, 4), np.float32)
    with pytest.raises(_core.InvalidArgument, match="bias must be"):
        _core.testing.sconv(KERNELS[0]["name"], a, b, bias=np.ones(3, np.float32))


def test_offsets_must_stay_in_the_row():
    a = np.ones((2, 3), np.float32)
    b = np.ones((2, 4), np.float32)
    with pytest.raises(_core.InvalidArgument, match="offsets must index"):
        _core.testing.sconv(KERNELS[0]["name"], a, b, np.array([0, 3]))
