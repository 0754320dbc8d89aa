"""``convert``: ONNX model in, engine graph (and optionally a model file) plus report out."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import onnx

from xnorinfer import ir
from xnorinfer.onnx.folding import BATCH_SENTINEL
from xnorinfer.onnx.fuse import run_fusions
from xnorinfer.onnx.loader import InputShapes, load_onnx
from xnorinfer.onnx.lower import Lowering
from xnorinfer.onnx.report import ConversionReport, build_report

# Below this many ONNX nodes conversion is too quick for a progress bar to help.
LARGE_MODEL_NODES = 400


@dataclass
class ConversionResult:
    """The engine graph and the report of one conversion."""

    graph: ir.Graph
    report: ConversionReport


def convert(model: str | os.PathLike | onnx.ModelProto,
            output_path: str | os.PathLike | None = None, *, allow_float: bool = True,
            progress: bool | None = None, input_shapes: InputShapes | None = None
            ) -> ConversionResult:
    """Convert an ONNX binarized network into an xnorinfer engine graph.

    Parameters
    ----------
    model : path or onnx.ModelProto
        The ONNX model (opset 11 or newer); external data is read from beside the file.
    output_path : path, optional
        When given, the model file is written there.
    allow_float : bool
        A layer that looks binary but cannot be (ternary weights, weights not ±alpha per
        channel after a binarized input, a binarizer that maps 0 to -1, a K map that does not
        match its conv) runs as a float op, with the reason in the report. When False, such a
        layer raises ConversionError instead.
    progress : bool, optional
        None shows a progress bar on large models when stderr is a terminal; False never, True
        always (when ``rich`` is installed).
    input_shapes : mapping, optional
        ``{input name: shape}`` fixing symbolic input dimensions; dim 0 may stay dynamic.

    Returns
    -------
    ConversionResult
        ``graph`` (``xnorinfer.ir.Graph``) and ``report`` (``ConversionReport``). The report is
        also stored JSON-able in ``graph.metadata["report"]``.

    Raises
    ------
    ConversionError
        An op, attribute or pattern the engine cannot run, named with node, op type and opset.
    """
    onnx_graph = load_onnx(model, input_shapes)
    with _progress_callback(progress, len(onnx_graph.nodes)) as on_node:
        lowering = Lowering(onnx_graph, allow_float=allow_float, on_node=on_node)
        builder = lowering.run()
    values = {info.name: info for info in builder.inputs} | builder.values
    for info in builder.values.values():
        info.shape = _dynamic_batch(info.shape)
    outputs = [ir.ValueInfo(name, _dynamic_batch(values[name].shape), "float32")
               for name in onnx_graph.outputs]
    graph = ir.Graph(builder.inputs, outputs, builder.nodes, builder.constants, builder.values)
    run_fusions(graph, lowering.keep_float_by_name)
    report = build_report(onnx_graph, graph, lowering.float_reasons, lowering.notes)
    graph.metadata.update(report=report.to_json(), onnx_bytes=onnx_graph.onnx_bytes,
                          producer=_producer(onnx_graph.producer_name, onnx_graph.opset))
    if output_path is not None:
        from xnorinfer import model_file

        model_file.save(graph, Path(output_path))
    return ConversionResult(graph, report)


def _dynamic_batch(shape: list[int]) -> list[int]:
    """A shape that ONNX inferred from a folded batch-dependent constant holds the batch
    sentinel as dim 0: it is the dynamic batch."""
    return [-1 if axis == 0 and dim == BATCH_SENTINEL else dim for axis, dim in enumerate(shape)]


def _producer(onnx_producer: str, opset: int) -> str:
    try:
        version = importlib.metadata.version("xnorinfer")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    origin = f"{onnx_producer}, " if onnx_producer else ""
    return f"xnorinfer {version} converter (from ONNX {origin}opset {opset})"


@contextlib.contextmanager
def _progress_callback(progress: bool | None, n_nodes: int) -> Iterator[Callable[[], None]]:
    """A per-node callback that advances a rich progress bar, or does nothing."""
    show = progress if progress is not None else (
        n_nodes >= LARGE_MODEL_NODES and sys.stderr.isatty())
    if not show:
        yield lambda: None
        return
    try:
        from rich.progress import Progress
    except ImportError:
        yield lambda: None
        return
    with Progress(transient=True) as bar:
        task = bar.add_task("converting", total=n_nodes)
        yield lambda: bar.advance(task)
