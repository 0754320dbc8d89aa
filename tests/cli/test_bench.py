"""``xnorinfer bench``: runs end to end, prints the per-layer table, writes the chart.

No timing is asserted: the numbers depend on the machine and its load.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from xnorinfer import convert
from xnorinfer.bench import openvino_peer
from xnorinfer.bench import timing
from xnorinfer.bench.profile import (UNMATCHED, OrtProfile, engine_node_seconds, fill_times,
                                     group_layers, interleaved_profiles, openvino_node_seconds,
                                     ort_node_seconds)
from xnorinfer.cli import main
from xnorinfer.demo import MODEL

pytest.importorskip("onnxruntime")
FIXTURE = Path(__file__).parents[1] / "fixtures" / "torch" / "binary_mlp"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REACTNET = Path(__file__).parents[1] / "fixtures" / "torch" / "reactnet_block"
needs_openvino = pytest.mark.skipif(not openvino_peer.available(),
                                    reason="openvino is not installed (a bench extra)")


def _unwrapped(captured) -> tuple[str, str]:
    """stdout and stderr with whitespace collapsed: rich wraps lines on a non-terminal console
    (table cells too, so only short words are checked in tables)."""
    return " ".join(captured.out.split()), " ".join(captured.err.split())


def test_bench_on_the_bundled_model_prints_layers_and_writes_a_png(tmp_path, capsys):
    png = tmp_path / "bench.png"
    assert main(["bench", "--threads", "1", "--repeats", "2", "--png", str(png)]) == 0
    out, err = _unwrapped(capsys.readouterr())
    assert "total" in out and "ORT" in out and "binary" in out
    assert "argmax agrees on 360/360" in err
    if HAS_MATPLOTLIB:
        assert png.read_bytes()[:8] == PNG_MAGIC
    else:
        assert not png.exists() and "matplotlib is not installed" in err


def test_bench_on_a_given_model_and_inputs(tmp_path, capsys):
    x = np.load(FIXTURE / "inputs.npz")["input"]
    np.save(tmp_path / "x.npy", x)
    assert main(["bench", str(FIXTURE / "model.onnx"), "--input", str(tmp_path / "x.npy"),
                 "--repeats", "1", "--threads", "1"]) == 0
    _, err = _unwrapped(capsys.readouterr())
    assert f"{len(x)}/{len(x)} samples within" in err
    assert f"batch size is fixed at {len(x)}" in err


def test_every_layer_gets_the_onnxruntime_nodes_it_came_from():
    graph = convert(MODEL).graph
    layers = group_layers(graph, batch=2)
    assert [(layer.name, layer.kind) for layer in layers] == [
        ("/conv1/Conv", "float"), ("/conv2/Conv", "binary"), ("/conv3/Conv", "binary"),
        ("/fc1/MatMul", "binary"), ("/fc2/Gemm", "float"), (UNMATCHED, "")]
    indices = sorted(i for layer in layers for i in layer.node_indices)
    assert indices == list(range(len(graph.nodes)))
    assert layers[1].gemm == (2 * 8 * 8, 3 * 3 * 32, 64, 1)  # im2col of 3x3 32->64 on 8x8
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8), dtype=np.float32)
    rows = fill_times(layers, engine_node_seconds(graph, [x], 1, 2),
                      {"ort": ort_node_seconds(MODEL, {"input": x}, 1, 2)})
    for row in rows[:-1]:
        assert row["ours"] > 0 and row["ort"] > 0, row["layer"].name


def test_a_conv_with_its_max_pool_fused_counts_the_conv_s_macs():
    """XNOR-Net AlexNet's stem writes the pooled output; its GEMM is still the conv's."""
    fixture = Path(__file__).parents[1] / "fixtures" / "torch" / "xnornet_alexnet_kmap"
    graph = convert(fixture / "model.onnx").graph
    stem = next(layer for layer in group_layers(graph, batch=1) if layer.kind == "float")
    node = graph.nodes[next(i for i in stem.node_indices if graph.nodes[i].op == "Conv2d")]
    assert "pool_kernel_shape" in node.attrs
    x = graph.inputs[0].shape  # ONNX layout: [N, C, H, W], a fixed batch
    kh, kw = node.attrs["kernel_shape"]
    sh, sw = node.attrs["strides"]
    t, l, b, r = node.attrs["pads"]
    conv_h, conv_w = (x[2] + t + b - kh) // sh + 1, (x[3] + l + r - kw) // sw + 1
    assert stem.gemm[0] == x[0] * conv_h * conv_w


@pytest.mark.parametrize("pool", [True, False], ids=["pooled", "conv"])
def test_a_conv_writing_nchw_counts_its_gemm_in_nhwc(pool):
    """A stem alone writes its NCHW output itself; its GEMM is still pixels x taps x channels."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[7, 7], strides=[2, 2],
                              pads=[3, 3, 3, 3]),
             helper.make_node("Relu", ["c"], ["r" if pool else "y"])]
    if pool:
        nodes.append(helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=[3, 3],
                                      strides=[2, 2], pads=[1, 1, 1, 1]))
    weight = np.random.default_rng(0).standard_normal((16, 3, 7, 7)).astype(np.float32)
    model = helper.make_model(
        helper.make_graph(nodes, "stem",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 32, 40])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(weight, "w")]),
        opset_imports=[helper.make_opsetid("", 17)])
    graph = convert(model).graph
    [stem] = [layer for layer in group_layers(graph, batch=2) if layer.kind == "float"]
    assert graph.nodes[stem.node_indices[0]].attrs["output_layout"] == "nchw"
    assert stem.gemm[:3] == (2 * 16 * 20, 7 * 7 * 3, 16)


