"""The example run's two Python ends (.ci/ctest.sh): ``prepare DIR`` converts the bundled digits
model to DIR/digits.xnor and writes 32 test images to DIR/input.npy; ``compare DIR`` checks
DIR/output.npy, written by the C++ example, against the Python session on the same file."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import xnorinfer
from xnorinfer.demo import MODEL, TEST_SET


def main(action: str, folder: str) -> int:
    folder = Path(folder)
    model, images = folder / "digits.xnor", folder / "input.npy"
    if action == "prepare":
        xnorinfer.convert(MODEL, model)
        np.save(images, np.load(TEST_SET)["x"][:32].astype(np.float32))
        return 0
    want = xnorinfer.InferenceSession(model).run(None, {"input": np.load(images)})[0]
    got = np.load(folder / "output.npy")
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-5, atol=1e-6):
        print(f"the C++ example's output differs from Python's: shapes {got.shape} and "
              f"{want.shape}, max |difference| {np.abs(got - want).max()}")
        return 1
    print(f"example: run_model's output {got.shape} matches the Python session")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
