"""Fuzz the model-file reader (C++, src/xnorinfer/model/) and the engine behind it: bytes ->
InferenceSession -> one run. .ci/fuzz.sh runs it on the AddressSanitizer + UBSan build.

    python fuzz/make_corpus.py
    python fuzz/fuzz_model_file.py fuzz/corpus/xnor -dict=fuzz/corpus/xnor.dict -timeout=20

Half the mutants are libFuzzer's byte mutations, half structural changes to the JSON header
(xnor_mutator.py). Each input is tried as it is (the framing and checksum checks) and again
with its checksums recomputed, so that mutations reach the header checks, the C++ graph
validation and the ops. Loading may raise only ModelError or MemoryError (OutOfMemory), or
ConversionError for bytes that parse as an ONNX model (InferenceSession converts those);
running only ValueError or MemoryError; anything else, a crash or a timeout is a finding.
"""

from __future__ import annotations

import random
import sys

import atheris
from common import instrument_package, limit_memory, run_once
from xnor_mutator import fix_checksums, mutate

import xnorinfer


def load_and_run(data: bytes) -> None:
    try:
        session = xnorinfer.InferenceSession(data, num_threads=1)
    except (xnorinfer.ModelError, xnorinfer.ConversionError, MemoryError):
        return
    run_once(session)


def test_one_input(data: bytes) -> None:
    load_and_run(data)
    fixed = fix_checksums(data)
    if fixed is not None and fixed != data:
        load_and_run(fixed)


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    mutant = mutate(data, rng) if rng.random() < 0.5 else None
    if mutant is None or len(mutant) > max_size:
        mutant = atheris.Mutate(data, max_size)
    return mutant


if __name__ == "__main__":
    limit_memory()
    instrument_package()
    atheris.Setup(sys.argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()
