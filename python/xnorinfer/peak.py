"""A core's throughput ceilings, measured: what "% of peak" in a benchmark is a percentage of.

The loops (``src/xnorinfer/kernels/peak``) keep their data in registers, so they measure the
execution units alone: XOR + popcount + add for the binary kernels, fused multiply-add for the
float ones (the first layer, float convs, onnxruntime's fp32 baseline).
"""

from __future__ import annotations

import threading
import time

from xnorinfer import _core

KINDS = ("binary", "float")


def peak_macs_per_second(kind: str = "binary", isa: str | None = None, num_threads: int = 1,
                         seconds: float = 0.2) -> float | None:
    """Multiply-accumulates per second of the register-resident peak loop.

    Parameters
    ----------
    kind : {"binary", "float"}
        ``"binary"``: XOR + popcount + add, one binary MAC per bit. ``"float"``: FMAs, one
        float multiply-add per lane.
    isa : {"avx2", "avx512", "neon"}, optional
        The kernel path; default as :class:`xnorinfer.InferenceSession` picks it.
    num_threads : int
        Loops run at once, one per Python thread (the loop releases the GIL).
    seconds : float
        About how long each of the three tries lasts; the best is kept.

    Returns
    -------
    float or None
        MACs per second over all threads; None on the scalar path, which has no peak loop.

    Raises
    ------
    ValueError
        An unknown ``kind``, or a ``num_threads`` or ``seconds`` that is not positive.
    xnorinfer.UnsupportedIsa
        ``isa`` asks for more than this CPU has.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if num_threads < 1 or seconds <= 0:
        raise ValueError("num_threads and seconds must be positive")
    isa = _core.resolve_isa(isa or "")
    if isa == "scalar":
        return None

    def loop(iterations: int) -> int:
        return _core.peak_loop(kind, isa, iterations)

    macs_per_iteration = loop(1000) / 1000
    start = time.perf_counter()
    loop(100_000)
    iterations = max(int(100_000 * seconds / max(time.perf_counter() - start, 1e-6)), 1000)
    best = 0.0
    for _ in range(3):
        threads = [threading.Thread(target=loop, args=(iterations,)) for _ in range(num_threads)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        best = max(best, macs_per_iteration * iterations * num_threads / elapsed)
    return best
