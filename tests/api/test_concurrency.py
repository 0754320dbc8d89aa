"""One session shared by many threads, sessions created and dropped in a loop, and the GIL
released while a session runs."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

import xnorinfer
from xnorinfer import ir, model_file
from xnorinfer.bitpack import pack_bits

H, W, C, O, CLASSES = 12, 12, 32, 48, 10


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    """x [batch, H, W, C] -> pack -> 3x3 binary conv (float) -> relu -> global average pool
    -> dense -> softmax: enough work per run for runs to overlap."""
    rng = np.random.default_rng(21)
    graph = ir.Graph(
        inputs=[ir.ValueInfo("x", [-1, H, W, C])],
        outputs=[ir.ValueInfo("probs", [-1, CLASSES])],
        nodes=[
            ir.Node("pack", "BinarizePack", ["x"], ["xb"]),
            ir.Node("conv", "BinaryConv2d", ["xb", "conv.w", "conv.s", "conv.b"], ["c"],
                    {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "in_channels": C,
                     "output": "float"}),
            ir.Node("relu", "Relu", ["c"], ["r"]),
            ir.Node("gap", "GlobalAveragePool", ["r"], ["g"]),
            ir.Node("flat", "Reshape", ["g"], ["f"], {"shape": [0, -1]}),
            ir.Node("fc", "Dense", ["f", "fc.w", "fc.b"], ["logits"]),
            ir.Node("softmax", "Softmax", ["logits"], ["probs"], {"axis": 1}),
        ],
        constants={
            "conv.w": pack_bits(rng.random((O, 3, 3, C)) < 0.5),
            "conv.s": rng.uniform(0.5, 1.5, O).astype(np.float32),
            "conv.b": rng.standard_normal(O).astype(np.float32),
            "fc.w": rng.standard_normal((CLASSES, O)).astype(np.float32),
            "fc.b": rng.standard_normal(CLASSES).astype(np.float32),
        },
    )
    return model_file.dumps(graph)


def _inputs(count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1 + i % 4, H, W, C)).astype(np.float32) for i in range(count)]


@pytest.mark.parametrize("num_threads", [1, 2])
def test_eight_python_threads_share_one_session(model_bytes, num_threads):
    sess = xnorinfer.InferenceSession(model_bytes, num_threads=num_threads)
    inputs = _inputs(400, seed=num_threads)
    serial = [sess.run(None, {"x": x})[0] for x in inputs]
    results: list[np.ndarray | None] = [None] * len(inputs)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(first: int) -> None:
        try:
            start.wait()
            for i in range(first, len(inputs), 8):
                results[i] = sess.run(None, {"x": inputs[i]})[0]
        except BaseException as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got, want in zip(results, serial):
        np.testing.assert_array_equal(got, want)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer's quarantine keeps freed memory resident")
def test_sessions_created_and_dropped_do_not_leak(model_bytes):
    x = _inputs(1, seed=5)[0]

    def cycle() -> None:
        sess = xnorinfer.InferenceSession(model_bytes, num_threads=2)
        sess.run(None, {"x": x})

    for _ in range(30):  # warm-up: allocator pools, OpenMP threads, lazy imports
        cycle()
    before = _rss_bytes()
    for _ in range(300):
        cycle()
    grown = _rss_bytes() - before
    assert grown < 20 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 300 sessions"


def test_the_gil_is_released_while_a_session_runs(model_bytes):
    sess = xnorinfer.InferenceSession(model_bytes, num_threads=1)
    # Long enough (about 40 ms here) that a run held under the GIL could not go unnoticed.
    x = np.random.default_rng(8).standard_normal((4096, H, W, C)).astype(np.float32)
    sess.run(None, {"x": x})  # plan and workspace made outside the measured run
    count = 0
    stop = threading.Event()

    def counter() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    thread = threading.Thread(target=counter)
    thread.start()
    try:
        time.sleep(0.01)
        before = count
        started = time.perf_counter()
        sess.run(None, {"x": x})
        seconds = time.perf_counter() - started
        during = count - before
    finally:
        stop.set()
        thread.join()
    assert seconds > 0.02, "the run is too short to tell"
    assert during > 1000, f"the counter thread advanced {during} times in a {seconds:.2f} s run"