def test_each_peer_s_times_go_on_the_rows_of_their_onnx_nodes():
    layers = group_layers(convert(MODEL).graph, batch=1)
    peers = {"ort": {"/conv2/Conv": 2.0, "/conv2/Sign": 0.5, "/fc2/Gemm": 1.0,
                     f"{UNMATCHED}:Reorder_3": 0.25},
             "openvino": {"/bn2/BatchNormalization": 4.0}}
    rows = fill_times(layers, [1.0] * 32, peers)
    by_name = {row["layer"].name: row for row in rows}
    assert by_name["/conv2/Conv"]["ort"] == 2.5 and by_name["/conv2/Conv"]["openvino"] == 4.0
    assert by_name["/fc2/Gemm"]["ort"] == 1.0 and by_name["/fc2/Gemm"]["openvino"] is None
    assert by_name[UNMATCHED]["ort"] == 0.25 and by_name[UNMATCHED]["ours"] == 0
    assert by_name["/conv1/Conv"]["ort"] is None


class _ProfiledOpenVino:
    """OpenVINO's per-node profile as NetworkSession.profiled_run gives it: executed node ->
    (the model's nodes it executes, seconds); 3 seconds more at each run for /conv2/Conv."""

    def __init__(self):
        self.runs = 0

    def run(self, output_names, feed):
        return []

    def profiled_run(self, feed):
        self.runs += 1
        return {"/conv2/Conv": (["/conv2/Conv", "Multiply_12", "/bn2/BatchNormalization"],
                                3.0 * self.runs),
                "Multiply_40": (["Multiply_40", "/fc2/Gemm"], 2.0),
                "FakeQuantize_7": (["FakeQuantize_7"], 1.0),
                "input_abcd_acdb": ([], 0.5)}


def test_openvino_nodes_are_keyed_by_the_first_of_their_names_that_is_an_onnx_node():
    seconds = openvino_node_seconds(_ProfiledOpenVino(), MODEL, {}, 3)  # medians of 3 runs
    assert seconds == {"/conv2/Conv": 6.0, "/fc2/Gemm": 2.0, f"{UNMATCHED}:FakeQuantize_7": 1.0,
                       f"{UNMATCHED}:input_abcd_acdb": 0.5}


def test_profiles_step_round_robin_in_a_rotated_order(monkeypatch):
    monkeypatch.setattr(timing, "SETTLE_SECONDS", 0.0)
    steps = []

    class Recorder:
        def __init__(self, name):
            self.step = lambda: steps.append(name)

    interleaved_profiles({name: Recorder(name) for name in "abc"}, repeats=3)
    assert "".join(steps) == "abc" + "bca" + "cab"


