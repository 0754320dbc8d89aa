"""Where the Larq/Keras fixtures are (shared/models/larq beside the repository, see its README),
and how a test gets one: skipped visibly when the folder is not there."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

LARQ_MODELS = Path(__file__).parents[2] / "shared" / "models" / "larq"
NAMES = ["larq_tiny_cnn", "larq_magnitude_aware", "larq_quicknet_small_32"]


def larq_model(name: str, tmp_path: Path) -> tuple[Path, dict]:
    """The model file (gunzipped into tmp_path when stored gzipped) and its manifest."""
    folder = LARQ_MODELS / name
    if not folder.is_dir():
        pytest.skip(f"the Larq fixtures are not at {LARQ_MODELS}")
    manifest = json.loads((folder / "manifest.json").read_text())
    path = folder / "model.onnx"
    if not path.exists():
        path = tmp_path / "model.onnx"
        with gzip.open(folder / "model.onnx.gz", "rb") as src, path.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return path, manifest
