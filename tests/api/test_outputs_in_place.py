"""Graph outputs written in place: a binary layer, a conv writing NCHW or a Transpose writes a
graph output straight into the array ``run`` returns (Session::bind_outputs) rather than into
the arena and then copied. Each test compares with the same graph whose outputs pass through a
Reshape to the same shape, which the session still copies out, on every batch way, ISA and
thread count."""

from __future__ import annotations

import numpy as np
import pytest

from xnorinfer import _core
from xnorinfer.bitpack import pack_bits

H, W, C, O = 6, 5, 16, 10


def _graph(copied: bool) -> _core.Graph:
    """x -> pack -> 3x3 conv with x as residual -> y; y -> pack -> per-pixel dense -> d. y is a
    graph output (twice) that a later node reads too; d is the other. `copied`: the outputs
    are Reshapes of y and d instead."""
    rng = np.random.default_rng(11)
    g = _core.Graph()
    g.add_input("x", [-1, H, W, C])
    g.add_constant("cw", pack_bits(rng.standard_normal((C, 3, 3, C)) < 0))
    g.add_constant("dw", pack_bits(rng.standard_normal((O, 1, C)) < 0))
    for name, n in (("cs", C), ("cb", C), ("ds", O), ("db", O)):
        g.add_constant(name, rng.uniform(0.5, 1.5, n).astype(np.float32))
    g.add_node("pack", "BinarizePack", ["x"], ["xb"], {})
    g.add_node("conv", "BinaryConv2d", ["xb", "cw", "cs", "cb", "", "", "", "", "x"], ["y"],
               {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "in_channels": C, "pad_value": 0,
                "output": "float"})
    g.add_node("pack_y", "BinarizePack", ["y"], ["yb"], {})
    g.add_node("dense", "BinaryDense", ["yb", "dw", "ds", "db"], ["d"],
               {"in_channels": C, "groups_in": 1, "batch_axes": 3, "output": "float"})
    outputs = ["y", "y", "d"]
    if copied:
        for name in ("y", "d"):
            shape = [0, H, W, C if name == "y" else O]
            g.add_node(f"copy_{name}", "Reshape", [name], [f"{name}_copy"], {"shape": shape})
        outputs = ["y_copy", "y_copy", "d_copy"]
    for name in outputs:
        g.add_output(name)
    return g


def _stem_graph(copied: bool) -> _core.Graph:
    """An NCHW image -> a float stem (conv, relu, pool) writing NCHW -> s; s -> Transpose to
    NHWC -> t. Both are graph outputs; `copied`: Reshapes of them instead."""
    rng = np.random.default_rng(14)
    g = _core.Graph()
    g.add_input("x", [-1, 3, 2 * H, 2 * W])
    g.add_constant("w", rng.standard_normal((C, 5, 5, 3)).astype(np.float32))
    g.add_constant("b", rng.standard_normal(C).astype(np.float32))
    g.add_node("stem", "Conv2d", ["x", "w", "b"], ["s"],
               {"kernel_shape": [5, 5], "strides": [2, 2], "pads": [2, 2, 2, 2],
                "activation": "relu", "input_layout": "nchw", "output_layout": "nchw",
                "pool_kernel_shape": [3, 3], "pool_pads": [1, 1, 1, 1]})
    g.add_node("to_nhwc", "Transpose", ["s"], ["t"], {"perm": [0, 2, 3, 1]})
    outputs = ["s", "t"]
    if copied:
        for name in outputs:
            g.add_node(f"copy_{name}", "Reshape", [name], [f"{name}_copy"], {"shape": [0, -1]})
        outputs = ["s_copy", "t_copy"]
    for name in outputs:
        g.add_output(name)
    return g


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(12).standard_normal((3, H, W, C)).astype(np.float32)


@pytest.fixture(scope="module")
def want(x) -> list[np.ndarray]:
    return _core.Session(_graph(copied=True), 1, "", "whole").run([x])


def _assert_same(got, want, where):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_array_equal(g.view(np.uint32), w.view(np.uint32),
                                      err_msg=f"output {i}, {where}")


def test_the_copied_graph_is_a_reference_worth_comparing_with(want):
    """The Reshape graph takes the old path (there the conv's sum takes the residual's bytes):
    its outputs have the layers' shapes and are not all zero or non-finite, so matching them
    says something."""
    assert want[0].shape == (3, H, W, C) and want[2].shape == (3, H, W, O)
    assert np.all(np.isfinite(want[0])) and np.any(want[0] != 0) and np.any(want[2] != 0)


@pytest.mark.parametrize("isa", _core.available_isas())
@pytest.mark.parametrize("threads", [1, 2])
def test_every_batch_way_writes_the_outputs_of_the_copied_graph(x, want, isa, threads):
    graph = _graph(copied=False)
    ways = [({"batch_mode": "whole"}, 0), ({"batch_mode": "per_sample"}, 4)]
    ways += [({"split_node": split}, split) for split in range(5)]
    for way, split in ways:
        session = _core.Session(graph, threads, isa, **way)
        assert session.batch_split_node([list(x.shape)]) == split
        for _ in range(2):  # the second run takes the pooled workspaces, bound to the first's
            _assert_same(session.run([x]), want, f"{isa} x{threads} {way}")
        _assert_same(session.run([x[1:2]]), [w[1:2] for w in want], f"{isa} batch 1 {way}")


@pytest.mark.parametrize("isa", _core.available_isas())
@pytest.mark.parametrize("threads", [1, 2])
def test_a_stem_and_a_transpose_write_the_outputs_of_the_copied_graph(isa, threads):
    image = np.random.default_rng(15).standard_normal((3, 3, 2 * H, 2 * W)).astype(np.float32)
    want = [w.reshape(3, -1) for w in _core.Session(_stem_graph(copied=True), 1, "").run([image])]
    assert want[0].shape == (3, C * H * W) and np.any(want[0] != 0)
    for way in ({"batch_mode": "whole"}, {"batch_mode": "per_sample"}, {"split_node": 1}):
        session = _core.Session(_stem_graph(copied=False), threads, isa, **way)
        for _ in range(2):
            got = session.run([image])
            assert got[0].shape == (3, C, H, W) and got[1].shape == (3, H, W, C)
            _assert_same([g.reshape(3, -1) for g in got], want, f"{isa} x{threads} {way}")


def test_an_array_run_returned_is_never_written_again(x, want):
    """Later runs, with other inputs and every way auto tries, leave earlier results alone."""
    session = _core.Session(_graph(copied=False), 2, "", "auto")
    first = session.run([x])
    _assert_same(first, want, "first run")
    other = np.random.default_rng(13).standard_normal(x.shape).astype(np.float32)
    for _ in range(_core.AUTO_TRIAL_RUNS + 2):
        session.run([other])
        session.run([other[:1]])
    _assert_same(first, want, "after later runs")


def test_outputs_start_on_a_cache_line(x):
    """The arrays run returns start on 64 bytes, where the layers' vector stores are whole."""
    for output in _core.Session(_graph(copied=False), 1, "", "whole").run([x[:1]]):
        assert output.ctypes.data % 64 == 0
        assert output.flags.c_contiguous and output.flags.writeable and output.flags.owndata is False
