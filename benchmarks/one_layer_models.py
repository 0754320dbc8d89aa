#!/usr/bin/env python
"""One-layer ONNX models at the session level: what a user who benchmarks a single binary layer
sees. Each model is ``Sign(x) -> Conv(±alpha weights)`` on a float NCHW input, converted with
the default options and run through ``InferenceSession.run`` (float NCHW in, float NCHW out:
layout changes, packing and the conv all count), against onnxruntime fp32 on the same ONNX.

    python benchmarks/one_layer_models.py                    # 1 thread, sign_zero auto
    python benchmarks/one_layer_models.py --sign-zero plus_one --threads 2

The seven ResNet-18 binary 3x3 shapes (stride 1 and 2), batch 1; medians over interleaved
rounds; prints each speedup and their geometric mean. x is a graph input, so with the default
sign_zero="auto" the exact two-plane form runs (a graph input can hold zeros).
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

SHAPES = [(56, 64, 64, 1), (28, 128, 128, 1), (14, 256, 256, 1), (7, 512, 512, 1),
          (56, 64, 128, 2), (28, 128, 256, 2), (14, 256, 512, 2)]  # size, cin, cout, stride


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sign-zero", default="auto", choices=["auto", "exact", "plus_one"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    speedups = []
    isa = None
    for size, cin, cout, stride in SHAPES:
        model = one_layer(size, cin, cout, stride, rng)
        theirs = ort.InferenceSession(model.SerializeToString(), options,
                                      providers=["CPUExecutionProvider"])
        ours = xnorinfer.InferenceSession(
            model_file.dumps(convert(model, sign_zero=args.sign_zero).graph),
            num_threads=args.threads)
        isa = ours.isa
        feed = {"x": rng.standard_normal((1, cin, size, size)).astype(np.float32)}
        # Interleaved, so both see the same minutes of the machine; on 2 threads each
        # contender's timed calls follow 20 ms of untimed ones, as in report.py (the other
        # engine's workers spin on after its runs, and the host takes an idle vCPU away).
        medians = interleaved_medians(
            {"onnxruntime": wall(lambda: theirs.run(None, feed)),
             "xnorinfer": wall(lambda: ours.run(None, feed))},
            args.rounds, args.calls, warmup_seconds_for(args.threads))
        t_ort, t_ours = medians["onnxruntime"], medians["xnorinfer"]
        speedups.append(t_ort / t_ours)
        print(f"conv {size}x{size}x{cin}->{cout} s{stride}: onnxruntime {t_ort * 1e6:7.0f} us  "
              f"xnorinfer {t_ours * 1e6:6.0f} us  speedup {t_ort / t_ours:5.1f}x")
    geomean = float(np.exp(np.mean(np.log(speedups))))
    print(f"geomean speedup {geomean:.2f}x ({isa}, {args.threads} thread(s), "
          f"sign_zero={args.sign_zero})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
