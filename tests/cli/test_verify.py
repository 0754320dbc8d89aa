"""verify(): the converted graph against onnxruntime on the original ONNX, mismatches found
and explained by binarizer inputs near 0, and ``xnorinfer convert --verify``."""

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from xnorinfer.cli import main
from xnorinfer.onnx import convert
from xnorinfer.onnx.verify import verify

DIGITS = Path(__file__).parents[2] / "python" / "xnorinfer" / "examples" / "digits_bnn.onnx"
TINY_SCALE_CHANNELS = 3  # inputs scaled by 1e-7 before the binarizer: within rounding of 0
# Spellings of sign("scaled") -> "binary": Sign, and comparisons with a constant 0 either side.
BINARIZERS = {
    "Sign": [helper.make_node("Sign", ["scaled"], ["binary"])],
    "GreaterOrEqual": [helper.make_node("GreaterOrEqual", ["scaled", "zero"], ["nonnegative"]),
                       helper.make_node("Where", ["nonnegative", "one", "minus_one"], ["binary"])],
    "LessOrEqual": [helper.make_node("LessOrEqual", ["zero", "scaled"], ["nonnegative"]),
                    helper.make_node("Where", ["nonnegative", "one", "minus_one"], ["binary"])],
}


def perturb_last_layer(graph) -> None:
    """Add 1 to the float constants the output's producer reads: a real mismatch."""
    for name in graph.nodes[-1].inputs:
        array = graph.constants.get(name)
        if array is not None and array.dtype == np.float32:
            graph.constants[name] = array + 1


def binary_dense_model(binarizer: str) -> onnx.ModelProto:
    """input [N, 8] * scale -> binarizer -> MatMul with ±1 weights -> + bias."""
    rng = np.random.default_rng(0)
    scale = np.ones(8, np.float32)
    scale[:TINY_SCALE_CHANNELS] = 1e-7
    constants = {"scale": scale, "w": rng.choice([-1.0, 1.0], (8, 4)).astype(np.float32),
                 "b": rng.normal(size=4).astype(np.float32), "zero": np.zeros((), np.float32),
                 "one": np.ones((), np.float32), "minus_one": -np.ones((), np.float32)}
    nodes = [helper.make_node("Mul", ["input", "scale"], ["scaled"]), *BINARIZERS[binarizer],
             helper.make_node("MatMul", ["binary", "w"], ["product"]),
             helper.make_node("Add", ["product", "b"], ["output"])]
    graph = helper.make_graph(
        nodes, "binary_dense",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 4])],
        [numpy_helper.from_array(array, name) for name, array in constants.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_digits_model_agrees():
    verification = verify(DIGITS, convert(DIGITS).graph, num_threads=1)
    assert verification.ok, verification.to_text()
    [logits] = verification.outputs
    assert logits.argmax_agreement == 1.0 and logits.mismatches == 0
    assert verification.near_zero_binarizer_inputs is None  # only counted on a mismatch
    assert "ok:" in verification.to_text()


def test_perturbed_graph_is_a_mismatch():
    graph = convert(DIGITS).graph
    perturb_last_layer(graph)
    verification = verify(DIGITS, graph, batch=4)
    assert not verification.ok
    [logits] = verification.outputs
    assert logits.shape == [4, 10] and logits.mismatches > 0 and logits.max_rel_diff > 1e-4
    assert isinstance(verification.near_zero_binarizer_inputs, int)
    assert "mismatching elements" in verification.to_text()


def test_graph_of_another_model_is_a_mismatch():
    model = binary_dense_model("Sign")
    other = onnx.ModelProto()
    other.CopyFrom(model)
    [bias] = [tensor for tensor in other.graph.initializer if tensor.name == "b"]
    bias.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(bias), "b"))
    verification = verify(other, convert(model).graph)
    assert not verification.ok and verification.outputs[0].mismatches > 0


@pytest.mark.parametrize("binarizer", BINARIZERS)
def test_mismatch_counts_binarizer_inputs_near_zero(binarizer):
    model = binary_dense_model(binarizer)
    graph = convert(model).graph
    assert verify(model, graph).ok
    perturb_last_layer(graph)
    verification = verify(model, graph, batch=2)
    assert not verification.ok
    assert verification.near_zero_binarizer_inputs == 2 * TINY_SCALE_CHANNELS
    assert (f"{2 * TINY_SCALE_CHANNELS} binarizer inputs within float rounding of 0 "
            "(can flip a sign)") in verification.to_text()


def test_skipped_without_onnxruntime(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    verification = verify(DIGITS, convert(DIGITS).graph)
    assert not verification.ok and verification.outputs == []
    assert "onnxruntime is not installed" in verification.to_text()


def test_cli_convert_verify(tmp_path, capsys):
    assert main(["convert", str(DIGITS), "-o", str(tmp_path / "digits.xnor"), "--verify"]) == 0
    out = capsys.readouterr().out
    assert "output 'logits' [2, 10]" in out and "argmax agreement 100.00%" in out
    assert "ok: every output agrees" in out
