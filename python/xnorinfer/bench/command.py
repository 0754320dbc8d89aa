"""``xnorinfer bench``: how much faster the converted model runs than onnxruntime fp32 and than
OpenVINO's binary convolutions.

Converts a model (the bundled digits BNN by default, or a built-in ImageNet-sized network from
:mod:`xnorinfer.bench.networks`), checks that its outputs agree with onnxruntime on the same
ONNX, times the engines end to end (interleaved, medians), profiles each per layer (ours through
the engine's per-node timer, the peers through their profilers; interleaved too, one profiled
run of each engine per round), prints one table, and optionally draws it as a PNG bar chart.

For a built-in network, onnxruntime is timed on the *float* version of the network (same
architecture, no binarization): the comparison a user choosing between a BNN and its float
counterpart cares about. For any other model it is timed on the model's own ONNX, which it
runs in fp32.

When the ``openvino`` package is installed, OpenVINO runs the model's own ONNX too, with every
binary layer rewritten to its ``BinaryConvolution`` (:mod:`xnorinfer.bench.openvino_peer`) and
its float layers in fp32: the fastest binary engine a user can pick on x86. Its outputs are
checked against onnxruntime like ours.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from xnorinfer import console, ir
from xnorinfer.bench import networks as bench_networks
from xnorinfer.bench import openvino_peer
from xnorinfer.bench.check import compare_with_onnxruntime
from xnorinfer.bench.profile import (UNMATCHED, EngineProfile, Layer, OpenVinoProfile,
                                     OrtProfile, fill_times, group_layers, interleaved_profiles)
from xnorinfer.bench.timing import (blas_threads, cpu_model, float_gemm, interleaved_medians,
                                    median_seconds, ort_session, wall, warmup_seconds_for)
from xnorinfer.demo import MODEL, TEST_SET

MIN_CHECK_BATCH = 8
GEMM_NOTE = ("float GEMM = numpy's BLAS fp32 matmul on each conv/dense layer's im2col shape: "
             "the GEMM alone (no im2col copy, no other ops), a floor for a float engine")


@dataclass
class BenchSource:
    """What to convert, what onnxruntime is timed on, and the inputs of the agreement check."""

    onnx_path: Path
    baseline_path: Path
    label: str
    check_feed: dict[str, np.ndarray] | None = None


@dataclass
class OpenVinoSessions:
    """OpenVINO on the model's ONNX: one session timed end to end, one profiled per node (its
    profiling counters cost time of their own)."""

    timed: Any
    profiled: Any
    binary_layers: int


def run_bench(model: str | None = None, *, num_threads: int | None = None, batch: int = 1,
              repeats: int = 10, png: str | None = None,
              check_feed: dict[str, np.ndarray] | None = None, openvino: bool = True) -> int:
    """Run the benchmark and print its tables; returns the process exit code.

    Parameters
    ----------
    model : str, optional
        Path of an ONNX model, or a built-in network name (``bireal18``, ``xnor_alexnet``).
        Default: the bundled digits BNN, checked on its bundled test set.
    num_threads : int, optional
        Threads for both engines (and numpy's BLAS). Default: all cores.
    batch : int
        Batch size of the timed runs.
    repeats : int
        Interleaved timing rounds, and profiled runs per engine.
    png : str, optional
        Write a bar chart of latency and speedup per layer and in total there (needs
        matplotlib).
    check_feed : dict of str to numpy.ndarray, optional
        Inputs of the agreement check. Default: the bundled test set for the bundled model,
        else ``max(batch, 8)`` random N(0, 1) samples.
    openvino : bool
        Also time OpenVINO, when the ``openvino`` package is installed.
    """
    from xnorinfer.onnx import convert
    from xnorinfer.session import InferenceSession

    if batch < 1 or repeats < 1:
        raise ValueError(f"--batch and --repeats must be positive, got {batch} and {repeats}")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise RuntimeError("xnorinfer bench compares against onnxruntime, which is not installed "
                           "(pip install onnxruntime, or install xnorinfer[bench])") from None
    with tempfile.TemporaryDirectory() as tmp:
        source = _resolve_source(model, Path(tmp))
        packed_path = Path(tmp) / "model.xnor"
        console.info(f"converting {source.label}")
        result = convert(source.onnx_path, packed_path)
        console.out(result.report.summary())
        sess = InferenceSession(packed_path, num_threads=num_threads)
        batch = _model_batch(sess, batch)
        feed = check_feed or source.check_feed or _random_feed(sess, max(batch, MIN_CHECK_BATCH))
        for agreement in compare_with_onnxruntime(sess, source.onnx_path, feed, sess.num_threads):
            console.info(f"agreement with onnxruntime on the same ONNX, {agreement.summary()}")
        peer = _openvino(source, feed, batch, sess.num_threads) if openvino else None
        timed_feed = {name: _take_batch(x, batch) for name, x in feed.items()}
        totals, rows = _measure(sess, result.graph, source, timed_feed, repeats, peer)

    baseline_name = ("the float version" if source.baseline_path != source.onnx_path
                     else "the same ONNX")
    title = (f"{source.label}, batch {batch}, {sess.num_threads} thread(s), {sess.isa} kernels, "
             f"{cpu_model()}; onnxruntime fp32 on {baseline_name}")
    if peer:
        title += (f"; OpenVINO {openvino_peer.version()} on the same ONNX, f32, "
                  f"{peer.binary_layers} layer(s) as BinaryConvolution")
    _print_table(title, rows, totals)
    console.info(GEMM_NOTE)
    if png:
        _write_png(png, title, rows, totals)
    return 0


def _openvino(source: BenchSource, feed: dict[str, np.ndarray], batch: int,
              threads: int) -> OpenVinoSessions | None:
    """OpenVINO's sessions on the model, after checking its outputs against onnxruntime; None,
    with a message, when openvino is not installed or cannot run the model."""
    if not openvino_peer.available():
        console.info("openvino is not installed: no OpenVINO column "
                     f"({openvino_peer.INSTALL_HINT})")
        return None
    path = str(source.onnx_path)
    try:
        check, binary = openvino_peer.compile_binary(path, len(next(iter(feed.values()))), threads)
        for agreement in compare_with_onnxruntime(check, source.onnx_path, feed, threads):
            console.info(f"agreement of OpenVINO with onnxruntime, {agreement.summary()}")
        model, _ = openvino_peer.binary_network(path, batch)
        timed = openvino_peer.NetworkSession(model, threads)
        profiled = openvino_peer.NetworkSession(model, threads, profile=True)
    except RuntimeError as error:  # OpenVINO reads and compiles fewer ops than onnxruntime
        console.info(f"OpenVINO cannot run {source.label}, no OpenVINO column: "
                     f"{str(error).strip().splitlines()[0]}")
        return None
    return OpenVinoSessions(timed, profiled, binary)


def _measure(sess: Any, graph: Any, source: BenchSource, feed: dict[str, np.ndarray],
             repeats: int, peer: OpenVinoSessions | None
             ) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """End-to-end medians of every engine, and the per-layer rows (with float GEMM times)."""
    threads = sess.num_threads
    baseline = ort_session(source.baseline_path, threads)
    engines = {"ours": wall(lambda: sess.run(None, feed)),
               "ort": wall(lambda: baseline.run(None, feed))}
    if peer:
        engines["openvino"] = wall(lambda: peer.timed.run(None, feed))
    console.info(f"timing end to end ({repeats} interleaved rounds)")
    totals = interleaved_medians(engines, repeats, 1, warmup_seconds_for(threads))
    console.info(f"profiling per layer ({repeats} interleaved rounds)")
    batch = len(next(iter(feed.values())))
    inputs = [feed[arg.name] for arg in sess.get_inputs()]
    profiles = {"ours": EngineProfile(graph, inputs, threads),
                "ort": OrtProfile(source.baseline_path, feed, threads)}
    if peer:
        profiles["openvino"] = OpenVinoProfile(peer.profiled, source.onnx_path, feed)
    interleaved_profiles(profiles, repeats)
    peers = {name: profile.seconds() for name, profile in profiles.items() if name != "ours"}
    rows = fill_times(group_layers(graph, batch), profiles["ours"].seconds(), peers)
    with blas_threads(threads) as limited:
        if not limited:
            console.info("threadpoolctl is not installed: numpy's BLAS uses its own thread count")
        for row in rows:
            gemm = row["layer"].gemm
            row["gemm"] = median_seconds(float_gemm(*gemm), repeats) if gemm else None
    return totals, rows


def _resolve_source(model: str | None, tmp: Path) -> BenchSource:
    if model is None:
        with np.load(TEST_SET) as data:
            feed = {"input": data["x"].astype(np.float32)}
        return BenchSource(MODEL, MODEL, f"bundled {MODEL.name}", feed)
    if model in bench_networks.NETWORKS and not Path(model).exists():
        paths = {}
        for binary in (True, False):
            paths[binary] = tmp / f"{model}_{'binary' if binary else 'float'}.onnx"
            onnx.save(bench_networks.build(model, binary=binary), paths[binary])
        return BenchSource(paths[True], paths[False], bench_networks.NETWORKS[model].description)
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"no such model file '{model}' (built-in networks: "
                                f"{', '.join(bench_networks.NETWORKS)})")
    return BenchSource(path, path, path.name)


def _model_batch(sess: Any, batch: int) -> int:
    """``batch``, unless the model fixes its batch size: then that size, with a message."""
    fixed = [arg.shape[0] for arg in sess.get_inputs()
             if arg.shape and isinstance(arg.shape[0], int)]
    if not fixed or fixed[0] == batch:
        return batch
    console.info(f"the model's batch size is fixed at {fixed[0]}: timing batch {fixed[0]}")
    return fixed[0]


def _random_feed(sess: Any, batch: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    feed = {}
    for arg in sess.get_inputs():
        shape = [batch if not isinstance(d, int) else d for d in arg.shape]
        feed[arg.name] = rng.standard_normal(shape, dtype=np.float32)
    return feed


def _take_batch(x: np.ndarray, batch: int) -> np.ndarray:
    """The first ``batch`` samples of ``x``, repeated when it has fewer."""
    return np.ascontiguousarray(np.resize(x, (batch,) + x.shape[1:]))


def _print_table(title: str, rows: list[dict[str, Any]], totals: dict[str, float]) -> None:
    scale, unit = (1e6, "µs") if totals["ours"] < 1e-3 else (1e3, "ms")
    with_openvino = "openvino" in totals

    def t(seconds: float | None) -> str:
        return "-" if not seconds else f"{seconds * scale:.4g}"

    def peer_cells(times: dict[str, Any]) -> list[str]:
        cells = [t(times["ort"]), _ratio(times["ort"], times["ours"])]
        if with_openvino:
            cells += [t(times["openvino"]), _ratio(times["openvino"], times["ours"])]
        return cells

    table = []
    for row in _shown(rows):
        layer = row["layer"]
        table.append([layer.name, _ops(layer), layer.kind, t(row["ours"]), *peer_cells(row),
                      t(row.get("gemm"))])
    gemm_total = sum(row["gemm"] for row in rows if row.get("gemm"))
    table.append(["total", "end to end", "", t(totals["ours"]), *peer_cells(totals),
                  t(gemm_total) + " (sum)"])
    header = ["layer (ONNX node)", "engine op (+ nodes)", "kind", f"ours {unit}", f"ORT {unit}",
              "speedup"]
    if with_openvino:
        header += [f"OpenVINO {unit}", "vs OpenVINO"]
    console.table(title, header + [f"float GEMM {unit}"], table)


def _write_png(path: str, title: str, rows: list[dict[str, Any]],
               totals: dict[str, float]) -> None:
    try:
        from xnorinfer.bench.chart import write_chart
    except ImportError:
        console.info("matplotlib is not installed: no chart written "
                     "(pip install matplotlib, or install xnorinfer[bench])")
        return
    rows = _shown(rows)
    labels = [row["layer"].name for row in rows] + ["total"]
    peers = {key: [row[key] or 0.0 for row in rows] + [totals[key]]
             for key in ("ort", "openvino") if key in totals}
    write_chart(path, title, labels, [row["ours"] for row in rows] + [totals["ours"]], peers)
    console.info(f"wrote {path}")


def _shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows worth showing: all but an empty row of peer nodes that match no ONNX node."""
    return [row for row in rows
            if row["layer"].name != UNMATCHED or row["ort"] or row.get("openvino")]


def _ops(layer: Layer) -> str:
    """The layer's conv/dense op, and how many more engine nodes its row holds."""
    main = next((op for op in layer.ops if op in ir.LAYER_OPS), None)
    if main is None:
        return "-"
    others = len(layer.ops) - 1
    return f"{main} (+{others})" if others else main


def _ratio(reference: float | None, ours: float | None) -> str:
    return f"{reference / ours:.2f}x" if reference and ours else "-"
