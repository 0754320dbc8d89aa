"""The xnorinfer command: each subcommand end to end, and errors as messages, not tracebacks."""

from pathlib import Path

import numpy as np
import pytest

from xnorinfer import InferenceSession
from xnorinfer.cli import main

FIXTURE = Path(__file__).parents[1] / "fixtures" / "torch" / "binary_mlp"


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "mlp.xnor"
    assert main(["convert", str(FIXTURE / "model.onnx"), "-o", str(out)]) == 0
    return out


def test_convert_prints_the_report_and_writes_the_file(converted, capsys):
    main(["convert", str(FIXTURE / "model.onnx"), "-o", str(converted)])
    captured = capsys.readouterr()
    assert "BinaryDense" in captured.out and "3 binary, 0 BWN, 2 float" in captured.out
    assert f"wrote {converted}" in captured.err
    assert InferenceSession(converted).get_inputs()[0].name == "input"


def test_run_writes_outputs_equal_to_the_session(converted, tmp_path, capsys):
    x = np.load(FIXTURE / "inputs.npz")["input"]
    np.save(tmp_path / "x.npy", x)
    assert main(["run", str(converted), "--input", str(tmp_path / "x.npy"),
                 "--output", str(tmp_path / "y.npy"), "--threads", "1"]) == 0
    expected = InferenceSession(converted).run(None, {"input": x})[0]
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)
    assert str(list(expected.shape)) in capsys.readouterr().out


def test_run_with_named_input_and_npz_output(converted, tmp_path):
    x = np.load(FIXTURE / "inputs.npz")["input"]
    np.save(tmp_path / "x.npy", x)
    assert main(["run", str(converted), "-i", f"input={tmp_path / 'x.npy'}",
                 "-o", str(tmp_path / "y.npz"), "--isa", "scalar"]) == 0
    assert list(np.load(tmp_path / "y.npz").keys()) == ["output"]


def test_inspect_lists_layers_and_sizes(converted, capsys):
    assert main(["inspect", str(converted)]) == 0
    out = capsys.readouterr().out
    assert "BinaryDense" in out and "binary" in out and "file_bytes" in out


def test_info_reports_isas(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "isa_in_use" in out and "openmp" in out


def test_demo_packed_accuracy_equals_float(capsys):
    assert main(["demo", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    accuracies = [line for line in out.splitlines() if "%" in line]
    assert len(accuracies) >= 2, out
    packed, reference = (line.split("│")[2].strip() for line in accuracies[:2])
    assert packed == reference


@pytest.mark.parametrize("args, message", [
    (["run", "missing.xnor", "--input", "x.npy"], "No such file"),
    (["convert", "missing.onnx"], "missing.onnx"),
    (["convert", "m.onnx", "--input-shape", "nonsense"], "--input-shape expects NAME=D0,D1"),
])
def test_errors_are_one_line_messages(args, message, capsys):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_corrupted_model_file_is_a_clear_error(converted, tmp_path, capsys):
    data = bytearray(converted.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.xnor"
    bad.write_bytes(bytes(data))
    assert main(["inspect", str(bad)]) == 1
    assert "corrupted" in capsys.readouterr().err
