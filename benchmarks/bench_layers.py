"""Per-layer benchmarks: ours per ISA path vs onnxruntime fp32 vs numpy GEMM vs OpenVINO.

One pytest-benchmark group per (layer shape, threads). Each result's extra_info holds the
engine, ISA, threads, MACs, GMAC/s and, for binary kernels, the fraction of the XOR-popcount
peak measured in the same session. No timing is asserted.
"""

from __future__ import annotations

import pytest

import layers
import openvino_layer
from layers import THREADS
from xnorinfer import _core
from xnorinfer.bench import openvino_peer
from xnorinfer.bench.timing import blas_threads

ROUNDS = 30
ISAS = list(_core.build_info()["isa_compiled"])


def _setup(benchmark, case: layers.LayerCase, threads: int, engine: str, isa: str) -> None:
    benchmark.group = f"{case} | {threads} thread(s)"
    benchmark.extra_info.update(engine=engine, isa=isa, threads=threads, layer=str(case),
                                macs=case.macs)


def _record_rate(benchmark, case: layers.LayerCase, median: float | None,
                 peak: float | None = None) -> None:
    if median is None:
        return
    benchmark.extra_info["gmac_per_s"] = case.macs / median / 1e9
    if peak:
        benchmark.extra_info["peak_gmac_per_s"] = peak / 1e9
        benchmark.extra_info["fraction_of_peak"] = case.macs / median / peak


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("case", layers.CASES, ids=str)
@pytest.mark.parametrize("isa", ISAS)
def test_xnorinfer(benchmark, run_measured, peak, case, isa, threads):
    if isa not in _core.available_isas():
        pytest.skip(f"ISA path {isa} is not available on this CPU")
    _setup(benchmark, case, threads, "xnorinfer", isa)
    rounds = ROUNDS if isa != "scalar" else 5
    median = run_measured(layers.ours(case, isa, threads), rounds)
    _record_rate(benchmark, case, median, peak(isa, threads))


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("case", layers.CASES, ids=str)
def test_onnxruntime_fp32(benchmark, run_measured, case, threads):
    _setup(benchmark, case, threads, "onnxruntime", "fp32")
    _record_rate(benchmark, case, run_measured(layers.onnxruntime(case, threads), ROUNDS))


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("case", layers.CASES, ids=str)
def test_numpy_gemm_fp32(benchmark, run_measured, case, threads):
    _setup(benchmark, case, threads, "numpy im2col GEMM", "fp32")
    with blas_threads(threads) as limited:
        benchmark.extra_info["blas_threads_limited"] = limited
        _record_rate(benchmark, case, run_measured(layers.numpy_gemm(case), ROUNDS))


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("case", layers.CASES, ids=str)
def test_openvino_binary(benchmark, run_measured, peak, case, threads):
    if not openvino_peer.available():
        pytest.skip("openvino is not installed (pip install openvino): no OpenVINO baseline")
    _setup(benchmark, case, threads, f"openvino {openvino_peer.version()}", "openvino jit")
    median = run_measured(openvino_layer.openvino(case, threads), ROUNDS)
    best_isa = _core.available_isas()[-1]
    _record_rate(benchmark, case, median, peak(best_isa, threads))
