"""Batch inference throughput: images/s of the local engine (one process, 2 threads) and of Ray
Data (``xnorinfer.ray.predict``, 2 actors x 1 thread), on the bundled digits model and on
Bi-Real-Net-18 at 224x224, and what Ray adds: a fixed cost per job (its actor pool starts and
loads the model) and a cost per row. Ray itself is started before timing. Ray's two costs come
from jobs of n and 2n rows; each time is the median of ``--repeats`` runs.

    python benchmarks/batch_inference.py [--digits-rows 20000] [--bireal-rows 64]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Callable

import numpy as np

import xnorinfer
from xnorinfer import console, model_file
from xnorinfer.bench import networks as bench_networks
from xnorinfer.demo import MODEL, TEST_SET
from xnorinfer.ray import Predictor, predict


def median_seconds(run: Callable[[], None], repeats: int) -> float:
    run()  # warm-up: actors start, sessions plan
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure(name: str, model: bytes, rows: np.ndarray, batch_size: int, repeats: int) -> list[str]:
    import ray

    local = Predictor(model, num_threads=2)
    n = len(rows)

    def run_local() -> None:
        for start in range(0, n, batch_size):
            local({"id": np.arange(start, min(start + batch_size, n)),
                   "input": rows[start:start + batch_size]})

    def ray_job(count: int) -> Callable[[], None]:
        items = [{"id": i, "input": rows[i % n]} for i in range(count)]
        ds = ray.data.from_items(items).materialize()
        return lambda: predict(ds, model, batch_size=batch_size, actors=2).materialize()

    t_local = median_seconds(run_local, repeats)
    t_n, t_2n = median_seconds(ray_job(n), repeats), median_seconds(ray_job(2 * n), repeats)
    per_row = max(t_2n - t_n, 1e-12) / n
    return [name, str(batch_size), f"{n / t_local:.0f}", f"{1 / per_row:.0f}",
            f"{t_n - n * per_row:.2f}", f"{(per_row - t_local / n) * 1e6:.0f}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits-rows", type=int, default=20000)
    parser.add_argument("--bireal-rows", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    digits = np.load(TEST_SET)["x"].astype(np.float32)
    digits = np.resize(digits, (args.digits_rows,) + digits.shape[1:])
    bireal = model_file.dumps(xnorinfer.convert(bench_networks.build("bireal18", binary=True)).graph)
    images = np.random.default_rng(0).standard_normal((args.bireal_rows, 3, 224, 224),
                                                      dtype=np.float32)
    rows = [measure("digits BNN", model_file.dumps(xnorinfer.convert(MODEL).graph), digits, 512,
                    args.repeats),
            measure("Bi-Real-Net-18 224", bireal, images, 8, args.repeats)]
    ray.shutdown()
    console.table("Batch inference on this machine: local engine (2 threads) vs Ray Data "
                  "(2 actors x 1 thread)",
                  ["model", "batch", "local images/s", "Ray images/s (after startup)",
                   "Ray startup s per job", "Ray adds µs/row"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
