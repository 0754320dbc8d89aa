"""Larq/Keras models exported by tf2onnx (shared/models/larq, see its README): NHWC graphs with
transpose pairs, ``Sign(Sign(x) + 0.1)`` binarizers, ``Pad(1)`` one-padding and BatchNorm
folded into ±s weights. Each must convert with every binary layer binary, run without a single
engine Transpose, and match onnxruntime within the manifest's atol.
"""

from __future__ import annotations

import numpy as np
import pytest
from conversion_checks import onnxruntime_outputs
from larq_fixtures import LARQ_MODELS, NAMES, larq_model
from xnorinfer.onnx import convert


@pytest.mark.parametrize("name", NAMES)
def test_larq_model_matches_onnxruntime(name, tmp_path, run_graph):
    path, manifest = larq_model(name, tmp_path)
    result = convert(path)

    layers = manifest["graph"]["conv_matmul_weights"]
    binary = sum(layer["binary_input"] for layer in layers)
    assert result.report.layer_counts() == {"binary": binary, "bwn": 0,
                                            "float": len(layers) - binary}
    assert not [n.name for n in result.graph.nodes if n.op == "Transpose"], \
        "tf2onnx's NHWC<->NCHW transposes must cancel, never run"

    feeds = dict(np.load(LARQ_MODELS / name / "inputs.npz"))
    actual = run_graph(result.graph, feeds)
    expected = onnxruntime_outputs(path, feeds)
    for output in manifest["outputs"]:
        name = output["name"]
        diff = float(np.abs(actual[name] - expected[name]).max())
        assert diff <= output["atol"], f"{name}: max |diff| {diff:.3g} > atol {output['atol']}"
        np.testing.assert_array_equal(actual[name].argmax(-1), expected[name].argmax(-1))


def test_larq_binary_layers_pass_bits_to_each_other(tmp_path):
    """BatchNorm + Sign between two binary convs becomes the first conv's bits threshold."""
    path, _ = larq_model("larq_tiny_cnn", tmp_path)
    graph = convert(path).graph
    outputs = [n.attrs["output"] for n in graph.nodes if n.op in ("BinaryConv2d", "BinaryDense")]
    assert outputs == ["float", "bits", "float", "float"]
    pad_values = [n.attrs["pad_value"] for n in graph.nodes if n.op == "BinaryConv2d"]
    assert pad_values == [1, 0, 0]


def test_larq_dynamic_batch(tmp_path, run_graph):
    path, _ = larq_model("larq_magnitude_aware", tmp_path)
    result = convert(path)
    assert result.graph.inputs[0].shape[0] == -1
    feeds = {"input": np.random.default_rng(1).standard_normal((5, 16, 16, 8)).astype(np.float32)}
    actual = run_graph(result.graph, feeds)["logits"]
    expected = onnxruntime_outputs(path, feeds)["logits"]
    assert actual.shape == (5, 10)
    assert float(np.abs(actual - expected).max()) <= 1e-4 * float(np.abs(expected).max())


def test_binary_heavy_model_file_is_over_20x_smaller(tmp_path):
    """QuickNet (16 binary residual blocks) stores its binary weights as bits: the model file
    is more than 20x smaller than the float ONNX it came from."""
    path, _ = larq_model("larq_quicknet_small_32", tmp_path)
    packed = tmp_path / "quicknet.xnor"
    convert(path, packed)
    ratio = path.stat().st_size / packed.stat().st_size
    assert ratio > 20, f"only {ratio:.1f}x smaller"
