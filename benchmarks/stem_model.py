#!/usr/bin/env python
"""The float stem as an ONNX model at the session level: what a user who benchmarks a ResNet /
Bi-Real first layer on its own sees. ``Conv 7x7/2 3->64 -> BatchNormalization -> Relu``, with
and without the ``MaxPool 3x3/2`` after it, on a float NCHW 224x224 image, converted with the
default options (fp32, exact) and run through ``InferenceSession.run`` (NCHW in, NCHW out),
against onnxruntime fp32 and OpenVINO f32 (when installed) on the same ONNX.

    python benchmarks/stem_model.py [--threads 1] [--rounds 7] [--calls 20]

The last line compares our whole stem (conv, BatchNorm, ReLU and pool in one pass) with
onnxruntime's model without the pool. Medians over interleaved rounds, batch 1. report.py
runs the same comparison.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import xnorinfer
from xnorinfer import model_file
from xnorinfer.bench import openvino_peer
from xnorinfer.bench.timing import Measurement, interleaved_medians, ort_session, wall
from xnorinfer.bench.timing import warmup_seconds_for
from xnorinfer.onnx import convert

CHANNELS = 64
MODELS = ("without pool", "with pool")
ENGINES = ("xnorinfer", "onnxruntime fp32", "openvino f32")


def stem(rng: np.random.Generator, pool: bool) -> onnx.ModelProto:
    """The stem's ONNX model; y is [1, 64, 112, 112], or [1, 64, 56, 56] with the pool."""
    constants = {"w": rng.standard_normal((CHANNELS, 3, 7, 7)) * 0.1,
                 "gamma": rng.uniform(0.5, 1.5, CHANNELS), "beta": rng.normal(0, 0.1, CHANNELS),
                 "mean": rng.normal(0, 0.1, CHANNELS), "var": rng.uniform(0.5, 1.5, CHANNELS)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[7, 7], strides=[2, 2],
                              pads=[3, 3, 3, 3]),
             helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["n"]),
             helper.make_node("Relu", ["n"], ["r" if pool else "y"])]
    if pool:
        nodes.append(helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=[3, 3],
                                      strides=[2, 2], pads=[1, 1, 1, 1]))
    graph = helper.make_graph(
        nodes, "stem", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in constants.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def contenders(threads: int, folder: Path) -> tuple[dict[tuple[str, str], Measurement], str]:
    """One session run per (model, engine), ONNX files written to ``folder``; and our ISA path."""
    rng = np.random.default_rng(0)
    feed = {"x": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}
    runs: dict[tuple[str, str], Measurement] = {}
    for what in MODELS:
        path = folder / f"stem {what}.onnx"
        onnx.save(stem(rng, what == "with pool"), path)
        ours = xnorinfer.InferenceSession(model_file.dumps(convert(path).graph),
                                          num_threads=threads)
        sessions = {"xnorinfer": ours, "onnxruntime fp32": ort_session(path, threads)}
        if openvino_peer.available():
            sessions["openvino f32"] = openvino_peer.NetworkSession(
                openvino_peer.float_network(str(path)), threads)
        for engine, session in sessions.items():
            runs[what, engine] = wall(lambda s=session: s.run(None, feed))
    return runs, ours.isa


def time_stems(threads: int, rounds: int, calls: int) -> tuple[dict[str, float], str]:
    """Median seconds of each contender, interleaved, keyed "model|engine"; and our ISA path."""
    with tempfile.TemporaryDirectory() as tmp:
        runs, isa = contenders(threads, Path(tmp))
        return interleaved_medians({f"{what}|{engine}": run for (what, engine), run in runs.items()},
                                   rounds, calls, warmup_seconds_for(threads)), isa


def by_model(medians: dict[str, float]) -> dict[str, dict[str, float]]:
    """time_stems' medians as {model: {engine: seconds}}."""
    seconds: dict[str, dict[str, float]] = {what: {} for what in MODELS}
    for key, value in medians.items():
        what, engine = key.split("|")
        seconds[what][engine] = value
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    medians, isa = time_stems(args.threads, args.rounds, args.calls)
    seconds = by_model(medians)
    for what in MODELS:
        ours = seconds[what]["xnorinfer"]
        line = f"stem {what:12s}: xnorinfer {ours * 1e3:6.3f} ms"
        for engine in ENGINES[1:]:
            if engine in seconds[what]:
                theirs = seconds[what][engine]
                line += f"  {engine} {theirs * 1e3:6.3f} ms ({theirs / ours:4.2f}x)"
        print(line)
    conv = seconds["without pool"]["onnxruntime fp32"]
    print(f"our stem with its pool vs onnxruntime's without: "
          f"{conv / seconds['with pool']['xnorinfer']:4.2f}x "
          f"({isa}, {args.threads} thread(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
