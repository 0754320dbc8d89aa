"""End-to-end benchmarks: Bi-Real-Net-18 and XNOR-Net AlexNet at 224x224, batch 1 and 8,
1 and 2 threads; ours on the converted binary network vs onnxruntime fp32 on the float version
and OpenVINO on the binary network (when installed).

One pytest-benchmark group per (network, batch, threads). extra_info holds model file sizes,
peak RSS of ours and onnxruntime (each measured in a child process) and, for ours, the share of
our time in binary ops, float conv/dense layers and other float ops. No timing is asserted; the
networks' conversion and outputs are checked (in ``models.prepare``) before anything is timed.
"""

from __future__ import annotations

import pytest

import models
from layers import THREADS
from xnorinfer.bench import networks as bench_networks
from xnorinfer.bench import openvino_peer
from xnorinfer.bench.profile import engine_node_seconds

ROUNDS = 10
ENGINES = ("xnorinfer", "onnxruntime_fp32", "openvino_binary")


@pytest.fixture(scope="session")
def prepared(tmp_path_factory):
    """``prepared(name)``: the network built, converted and verified, once per session."""
    cache: dict[str, models.PreparedNetwork] = {}

    def get(name: str) -> models.PreparedNetwork:
        if name not in cache:
            cache[name] = models.prepare(name, tmp_path_factory.mktemp(name))
        return cache[name]

    return get


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("batch", models.BATCHES)
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("network", list(bench_networks.NETWORKS))
def test_network(benchmark, run_measured, prepared, network, engine, batch, threads):
    if engine == "openvino_binary" and not openvino_peer.available():
        pytest.skip("openvino is not installed (pip install openvino): no OpenVINO baseline")
    net = prepared(network)
    benchmark.group = f"{net.spec.description}, batch {batch} | {threads} thread(s)"
    benchmark.extra_info.update(engine=engine, network=network, batch=batch, threads=threads,
                                **net.sizes())
    if engine == "xnorinfer":
        measurement = models.ours(net, batch, threads)
        seconds = engine_node_seconds(net.graph, [models.random_input(batch)], threads, 3)
        benchmark.extra_info["time_shares"] = models.time_shares(net.graph, seconds)
        benchmark.extra_info["rss"] = models.peak_rss("xnorinfer", net.xnor, batch, threads)
    elif engine == "onnxruntime_fp32":
        measurement = models.onnxruntime_float(net, batch, threads)
        benchmark.extra_info["rss"] = models.peak_rss("onnxruntime", net.float_onnx, batch,
                                                      threads)
    else:
        measurement = models.openvino_binary(net, batch, threads)
    median = run_measured(measurement, ROUNDS)
    if median:
        benchmark.extra_info["images_per_s"] = batch / median
