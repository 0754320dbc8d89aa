"""InferenceSession: onnxruntime's calling convention, input checks, threads, ISA choice."""

import resource
import time

import numpy as np
import pytest

import xnorinfer
from xnorinfer import _core, ir, model_file
from xnorinfer.bitpack import pack_bits

C, O = 70, 5


def _binary_mlp_graph() -> ir.Graph:
    """x [batch, C] -> BinarizePack -> BinaryDense (O) -> Softmax, plus the raw logits."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((O, 1, C)) < 0
    return ir.Graph(
        inputs=[ir.ValueInfo("x", [-1, C])],
        outputs=[ir.ValueInfo("logits", [-1, O]), ir.ValueInfo("probs", [-1, O])],
        nodes=[
            ir.Node("pack", "BinarizePack", ["x"], ["xb"], {}),
            ir.Node("fc", "BinaryDense", ["xb", "w", "scale", "bias"], ["logits"],
                    {"in_channels": C, "groups_in": 1, "output": "float"}),
            ir.Node("softmax", "Softmax", ["logits"], ["probs"], {"axis": 1}),
        ],
        constants={"w": pack_bits(w), "scale": np.full(O, 0.5, np.float32),
                   "bias": np.arange(O, dtype=np.float32)},
        values={"xb": ir.ValueInfo("xb", [-1, C], "bits"),
                "logits": ir.ValueInfo("logits", [-1, O]),
                "probs": ir.ValueInfo("probs", [-1, O])},
    ), w


def _expected_logits(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    xs = np.where(x < 0, -1.0, 1.0)
    ws = np.where(w[:, 0, :], -1.0, 1.0)
    return (xs @ ws.T * 0.5 + np.arange(O)).astype(np.float32)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    graph, w = _binary_mlp_graph()
    path = tmp_path_factory.mktemp("model") / "mlp.xnor"
    model_file.save(graph, path)
    return path, w


def test_inputs_outputs_describe_the_model(model):
    sess = xnorinfer.InferenceSession(model[0])
    assert [(i.name, i.shape, i.type) for i in sess.get_inputs()] == [
        ("x", ["batch", C], "tensor(float)")]
    assert [o.name for o in sess.get_outputs()] == ["logits", "probs"]


@pytest.mark.parametrize("batch", [1, 4, 7])
def test_run_matches_numpy_for_any_batch(model, batch):
    path, w = model
    sess = xnorinfer.InferenceSession(path)
    x = np.random.default_rng(batch).standard_normal((batch, C)).astype(np.float32)
    logits, probs = sess.run(None, {"x": x})
    np.testing.assert_array_equal(logits, _expected_logits(x, w))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_output_names_select_and_order(model):
    sess = xnorinfer.InferenceSession(model[0])
    x = np.ones((2, C), np.float32)
    probs, logits = sess.run(["probs", "logits"], {"x": x})
    assert probs.shape == logits.shape == (2, O)
    with pytest.raises(ValueError, match="unknown output names"):
        sess.run(["nope"], {"x": x})


def test_session_from_bytes(model):
    sess = xnorinfer.InferenceSession(model[0].read_bytes())
    assert sess.run(None, {"x": np.zeros((1, C), np.float32)})[0].shape == (1, O)


@pytest.mark.parametrize("feed, error, match", [
    ({}, ValueError, "missing \\['x'\\]"),
    ({"x": np.zeros((1, C), np.float32), "y": np.zeros(1, np.float32)}, ValueError,
     "unexpected \\['y'\\]"),
    ({"X": np.zeros((1, C), np.float32)}, ValueError, "missing"),
    ({"x": np.zeros((1, C), np.float64)}, TypeError, "must be float32, got float64"),
    ({"x": np.zeros((1, C), np.int32)}, TypeError, "must be float32, got int32"),
    ({"x": [[0.0] * C]}, TypeError, "must be a numpy.ndarray"),
    ({"x": np.zeros((1, C + 1), np.float32)}, ValueError, "has shape \\[1, 71\\]"),
    ({"x": np.zeros((C,), np.float32)}, ValueError, "has shape \\[70\\]"),
    ({"x": np.zeros((0, C), np.float32)}, ValueError, "any positive size"),
])
def test_bad_feeds_name_the_problem(model, feed, error, match):
    sess = xnorinfer.InferenceSession(model[0])
    with pytest.raises(error, match=match):
        sess.run(None, feed)


def test_non_contiguous_and_fortran_inputs_work(model):
    path, w = model
    sess = xnorinfer.InferenceSession(path)
    base = np.random.default_rng(9).standard_normal((6, 2 * C)).astype(np.float32)
    strided = base[::2, ::2]
    fortran = np.asfortranarray(base[:, :C])
    np.testing.assert_array_equal(sess.run(["logits"], {"x": strided})[0],
                                  _expected_logits(strided, w))
    np.testing.assert_array_equal(sess.run(["logits"], {"x": fortran})[0],
                                  _expected_logits(fortran, w))


def test_zero_nan_and_negative_zero_binarize_to_plus_one(model):
    path, w = model
    sess = xnorinfer.InferenceSession(path)
    ones = sess.run(["logits"], {"x": np.ones((1, C), np.float32)})[0]
    for value in (0.0, -0.0, np.nan):
        got = sess.run(["logits"], {"x": np.full((1, C), value, np.float32)})[0]
        np.testing.assert_array_equal(got, ones)


def test_infinities_binarize_by_sign_and_nan_reaches_float_layers_without_a_crash(model):
    path, w = model
    sess = xnorinfer.InferenceSession(path)
    x = np.where(np.arange(C) % 2, np.inf, -np.inf)[None].astype(np.float32)
    np.testing.assert_array_equal(sess.run(["logits"], {"x": x})[0], _expected_logits(x, w))
    graph = ir.Graph([ir.ValueInfo("x", [-1, O])], [ir.ValueInfo("y", [-1, O])],
                     [ir.Node("softmax", "Softmax", ["x"], ["y"], {"axis": 1})], {})
    y = xnorinfer.InferenceSession(model_file.dumps(graph)).run(
        None, {"x": np.array([[np.nan, 0, 1, np.inf, -np.inf]], np.float32)})[0]
    assert np.isnan(y).all()


def test_batch_larger_than_memory_is_out_of_memory_before_allocating(model):
    """A zero-stride view claims a 10**7 batch (41 GB of input, 164 GB of output): the plan
    is refused before the input is copied or any output allocated."""
    graph = ir.Graph([ir.ValueInfo("x", [-1, 1024])], [ir.ValueInfo("y", [-1, 4096])],
                     [ir.Node("pack", "BinarizePack", ["x"], ["xb"]),
                      ir.Node("fc", "BinaryDense", ["xb", "w", "s", "b"], ["y"],
                              {"in_channels": 1024, "groups_in": 1})],
                     {"w": np.zeros((4096, 1, 16), np.uint64), "s": np.ones(4096, np.float32),
                      "b": np.zeros(4096, np.float32)})
    sess = xnorinfer.InferenceSession(model_file.dumps(graph))
    huge = np.broadcast_to(np.float32(1.0), (10**7, 1024))
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(xnorinfer.OutOfMemory, match="use a smaller batch") as error:
        sess.run(None, {"x": huge})
    assert isinstance(error.value, MemoryError)
    assert time.perf_counter() - start < 2.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 100 * 1024


def test_isa_and_threads_are_honoured_and_give_identical_results(model):
    x = np.random.default_rng(5).standard_normal((3, C)).astype(np.float32)
    results = []
    for isa in xnorinfer.get_available_isas():
        for threads in (1, 2, 3):
            sess = xnorinfer.InferenceSession(model[0], num_threads=threads, isa=isa)
            assert (sess.isa, sess.num_threads) == (isa, threads)
            results.append(sess.run(None, {"x": x})[0])
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_bad_options_are_refused(model):
    with pytest.raises(ValueError, match="num_threads"):
        xnorinfer.InferenceSession(model[0], num_threads=0)
    with pytest.raises(ValueError, match="unknown ISA 'sse9': expected scalar, avx2, avx512 or neon"):
        xnorinfer.InferenceSession(model[0], isa="sse9")
    # The other architecture's path is a known name that this build does not have.
    other = "avx512" if "neon" in xnorinfer.build_info()["isa_compiled"] else "neon"
    with pytest.raises(xnorinfer.UnsupportedIsa, match=f"ISA '{other}' was not compiled"):
        xnorinfer.InferenceSession(model[0], isa=other)


def test_graph_the_engine_rejects_is_a_model_error(tmp_path):
    graph, _ = _binary_mlp_graph()
    graph.nodes[1].attrs["in_channels"] = C + 64  # needs 3 words per row, the weights have 2
    path = tmp_path / "bad.xnor"
    model_file.save(graph, path)
    with pytest.raises(xnorinfer.ModelError, match="node 'fc' \\(BinaryDense\\)"):
        xnorinfer.InferenceSession(path)


def test_build_info_reports_isa_paths():
    info = xnorinfer.build_info()
    assert {"version", "compiler", "openmp", "isa_compiled", "isa_detected", "isa_in_use"} <= set(info)
    assert info["isa_in_use"] in xnorinfer.get_available_isas()
    # The detected tier follows from the detected features.
    needs = {"avx2": {"avx2", "fma", "popcnt"},
             "avx512": {"avx512f", "avx512bw", "avx512vl", "avx512vpopcntdq"}, "neon": {"neon"}}
    assert needs.get(info["isa_detected"], set()) <= set(info["cpu_features"])


def test_profile_times_every_engine_node_in_order(model):
    path, _ = model
    sess = xnorinfer.InferenceSession(path, num_threads=1)
    x = np.random.default_rng(0).standard_normal((4, C)).astype(np.float32)
    times = sess.profile({"x": x}, repeats=3)
    assert [(t.name, t.op) for t in times] == [
        ("pack", "BinarizePack"), ("fc", "BinaryDense"), ("softmax", "Softmax")]
    assert all(isinstance(t, xnorinfer.NodeTime) and 0 < t.seconds < 1 for t in times)
    with pytest.raises(ValueError, match="repeats must be a positive int"):
        sess.profile({"x": x}, repeats=0)
    with pytest.raises(ValueError, match="input_feed must have exactly the inputs"):
        sess.profile({"y": x})


def test_peak_loops_measure_the_core():
    best = xnorinfer.get_available_isas()[-1]
    assert xnorinfer.peak_macs_per_second("binary", "scalar") is None  # no scalar peak loop
    if best == "scalar":
        pytest.skip("this build has no SIMD path, so no peak loop")
    binary = xnorinfer.peak_macs_per_second("binary", best, seconds=0.02)
    fma = xnorinfer.peak_macs_per_second("float", best, seconds=0.02)
    # Any x86-64 core with AVX2 does well over 10 G binary MACs and 1 G FMAs per second.
    assert binary > 1e10 and fma > 1e9 and binary > fma
    with pytest.raises(ValueError, match="kind must be one of"):
        xnorinfer.peak_macs_per_second("int8")
    with pytest.raises(ValueError, match="must be positive"):
        xnorinfer.peak_macs_per_second("binary", best, num_threads=0)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("batch_mode", ["whole", "per_sample"])
def test_large_inputs_and_outputs_are_copied_whole_by_any_team(threads, batch_mode):
    """Inputs and outputs past 256 KiB are copied by all the threads, each its share (session.cc);
    sizes that are not whole 16 KiB chunks, in a batch of 3."""
    g = _core.Graph()
    g.add_input("x", [-1, 129, 257, 3])
    g.add_node("relu", "Relu", ["x"], ["y"], {})
    g.add_output("y")
    g.add_output("x")  # an input that is also an output: copied in, then out
    x = np.random.default_rng(threads).standard_normal((3, 129, 257, 3)).astype(np.float32)
    y, x_again = _core.Session(g, threads, "", batch_mode).run([x])
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    np.testing.assert_array_equal(x_again.view(np.uint32), x.view(np.uint32))
