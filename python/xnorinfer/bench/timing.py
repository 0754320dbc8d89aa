"""Timing helpers shared by ``xnorinfer bench`` and ``benchmarks/``: the machine description,
onnxruntime sessions with a set thread count, BLAS thread limits, float GEMM timing, and
interleaved medians (ratios from one run, never from runs at different times).

Every timed callable here is a *measurement*: a function that runs the work once and returns
the seconds to count, so a per-node time (from a profiler) and a wall time are handled alike.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from xnorinfer.build import build_info, get_available_isas

Measurement = Callable[[], float]


def wall(fn: Callable[[], object]) -> Measurement:
    """A measurement that times one call of ``fn`` with ``time.perf_counter``."""
    def measure() -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    return measure


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` calls, after one warm-up call."""
    fn()
    measure = wall(fn)
    return statistics.median(measure() for _ in range(repeats))


SETTLE_SECONDS = 0.05


def warmup_seconds_for(num_threads: int) -> float:
    """Untimed calls to make before a contender's timed ones (``interleaved_medians``): 20 ms on
    more than one thread, where the host of a virtual machine takes a core that idled through
    the pause between contenders and gives it back milliseconds after the next fork asks for
    it, and where the previous engine's workers may still spin; none on one thread."""
    return 0.02 if num_threads > 1 else 0.0


def interleaved_medians(measurements: Mapping[str, Measurement], repeats: int,
                        calls: int = 1, warmup_seconds: float = 0.0) -> dict[str, float]:
    """Median seconds of each measurement, taken round-robin so all share the same conditions.

    Each of ``repeats`` rounds runs, for every measurement in a rotated order, untimed warm-up
    calls (one, or as many as ``warmup_seconds`` takes) then ``calls`` timed calls; the result
    is the median over all timed calls. Between two measurements the process idles for
    ``SETTLE_SECONDS``: every engine's worker threads (onnxruntime's, OpenVINO's, our OpenMP
    team) spin for a while after a run, and on a 2-core machine a spinning pool from the
    previous engine would take a core from the next. On a virtual machine the host may take
    the idle core meanwhile and give it back only milliseconds after the next run asks for it:
    a longer warm-up lets every engine's threads have their cores again before the timed calls.

    Parameters
    ----------
    measurements : mapping of str to callable
        Name -> measurement (runs the work once, returns the seconds to count).
    repeats : int
        Rounds (at least 1).
    calls : int
        Timed calls per measurement and round.
    warmup_seconds : float
        Untimed calls before them run until this much time has passed (at least one call).

    Returns
    -------
    dict of str to float
        Median seconds per name.
    """
    samples: dict[str, list[float]] = {name: [] for name in measurements}
    for name in round_robin(list(measurements), repeats):
        warm_until = time.perf_counter() + warmup_seconds
        measurements[name]()
        while time.perf_counter() < warm_until:
            measurements[name]()
        samples[name].extend(measurements[name]() for _ in range(calls))
    return {name: statistics.median(values) for name, values in samples.items()}


def round_robin(names: list[str], repeats: int) -> Iterator[str]:
    """``names`` for ``repeats`` rounds (at least 1), each round's order rotated by one, after a
    pause of ``SETTLE_SECONDS`` each (see :func:`interleaved_medians`)."""
    for round_index in range(max(repeats, 1)):
        shift = round_index % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            time.sleep(SETTLE_SECONDS)
            yield name


# CPU flags (as /proc/cpuinfo names them) that decide which kernels and peers can run fast.
RELEVANT_CPU_FLAGS = ("popcnt", "avx2", "fma", "avx512f", "avx512bw", "avx512vl",
                      "avx512_vpopcntdq", "avx512_vnni", "avx512_bf16", "amx_tile")


def _cpuinfo_field(name: str) -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """What a benchmark ran on: CPU, cores, relevant CPU flags, xnorinfer build, versions.

    Returns
    -------
    dict
        JSON-able facts for result files and report headers.
    """
    flags = set((_cpuinfo_field("flags") or "").split())
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "cpu_flags": [flag for flag in RELEVANT_CPU_FLAGS if flag in flags],
        "isa_available": get_available_isas(),
        "build": build_info(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    for module in ("onnxruntime", "openvino"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    return info


def ort_session(model: Any, num_threads: int, *, profile_prefix: str | None = None,
                optimized_model_path: str | None = None) -> Any:
    """An onnxruntime CPU session with ``num_threads`` intra-op threads and default optimizations.

    Parameters
    ----------
    model : str, os.PathLike, bytes or onnx.ModelProto
        The ONNX model.
    num_threads : int
        ``intra_op_num_threads``; inter-op parallelism is off (one thread).
    profile_prefix : str, optional
        Turn on onnxruntime's profiler, writing JSON with this prefix at ``end_profiling()``.
    optimized_model_path : str, optional
        Write the optimized graph (with onnxruntime's fused node names) there.

    Returns
    -------
    onnxruntime.InferenceSession
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    if optimized_model_path:
        # Only the graph is wanted: weights go to a side file, so any model size can be saved.
        options.optimized_model_filepath = optimized_model_path
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_file_name",
            os.path.basename(optimized_model_path) + ".data")
    if hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    elif not isinstance(model, bytes):
        model = os.fspath(model)
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


@contextlib.contextmanager
def blas_threads(num_threads: int) -> Iterator[bool]:
    """Limit numpy's BLAS to ``num_threads`` while the block runs.

    Yields True when the limit is in force (``threadpoolctl`` is installed), False when numpy's
    BLAS keeps its own thread count.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with threadpool_limits(limits=num_threads, user_api="blas"):
        yield True


def float_gemm(m: int, k: int, n: int, groups: int = 1, seed: int = 0) -> Callable[[], object]:
    """numpy's float32 GEMM ``[groups, m, k] @ [groups, k, n/groups]``, ready to time.

    The operands are made once; each call of the returned function runs the product alone
    (into a preallocated output): the GEMM a float im2col convolution or dense layer of that
    shape runs, without the im2col copy or anything else. Call it inside :func:`blas_threads`
    to set its threads.
    """
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((groups, m, k), dtype=np.float32)
    b = rng.standard_normal((groups, k, n // groups), dtype=np.float32)
    out = np.empty((groups, m, n // groups), dtype=np.float32)
    return lambda: np.matmul(a, b, out=out)
