"""The other float layers of a binary network alone: ours in fp32 and in the opt-in bf16
(``convert(..., float_layers="bf16")``), against onnxruntime fp32 on a one-node model of the same
layer. Bi-Real-Net-18's 1x1 shortcut convs and classifier, XNOR-Net AlexNet's last classifier
layer; medians of ours' per-node times and of onnxruntime's whole ``run`` (what its user sees),
interleaved as report.py does, 1 thread by default, on our widest ISA path. Before each run of
a classifier, 64 MB are written, so its weights come from memory as they do in a network at
batch 1 (between two runs of the network, every other layer's data goes through the caches).

    python benchmarks/float_layers.py [--threads 1] [--rounds 21]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from xnorinfer import _core, console
from xnorinfer.bench.timing import (Measurement, interleaved_medians, ort_session, wall,
                                    warmup_seconds_for)

PRECISIONS = ("float32", "bf16")
# name, input shape (NHWC, or [N, K]), weight shape (a Conv2d's [O, 1, 1, C] or a Dense's
# [O, K]), whether its weights come from memory
LAYERS = [("Bi-Real 1x1 shortcut 28x28x64->128", [1, 28, 28, 64], (128, 1, 1, 64), False),
          ("Bi-Real 1x1 shortcut 14x14x128->256", [1, 14, 14, 128], (256, 1, 1, 128), False),
          ("Bi-Real 1x1 shortcut 7x7x256->512", [1, 7, 7, 256], (512, 1, 1, 256), False),
          ("Bi-Real classifier 512->1000", [1, 512], (1000, 512), True),
          ("AlexNet fc8 4096->1000", [1, 4096], (1000, 4096), True)]
EVICT_BYTES = 64 << 20
COLUMNS = ["layer", "onnxruntime fp32", "ours fp32", "ours bf16", "ours fp32 vs ORT",
           "bf16 vs fp32", "weights from memory"]


def layer_graph(shape: list[int], weight: np.ndarray, precision: str) -> _core.Graph:
    g = _core.Graph()
    g.add_input("x", shape)
    g.add_constant("w", weight)
    g.add_constant("b", np.zeros(weight.shape[0], np.float32))
    if weight.ndim == 4:
        g.add_node("layer", "Conv2d", ["x", "w", "b"], ["y"],
                   {"kernel_shape": [1, 1], "precision": precision})
    else:
        g.add_node("layer", "Dense", ["x", "w", "b"], ["y"], {"precision": precision})
    g.add_output("y")
    return g


def onnx_layer(shape: list[int], weight: np.ndarray):
    """The same layer as a one-node ONNX model (a Conv on NCHW, or a Gemm)."""
    if weight.ndim == 4:
        x_shape = [shape[0], shape[3], shape[1], shape[2]]
        w = np.ascontiguousarray(weight.transpose(0, 3, 1, 2))  # OHWI -> OIHW
        node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[1, 1])
    else:
        x_shape, w = shape, weight
        node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
    inits = [numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(np.zeros(weight.shape[0], np.float32), "b")]
    graph = helper.make_graph(
        [node], "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def evicting(run: Measurement, buffer: np.ndarray) -> Measurement:
    """``run`` with ``buffer`` written before each call, outside the seconds it returns."""
    def measure() -> float:
        np.add(buffer, 1.0, out=buffer)
        return run()
    return measure


def time_float_layers(threads: int, rounds: int, calls: int = 5) -> tuple[list[dict], str]:
    """Median µs of each layer per contender ("float32" and "bf16": ours, per-node;
    "onnxruntime": its whole run), interleaved as report.py does (on 2 threads after 20 ms of
    untimed calls); and our ISA path."""
    rng = np.random.default_rng(0)
    isa = _core.available_isas()[-1]
    evict = np.zeros(EVICT_BYTES // 4, np.float32)
    rows = []
    for name, shape, weight_shape, cold in LAYERS:
        weight = (rng.standard_normal(weight_shape) * 0.05).astype(np.float32)
        x = rng.standard_normal(shape).astype(np.float32)
        sessions = {p: _core.Session(layer_graph(shape, weight, p), threads, isa)
                    for p in PRECISIONS}
        ort = ort_session(onnx_layer(shape, weight), threads)
        ort_feed = {"x": np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if weight.ndim == 4 else x}
        runs: dict[str, Measurement] = {
            p: (lambda s=s: s.run_profiled([x])[1][0]) for p, s in sessions.items()}
        runs["onnxruntime"] = wall(lambda: ort.run(None, ort_feed))
        if cold:
            runs = {key: evicting(run, evict) for key, run in runs.items()}
        seconds = interleaved_medians(runs, rounds, calls, warmup_seconds_for(threads))
        rows.append({"layer": name, "threads": threads, "weights_from_memory": cold,
                     "us": {key: value * 1e6 for key, value in seconds.items()}})
    return rows, isa


def table_row(row: dict) -> list[str]:
    """A time_float_layers row under COLUMNS."""
    us = row["us"]
    return [row["layer"], f"{us['onnxruntime']:.1f}", f"{us['float32']:.1f}", f"{us['bf16']:.1f}",
            f"{us['onnxruntime'] / us['float32']:.2f}x", f"{us['float32'] / us['bf16']:.2f}x",
            "yes" if row["weights_from_memory"] else "no"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    rows, isa = time_float_layers(args.threads, args.rounds)
    console.table(f"Float layers, {args.threads} thread(s), {isa}, µs", COLUMNS,
                  [table_row(row) for row in rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
