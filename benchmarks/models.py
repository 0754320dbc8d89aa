"""End-to-end benchmark networks: build, convert, verify, time, and measure memory and size.

``prepare`` builds the binary and float ONNX of a network from :mod:`xnorinfer.bench.networks`,
converts the binary one, asserts that the converter made every intended layer binary, and
checks our outputs (and OpenVINO's, when installed) against onnxruntime on the binary ONNX
before anything is timed. Ours is then timed on the converted model (and on its conversions with
the opt-in reduced-precision layers, REDUCED), onnxruntime fp32 on the float version of the
network, and OpenVINO on the binary network with BinaryConvolution layers (its float layers in
fp32, and in the precision OpenVINO picks by default).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnx

import xnorinfer
from xnorinfer import _core, ir
from xnorinfer.bench import networks as bench_networks
from xnorinfer.bench import openvino_peer
from xnorinfer.bench.check import Agreement, compare_with_onnxruntime
from xnorinfer.bench.timing import Measurement, ort_session, wall

BATCHES = (1, 8)
# The opt-in reduced-precision conversions timed next to the exact one: name -> convert() options.
# "bf16 everywhere" is what OpenVINO runs by default on a CPU with AVX-512 BF16.
REDUCED = {"int8 first layer": {"first_layer": "int8"},
           "int8 first layer, bf16 other float layers": {"first_layer": "int8",
                                                         "float_layers": "bf16"},
           "bf16 everywhere": {"first_layer": "bf16", "float_layers": "bf16"}}
VERIFY_SAMPLES = 4
RSS_CHILD = Path(__file__).with_name("rss_child.py")


@dataclass
class PreparedNetwork:
    """A network ready to time: its files, converted graph and conversion counts."""

    spec: bench_networks.NetworkSpec
    binary_onnx: Path
    float_onnx: Path
    xnor: Path
    graph: ir.Graph
    reduced: dict[str, Path]  # REDUCED name -> the model converted with it
    reduced_costs: dict[str, str]  # its conversion report's note of the whole model's cost

    def sizes(self) -> dict[str, int]:
        """File bytes of the float ONNX, the binary ONNX and our model file."""
        return {"float_onnx_bytes": self.float_onnx.stat().st_size,
                "binary_onnx_bytes": self.binary_onnx.stat().st_size,
                "xnor_bytes": self.xnor.stat().st_size}


def prepare(name: str, workdir: Path, threads: int = 1) -> PreparedNetwork:
    """Build, save and convert ``name``; check layer counts and outputs.

    Raises
    ------
    AssertionError
        A layer meant to be binary stayed float, or our outputs disagree with onnxruntime
        beyond what a Sign input within float rounding of 0 explains.
    """
    spec = bench_networks.NETWORKS[name]
    workdir.mkdir(parents=True, exist_ok=True)
    paths = {binary: workdir / f"{name}_{'binary' if binary else 'float'}.onnx"
             for binary in (True, False)}
    for binary, path in paths.items():
        if not path.exists():
            onnx.save(bench_networks.build(name, binary=binary), path)
    xnor = workdir / f"{name}.xnor"
    result = xnorinfer.convert(paths[True], xnor)
    counts = result.report.layer_counts()
    expected = {"binary": spec.binary_layers, "bwn": 0, "float": spec.float_layers}
    assert counts == expected, f"{name}: converter made {counts}, expected {expected}"
    reduced, costs = {}, {}
    for variant, options in REDUCED.items():
        reduced[variant] = workdir / f"{name}_{variant.replace(' ', '_').replace(',', '')}.xnor"
        notes = xnorinfer.convert(paths[True], reduced[variant], **options).report.notes
        # The last cost measured is of every reduced layer together.
        costs[variant] = next(note for note in reversed(notes) if "max |difference|" in note)
    prepared = PreparedNetwork(spec, paths[True], paths[False], xnor, result.graph, reduced,
                               costs)
    verify(prepared, xnorinfer.InferenceSession(xnor, num_threads=threads), threads)
    if openvino_peer.available():
        model, binary = openvino_peer.binary_network(str(paths[True]), VERIFY_SAMPLES)
        assert binary == spec.binary_layers, f"{name}: OpenVINO got {binary} binary layers"
        verify(prepared, openvino_peer.NetworkSession(model, threads), threads)
    return prepared


def random_input(batch: int, seed: int = 0) -> np.ndarray:
    """N(0, 1) images ``[batch, 3, 224, 224]``."""
    shape = (batch, 3, bench_networks.IMAGE_SIZE, bench_networks.IMAGE_SIZE)
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def verify(prepared: PreparedNetwork, session: Any, threads: int,
           samples: int = VERIFY_SAMPLES) -> Agreement:
    """Check a session's outputs against onnxruntime on the binary ONNX, sample by sample.

    Every sample must be within ``xnorinfer.bench.check.RTOL`` relative, or differ only where one of its
    Sign inputs lies within float rounding of 0 (see :mod:`xnorinfer.bench.check`); at least half
    the samples must be within ``RTOL``.

    Parameters
    ----------
    session : xnorinfer.InferenceSession or openvino_peer.NetworkSession
        Runs the network on a ``[samples, 3, 224, 224]`` input.
    """
    feed = {"input": random_input(samples, seed=1)}
    [agreement] = compare_with_onnxruntime(session, prepared.binary_onnx, feed, threads)
    where = f"{prepared.spec.name} ({type(session).__name__})"
    assert not agreement.unexplained, f"{where}: {agreement.summary()}"
    assert 2 * agreement.within >= agreement.samples, f"{where}: {agreement.summary()}"
    return agreement


def ours(prepared: PreparedNetwork, batch: int, threads: int, variant: str | None = None
         ) -> Measurement:
    """Wall time of one ``InferenceSession.run`` of the converted model (exact, or the REDUCED
    variant named), after batch_mode="auto" has chosen how a batch runs (its first runs of a
    batch shape try the ways)."""
    path = prepared.reduced[variant] if variant else prepared.xnor
    session = xnorinfer.InferenceSession(path, num_threads=threads)
    feed = {"input": random_input(batch)}
    for _ in range(_core.AUTO_TRIAL_RUNS if batch > 1 else 0):
        session.run(None, feed)
    return wall(lambda: session.run(None, feed))


def onnxruntime_float(prepared: PreparedNetwork, batch: int, threads: int) -> Measurement:
    """Wall time of one onnxruntime fp32 run of the float version of the network."""
    session = ort_session(prepared.float_onnx, threads)
    feed = {"input": random_input(batch)}
    return wall(lambda: session.run(None, feed))


def openvino_binary(prepared: PreparedNetwork, batch: int, threads: int,
                    default_precision: bool = False) -> Measurement:
    """Wall time of one OpenVINO run of the binary network with BinaryConvolution layers, its
    float layers in fp32 or in the precision OpenVINO picks by default."""
    model, _ = openvino_peer.binary_network(str(prepared.binary_onnx), batch)
    session = openvino_peer.NetworkSession(model, threads, default_precision)
    feed = {"input": random_input(batch)}
    return wall(lambda: session.run(None, feed))


def time_shares(graph: ir.Graph, node_seconds: Sequence[float]) -> dict[str, float]:
    """Fractions of our summed node time per group: binary ops, float conv/dense, other ops."""
    groups: Counter[str] = Counter()
    for node, seconds in zip(graph.nodes, node_seconds):
        if node.op in ir.BINARY_OPS or node.op in ir.BWN_OPS:
            groups["binary"] += seconds
        elif node.op in ("Conv2d", "Dense"):
            groups["float_conv_dense"] += seconds
        else:
            groups["other_float"] += seconds
    total = sum(groups.values()) or 1.0
    return {key: groups[key] / total for key in ("binary", "float_conv_dense", "other_float")}


def peak_rss(engine: str, model: Path, batch: int, threads: int, runs: int = 3) -> dict[str, float]:
    """Peak resident memory of a fresh process that loads ``model`` and runs it.

    Parameters
    ----------
    engine : {"xnorinfer", "onnxruntime"}
    model : Path
        ``.xnor`` for xnorinfer, ``.onnx`` for onnxruntime.

    Returns
    -------
    dict
        ``after_imports_mb`` (the process before loading the model) and ``peak_mb``.
    """
    command = [sys.executable, str(RSS_CHILD), engine, str(model), str(batch), str(threads),
               str(runs)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])
