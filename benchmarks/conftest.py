"""pytest-benchmark configuration for ``pytest benchmarks/``.

Collects ``bench_*.py`` here (the project's ``testpaths`` and ``python_files`` cover tests/
only), prints the machine, build and ISA paths in the report header, and provides
``run_measured``: pytest-benchmark rounds whose duration is what a measurement returns (a node
time from a profiler, or a wall time), not the wall time around the call.
"""

from __future__ import annotations

import os
from typing import Callable

import pytest

from layers import THREADS
from xnorinfer import peak_macs_per_second
from xnorinfer.bench.timing import Measurement, machine_info


def pytest_collect_file(file_path, parent):
    # A file named on the command line is collected by pytest itself.
    if (file_path.suffix == ".py" and file_path.name.startswith("bench_")
            and not parent.session.isinitpath(file_path)):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def pytest_report_header(config):
    """Machine, build, ISA paths and thread counts, so every result says where it came from."""
    info = machine_info()
    build = info.pop("build")
    return [
        f"cpu: {info['cpu']}, {info['logical_cpus']} logical CPUs; benchmark threads: "
        f"{', '.join(map(str, THREADS))}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')}",
        "xnorinfer build: " + ", ".join(f"{key}={value}" for key, value in build.items()),
        "xnorinfer ISA paths available: " + ", ".join(info["isa_available"]),
        "peers: " + ", ".join(f"{m}={info[m]}" for m in ("numpy", "onnxruntime", "openvino")),
    ]


class _MeasuredClock:
    """A clock that moves only by the seconds measurements report."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def __repr__(self) -> str:
        return "measured seconds (per-node profiler or wall time)"


@pytest.fixture
def run_measured(benchmark) -> Callable[[Measurement, int], float | None]:
    """Benchmark a measurement: ``run_measured(measurement, rounds)`` -> median seconds.

    pytest-benchmark reads its timer before and after each round; with this clock the round
    lasts exactly what the measurement returned. Returns None under ``--benchmark-disable``.
    """
    def run(measurement: Measurement, rounds: int) -> float | None:
        clock = _MeasuredClock()
        benchmark._timer = clock  # read by pedantic(); pytest-benchmark has no public hook

        def one_round() -> None:
            clock.now += measurement()

        benchmark.pedantic(one_round, rounds=rounds, warmup_rounds=1, iterations=1)
        return benchmark.stats.stats.median if benchmark.stats else None

    return run


@pytest.fixture(scope="session")
def peak() -> Callable[[str, int], float | None]:
    """``peak(isa, threads)``: the XOR-popcount loop's binary MACs/s, measured once per session."""
    cache: dict[tuple[str, int], float | None] = {}

    def get(isa: str, threads: int) -> float | None:
        if (isa, threads) not in cache:
            cache[isa, threads] = peak_macs_per_second("binary", isa, threads)
        return cache[isa, threads]

    return get

