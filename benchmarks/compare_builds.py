#!/usr/bin/env python
"""End-to-end latency of the built-in networks under two xnorinfer builds, in alternating
rounds, to show that a change costs nothing (or what it costs).

    python benchmarks/compare_builds.py --other /path/to/venv/bin/python
    python benchmarks/compare_builds.py --sign-zero auto exact     # one build, two settings

Each round runs one child process per contender (build x sign_zero setting), which converts
Bi-Real-18 and XNOR-Net AlexNet (224x224, batch 1) with its own converter and times 100 runs
at 1 thread after a warm-up. Prints the median over rounds of each contender's median, in ms,
with the ISA path and the number of ternary (exact Sign(0)) packs each graph has.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

NETWORKS = ("bireal18", "xnor_alexnet")

# Run in the child: the contender's own xnorinfer converts and times each network.
CHILD = r"""
import json, sys, time
import numpy as np
import xnorinfer
from xnorinfer import model_file
from xnorinfer.bench import networks as bench_networks
from xnorinfer.onnx import convert
sign_zero, runs = sys.argv[1], int(sys.argv[2])
options = {} if sign_zero == "default" else {"sign_zero": sign_zero}
out = {}
for name in sys.argv[3:]:
    graph = convert(bench_networks.build(name, binary=True), **options).graph
    packs = [n.attrs.get("output", "bits") for n in graph.nodes if n.op == "BinarizePack"]
    sess = xnorinfer.InferenceSession(model_file.dumps(graph), num_threads=1)
    arg = sess.get_inputs()[0]
    shape = [1 if isinstance(d, str) else d for d in arg.shape]
    feed = {arg.name: np.random.default_rng(0).standard_normal(shape).astype(np.float32)}
    for _ in range(20):
        sess.run(None, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - start)
    out[name] = [float(np.median(times)), packs.count("ternary"), sess.isa]
out["package"] = xnorinfer.__file__
print(json.dumps(out))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", help="python of a second build (e.g. the previous commit's)")
    parser.add_argument("--sign-zero", nargs="+", default=["default"],
                        help="sign_zero settings to compare (default: the converter's default; "
                             "'default' also works with builds that predate the option)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    contenders = [(python, setting) for python in [sys.executable, args.other] if python
                  for setting in args.sign_zero]
    results: dict[tuple, list] = {c: [] for c in contenders}
    for _ in range(args.rounds):
        for python, setting in contenders:
            child = subprocess.run([python, "-c", CHILD, setting, str(args.runs), *NETWORKS],
                                   check=True, capture_output=True, text=True)
            results[(python, setting)].append(json.loads(child.stdout.splitlines()[-1]))
        packages = {results[(python, args.sign_zero[0])][0]["package"]
                    for python in (sys.executable, args.other) if python}
        if args.other and len(packages) == 1:
            print(f"both pythons import xnorinfer from {packages.pop()}: the comparison would "
                  "time one build twice (an editable install seen through a venv's "
                  "--system-site-packages shadows the venv's own build)", file=sys.stderr)
            return 1
    print(f"{'build':40} {'sign_zero':9} " + " ".join(f"{n + ' ms':>16}" for n in NETWORKS))
    for (python, setting), rounds in results.items():
        cells = []
        for name in NETWORKS:
            median = statistics.median(r[name][0] for r in rounds) * 1e3
            _, ternary, isa = rounds[0][name]
            cells.append(f"{median:7.2f} {isa} t{ternary}".rjust(16))
        print(f"{python[-40:]:40} {setting:9} " + " ".join(cells))
    print("(tN: ternary packs in the graph)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
