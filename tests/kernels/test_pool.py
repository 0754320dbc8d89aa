"""Pooling kernels: every registered kernel against NumPy's fold, bit for bit.

Contract (kernels/pool/pool.h): max_rows folds the rows in order with
``y = v if (v > y or v is NaN) else y`` from -inf, so NaN wins (the last NaN in row order) and
of +0 and -0 the first stays; average_rows adds the rows in order to +0, one float32 rounding
per add, then divides. ``_core.testing.max_rows(kernel, rows[count, n])`` and
``_core.testing.average_rows(kernel, rows[count, n], divisor)`` run one.
"""

from __future__ import annotations

import numpy as np
import pytest

from xnorinfer import _core

AVAILABLE_ISAS = _core.available_isas()
KERNELS = [k for k in _core.testing.list_kernels() if k["family"] == "pool"]
SHAPES = [(1, 1), (1, 17), (4, 1), (9, 15), (9, 16), (9, 17), (9, 64), (49, 130), (2, 33)]


def fold(rows: np.ndarray) -> np.ndarray:
    """The contract, one row at a time."""
    y = np.full(rows.shape[1], -np.inf, np.float32)
    for v in rows:
        with np.errstate(invalid="ignore"):
            take = (v > y) | np.isnan(v)
        y = np.where(take, v, y)
    return y


def structured_rows(rng: np.random.Generator, count: int, n: int) -> np.ndarray:
    """Normal values with ±0, ±inf, NaNs of different payloads, and ties."""
    rows = rng.standard_normal((count, n)).astype(np.float32)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0], np.float32)
    pick = rng.random((count, n)) < 0.3
    rows[pick] = rng.choice(specials, size=int(pick.sum()))
    nan_payload = np.array([0x7FC00001], np.uint32).view(np.float32)[0]
    rows[rng.random((count, n)) < 0.05] = nan_payload
    return rows


def test_every_isa_has_a_kernel():
    assert {k["isa"] for k in KERNELS} == set(_core.build_info()["isa_compiled"])


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
@pytest.mark.parametrize("count,n", SHAPES)
def test_matches_the_fold_bit_for_bit(kernel, count, n):
    if kernel["isa"] not in AVAILABLE_ISAS:
        pytest.skip(f"{kernel['name']} needs ISA {kernel['isa']}")
    rng = np.random.default_rng(count * 1000 + n)
    for rows in (rng.standard_normal((count, n)).astype(np.float32), structured_rows(rng, count, n)):
        got = _core.testing.max_rows(kernel["name"], rows)
        np.testing.assert_array_equal(got.view(np.uint32), fold(rows).view(np.uint32))


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
def test_zero_signs_and_nan_order(kernel):
    if kernel["isa"] not in AVAILABLE_ISAS:
        pytest.skip(f"{kernel['name']} needs ISA {kernel['isa']}")
    first_nan, last_nan = np.array([0x7FC00001, 0x7FC00002], np.uint32).view(np.float32)
    rows = np.array([[0.0, -0.0, first_nan, 5.0], [-0.0, 0.0, last_nan, first_nan]], np.float32)
    got = _core.testing.max_rows(kernel["name"], rows).view(np.uint32)
    want = np.array([0.0, -0.0, last_nan, first_nan], np.float32).view(np.uint32)
    np.testing.assert_array_equal(got, want)


def mean_fold(rows: np.ndarray, divisor: float) -> np.ndarray:
    """The contract: float32 adds in row order from +0, then one division."""
    total = np.zeros(rows.shape[1], np.float32)
    for v in rows:
        total = total + v
    return total / np.float32(divisor)


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
@pytest.mark.parametrize("count,n", SHAPES + [(0, 5)])
def test_average_adds_in_row_order_then_divides_bit_for_bit(kernel, count, n):
    if kernel["isa"] not in AVAILABLE_ISAS:
        pytest.skip(f"{kernel['name']} needs ISA {kernel['isa']}")
    rng = np.random.default_rng(count * 1000 + n + 7)
    # Magnitudes 1e-3 to 1e3, so the order of the adds changes their rounding.
    scaled = (rng.standard_normal((count, n)) * 10.0 ** rng.integers(-3, 4, (count, n)))
    for rows in (scaled.astype(np.float32), structured_rows(rng, count, n)):
        for divisor in (max(count, 1), 9.0, 7.0):
            got = _core.testing.average_rows(kernel["name"], rows, divisor)
            with np.errstate(invalid="ignore", divide="ignore"):
                want = mean_fold(rows, divisor)
            # Which of two NaNs an add returns is the hardware's; NumPy may swap the operands.
            nan = np.isnan(want)
            np.testing.assert_array_equal(np.isnan(got), nan)
            np.testing.assert_array_equal(got[~nan].view(np.uint32), want[~nan].view(np.uint32))
            # Between kernels, NaNs too: every ISA path gives the same bits.
            scalar = _core.testing.average_rows(KERNELS[0]["name"], rows, divisor)
            np.testing.assert_array_equal(got.view(np.uint32), scalar.view(np.uint32))


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
def test_average_of_minus_zeros_is_plus_zero(kernel):
    """The sum starts from +0, so -0 alone averages to +0 (as the scalar fold does)."""
    if kernel["isa"] not in AVAILABLE_ISAS:
        pytest.skip(f"{kernel['name']} needs ISA {kernel['isa']}")
    rows = np.full((2, 20), -0.0, np.float32)
    got = _core.testing.average_rows(kernel["name"], rows, 2.0)
    np.testing.assert_array_equal(got.view(np.uint32), np.zeros(20, np.uint32))
