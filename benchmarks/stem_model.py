#!/usr/bin/env python
"""The float stem as an ONNX model at the session level: what a user who benchmarks a ResNet /
Bi-Real first layer on its own sees. ``Conv 7x7/2 3->64 -> BatchNormalization -> Relu``, with
and without the ``MaxPool 3x3/2`` after it, on a float NCHW 224x224 image, converted with the
default options (fp32, exact) and run through ``InferenceSession.run`` (NCHW in, NCHW out),
against onnxruntime fp32 on the same ONNX.

    python benchmarks/stem_model.py [--threads 1] [--rounds 7] [--calls 20]

The last line compares our whole stem (conv, BatchNorm, ReLU and pool in one pass) with
onnxruntime's model without the pool. Medians over interleaved rounds, batch 1.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import xnorinfer
from xnorinfer import model_file
from xnorinfer.bench.timing import interleaved_medians, wall, warmup_seconds_for
from xnorinfer.onnx import convert

CHANNELS = 64


def stem(rng: np.random.Generator, pool: bool):
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    feed = {"x": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}
    runs, isa = {}, None
    for pool in (False, True):
        model = stem(rng, pool)
        what = "stem with pool" if pool else "stem without pool"
        theirs = ort.InferenceSession(model.SerializeToString(), options,
                                      providers=["CPUExecutionProvider"])
        ours = xnorinfer.InferenceSession(model_file.dumps(convert(model).graph),
                                          num_threads=args.threads)
        isa = ours.isa
        runs[f"onnxruntime, {what}"] = wall(lambda s=theirs: s.run(None, feed))
        runs[f"xnorinfer, {what}"] = wall(lambda s=ours: s.run(None, feed))
    medians = interleaved_medians(runs, args.rounds, args.calls, warmup_seconds_for(args.threads))
    for what in ("stem without pool", "stem with pool"):
        theirs, ours = medians[f"onnxruntime, {what}"], medians[f"xnorinfer, {what}"]
        print(f"{what:18s}: onnxruntime {theirs * 1e3:6.3f} ms  xnorinfer {ours * 1e3:6.3f} ms  "
              f"speedup {theirs / ours:4.2f}x")
    conv, ours = medians["onnxruntime, stem without pool"], medians["xnorinfer, stem with pool"]
    print(f"our stem with its pool vs onnxruntime's without: {conv / ours:4.2f}x "
          f"({isa}, {args.threads} thread(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
