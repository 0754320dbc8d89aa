"""Interleaving kernels: every registered kernel against NumPy's transpose, bit for bit.

Contract (kernels/interleave/interleave.h): for j0 <= j < j1 and c < planes,
``y[j * planes + c] = x[c * cols + j]``, the NCHW -> NHWC transpose of an image with up to 4
channels. ``_core.testing.interleave(kernel, planes[p, cols], j0, j1, fill)`` runs one, the
pixels outside [j0, j1) left at ``fill``.
"""

from __future__ import annotations

import numpy as np
import pytest

from xnorinfer import _core

AVAILABLE_ISAS = _core.available_isas()
KERNELS = [k for k in _core.testing.list_kernels() if k["family"] == "interleave"]
FILL = np.float32(-7.5)


def awkward_planes(planes: int, cols: int, seed: int) -> np.ndarray:
    """Distinct values, with NaNs of two payloads, ±0 and ±inf, whose bits must survive."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((planes, cols)).astype(np.float32)
    specials = np.array([0x7FC00001, 0x7FA00002, 0x80000000, 0x00000000, 0x7F800000, 0xFF800000,
                         0x00000001], np.uint32).view(np.float32)
    pick = rng.random((planes, cols)) < 0.2
    x[pick] = rng.choice(specials, size=int(pick.sum()))
    return x


def test_every_isa_has_a_kernel():
    assert {k["isa"] for k in KERNELS} == set(_core.build_info()["isa_compiled"])


@pytest.mark.parametrize("kernel", KERNELS, ids=[k["name"] for k in KERNELS])
@pytest.mark.parametrize("planes", [1, 2, 3, 4])
@pytest.mark.parametrize("cols,j0,j1", [
    (1, 0, 1), (7, 0, 7), (16, 0, 16), (17, 0, 17), (33, 1, 32), (48, 16, 32), (50, 3, 3),
    (301, 5, 298), (1024, 0, 1024)])
def test_matches_the_transpose_bit_for_bit(kernel, planes, cols, j0, j1):
    if kernel["isa"] not in AVAILABLE_ISAS:
        pytest.skip(f"{kernel['name']} needs ISA {kernel['isa']}")
    x = awkward_planes(planes, cols, seed=planes * 10000 + cols)
    got = _core.testing.interleave(kernel["name"], x, j0, j1, FILL)
    want = np.full((cols, planes), FILL)
    want[j0:j1] = x.T[j0:j1]
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("planes, j0, j1, message", [
    (5, 0, 4, "planes must have 1 to 4 rows"),
    (3, 2, 1, "need 0 <= j0 <= j1 <= columns"),
    (3, 0, 9, "need 0 <= j0 <= j1 <= columns"),
])
def test_bad_arguments_are_errors(planes, j0, j1, message):
    with pytest.raises(ValueError, match=message):
        _core.testing.interleave(KERNELS[0]["name"], np.zeros((planes, 8), np.float32), j0, j1)
