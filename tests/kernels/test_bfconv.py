"""bf16 direct convolution kernels (kernels/bfconv): every registered kernel bit for bit equal
to a NumPy model of VDPBF16PS's arithmetic (the odd element of each pair first, each step one
fused multiply-add rounded to nearest even, subnormal results flushed), over random and awkward
shapes. On a CPU with AVX-512 BF16 this also checks that the hardware does what the contract
(and Intel's manual) says, which the portable kernel relies on to give the same floats.

``_core.testing.bfconv(kernel, a[m, k], w[k, n], rows, bias)`` takes bf16 bit patterns
(uint16) and runs a kernel with each row of a as one pixel whose window is ``rows`` rows of
``k / rows`` elements.
"""

from __future__ import annotations

import numpy as np
import pytest

from xnorinfer import _core

KERNELS = [k for k in _core.testing.list_kernels() if k["family"] == "bfconv"]
# (m, k, n, rows): the Bi-Real stem's 7 rows of 22 elements, AlexNet's 11 of 34, tile edges,
# channel tails.
SHAPES = [(1, 2, 1, 1), (6, 154, 64, 7), (13, 154, 64, 7), (7, 374, 96, 11), (5, 8, 17, 2),
          (12, 24, 130, 3), (4, 6, 63, 1)]
FLT_MIN = np.float32(1.17549435e-38)


def to_bf16(x: np.ndarray) -> np.ndarray:
    """float32 -> bf16 bits, to nearest even."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16(h: np.ndarray) -> np.ndarray:
    return (h.astype(np.uint32) << 16).view(np.float32)


def reference(a: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The contract in float64 (exact products and, for these magnitudes, exact sums), rounded
    to float32 after each step."""
    af, wf = from_bf16(a).astype(np.float64), from_bf16(w).astype(np.float64)
    acc = np.zeros((a.shape[0], w.shape[1]), np.float32)
    for s in range(a.shape[1] // 2):
        for k in (2 * s + 1, 2 * s):
            acc = (acc.astype(np.float64) + af[:, k:k + 1] * wf[k:k + 1, :]).astype(np.float32)
            acc = np.where(np.abs(acc) < FLT_MIN, np.copysign(np.float32(0), acc), acc)
    return acc + bias


def require_runs_here(kernel: dict) -> None:
    if not kernel["runs_here"]:
        pytest.skip(f"{kernel['name']} needs a CPU feature this one lacks")


def test_the_portable_kernel_is_listed():
    assert any(k["isa"] == "scalar" for k in KERNELS)


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
@pytest.mark.parametrize("m,k,n,rows", SHAPES)
def test_equals_the_vdpbf16ps_model_bit_for_bit(kernel, m, k, n, rows):
    require_runs_here(kernel)
    rng = np.random.default_rng(m * 7919 + k * 31 + n)
    a = to_bf16(rng.standard_normal((m, k)).astype(np.float32))
    w = to_bf16(rng.standard_normal((k, n)).astype(np.float32) * 0.1)
    bias = rng.standard_normal(n).astype(np.float32)
    got = _core.testing.bfconv(kernel["name"], a, w, rows, bias)
    want = reference(a, w, bias)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
def test_order_within_a_pair_and_flushing(kernel):
    """A pair where the order of its two steps decides the rounding (1 + 2^-24 ties to 1, then
    + 1.5 * 2^-24 gives 1 + 2^-23; the other order ties to 1 + 2^-22), and a product below
    FLT_MIN flushed to a zero of its sign."""
    require_runs_here(kernel)
    t = 2.0 ** -24
    a = to_bf16(np.array([[0, 1, 1.5 * t, t], [0, 1, t, 1.5 * t]], np.float32))
    w = to_bf16(np.ones((4, 1), np.float32))
    got = _core.testing.bfconv(kernel["name"], a, w, 1, np.zeros(1, np.float32))
    want = reference(a, w, np.zeros(1, np.float32))
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    assert got[0, 0] != got[1, 0]  # the order shows
    a = to_bf16(np.array([[-2.0 ** -70, 0]], np.float32))  # odd: 0 * 1, even: -2^-130
    w = to_bf16(np.array([[2.0 ** -60], [1]], np.float32))
    flushed = _core.testing.bfconv(kernel["name"], a, w, 1, np.array([-0.0], np.float32))
    assert flushed.view(np.uint32)[0, 0] == np.float32(-0.0).view(np.uint32)


def test_bad_rows_is_an_error():
    with pytest.raises(ValueError, match="even counts"):
        _core.testing.bfconv(KERNELS[0]["name"], np.zeros((1, 3), np.uint16),
                             np.zeros((3, 1), np.uint16), 1, np.zeros(1, np.float32))


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
def test_fused_relu_equals_the_ops_relu(kernel):
    """v < 0 ? 0 : v after the bias, bit for bit: negatives to +0, a -0 result kept."""
    require_runs_here(kernel)
    rng = np.random.default_rng(5)
    a = to_bf16(rng.standard_normal((13, 154)).astype(np.float32))
    a[0] = 0  # row 0: acc +0, + bias; column 0's bias -0 gives +0
    w = to_bf16(rng.standard_normal((154, 70)).astype(np.float32) * 0.1)
    bias = rng.standard_normal(70).astype(np.float32)
    bias[0] = -0.0
    plain = _core.testing.bfconv(kernel["name"], a, w, 7, bias)
    got = _core.testing.bfconv(kernel["name"], a, w, 7, bias, relu=True)
    assert (plain < 0).any()
    np.testing.assert_array_equal(got.view(np.uint32),
                                  np.where(plain < 0, np.float32(0), plain).view(np.uint32))
    a = to_bf16(np.array([[-2.0 ** -70, 0]], np.float32))  # a flushed -0 sum, + bias -0: -0
    w = to_bf16(np.array([[2.0 ** -60], [1]], np.float32))
    kept = _core.testing.bfconv(kernel["name"], a, w, 1, np.array([-0.0], np.float32), relu=True)
    assert kept.view(np.uint32)[0, 0] == np.float32(-0.0).view(np.uint32)
