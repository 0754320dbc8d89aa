"""The opt-in bf16 float layers (``convert(..., float_layers="bf16")``, CLI
``--float-layers``): which layers it marks (every float conv and dense but the first layer,
which ``first_layer`` decides), the cost the report prints, the accuracy it keeps on the bundled
digits test set, bit-identical outputs on every ISA path, and what it leaves fp32 or refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from xnorinfer import InferenceSession, get_available_isas, model_file
from xnorinfer.cli import main
from xnorinfer.demo import MODEL as DIGITS, TEST_SET
from xnorinfer.onnx import convert

FIXTURES = Path(__file__).parents[1] / "fixtures" / "torch"
BIREAL = FIXTURES / "bireal_resnet" / "model.onnx"  # a float stem, a float 1x1 shortcut, a classifier


def precisions(graph) -> dict[str, tuple[str, str]]:
    return {node.name: (node.op, node.attrs.get("precision", "fp32")) for node in graph.nodes
            if node.op in ("Conv2d", "Dense")}


def test_every_float_layer_but_the_first_is_marked():
    graph = convert(BIREAL, float_layers="bf16").graph
    ops = [op_precision for op_precision in precisions(graph).values()]
    assert ops[0] == ("Conv2d", "fp32")  # the stem: first_layer's to decide
    assert ("Conv2d", "bf16") in ops[1:] and ops[-1] == ("Dense", "bf16")
    assert all(precision == "bf16" for _, precision in ops[1:])
    assert all(p == "fp32" for _, p in precisions(convert(BIREAL).graph).values())  # by default


def test_with_a_reduced_first_layer_both_are_marked_and_every_isa_agrees():
    result = convert(BIREAL, first_layer="int8", float_layers="bf16")
    ops = list(precisions(result.graph).values())
    assert ops[0] == ("Conv2d", "int8") and all(p == "bf16" for _, p in ops[1:])
    data = model_file.dumps(result.graph)
    session = InferenceSession(data)
    arg = session.get_inputs()[0]
    x = np.random.default_rng(0).standard_normal([2, *arg.shape[1:]]).astype(np.float32)
    outputs = [InferenceSession(data, isa=isa, num_threads=threads).run(None, {arg.name: x})[0]
               for isa in get_available_isas() for threads in (1, 2)]
    for other in outputs[1:]:
        np.testing.assert_array_equal(other.view(np.uint32), outputs[0].view(np.uint32))


@pytest.fixture(scope="module")
def digits_bf16_layers():
    return convert(DIGITS, float_layers="bf16")


def test_the_report_prints_the_measured_cost(digits_bf16_layers):
    [note] = [n for n in digits_bf16_layers.report.notes if ": bf16 (" in n]
    assert "/fc2/Gemm" in note and "max |difference|" in note and "argmax agrees on" in note
    assert "/conv1/Conv" not in note  # the stem


def test_accuracy_on_the_digits_test_set_stays_within_half_a_percent(digits_bf16_layers):
    data = np.load(TEST_SET)
    x, y = data["x"].astype(np.float32), data["y"]
    exact = InferenceSession(model_file.dumps(convert(DIGITS).graph)).run(None, {"input": x})[0]
    reduced = InferenceSession(model_file.dumps(digits_bf16_layers.graph)).run(
        None, {"input": x})[0]
    assert not np.array_equal(exact, reduced)  # it is not the fp32 layer
    assert np.mean(reduced.argmax(1) == y) >= np.mean(exact.argmax(1) == y) - 0.005


def grouped_conv_model() -> onnx.ModelProto:
    """A float stem, then a float conv of two groups."""
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
               for name, shape in (("w1", (4, 3, 3, 3)), ("w2", (4, 2, 3, 3)))]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["h"], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["h", "w2"], ["y"], group=2, pads=[1, 1, 1, 1])]
    graph = helper.make_graph(
        nodes, "grouped", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_a_grouped_conv_stays_fp32_and_says_so():
    result = convert(grouped_conv_model(), float_layers="bf16")
    assert [p for _, p in precisions(result.graph).values()] == ["fp32", "fp32"]
    notes = result.report.notes
    assert any(": fp32, the bf16 kernels need one group" in n for n in notes)
    assert any("nothing runs in bf16" in n for n in notes)


def test_a_model_without_other_float_layers_says_nothing_changed():
    result = convert(FIXTURES / "binarynet_vgg_legacy11" / "model.onnx", float_layers="bf16")
    assert all(p == "fp32" for _, p in precisions(result.graph).values())
    assert any("no other float conv or dense layer" in n for n in result.report.notes)


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="float_layers must be one of fp32, bf16, got 'int8'"):
        convert(DIGITS, float_layers="int8")


def test_cli_float_layers(tmp_path, capsys):
    out = tmp_path / "digits.xnor"
    assert main(["convert", str(DIGITS), "-o", str(out), "--float-layers", "bf16"]) == 0
    assert ": bf16 (" in capsys.readouterr().out
    marked = {v for v in precisions(model_file.load(out)).values() if v[1] != "fp32"}
    assert marked == {("Dense", "bf16")}
