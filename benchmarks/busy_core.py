"""What a busy core does to a multi-threaded run: Bi-Real-Net-18 (224x224, batch 1) at 1 and 2
threads, on an idle machine and next to a process spinning on one core; median, p90 and max of
the wall time of ``InferenceSession.run``.

OpenMP's join waits for every thread of the team; the fork gate (src/xnorinfer/base/fork_gate.h)
keeps loops on the calling thread while a probe finds a worker's core busy. Run:
``python benchmarks/busy_core.py [--runs 200]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

import xnorinfer
from xnorinfer import console
from xnorinfer.bench import networks as bench_networks

SPIN = "while True: pass"


def timings(model: bytes, threads: int, runs: int) -> list[float]:
    session = xnorinfer.InferenceSession(model, num_threads=threads)
    feed = {"input": np.random.default_rng(0).standard_normal((1, 3, 224, 224), np.float32)}
    for _ in range(5):
        session.run(None, feed)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        seconds.append(time.perf_counter() - start)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bireal18.onnx"
        onnx.save(bench_networks.build("bireal18", binary=True), path)
        model = xnorinfer.model_file.dumps(xnorinfer.convert(path).graph)
    rows = []
    for machine in ("idle", "one core busy"):
        spinner = (subprocess.Popen([sys.executable, "-c", SPIN]) if machine != "idle" else None)
        try:
            time.sleep(0.5 if spinner else 0)
            for threads in (1, 2):
                t = np.array(timings(model, threads, args.runs)) * 1e3
                rows.append([machine, str(threads), f"{np.median(t):.2f}",
                             f"{np.percentile(t, 90):.2f}", f"{t.max():.1f}"])
        finally:
            if spinner:
                spinner.kill()
    console.table("Bi-Real-Net-18 224x224, batch 1, wall ms per run",
                  ["machine", "threads", "median", "p90", "max"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
