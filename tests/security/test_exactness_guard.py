"""Every model the test suite has, run on every ISA path this CPU has at 1, 2 and 3 threads:
the outputs must be bit-identical (compared as raw float32 bits, so -0.0 and NaN count too).
Binary layers compute integers and float epilogues round the same way on every path, so any
difference is a bug, never noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from larq_fixtures import NAMES as LARQ_NAMES
from larq_fixtures import larq_model

import xnorinfer
from xnorinfer import model_file
from xnorinfer.onnx import convert

ROOT = Path(__file__).parents[2]
TORCH_FIXTURES = sorted(p.name for p in (ROOT / "tests" / "fixtures" / "torch").iterdir()
                        if (p / "model.onnx").is_file())
DEMO = ROOT / "python" / "xnorinfer" / "examples" / "digits_bnn.onnx"
MODELS = ([f"torch/{name}" for name in TORCH_FIXTURES] + [f"larq/{name}" for name in LARQ_NAMES]
          + ["demo/digits_bnn"])
SETUPS = [(isa, threads) for isa in xnorinfer.get_available_isas() for threads in (1, 2, 3)]


def _onnx_path(model: str, tmp_path: Path) -> Path:
    kind, name = model.split("/")
    if kind == "torch":
        return ROOT / "tests" / "fixtures" / "torch" / name / "model.onnx"
    if kind == "larq":
        return larq_model(name, tmp_path)[0]
    return DEMO


def _feed(model: str, session: xnorinfer.InferenceSession) -> dict[str, np.ndarray]:
    """A PyTorch fixture's saved inputs (those of the Sign(0) fixtures hold exact zeros), else
    random normal ones."""
    kind, name = model.split("/")
    saved = ROOT / "tests" / "fixtures" / "torch" / name / "inputs.npz"
    if kind == "torch" and saved.is_file():
        return dict(np.load(saved))
    rng = np.random.default_rng(17)
    return {arg.name: rng.standard_normal([3 if isinstance(d, str) else d for d in arg.shape])
            .astype(np.float32) for arg in session.get_inputs()}


@pytest.mark.parametrize("model", MODELS)
def test_every_isa_and_thread_count_gives_identical_bits(model, tmp_path):
    data = model_file.dumps(convert(_onnx_path(model, tmp_path)).graph)
    feed = None
    reference = None
    for isa, threads in SETUPS:
        session = xnorinfer.InferenceSession(data, num_threads=threads, isa=isa)
        feed = feed or _feed(model, session)
        outputs = [out.view(np.uint32) for out in session.run(None, feed)]
        if reference is None:
            reference = outputs
            continue
        for got, want in zip(outputs, reference):
            np.testing.assert_array_equal(got, want, err_msg=f"{isa} at {threads} threads")
