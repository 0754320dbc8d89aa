"""Helpers shared by the op tests: run a graph on every kernel path, and test activations."""

from __future__ import annotations

import numpy as np

from xnorinfer import _core

ISAS = _core.available_isas()
THREADS = (1, 3)


def run_everywhere(graph: _core.Graph, feeds: list[np.ndarray]) -> list[np.ndarray]:
    """Runs the graph on every available ISA at 1 and 3 threads, asserts the outputs are
    bit-identical, and returns them."""
    feeds = [np.ascontiguousarray(f, dtype=np.float32) for f in feeds]
    baseline = None
    for isa in ISAS:
        for threads in THREADS:
            outputs = _core.Session(graph, threads, isa).run(feeds)
            if baseline is None:
                baseline, base_key = outputs, (isa, threads)
                continue
            for i, (out, base) in enumerate(zip(outputs, baseline)):
                assert out.shape == base.shape
                np.testing.assert_array_equal(
                    out.view(np.uint32), base.view(np.uint32),
                    err_msg=f"output {i}: {isa} x{threads} differs from {base_key[0]} x{base_key[1]}")
    return baseline


def random_activations(rng: np.random.Generator, shape, zeros: float = 0.04) -> np.ndarray:
    """Normal floats with a fraction `zeros` each of exact +0.0 and -0.0 (both binarize to +1)."""
    x = rng.standard_normal(shape).astype(np.float32)
    u = rng.random(shape)
    x[u < zeros] = 0.0
    x[(u >= zeros) & (u < 2 * zeros)] = -0.0
    return x
