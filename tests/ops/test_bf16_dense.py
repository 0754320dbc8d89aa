"""Dense with precision "bf16" (the opt-in float_dense="bf16", docs/ir.md): bit for bit the
VDPBF16PS steps over the bf16-rounded row and weights, then the bias and the activation, the
same on every ISA path and thread count; close to the float Dense; clear errors for what it
cannot take."""

from __future__ import annotations

import numpy as np
import pytest

from engine_runs import run_everywhere
from reference import numpy_ops
from xnorinfer import _core

FLT_MIN = np.float32(1.17549435e-38)
# (leading shape of x, K, O): a classifier at batch 1, an odd K (a zero pads the last pair),
# more rows than a kernel call takes, a channel tail past a 64-channel block, 3-d rows.
CASES = [((1,), 512, 100), ((3,), 7, 70), ((13,), 66, 129), ((2, 5), 33, 17)]


def dense_graph(k: int, o: int, weight: np.ndarray, bias: np.ndarray | None, rank: int = 2,
                attrs: dict | None = None) -> _core.Graph:
    g = _core.Graph()
    g.add_input("x", [-1] * (rank - 1) + [k])
    g.add_constant("w", weight)
    inputs = ["x", "w"]
    if bias is not None:
        g.add_constant("b", bias)
        inputs.append("b")
    g.add_node("fc", "Dense", inputs, ["y"], {"precision": "bf16", **(attrs or {})})
    g.add_output("y")
    return g


def vdpbf16ps_dense(x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The contract step by step: pairs of the row (zero-padded to an even K), the odd element
    first, each step exact in float64 then rounded to float32 with a subnormal flushed."""
    rows = numpy_ops.to_bf16_values(x.reshape(-1, x.shape[-1])).astype(np.float64)
    wf = numpy_ops.to_bf16_values(w).astype(np.float64)
    if rows.shape[1] % 2:
        rows = np.pad(rows, ((0, 0), (0, 1)))
        wf = np.pad(wf, ((0, 0), (0, 1)))
    acc = np.zeros((rows.shape[0], w.shape[0]), np.float32)
    for s in range(rows.shape[1] // 2):
        for k in (2 * s + 1, 2 * s):
            acc = (acc.astype(np.float64) + rows[:, k:k + 1] * wf[:, k][None, :]).astype(np.float32)
            acc = np.where(np.abs(acc) < FLT_MIN, np.copysign(np.float32(0), acc), acc)
    return (acc + bias).reshape(*x.shape[:-1], w.shape[0])


@pytest.mark.parametrize("lead,k,o", CASES, ids=[f"{'x'.join(map(str, c[0]))}-k{c[1]}-o{c[2]}"
                                                 for c in CASES])
def test_equals_the_vdpbf16ps_steps_and_is_close_to_float(lead, k, o):
    rng = np.random.default_rng(k * 1000 + o)
    weight = (rng.standard_normal((o, k)) * 0.1).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    x = rng.standard_normal((*lead, k)).astype(np.float32)
    [y] = run_everywhere(dense_graph(k, o, weight, bias, rank=len(lead) + 1), [x])
    np.testing.assert_array_equal(y.view(np.uint32),
                                  vdpbf16ps_dense(x, weight, bias).view(np.uint32))
    fp32 = x @ weight.T + bias
    magnitude = (np.abs(x) @ np.abs(weight).T).max()
    assert np.abs(y - fp32).max() < 0.01 * magnitude
    assert np.abs(y - fp32).max() > 0  # it is not the float Dense


def test_without_bias_and_with_a_relu():
    rng = np.random.default_rng(3)
    weight = rng.standard_normal((40, 24)).astype(np.float32)
    x = rng.standard_normal((4, 24)).astype(np.float32)
    [y] = run_everywhere(dense_graph(24, 40, weight, None, attrs={"activation": "relu"}), [x])
    want = np.maximum(vdpbf16ps_dense(x, weight, np.zeros(40, np.float32)), 0)
    np.testing.assert_array_equal(y, want)
    assert (y == 0).any() and (y > 0).any()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_row_is_a_clear_error(bad):
    weight = np.ones((8, 6), np.float32)
    x = np.zeros((3, 6), np.float32)
    x[2, 4] = bad
    session = _core.Session(dense_graph(6, 8, weight, None), 2, _core.available_isas()[-1])
    with pytest.raises(ValueError, match=r"node 'fc' \(Dense\): row 2 of the input holds NaN or "
                                         r"infinity, which precision bf16 does not take"):
        session.run([x])


@pytest.mark.parametrize("weight,attrs,message", [
    (np.ones((4, 3), np.float32), {"precision": "int8"},
     "precision must be float32 or bf16, got 'int8'"),
    (np.array([[1, np.nan, 0]], np.float32), {}, "precision bf16 needs finite weights"),
])
def test_unsupported_settings_are_refused(weight, attrs, message):
    with pytest.raises(ValueError, match=message):
        _core.Session(dense_graph(3, weight.shape[0], weight, None, attrs=attrs), 1)
