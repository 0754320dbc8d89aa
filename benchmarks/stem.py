"""The first layer alone: a ResNet / Bi-Real stem (7x7/2 conv, 3->64, ReLU, at 224x224) in
fp32, int8 and bf16, as the conv only, with the 3x3/2 MaxPool fused into it, and with the
MaxPool as its own node; medians of the engine's per-node times, interleaved, 1 thread by
default, on the widest ISA path.

    python benchmarks/stem.py [--threads 1] [--rounds 21]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from xnorinfer import _core, console, peak_macs_per_second

PRECISIONS = ("float32", "int8", "bf16")
MACS = 112 * 112 * 64 * 7 * 7 * 3  # the conv's multiply-adds (padded taps included)
POOL = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "dilations": [1, 1],
        "ceil_mode": 0}


def stem_graph(weight: np.ndarray, precision: str, pool: str) -> _core.Graph:
    """pool: "none", "fused" (pool_* attributes) or "node" (a MaxPool node after the conv)."""
    g = _core.Graph()
    g.add_input("x", [-1, 224, 224, 3])
    g.add_constant("w", weight)
    g.add_constant("b", np.zeros(weight.shape[0], np.float32))
    attrs = {"kernel_shape": [7, 7], "strides": [2, 2], "pads": [3, 3, 3, 3],
             "precision": precision, "activation": "relu"}
    if pool == "fused":
        attrs.update({f"pool_{k}": v for k, v in POOL.items()})
    g.add_node("stem", "Conv2d", ["x", "w", "b"], ["c" if pool == "node" else "y"], attrs)
    if pool == "node":
        g.add_node("pool", "MaxPool", ["c"], ["y"], POOL)
    g.add_output("y")
    return g


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((64, 7, 7, 3)).astype(np.float32)
    x = [rng.standard_normal((1, 224, 224, 3)).astype(np.float32)]
    isa = _core.available_isas()[-1]
    sessions = {(p, pool): _core.Session(stem_graph(weight, p, pool), args.threads, isa)
                for p in PRECISIONS for pool in ("none", "fused", "node")}
    times: dict[tuple[str, str], list[float]] = {key: [] for key in sessions}
    for _ in range(args.rounds):
        for key, session in sessions.items():
            times[key].append(np.median([sum(session.run_profiled(x)[1]) for _ in range(5)]))
    fma_peak = peak_macs_per_second("float", isa, args.threads)
    rows = []
    for p in PRECISIONS:
        ms = {pool: np.median(times[p, pool]) * 1e3 for pool in ("none", "fused", "node")}
        rate = MACS / (ms["none"] * 1e-3)
        rows.append([p, f"{ms['none']:.3f}", f"{ms['fused']:.3f}", f"{ms['node']:.3f}",
                     f"{ms['fused'] - ms['none']:.3f}", f"{ms['node'] - ms['none']:.3f}",
                     f"{rate / 1e9:.1f}" + (f" ({rate / fma_peak:.0%})"
                                            if fma_peak and p == "float32" else "")])
    peak = f"FMA peak {fma_peak / 1e9:.1f} GFMA/s" if fma_peak else "no FMA peak loop"
    console.table(f"Stem 7x7/2 3->64 + ReLU at 224x224, {args.threads} thread(s), {isa}, ms; "
                  f"{peak}",
                  ["precision", "conv", "conv + fused pool", "conv, then MaxPool node",
                   "fused pool costs", "pool node costs",
                   "conv: multiply-adds/s, G (fp32: of FMA peak)"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
