#!/usr/bin/env python
"""One-layer ONNX models at the session level: what a user who benchmarks a single binary layer
sees. Each model is ``Sign(x) -> Conv(±alpha weights)`` on a float NCHW input, converted with
the default options and run through ``InferenceSession.run`` (float NCHW in, float NCHW out:
layout changes, packing and the conv all count), against onnxruntime fp32 on the same ONNX and,
when installed, OpenVINO running it as ``FakeQuantize -> BinaryConvolution -> * alpha``
(``xnorinfer.bench.openvino_peer``: its whole compiled model, its own reorders included).

    python benchmarks/one_layer_models.py                    # 1 thread, sign_zero auto
    python benchmarks/one_layer_models.py --sign-zero plus_one --threads 2

The seven ResNet-18 binary 3x3 shapes (stride 1 and 2), batch 1; medians over interleaved
rounds (each shape's contenders round-robin); prints each speedup and their geometric means.
x is a graph input, so with the default sign_zero="auto" the exact two-plane form runs (a
graph input can hold zeros). report.py runs the same comparison.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import xnorinfer
from xnorinfer import model_file
from xnorinfer.bench import openvino_peer
from xnorinfer.bench.timing import Measurement, interleaved_medians, ort_session, wall
from xnorinfer.bench.timing import warmup_seconds_for
from xnorinfer.onnx import convert

SHAPES = [(56, 64, 64, 1), (28, 128, 128, 1), (14, 256, 256, 1), (7, 512, 512, 1),
          (56, 64, 128, 2), (28, 128, 256, 2), (14, 256, 512, 2)]  # size, cin, cout, stride
OURS, ORT, OPENVINO = "xnorinfer", "onnxruntime fp32", "openvino binary"


def one_layer(size: int, cin: int, cout: int, stride: int, rng: np.random.Generator):
    alpha = rng.uniform(0.5, 1.5, (cout, 1, 1, 1))
    weight = (np.sign(rng.standard_normal((cout, cin, 3, 3))) * alpha).astype(np.float32)
    nodes = [helper.make_node("Sign", ["x"], ["s"]),
             helper.make_node("Conv", ["s", "w"], ["y"], kernel_shape=[3, 3],
                              strides=[stride, stride], pads=[1, 1, 1, 1])]
    graph = helper.make_graph(
        nodes, "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(weight, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def label(size: int, cin: int, cout: int, stride: int) -> str:
    return f"conv {size}x{size}x{cin}->{cout}" + (f" s{stride}" if stride != 1 else "")


def contenders(shape: tuple[int, int, int, int], threads: int, sign_zero: str, folder: Path,
               rng: np.random.Generator) -> tuple[dict[str, Measurement], str]:
    """One session run per engine on the shape's model (written to ``folder``); our ISA path."""
    size, cin = shape[0], shape[1]
    model = one_layer(*shape, rng)
    path = folder / "layer.onnx"
    onnx.save(model, path)
    ours = xnorinfer.InferenceSession(
        model_file.dumps(convert(model, sign_zero=sign_zero).graph), num_threads=threads)
    sessions = {OURS: ours, ORT: ort_session(path, threads)}
    if openvino_peer.available():
        sessions[OPENVINO] = openvino_peer.compile_binary(str(path), 1, threads)[0]
    feed = {"x": rng.standard_normal((1, cin, size, size)).astype(np.float32)}
    return {engine: wall(lambda s=session: s.run(None, feed))
            for engine, session in sessions.items()}, ours.isa


def shape_contenders(threads: int, sign_zero: str = "auto"
                     ) -> Iterator[tuple[str, dict[str, Measurement], str]]:
    """Per shape of SHAPES, in turn: its label, one session run per engine, our ISA path."""
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for shape in SHAPES:
            runs, isa = contenders(shape, threads, sign_zero, Path(tmp), rng)
            yield label(*shape), runs, isa


def time_one_layers(threads: int, rounds: int, calls: int, sign_zero: str = "auto"
                    ) -> tuple[dict[str, dict[str, float]], str]:
    """Median seconds per shape label and engine, each shape's engines interleaved (so both
    see the same minutes of the machine; on 2 threads each contender's timed calls follow
    report.py's 20 ms of untimed ones); and our ISA path."""
    seconds: dict[str, dict[str, float]] = {}
    isa = ""
    for name, runs, isa in shape_contenders(threads, sign_zero):
        seconds[name] = interleaved_medians(runs, rounds, calls, warmup_seconds_for(threads))
    return seconds, isa


def geomean_speedup(seconds: dict[str, dict[str, float]], engine: str) -> float | None:
    """Geometric mean over the shapes of ``engine``'s time over ours (None if it did not run)."""
    ratios = [times[engine] / times[OURS] for times in seconds.values() if engine in times]
    return float(np.exp(np.mean(np.log(ratios)))) if ratios else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sign-zero", default="auto", choices=["auto", "exact", "plus_one"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    seconds, isa = time_one_layers(args.threads, args.rounds, args.calls, args.sign_zero)
    for name, times in seconds.items():
        line = f"{name:22s}: xnorinfer {times[OURS] * 1e6:6.0f} us"
        for engine in (ORT, OPENVINO):
            if engine in times:
                line += (f"  {engine} {times[engine] * 1e6:7.0f} us "
                         f"(speedup {times[engine] / times[OURS]:5.2f}x)")
        print(line)
    for engine in (ORT, OPENVINO):
        geomean = geomean_speedup(seconds, engine)
        if geomean is not None:
            print(f"geomean speedup vs {engine}: {geomean:.2f}x ({isa}, {args.threads} "
                  f"thread(s), sign_zero={args.sign_zero})")
    if not openvino_peer.available():
        print(f"OpenVINO not installed ({openvino_peer.INSTALL_HINT}): no OpenVINO column")
    return 0


if __name__ == "__main__":
    sys.exit(main())
