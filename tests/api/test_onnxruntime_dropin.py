"""xnorinfer as a drop-in for onnxruntime: an onnxruntime script runs with its import line
changed (an .onnx file in, the same predictions out), onnxruntime's constructor arguments and
session methods, and the cache of converted models."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest

import xnorinfer
from xnorinfer import model_cache
from xnorinfer.demo import MODEL as DIGITS, TEST_SET

SCRIPT = textwrap.dedent("""
    import numpy as np
    import {module} as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL \\
        if hasattr(ort, "GraphOptimizationLevel") else 99
    sess = ort.InferenceSession(MODEL, sess_options=options, providers=["CPUExecutionProvider"])
    input_name = sess.get_inputs()[0].name
    output_names = [output.name for output in sess.get_outputs()]
    predictions = []
    for batch in np.array_split(IMAGES, 5):
        [logits] = sess.run(output_names, {{input_name: batch}})
        predictions.append(logits.argmax(axis=1))
    PREDICTIONS = np.concatenate(predictions)
""")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(model_cache.ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def run_script(module: str) -> np.ndarray:
    images = np.load(TEST_SET)["x"].astype(np.float32)
    namespace = {"MODEL": str(DIGITS), "IMAGES": images}
    exec(SCRIPT.format(module=module), namespace)
    return namespace["PREDICTIONS"]


def test_an_onnxruntime_script_with_only_its_import_changed():
    pytest.importorskip("onnxruntime")
    ours = run_script("xnorinfer")
    theirs = run_script("onnxruntime")
    np.testing.assert_array_equal(ours, theirs)
    assert np.mean(ours == np.load(TEST_SET)["y"]) > 0.95


@pytest.mark.parametrize("form", ["path", "bytes", "proto"])
def test_onnx_in_any_form_is_converted_with_its_report(form):
    source = {"path": DIGITS, "bytes": DIGITS.read_bytes(), "proto": onnx.load(DIGITS)}[form]
    sess = xnorinfer.InferenceSession(source)
    assert sess.conversion_report.layer_counts()["binary"] == 3
    x = np.load(TEST_SET)["x"][:4].astype(np.float32)
    want = xnorinfer.InferenceSession(xnorinfer.model_file.dumps(
        xnorinfer.convert(DIGITS).graph)).run(None, {"input": x})[0]
    np.testing.assert_array_equal(sess.run(None, {"input": x})[0], want)


def test_an_xnor_file_has_no_conversion_report(tmp_path):
    path = tmp_path / "digits.xnor"
    xnorinfer.convert(DIGITS, path)
    assert xnorinfer.InferenceSession(path).conversion_report is None


def test_the_converted_model_is_cached_and_reused(private_cache, monkeypatch):
    xnorinfer.InferenceSession(DIGITS)
    [entry] = private_cache.glob("*.xnor")
    assert entry.name.startswith(__import__("hashlib").sha256(DIGITS.read_bytes()).hexdigest())
    monkeypatch.setattr("xnorinfer.onnx.convert", lambda *a, **k: pytest.fail("converted again"))
    assert xnorinfer.InferenceSession(DIGITS).conversion_report is not None


def test_a_damaged_entry_is_converted_again_and_replaced(private_cache):
    xnorinfer.InferenceSession(DIGITS)
    [entry] = private_cache.glob("*.xnor")
    entry.write_bytes(entry.read_bytes()[:100])
    xnorinfer.InferenceSession(DIGITS)
    xnorinfer.model_file.load(entry)  # whole again


def test_the_cache_can_be_turned_off(private_cache, monkeypatch):
    monkeypatch.setenv(model_cache.ENV, "0")
    xnorinfer.InferenceSession(DIGITS)
    assert not private_cache.exists()


def test_processes_converting_at_once_share_one_good_entry(private_cache):
    child = ("import xnorinfer, sys; xnorinfer.InferenceSession(sys.argv[1]); print('ok')")
    env = {**__import__("os").environ, model_cache.ENV: str(private_cache)}
    procs = [subprocess.Popen([sys.executable, "-c", child, str(DIGITS)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]
    assert all(p.communicate(timeout=120)[0].strip() == "ok" and p.returncode == 0 for p in procs)
    [entry] = private_cache.glob("*.xnor")
    assert not list(private_cache.glob(".partial-*"))
    xnorinfer.model_file.load(entry)


def test_session_methods_onnxruntime_code_calls():
    options = xnorinfer.SessionOptions()
    options.intra_op_num_threads = 1
    sess = xnorinfer.InferenceSession(DIGITS, options, ["CPUExecutionProvider"], [{}])
    assert sess.num_threads == 1
    assert sess.get_providers() == ["CPUExecutionProvider"] == xnorinfer.get_available_providers()
    assert sess.get_provider_options() == {"CPUExecutionProvider": {}}
    assert sess.get_session_options() is options
    meta = sess.get_modelmeta()
    proto = onnx.load(DIGITS)
    assert (meta.producer_name, meta.graph_name, meta.version) == (
        proto.producer_name, proto.graph.name, proto.model_version)
    x = np.load(TEST_SET)["x"][:2].astype(np.float32)
    assert sess.run(None, {"input": x}, xnorinfer.RunOptions())[0].shape == (2, 10)


def test_an_onnxruntime_session_options_object_is_read():
    ort = pytest.importorskip("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    assert xnorinfer.InferenceSession(DIGITS, sess_options=options).num_threads == 1


@pytest.mark.parametrize("providers,options,message", [
    (["CUDAExecutionProvider"], None, r"providers \['CUDAExecutionProvider'\] are not supported"),
    ([("CPUExecutionProvider", {"arena": "1"})], None, "takes no options"),
    (["CPUExecutionProvider"], [{"x": 1}], "takes no options"),
])
def test_other_providers_are_refused(providers, options, message):
    with pytest.raises(ValueError, match=message):
        xnorinfer.InferenceSession(DIGITS, providers=providers, provider_options=options)


@pytest.mark.parametrize("data", [b"\x01\x02garbage" * 10, b""], ids=["garbage", "empty"])
def test_bytes_that_are_neither_format_are_a_model_error(data):
    with pytest.raises(xnorinfer.ModelError, match="not an xnorinfer model file .* and not an "
                                                   "ONNX model"):
        xnorinfer.InferenceSession(data)


def test_a_missing_file_is_a_model_error(tmp_path):
    with pytest.raises(xnorinfer.ModelError, match="cannot read the model file"):
        xnorinfer.InferenceSession(tmp_path / "absent.onnx")
