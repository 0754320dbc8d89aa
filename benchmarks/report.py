#!/usr/bin/env python
"""The benchmark report: every per-layer and end-to-end comparison in one process, interleaved.

    python benchmarks/report.py                 # full run (several minutes)
    python benchmarks/report.py --quick         # a short run while developing
    python benchmarks/report.py --render results/latest.json   # tables again, no run

For each layer shape and thread count, every contender (ours on each ISA path, onnxruntime fp32,
numpy's GEMM, OpenVINO's BinaryConvolution when installed) runs round-robin, so ratios come from
the same minutes of the same machine; times are medians over all rounds. The XOR-popcount peak is
measured before and after the layers (the higher is kept), and the FMA peak once (the float
layers' ceiling: the first layer, float convs, onnxruntime). Then each network is built, converted
and verified, and ours (exact, and with the opt-in reduced-precision layers), onnxruntime fp32
(on the float version) and OpenVINO (on the binary network, when installed, its float layers in
f32 and in its default precision) are timed the same way, and so is the float stem as an ONNX
model of its own (stem_model.py: ours, onnxruntime and OpenVINO, with and without its MaxPool),
each 3x3 layer as a one-layer ONNX model, float in and out (one_layer_models.py: the same
three engines, each through its session), and the networks' other float layers (1x1 shortcut
convs, classifiers) against onnxruntime (float_layers.py).
A multi-thread row also times ours on one thread, and a batch-8 row ours at batch 1, in the
same rounds, so the scaling ratios come from one interleaved set (rows are timed minutes apart,
and this host's speed drifts that much). A multi-thread row is for idle cores:
the peak loop runs just before and after it, and while it ran below BUSY_SCALING of its
threads-times-1-thread rate, the row is timed again (up to IDLE_ATTEMPTS times; rows that never
had idle cores are marked).

Prints rich tables and writes ``results/latest.json`` (everything) and ``results/latest.md``
(the tables, for the README) next to this script.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import float_layers
import layers
import models
import one_layer_models
import openvino_layer
import stem_model
from xnorinfer import _core, console, peak_macs_per_second
from xnorinfer.bench import networks as bench_networks
from xnorinfer.bench import openvino_peer
from xnorinfer.bench.profile import engine_node_seconds
from xnorinfer.bench.timing import (blas_threads, interleaved_medians, machine_info,
                                    warmup_seconds_for)

RESULTS = Path(__file__).with_name("results")
MB = 1024 * 1024
# The peak loop on N threads below this fraction of N times its 1-thread rate means busy cores.
BUSY_SCALING = 0.8
# A multi-thread row is timed again, up to this many times in all, while the peak loop just
# before or just after it says the cores were busy (the targets are for idle cores).
IDLE_ATTEMPTS = 3
IDLE_CHECK_SECONDS = 0.1
Timed = TypeVar("Timed")  # what a row's timing returns: medians, or a table's rows


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.render:
        results = json.loads(args.render.read_text())
    else:
        results = run_all(args)
    sections = _tables(results)
    for title, columns, rows in sections:
        console.table(title, columns, rows)
    for line in _reduced_costs(results):
        console.out(line)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "latest.md").write_text(_markdown(results, sections))
    console.info(f"wrote {args.out / 'latest.json'} and {args.out / 'latest.md'}")
    return 0


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmarks the arguments select; returns the results (as written to JSON)."""
    if args.quick:
        args.repeats, args.calls, args.network_calls, args.batches = 2, 2, 1, [1]
    results: dict[str, Any] = {
        "machine": machine_info(), "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "render")},
        "peaks": [], "layers": [], "models": [], "stem": [], "one_layer": [],
        "float_layers": []}
    console.info(f"{results['machine']['cpu']}; ISA paths {_core.available_isas()}; "
                 f"threads {args.threads}; {args.repeats} rounds")
    if not args.skip_layers:
        results["peaks"], results["layers"] = run_layers(args.threads, args.repeats, args.calls)
    if not args.skip_models:
        results["models"] = run_models(args.networks, args.batches, args.threads, args.repeats,
                                       args.network_calls)
    if not args.skip_stem:
        results["stem"] = run_stem(args.threads, args.repeats, args.calls)
    if not args.skip_one_layer:
        results["one_layer"] = run_one_layer(args.threads, args.repeats, args.calls)
    if not args.skip_float_layers:
        results["float_layers"] = run_float_layers(args.threads, args.repeats)
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--calls", type=int, default=5,
                        help="timed calls per contender and round, per layer (default 5)")
    parser.add_argument("--network-calls", type=int, default=3,
                        help="timed calls per contender and round, per network (default 3)")
    parser.add_argument("--threads", type=int, nargs="+", default=list(layers.THREADS))
    parser.add_argument("--batches", type=int, nargs="+", default=list(models.BATCHES))
    parser.add_argument("--networks", nargs="+", default=list(bench_networks.NETWORKS),
                        choices=list(bench_networks.NETWORKS))
    parser.add_argument("--skip-layers", action="store_true")
    parser.add_argument("--skip-models", action="store_true")
    parser.add_argument("--skip-stem", action="store_true")
    parser.add_argument("--skip-one-layer", action="store_true")
    parser.add_argument("--skip-float-layers", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="2 rounds of 2 calls, batch 1 only: a smoke run, not a result")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="run nothing: print and write the tables of a results JSON file")
    return parser