def test_onnxruntime_profile_counts_the_second_run_of_each_step(tmp_path):
    """Each step is an untimed run then a profiled one: only node events inside the second
    model_run of each step count (here 10 µs; the untimed runs' 1000 µs must not)."""
    events = []
    for run in range(6):
        start = 10_000 * run
        events.append({"cat": "Session", "name": "model_run", "ts": start, "dur": 5_000})
        events.append({"cat": "Node", "name": "/conv2/Conv_kernel_time", "ts": start + 100,
                       "dur": 1000 if run % 2 == 0 else 10 + run})
    trace = tmp_path / "trace.json"
    trace.write_text(json.dumps(events))

    class Ended:
        def end_profiling(self):
            return str(trace)

    profile = OrtProfile(MODEL, {}, 1)
    profile._session = Ended()
    assert profile.seconds() == {"/conv2/Conv": pytest.approx(13e-6)}  # median of 11, 13, 15 µs


def test_bench_without_openvino_says_how_to_add_it(monkeypatch, capsys):
    monkeypatch.setattr(openvino_peer, "available", lambda: False)
    assert main(["bench", "--threads", "1", "--repeats", "1"]) == 0
    out, err = _unwrapped(capsys.readouterr())
    assert "openvino is not installed: no OpenVINO column (pip install openvino" in err
    assert "OpenVINO" not in out and "total" in out


def test_a_model_openvino_cannot_run_gets_a_message_and_no_column(monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise RuntimeError("Exception from src/core/shape_inference.cpp: Check failed\ndetails")

    monkeypatch.setattr(openvino_peer, "available", lambda: True)
    monkeypatch.setattr(openvino_peer, "compile_binary", fail)
    assert main(["bench", "--threads", "1", "--repeats", "1"]) == 0
    out, err = _unwrapped(capsys.readouterr())
    assert ("OpenVINO cannot run bundled digits_bnn.onnx, no OpenVINO column: Exception from "
            "src/core/shape_inference.cpp: Check failed") in err
    assert "details" not in err and "OpenVINO" not in out


def test_no_openvino_leaves_it_out(capsys):
    assert main(["bench", "--threads", "1", "--repeats", "1", "--no-openvino"]) == 0
    out, err = _unwrapped(capsys.readouterr())
    assert "OpenVINO" not in out and "openvino" not in err.lower()


@needs_openvino
def test_bench_times_openvino_with_its_binary_convolutions(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.load(REACTNET / "inputs.npz")["input"])
    assert main(["bench", str(REACTNET / "model.onnx"), "--input", str(tmp_path / "x.npy"),
                 "--repeats", "1", "--threads", "1"]) == 0
    out, err = _unwrapped(capsys.readouterr())
    assert "agreement of OpenVINO with onnxruntime, output 'output'" in err
    assert "2/2 samples within" in err.split("agreement of OpenVINO")[1]
    assert "3 layer(s) as BinaryConvolution" in out and "OpenVINO" in out


@needs_openvino
def test_openvino_s_binary_convolutions_keep_the_names_of_the_convs_they_replace():
    x = np.load(REACTNET / "inputs.npz")["input"]
    session, binary = openvino_peer.compile_binary(str(REACTNET / "model.onnx"), len(x), 1,
                                                   profile=True)
    seconds = openvino_node_seconds(session, REACTNET / "model.onnx", {"input": x}, 1)
    graph = convert(REACTNET / "model.onnx").graph
    binary_rows = [layer.name for layer in group_layers(graph, len(x)) if layer.kind == "binary"]
    assert binary == 3 and sum(name in seconds for name in binary_rows) == binary


@pytest.mark.parametrize("args, message", [
    (["bench", "missing.onnx"], "no such model file 'missing.onnx'"),
    (["bench", "--batch", "0"], "--batch and --repeats must be positive"),
])
def test_bench_errors_are_one_line_messages(args, message, capsys):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
