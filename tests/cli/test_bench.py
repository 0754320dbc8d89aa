"""``xnorinfer bench``: runs end to end, prints the per-layer table, writes the chart.

No timing is asserted: the numbers depend on the machine and its load.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from xnorinfer import convert
from xnorinfer.bench.profile import (UNMATCHED, engine_node_seconds, fill_times, group_layers,
                                     ort_node_seconds)
from xnorinfer.cli import main
from xnorinfer.demo import MODEL

pytest.importorskip("onnxruntime")
FIXTURE = Path(__file__).parents[1] / "fixtures" / "torch" / "binary_mlp"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _unwrapped(captured) -> tuple[str, str]:
    """stdout and stderr with whitespace collapsed: rich wraps lines on a non-terminal console
    (table cells too, so only short words are checked in tables)."""
    return " ".join(captured.out.split()), " ".join(captured.err.split())


def test_bench_on_the_bundled_model_prints_layers_and_writes_a_png(tmp_path, capsys):
    png = tmp_path / "bench.png"
    assert main(["bench", "--threads", "1", "--repeats", "2", "--png", str(png)]) == 0
    out, err = _unwrapped(capsys.readouterr())
    assert "total" in out and "speedup" in out and "binary" in out
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
                      ort_node_seconds(MODEL, {"input": x}, 1, 2))
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


@pytest.mark.parametrize("args, message", [
    (["bench", "missing.onnx"], "no such model file 'missing.onnx'"),
    (["bench", "--batch", "0"], "--batch and --repeats must be positive"),
])
def test_bench_errors_are_one_line_messages(args, message, capsys):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