# ------------------------------------------------------------------------------ running


def run_layers(threads_list: Sequence[int], repeats: int, calls: int
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Time every layer case with every contender; returns (peaks, layer rows)."""
    isas = list(_core.available_isas())
    peaks, rows = [], []
    for threads in threads_list:
        with blas_threads(threads):
            before = {isa: peak_macs_per_second("binary", isa, threads) for isa in isas}
            for case in layers.CASES:
                console.info(f"layer {case}, {threads} thread(s)")
                contenders = {f"xnorinfer {isa}": layers.ours(case, isa, threads) for isa in isas}
                contenders["onnxruntime fp32"] = layers.onnxruntime(case, threads)
                contenders["numpy GEMM fp32"] = layers.numpy_gemm(case)
                if threads > 1:  # the scaling from the same interleaved rounds
                    contenders[f"xnorinfer {isas[-1]} 1 thread"] = layers.ours(case, isas[-1], 1)
                if openvino_peer.available():
                    contenders["openvino binary"] = openvino_layer.openvino(case, threads)
                seconds, idle = _timed_when_idle(lambda: interleaved_medians(
                    contenders, repeats, calls, warmup_seconds_for(threads)), threads)
                rows.append({"layer": str(case), "threads": threads, "macs": case.macs,
                             "valid_macs": case.valid_macs, "seconds": seconds, **idle})
            after = {isa: peak_macs_per_second("binary", isa, threads) for isa in isas}
        for isa in isas:
            if before[isa]:
                peaks.append({"isa": isa, "threads": threads,
                              "macs_per_s": max(before[isa], after[isa]),
                              "min_macs_per_s": min(before[isa], after[isa]),
                              "fma_per_s": peak_macs_per_second("float", isa, threads)})
    return peaks, rows


def run_models(networks: Sequence[str], batches: Sequence[int], threads_list: Sequence[int],
               repeats: int, calls: int) -> list[dict[str, Any]]:
    """Build, convert, verify and time every network; returns one row per (net, batch, threads)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in networks:
            console.info(f"building, converting and verifying {name}")
            net = models.prepare(name, Path(tmp) / name)
            for threads in threads_list:
                for batch in batches:
                    console.info(f"{name}, batch {batch}, {threads} thread(s)")
                    rows.append(_model_row(net, batch, threads, repeats, calls))
    return rows


def _model_row(net: models.PreparedNetwork, batch: int, threads: int, repeats: int,
               calls: int) -> dict[str, Any]:
    contenders = {"xnorinfer": models.ours(net, batch, threads)}
    for variant in models.REDUCED:
        contenders[f"xnorinfer {variant}"] = models.ours(net, batch, threads, variant)
    contenders["onnxruntime fp32"] = models.onnxruntime_float(net, batch, threads)
    # The batch's and the threads' gains from the same interleaved rounds, not across rows.
    if batch > 1:
        contenders["xnorinfer batch 1"] = models.ours(net, 1, threads)
    if threads > 1:
        contenders["xnorinfer 1 thread"] = models.ours(net, batch, 1)
    if openvino_peer.available():
        contenders["openvino binary"] = models.openvino_binary(net, batch, threads)
        contenders["openvino default precision"] = models.openvino_binary(net, batch, threads,
                                                                          default_precision=True)
    seconds, idle = _timed_when_idle(
        lambda: interleaved_medians(contenders, repeats, calls, warmup_seconds_for(threads)), threads)
    node_seconds = engine_node_seconds(net.graph, [models.random_input(batch)], threads, repeats)
    rss = {"xnorinfer": models.peak_rss("xnorinfer", net.xnor, batch, threads),
           "onnxruntime fp32": models.peak_rss("onnxruntime", net.float_onnx, batch, threads)}
    return {"network": net.spec.name, "description": net.spec.description, "batch": batch,
            "threads": threads, "seconds": seconds, **idle,
            "time_shares": models.time_shares(net.graph, node_seconds), "rss": rss,
            "sizes": net.sizes(), "reduced_costs": net.reduced_costs,
            "openvino_default_precision": openvino_peer.default_precision()}


def run_stem(threads_list: Sequence[int], repeats: int, calls: int) -> list[dict[str, Any]]:
    """The stem as an ONNX model, with and without its pool, per thread count."""
    rows = []
    for threads in threads_list:
        console.info(f"the float stem as a model, {threads} thread(s)")
        isa = []

        def timed() -> dict[str, float]:
            medians, path = stem_model.time_stems(threads, repeats, calls)
            isa.append(path)
            return medians

        medians, idle = _timed_when_idle(timed, threads)
        rows.append({"threads": threads, "isa": isa[0], "seconds": stem_model.by_model(medians),
                     **idle})
    return rows


def run_one_layer(threads_list: Sequence[int], repeats: int, calls: int
                  ) -> list[dict[str, Any]]:
    """Each 3x3 layer as a one-layer ONNX model through each engine's session, per thread
    count; the converter's defaults (sign_zero "auto": the exact Sign(0) form for a graph
    input)."""
    rows = []
    for threads in threads_list:
        for name, runs, isa in one_layer_models.shape_contenders(threads):
            console.info(f"one-layer model {name}, {threads} thread(s)")
            seconds, idle = _timed_when_idle(lambda: interleaved_medians(
                runs, repeats, calls, warmup_seconds_for(threads)), threads)
            rows.append({"layer": name, "threads": threads, "isa": isa, "seconds": seconds,
                         **idle})
    return rows


def run_float_layers(threads_list: Sequence[int], repeats: int) -> list[dict[str, Any]]:
    """The networks' float 1x1 convs and classifiers, ours (fp32, bf16) against onnxruntime,
    per thread count."""
    rows = []
    for threads in threads_list:
        console.info(f"float layers, {threads} thread(s)")

        def timed() -> list[dict[str, Any]]:
            return float_layers.time_float_layers(threads, repeats)[0]

        layer_rows, idle = _timed_when_idle(timed, threads)
        rows += [{**row, **idle} for row in layer_rows]
    return rows


def _timed_when_idle(timed: Callable[[], Timed], threads: int) -> tuple[Timed, dict[str, Any]]:
    """``timed()``, run again (up to IDLE_ATTEMPTS times in all) while the cores were busy.

    On more than one thread, the XOR-popcount peak loop runs just before and just after; its
    lower rate over ``threads`` times the 1-thread rate is the row's ``idle_scaling`` (about 1
    on idle cores). The first attempt at BUSY_SCALING or more is kept, else the one that came
    closest. Every contender of a row is timed in the same attempt, so the choice favours none.
    """
    if threads == 1:
        return timed(), {}
    best: tuple[float, Timed, int] | None = None
    for attempt in range(1, IDLE_ATTEMPTS + 1):
        before = _idle_scaling(threads)
        seconds = timed()
        scaling = min(before, _idle_scaling(threads))
        if best is None or scaling > best[0]:
            best = (scaling, seconds, attempt)
        if scaling >= BUSY_SCALING:
            break
        console.info(f"  the peak loop ran {scaling:.2f}x of {threads} threads' rate: busy "
                     f"cores, {'timing again' if attempt < IDLE_ATTEMPTS else 'keeping the best'}")
    scaling, seconds, attempt = best
    return seconds, {"idle_scaling": scaling, "attempt": attempt}



@functools.lru_cache(maxsize=None)
def _one_thread_peak(isa: str) -> float:
    return peak_macs_per_second("binary", isa, 1, seconds=IDLE_CHECK_SECONDS)


def _idle_scaling(threads: int) -> float:
    """The peak loop's rate on ``threads`` threads over ``threads`` times its 1-thread rate."""
    isa = _core.available_isas()[-1]
    many = peak_macs_per_second("binary", isa, threads, seconds=IDLE_CHECK_SECONDS)
    return many / (threads * _one_thread_peak(isa))


# ------------------------------------------------------------------------------ tables


def _tables(results: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    sections = []
    peaks = {(p["isa"], p["threads"]): p["macs_per_s"] for p in results["peaks"]}
    fma_peaks = {(p["isa"], p["threads"]): p.get("fma_per_s") for p in results["peaks"]}
    low_peaks = {(p["isa"], p["threads"]): p.get("min_macs_per_s", p["macs_per_s"])
                 for p in results["peaks"]}
    isa = results["machine"]["isa_available"][-1]
    for threads in sorted({row["threads"] for row in results["layers"]}):
        rows = [r for r in results["layers"] if r["threads"] == threads]
        title, columns, table = _layer_table(rows, threads, isa, peaks.get((isa, threads)),
                                             fma_peaks.get((isa, threads)))
        # Rows checked one by one (idle_scaling) need no warning from the section's peaks.
        checked = all(r.get("idle_scaling") is not None for r in rows)
        warning = "" if checked else _busy_warning(low_peaks, isa, threads)
        sections.append((title + warning, columns, table))
    if results["models"]:
        sections.append(_model_table(results["models"]))
        sections.append(_size_table(results["models"]))
    if results.get("stem"):
        sections.append(_stem_table(results["stem"]))
    if results.get("one_layer"):
        sections.append(_one_layer_table(results["one_layer"]))
    if results.get("float_layers"):
        sections.append(_float_layer_table(results["float_layers"], isa))
    return sections


def _layer_table(rows: list[dict[str, Any]], threads: int, isa: str, peak: float | None,
                 fma_peak: float | None = None) -> tuple[str, list[str], list[list[str]]]:
    """One row per layer; ratios, GMAC/s and % of peak are of ours on the widest ISA path,
    the peak counted on all MACs and on those of taps inside the image (what is left when
    padded taps are skipped, as ours and OpenVINO's kernels do); on more threads, its speedup
    over its 1-thread run in the same rounds."""
    contenders = list(rows[0]["seconds"])
    ours = f"xnorinfer {isa}"
    one_thread = f"{ours} 1 thread"
    columns = ["layer"] + [f"{c} µs" for c in contenders] + [
        f"{isa}: speedup vs ORT", "vs OpenVINO", "GMAC/s", "% of peak",
        "% of peak, valid taps"] + (["vs 1 thread"] if one_thread in contenders else [])
    table = []
    for row in rows:
        s = row["seconds"]
        rate = row["macs"] / s[ours]
        valid_rate = row.get("valid_macs", row["macs"]) / s[ours]
        cells = [f"{s[c] * 1e6:.1f}" for c in contenders]
        table.append([row["layer"] + _busy_mark(row)] + cells + [
            f"{s['onnxruntime fp32'] / s[ours]:.1f}x",
            f"{s['openvino binary'] / s[ours]:.2f}x" if "openvino binary" in s else "-",
            f"{rate / 1e9:.0f}", f"{rate / peak:.0%}" if peak else "-",
            f"{valid_rate / peak:.0%}" if peak else "-"]
            + ([f"{s[one_thread] / s[ours]:.2f}x"] if one_thread in contenders else []))
    title = (f"Binary layers, batch 1, {threads} thread(s): ours = the binary node alone "
             f"(packed input to float output); {isa} XOR-popcount peak "
             f"{f'{peak / 1e9:.0f} GMAC/s' if peak else 'n/a'}, FMA peak "
             f"{f'{fma_peak / 1e9:.0f} GFMA/s' if fma_peak else 'n/a'}")
    return title + _idle_note(rows, threads), columns, table


def _busy_mark(row: dict[str, Any]) -> str:
    """" (cores busy)" after a multi-thread row whose peak-loop check never found idle cores."""
    scaling = row.get("idle_scaling")
    return f" (cores busy: {scaling:.2f})" if scaling is not None and scaling < BUSY_SCALING else ""


def _idle_note(rows: list[dict[str, Any]], threads: int) -> str:
    """How the multi-thread rows were kept: attempts, and the rows that never had idle cores."""
    checked = [r for r in rows if r.get("idle_scaling") is not None]
    if threads == 1 or not checked:
        return ""
    again = sum(r["attempt"] > 1 for r in checked)
    busy = sum(r["idle_scaling"] < BUSY_SCALING for r in checked)
    return (f". Each row's contenders ran while the peak loop, just before and after, ran at "
            f"{BUSY_SCALING:.0%} or more of {threads} times its 1-thread rate (idle cores), else "
            f"again, up to {IDLE_ATTEMPTS} times: {again} of {len(checked)} rows needed another "
            f"try" + (f", {busy} never had idle cores (marked)" if busy else ""))


def _busy_warning(peaks: dict[tuple[str, int], float], isa: str, threads: int) -> str:
    """A warning for the title when the peak loop (its slower run, before or after the layers)
    did not scale with threads: other work had the cores. For results of runs before the rows
    were checked one by one."""
    one, many = peaks.get((isa, 1)), peaks.get((isa, threads))
    if threads == 1 or not one or not many or many >= BUSY_SCALING * threads * one:
        return ""
    return (f". WARNING: the peak loop ran only {many / one:.2f}x faster on {threads} threads "
            f"than on 1: other work had the cores, so these numbers are not meaningful")


def _model_table(rows: list[dict[str, Any]]) -> tuple[str, list[str], list[list[str]]]:
    default_precision = next((r["openvino_default_precision"] for r in rows
                              if r.get("openvino_default_precision")), "-")
    columns = ["network", "batch", "threads", "ours ms", "ORT fp32 ms (float net)", "speedup",
               "OpenVINO binary ms", "vs OpenVINO",
               *(f"ours, {v}: ms (vs OpenVINO)" for v in models.REDUCED),
               f"OpenVINO, its default precision ({default_precision}) ms",
               "ours, bf16 everywhere, vs it",
               "ours images/s", "ours images/s vs batch 1", "ours vs 1 thread",
               "ours: binary / float conv+dense / other", "peak RSS ours MB", "peak RSS ORT MB"]
    table = []
    for row in rows:
        s, shares, rss = row["seconds"], row["time_shares"], row["rss"]
        ours, ov = s["xnorinfer"], s.get("openvino binary")
        reduced = [s.get(f"xnorinfer {v}") for v in models.REDUCED]
        ov_default, ours_bf16 = (s.get("openvino default precision"),
                                 s.get("xnorinfer bf16 everywhere"))
        table.append([
            row["description"] + _busy_mark(row), str(row["batch"]), str(row["threads"]),
            f"{ours * 1e3:.2f}",
            f"{s['onnxruntime fp32'] * 1e3:.2f}", f"{s['onnxruntime fp32'] / ours:.2f}x",
            f"{ov * 1e3:.2f}" if ov else "-", f"{ov / ours:.2f}x" if ov else "-",
            *(f"{t * 1e3:.2f} ({ov / t:.2f}x)" if t and ov else f"{t * 1e3:.2f}" if t else "-"
              for t in reduced),
            f"{ov_default * 1e3:.2f}" if ov_default else "-",
            f"{ov_default / ours_bf16:.2f}x" if ov_default and ours_bf16 else "-",
            f"{row['batch'] / ours:.0f}",
            f"{s['xnorinfer batch 1'] * row['batch'] / ours:.2f}x" if "xnorinfer batch 1" in s
            else "-",
            f"{s['xnorinfer 1 thread'] / ours:.2f}x" if "xnorinfer 1 thread" in s else "-",
            " / ".join(f"{shares[k]:.0%}" for k in ("binary", "float_conv_dense", "other_float")),
            f"{rss['xnorinfer']['peak_mb']:.0f}", f"{rss['onnxruntime fp32']['peak_mb']:.0f}"])
    threads = max(r["threads"] for r in rows)
    return ("End to end, 224x224: ours on the converted binary network vs onnxruntime fp32 on "
            "the float version (same architecture) and OpenVINO on the binary network; ours "
            "against its own batch-1 and 1-thread runs timed in the same rounds"
            + _idle_note([r for r in rows if r["threads"] > 1], threads), columns, table)


def _stem_table(rows: list[dict[str, Any]]) -> tuple[str, list[str], list[list[str]]]:
    table = []
    for row in rows:
        seconds = row["seconds"]
        for what in stem_model.MODELS:
            times = seconds[what]
            ours, ort = times["xnorinfer"], times["onnxruntime fp32"]
            openvino = times.get("openvino f32")
            table.append([what, str(row["threads"]), f"{ours * 1e3:.3f}", f"{ort * 1e3:.3f}",
                          f"{ort / ours:.2f}x", f"{openvino * 1e3:.3f}" if openvino else "-",
                          f"{openvino / ours:.2f}x" if openvino else "-"])
        conv = seconds["without pool"]["onnxruntime fp32"]
        table.append([f"ours with pool vs onnxruntime without{_busy_mark(row)}",
                      str(row["threads"]), f"{seconds['with pool']['xnorinfer'] * 1e3:.3f}",
                      f"{conv * 1e3:.3f}", f"{conv / seconds['with pool']['xnorinfer']:.2f}x",
                      "-", "-"])
    title = ("Float stem as an ONNX model of its own: Conv 7x7/2 3->64 + BatchNorm + ReLU, "
             "without and with the MaxPool 3x3/2, 224x224, batch 1, NCHW in and out, through "
             f"each engine's session run (ours exact fp32, {rows[0]['isa']} kernels); "
             f"`python benchmarks/stem_model.py`{_idle_note(rows, max(r['threads'] for r in rows))}")
    return title, ["stem model", "threads", "ours ms", "onnxruntime fp32 ms", "speedup",
                   "OpenVINO f32 ms", "vs OpenVINO"], table


def _one_layer_table(rows: list[dict[str, Any]]) -> tuple[str, list[str], list[list[str]]]:
    ours_key, ort_key, ov_key = (one_layer_models.OURS, one_layer_models.ORT,
                                 one_layer_models.OPENVINO)
    table = []
    for threads in sorted({row["threads"] for row in rows}):
        shown = [row for row in rows if row["threads"] == threads]
        for row in shown:
            times = row["seconds"]
            ours, ort, openvino = times[ours_key], times[ort_key], times.get(ov_key)
            table.append([row["layer"] + _busy_mark(row), str(threads), f"{ours * 1e6:.0f}",
                          f"{ort * 1e6:.0f}", f"{ort / ours:.2f}x",
                          f"{openvino * 1e6:.0f}" if openvino else "-",
                          f"{openvino / ours:.2f}x" if openvino else "-"])
        by_layer = {row["layer"]: row["seconds"] for row in shown}
        geomeans = [one_layer_models.geomean_speedup(by_layer, key) for key in (ort_key, ov_key)]
        table.append(["geomean", str(threads), "", "", f"{geomeans[0]:.2f}x", "",
                      f"{geomeans[1]:.2f}x" if geomeans[1] is not None else "-"])
    title = ("One-layer ONNX models: Sign -> Conv 3x3 with ±alpha weights on a float NCHW "
             "input, batch 1, float NCHW in and out, through each engine's session run (ours "
             f"converted with the defaults, exact Sign(0), {rows[0]['isa']} kernels; OpenVINO "
             "as FakeQuantize -> BinaryConvolution -> * alpha, its whole compiled model); "
             "`python benchmarks/one_layer_models.py`"
             + _idle_note(rows, max(r["threads"] for r in rows)))
    return title, ["model", "threads", "ours µs", "onnxruntime fp32 µs", "speedup",
                   "OpenVINO binary µs", "vs OpenVINO"], table


def _float_layer_table(rows: list[dict[str, Any]], isa: str
                       ) -> tuple[str, list[str], list[list[str]]]:
    table = [[row["layer"] + _busy_mark(row), str(row["threads"])] + float_layers.table_row(row)[1:]
             for row in rows]
    title = ("The networks' other float layers, µs: ours the node alone (fp32 exact, and the "
             f"opt-in bf16; {isa} kernels), onnxruntime fp32 the whole run of a one-node model; "
             "a classifier's weights from memory, as in a network at batch 1; "
             "`python benchmarks/float_layers.py`"
             + _idle_note(rows, max(r["threads"] for r in rows)))
    return title, ["layer", "threads"] + float_layers.COLUMNS[1:], table


def _size_table(rows: list[dict[str, Any]]) -> tuple[str, list[str], list[list[str]]]:
    seen, table = set(), []
    for row in rows:
        if row["network"] in seen:
            continue
        seen.add(row["network"])
        sizes = row["sizes"]
        table.append([row["description"], f"{sizes['float_onnx_bytes'] / MB:.1f}",
                      f"{sizes['binary_onnx_bytes'] / MB:.1f}", f"{sizes['xnor_bytes'] / MB:.2f}",
                      f"{sizes['binary_onnx_bytes'] / sizes['xnor_bytes']:.1f}x"])
    return ("Model files", ["network", "float ONNX MiB", "binary ONNX MiB", ".xnor MiB",
                            "binary ONNX / .xnor"], table)


def _markdown(results: dict[str, Any], sections: list[tuple[str, list[str], list[list[str]]]]
              ) -> str:
    machine, settings = results["machine"], results["settings"]
    build = machine["build"]
    openvino = (machine["openvino"] or "not installed").split("-")[0]
    lines = [f"Measured {results['started']} on {machine['cpu']} ({machine['logical_cpus']} "
             f"logical CPUs; {' '.join(machine['cpu_flags'])}), xnorinfer {build['version']} "
             f"({build['compiler']}, ISA paths {', '.join(machine['isa_available'])}), "
             f"onnxruntime {machine['onnxruntime']}, OpenVINO {openvino}, numpy "
             f"{machine['numpy']}; medians of {settings['repeats']} interleaved rounds of "
             f"{settings['calls']} timed calls per layer and {settings.get('network_calls', 1)} "
             "per network (`python benchmarks/report.py`).", ""]
    for title, columns, rows in sections:
        lines += [f"**{title}**", "", "| " + " | ".join(columns) + " |",
                  "|" + "|".join("---" for _ in columns) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    lines += [f"- {line}" for line in _reduced_costs(results)]
    return "\n".join(lines)


def _reduced_costs(results: dict[str, Any]) -> list[str]:
    """What each opt-in reduced-precision conversion changes, per network (its conversion
    report's note)."""
    costs = {(row["description"], variant): cost for row in results["models"]
             for variant, cost in row.get("reduced_costs", {}).items()}
    return [f"{network}, {variant}: {cost}" for (network, variant), cost in costs.items()]


if __name__ == "__main__":
    sys.exit(main())
