"""Per-sample and split batches (Session batch_mode, graph/batch_split.h): a batch of a graph
whose ops compute each sample alone may run one sample at a time, or its leading nodes so and
the rest on the whole batch, with outputs bit-identical to the whole batch; a graph that reads
across the batch (Concat, Softmax over axis 0, a Transpose that moves it, a fixed batch) always
runs whole."""

from __future__ import annotations

import numpy as np
import pytest

import dataclasses
from pathlib import Path

from xnorinfer import _core
from xnorinfer.demo import MODEL as DIGITS, TEST_SET
from xnorinfer.onnx import convert
from xnorinfer.session import build_engine_graph

REACTNET_BLOCK = Path(__file__).parents[1] / "fixtures" / "torch" / "reactnet_block" / "model.onnx"
AUTO_RUNS = _core.AUTO_TRIAL_RUNS  # auto has settled after these


@pytest.fixture(scope="module")
def digits():
    return convert(DIGITS).graph


def _session_with(graph, batch_mode: str) -> _core.Session:
    return _core.Session(build_engine_graph(graph), 2, "", batch_mode)


def test_every_mode_gives_the_same_bits_on_a_separable_network(digits):
    x = np.load(TEST_SET)["x"][:7].astype(np.float32)
    assert _session_with(digits, "auto").batch_separable([list(x.shape)])
    outputs = {}
    for mode in ("whole", "per_sample", "auto"):
        session = _session_with(digits, mode)
        runs = [session.run([x])[0] for _ in range(AUTO_RUNS)]  # auto tries, then keeps one
        outputs[mode] = runs
    want = outputs["whole"][0]
    for mode, runs in outputs.items():
        for got in runs:
            np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32), err_msg=mode)
    whole = _session_with(digits, "whole")
    one_by_one = np.concatenate([whole.run([x[i:i + 1]])[0] for i in range(7)])
    np.testing.assert_array_equal(one_by_one.view(np.uint32), want.view(np.uint32))


@pytest.fixture(scope="module")
def reactnet_block():
    """A ReActNet block network (residual adds, Concat over channels, PRelu, packed bits
    between nodes), its batch made dynamic (its Reshape keeps the batch axis)."""
    graph = convert(REACTNET_BLOCK).graph
    graph.inputs[0] = dataclasses.replace(graph.inputs[0], shape=[-1, 3, 12, 12])
    return graph


def test_every_split_gives_the_bits_of_the_whole_batch(reactnet_block):
    x = np.random.default_rng(2).standard_normal((5, 3, 12, 12)).astype(np.float32)
    nodes = len(reactnet_block.nodes)
    want = _session_with(reactnet_block, "whole").run([x])[0]
    whole = _core.Session(build_engine_graph(reactnet_block), 2, "", "whole")
    one_by_one = np.concatenate([whole.run([x[i:i + 1]])[0] for i in range(5)])
    np.testing.assert_array_equal(one_by_one.view(np.uint32), want.view(np.uint32))
    for split in range(nodes + 1):
        session = _core.Session(build_engine_graph(reactnet_block), 2, "", split_node=split)
        assert session.batch_split_node([list(x.shape)]) == split
        for _ in range(2):  # the second run reuses the pooled workspaces
            got = session.run([x])[0]
            np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32),
                                          err_msg=f"split at node {split}")


def test_a_split_passes_on_inputs_and_outputs_that_cross_it():
    """x is read on both sides of every split, and r is a graph output and read after it."""
    g = _core.Graph()
    g.add_input("x", [-1, 3, 5])
    g.add_node("relu", "Relu", ["x"], ["r"], {})
    g.add_node("add", "Add", ["r", "x"], ["s"], {})
    g.add_node("mul", "Mul", ["s", "x"], ["m"], {})
    g.add_output("r")
    g.add_output("m")
    x = np.random.default_rng(5).standard_normal((4, 3, 5)).astype(np.float32)
    r = np.maximum(x, 0)
    for split in range(4):
        got = _core.Session(g, 1, "", split_node=split).run([x])
        np.testing.assert_array_equal(got[0], r, err_msg=f"split at node {split}")
        np.testing.assert_array_equal(got[1], (r + x) * x, err_msg=f"split at node {split}")


@pytest.mark.parametrize("offset_bytes", [0, 4])
def test_an_input_only_transposes_read_is_read_where_the_caller_has_it(offset_bytes):
    """A graph input whose readers all read it exactly (two Transposes here) is read in the
    caller's buffer, also unaligned and one sample at a time on either side of a split; one
    with another reader (the Relu) is copied. The caller's arrays are never written."""
    g = _core.Graph()
    g.add_input("x", [-1, 3, 4, 5])
    g.add_input("z", [-1, 5, 3, 4])
    g.add_node("nhwc", "Transpose", ["x"], ["t"], {"perm": [0, 2, 3, 1]})
    g.add_node("relu", "Relu", ["t"], ["r"], {})
    g.add_node("back", "Transpose", ["x"], ["u"], {"perm": [0, 3, 1, 2]})
    g.add_node("add", "Add", ["u", "z"], ["s"], {})
    g.add_node("zrelu", "Relu", ["z"], ["zr"], {})
    g.add_output("r")
    g.add_output("s")
    g.add_output("zr")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    z = rng.standard_normal((3, 5, 3, 4)).astype(np.float32)
    buffer = np.zeros(x.size + 1, np.float32)
    view = np.frombuffer(buffer.data, np.float32, x.size, offset_bytes).reshape(x.shape)
    view[...] = x
    want = [np.maximum(x.transpose(0, 2, 3, 1), 0), x.transpose(0, 3, 1, 2) + z, np.maximum(z, 0)]
    for split in range(6):
        for isa in _core.available_isas():
            got = _core.Session(g, 2, isa, split_node=split).run([view, z])
            for w, o in zip(want, got):
                np.testing.assert_array_equal(o, w, err_msg=f"{isa}, split at node {split}")
    np.testing.assert_array_equal(view, x)


