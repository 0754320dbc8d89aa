"""Fuzz the ONNX converter: bytes -> model.onnx -> xnorinfer.convert -> model file ->
InferenceSession -> one run.

    python fuzz/make_corpus.py
    python fuzz/fuzz_convert.py fuzz/corpus/onnx -max_total_time=60

Conversion may raise only ConversionError (or MemoryError). A graph that converted must save,
load and run: a ModelError there is a converter bug, as is any other exception, a crash or a
timeout.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import atheris
from common import instrument_package, limit_memory, run_once

import xnorinfer
from xnorinfer import model_file

MODEL = Path(tempfile.mkdtemp(prefix="fuzz_convert_", dir="/dev/shm" if Path("/dev/shm").is_dir()
                              else None)) / "model.onnx"


def test_one_input(data: bytes) -> None:
    MODEL.write_bytes(data)
    try:
        graph = xnorinfer.convert(MODEL).graph
    except (xnorinfer.ConversionError, MemoryError):
        return
    try:
        session = xnorinfer.InferenceSession(model_file.dumps(graph), num_threads=1)
    except MemoryError:
        return
    run_once(session)


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # converter notes about the model are not findings
    limit_memory()
    instrument_package()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
