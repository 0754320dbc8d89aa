"""The opt-in reduced-precision first layer (``convert(..., first_layer="int8" | "bf16")``, CLI
``--first-layer``): which conv it marks, the cost the report prints, the accuracy it keeps on
the bundled digits test set, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xnorinfer import InferenceSession, get_available_isas, model_file
from xnorinfer.cli import main
from xnorinfer.demo import MODEL as DIGITS, TEST_SET
from xnorinfer.onnx import convert

FIXTURES = Path(__file__).parents[1] / "fixtures" / "torch"


def precisions(graph) -> dict[str, str]:
    return {node.name: node.attrs["precision"] for node in graph.nodes
            if "precision" in node.attrs}


@pytest.fixture(scope="module", params=["int8", "bf16"])
def digits_reduced(request):
    return request.param, convert(DIGITS, first_layer=request.param)


def test_the_stem_and_only_the_stem_is_marked(digits_reduced):
    precision, result = digits_reduced
    marked = precisions(result.graph)
    assert list(marked.values()) == [precision]
    stem = next(node for node in result.graph.nodes if node.name in marked)
    assert stem.op == "Conv2d" and "/conv1/Conv" in stem.attrs["source"]
    assert precisions(convert(DIGITS).graph) == {}  # fp32 by default


def test_the_report_prints_the_measured_cost(digits_reduced):
    precision, result = digits_reduced
    [note] = [n for n in result.report.notes if f": {precision} (" in n]
    assert "/conv1/Conv" in note and "max |difference|" in note and "argmax agrees on" in note


@pytest.mark.parametrize("kernel, says", [
    ("avx512vnni", "through the AVX-512 VNNI kernel on this CPU"),
    ("amx", "through the AMX-INT8 kernel on this CPU"),
    ("neondot", "through the Arm dot-product (SDOT) kernel on this CPU"),
    ("portable", "through the portable kernel on this CPU (no AVX-512 VNNI or AMX-INT8 or Arm "
                 "dot-product (SDOT) here: slower than fp32"),
])
def test_the_report_names_the_int8_kernel_of_either_architecture(monkeypatch, kernel, says):
    from xnorinfer.onnx import first_layer

    info = dict(first_layer.build_info(), int8_kernel=kernel)
    monkeypatch.setattr(first_layer, "build_info", lambda: info)
    assert first_layer._kernel_note("int8").startswith(says)


def test_accuracy_on_the_digits_test_set_stays_within_half_a_percent(digits_reduced):
    data = np.load(TEST_SET)
    x, y = data["x"].astype(np.float32), data["y"]
    exact = InferenceSession(model_file.dumps(convert(DIGITS).graph))
    reduced = InferenceSession(model_file.dumps(digits_reduced[1].graph))
    name = exact.get_inputs()[0].name
    exact_logits = exact.run(None, {name: x})[0]
    reduced_logits = reduced.run(None, {name: x})[0]
    assert not np.array_equal(exact_logits, reduced_logits)  # it is not the fp32 layer
    exact_accuracy = np.mean(exact_logits.argmax(1) == y)
    assert np.mean(reduced_logits.argmax(1) == y) >= exact_accuracy - 0.005


def test_every_isa_path_gives_the_same_outputs(digits_reduced):
    data = np.load(TEST_SET)["x"].astype(np.float32)
    data_file = model_file.dumps(digits_reduced[1].graph)
    outputs = [InferenceSession(data_file, isa=isa, num_threads=threads).run(None, {"input": data})[0]
               for isa in get_available_isas() for threads in (1, 2)]
    for other in outputs[1:]:
        np.testing.assert_array_equal(other.view(np.uint32), outputs[0].view(np.uint32))


def test_a_model_without_a_float_stem_says_nothing_changed():
    result = convert(FIXTURES / "binary_mlp" / "model.onnx", first_layer="int8")
    assert precisions(result.graph) == {}
    assert any("no float Conv2d reads a graph input" in n for n in result.report.notes)


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="first_layer must be one of fp32, int8, bf16, got 'int4'"):
        convert(DIGITS, first_layer="int4")


def test_cli_first_layer(tmp_path, capsys):
    out = tmp_path / "digits.xnor"
    assert main(["convert", str(DIGITS), "-o", str(out), "--first-layer", "int8"]) == 0
    assert ": int8 (" in capsys.readouterr().out
    assert list(precisions(model_file.load(out)).values()) == ["int8"]
