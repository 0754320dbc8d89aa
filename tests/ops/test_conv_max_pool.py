"""A MaxPool fused into the float conv before it (Conv2d / BwnConv2d ``pool_*`` attributes,
docs/ir.md): bit for bit the same as the conv followed by a MaxPool node, for fp32 and int8
convs, with a fused activation, over pool geometries that make bands share conv rows, skip
them, or overhang (ceil_mode), on every ISA path at 1 and 3 threads."""

from __future__ import annotations

import numpy as np
import pytest

from engine_runs import run_everywhere
from xnorinfer import _core

POOLS = [
    # kernel, strides, pads, dilations, ceil_mode
    ((3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 0),   # the ResNet / Bi-Real stem's pool
    ((2, 2), (2, 2), (0, 0, 0, 0), (1, 1), 0),
    ((3, 3), (1, 1), (1, 0, 2, 1), (1, 1), 0),   # every conv row shared by three pooled rows
    ((1, 1), (3, 3), (0, 0, 0, 0), (1, 1), 0),   # conv rows no window needs
    ((3, 2), (2, 3), (0, 1, 0, 1), (2, 1), 1),   # dilation, ceil_mode overhang
]


def conv_graph(weight, bias, conv_attrs: dict, pool: tuple | None, fused: bool) -> _core.Graph:
    g = _core.Graph()
    g.add_input("x", [-1, -1, -1, weight.shape[3]])
    g.add_constant("w", weight)
    g.add_constant("b", bias)
    attrs = dict(conv_attrs)
    pool_attrs = {}
    if pool:
        kernel, strides, pads, dilations, ceil_mode = pool
        pool_attrs = {"kernel_shape": list(kernel), "strides": list(strides), "pads": list(pads),
                      "dilations": list(dilations), "ceil_mode": ceil_mode}
    if fused:
        attrs.update({f"pool_{k}": v for k, v in pool_attrs.items()})
        g.add_node("conv", "Conv2d", ["x", "w", "b"], ["y"], attrs)
    else:
        g.add_node("conv", "Conv2d", ["x", "w", "b"], ["c"], attrs)
        g.add_node("pool", "MaxPool", ["c"], ["y"], pool_attrs)
    g.add_output("y")
    return g


@pytest.mark.parametrize("precision", ["float32", "int8", "bf16"])
@pytest.mark.parametrize("pool", POOLS, ids=[f"k{p[0][0]}{p[0][1]}-s{p[1][0]}{p[1][1]}-d{p[3][0]}"
                                             f"-ceil{p[4]}" for p in POOLS])
@pytest.mark.parametrize("batch,h,w", [(1, 23, 19), (3, 9, 30)])
def test_fused_equals_conv_then_max_pool(precision, pool, batch, h, w):
    rng = np.random.default_rng(h * 100 + w + batch)
    weight = rng.standard_normal((70, 5, 5, 3)).astype(np.float32)
    bias = rng.standard_normal(70).astype(np.float32)
    conv = {"kernel_shape": [5, 5], "strides": [2, 1], "pads": [2, 2, 2, 2],
            "precision": precision, "activation": "relu"}
    x = rng.standard_normal((batch, h, w, 3)).astype(np.float32)
    [want] = run_everywhere(conv_graph(weight, bias, conv, pool, fused=False), [x])
    [got] = run_everywhere(conv_graph(weight, bias, conv, pool, fused=True), [x])
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_a_nan_propagates_as_in_max_pool():
    weight = np.ones((8, 3, 3, 2), np.float32)
    conv = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
    x = np.ones((1, 8, 8, 2), np.float32)
    x[0, 4, 4, 1] = np.nan
    pool = POOLS[0]
    [want] = run_everywhere(conv_graph(weight, np.zeros(8, np.float32), conv, pool, False), [x])
    [got] = run_everywhere(conv_graph(weight, np.zeros(8, np.float32), conv, pool, True), [x])
    assert np.isnan(got).any()
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_a_pool_window_in_the_padding_is_refused():
    g = conv_graph(np.ones((4, 3, 3, 2), np.float32), np.zeros(4, np.float32),
                   {"kernel_shape": [3, 3]}, ((2, 2), (2, 2), (2, 0, 0, 0), (1, 1), 0), True)
    with pytest.raises(ValueError, match=r"node 'conv' \(Conv2d\): pads must be smaller"):
        _core.Session(g, 1, "scalar")