def test_profiling_a_split_batch_times_every_node(reactnet_block):
    x = np.random.default_rng(3).standard_normal((3, 3, 12, 12)).astype(np.float32)
    nodes = len(reactnet_block.nodes)
    session = _core.Session(build_engine_graph(reactnet_block), 1, "", split_node=nodes // 2)
    _, seconds = session.run_profiled([x])
    assert len(seconds) == nodes and all(s > 0 for s in seconds)


@pytest.mark.parametrize("split", [-1, 28])
def test_a_split_outside_the_graph_is_refused(reactnet_block, split):
    assert len(reactnet_block.nodes) == 27
    with pytest.raises(ValueError, match=rf"split_node must be in \[0, 27\] \(the graph's nodes\), "
                                         rf"got {split}"):
        _core.Session(build_engine_graph(reactnet_block), 1, "", split_node=split)


def test_auto_settles_on_one_way_and_says_which(reactnet_block):
    x = np.random.default_rng(4).standard_normal((4, 3, 12, 12)).astype(np.float32)
    nodes, shape = len(reactnet_block.nodes), [list(x.shape)]
    assert _session_with(reactnet_block, "whole").batch_split_node(shape) == 0
    assert _session_with(reactnet_block, "per_sample").batch_split_node(shape) == nodes
    session = _session_with(reactnet_block, "auto")
    assert session.batch_split_node([[1, 3, 12, 12]]) == 0  # batch 1: nothing to split
    assert session.batch_split_node(shape) == -1  # not timed yet
    for _ in range(AUTO_RUNS):
        session.run([x])
    assert 0 <= session.batch_split_node(shape) <= nodes


def test_profiling_a_per_sample_batch_sums_each_node_over_the_samples(digits):
    x = np.load(TEST_SET)["x"][:4].astype(np.float32)
    _, seconds = _session_with(digits, "per_sample").run_profiled([x])
    assert len(seconds) == len(digits.nodes) and all(s > 0 for s in seconds)


def one_node_graph(op: str, attrs: dict, shape: list[int], twice: bool = False) -> _core.Graph:
    g = _core.Graph()
    g.add_input("x", shape)
    g.add_node("node", op, ["x", "x"] if twice else ["x"], ["y"], attrs)
    g.add_output("y")
    return g


@pytest.mark.parametrize("op,attrs,twice,reference", [
    ("Softmax", {"axis": 0}, False,
     lambda x: np.exp(x - x.max(0)) / np.exp(x - x.max(0)).sum(0)),
    ("Concat", {"axis": 0}, True, lambda x: np.concatenate([x, x])),
    ("Transpose", {"perm": [1, 0, 2]}, False, lambda x: x.transpose(1, 0, 2)),
])
def test_a_graph_that_reads_across_the_batch_runs_whole(op, attrs, twice, reference):
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)
    session = _core.Session(one_node_graph(op, attrs, [-1, 3, 5], twice), 1, "", "per_sample")
    assert not session.batch_separable([[4, 3, 5]])
    np.testing.assert_allclose(session.run([x])[0], reference(x), rtol=1e-6)


def test_a_fixed_batch_runs_whole():
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    session = _core.Session(one_node_graph("Relu", {}, [3, 4]), 1, "", "per_sample")
    assert not session.batch_separable([[3, 4]])
    assert _core.Session(one_node_graph("Relu", {}, [-1, 4]), 1).batch_separable([[3, 4]])
    np.testing.assert_array_equal(session.run([x])[0], np.maximum(x, 0))


def test_an_unknown_batch_mode_is_refused():
    with pytest.raises(ValueError, match="batch_mode must be auto, whole or per_sample, got 'x'"):
        _core.Session(one_node_graph("Relu", {}, [-1, 4]), 1, "", "x")


def test_inference_session_takes_the_mode(digits):
    from xnorinfer import InferenceSession, model_file

    data = model_file.dumps(digits)
    x = np.load(TEST_SET)["x"][:3].astype(np.float32)
    runs = [InferenceSession(data, batch_mode=mode).run(None, {"input": x})[0]
            for mode in ("whole", "per_sample")]
    np.testing.assert_array_equal(runs[0], runs[1])
    with pytest.raises(ValueError, match="batch_mode must be"):
        InferenceSession(data, batch_mode="sometimes")
