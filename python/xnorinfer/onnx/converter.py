"""``convert``: ONNX model in, engine graph (and optionally a model file) plus report out."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import onnx

from xnorinfer import ir
from xnorinfer.errors import ConversionError, ModelError
from xnorinfer.onnx.dynamic_dims import engine_dims
from xnorinfer.onnx.first_layer import check_first_layer, mark_first_layers
from xnorinfer.onnx.float_layers import check_float_layers, mark_float_layers
from xnorinfer.onnx.folding import BATCH_SENTINEL
from xnorinfer.onnx.fuse import fuse_nchw_input, run_fusions
from xnorinfer.onnx.loader import InputShapes, load_onnx
from xnorinfer.onnx.lower import Lowering
from xnorinfer.onnx.onnx_graph import OnnxGraph
from xnorinfer.onnx.report import ConversionReport, build_report

if TYPE_CHECKING:
    from xnorinfer.onnx.verify import Verification

# Below this many ONNX nodes conversion is too quick for a progress bar to help.
LARGE_MODEL_NODES = 400


@dataclass
class ConversionResult:
    """The engine graph and the report of one conversion; ``verification`` holds the
    agreement with onnxruntime when ``convert(..., verify=True)`` ran it."""

    graph: ir.Graph
    report: ConversionReport
    verification: Verification | None = None


def convert(model: str | os.PathLike | onnx.ModelProto,
            output_path: str | os.PathLike | None = None, *, allow_float: bool = True,
            progress: bool | None = None, input_shapes: InputShapes | None = None,
            sign_zero: str = "auto", first_layer: str = "fp32",
            float_layers: str = "fp32", verify: bool = False) -> ConversionResult:
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
        ``{input name: shape}`` fixing symbolic input dimensions (-1, None or a name keeps
        one dynamic). Symbolic dims not fixed stay dynamic in the engine graph.
    sign_zero : {"auto", "exact", "plus_one"}
        ONNX defines Sign(0) = 0. "auto" gives a binarized tensor that can hold exact zeros
        (after a Relu, a Clip at 0, zero padding, on a graph input, ...) the exact ternary form
        (a second bit plane, the nonzero mask) and every other one the one-plane form; "exact"
        uses the ternary form for every Sign; "plus_one" never does (0 becomes +1: faster,
        not exact where zeros occur). The report names each ternary layer.
    first_layer : {"fp32", "int8", "bf16"}
        "int8" runs each float conv that reads a graph input (the stem) with per-image uint8
        activations and per-channel int8 weights (with AVX-512 VNNI about 3x faster than
        fp32; on aarch64 through the dot-product instructions), "bf16" with bf16 activations
        and weights summed in float32 (with AVX-512 BF16 about 1.9x faster). Neither is exact:
        the report gives the cost, max |difference| of the outputs against the fp32 first
        layer on seeded random inputs. Default "fp32" (exact).
    float_layers : {"fp32", "bf16"}
        "bf16" runs every other float Conv2d and Dense (shortcut convs, a classifier) with bf16
        inputs and weights summed in float32, through AVX-512 BF16 where the CPU has it: half
        the weight bytes, which a classifier reads from memory on every run (XNOR-Net
        AlexNet's last layer about 2x faster), as OpenVINO does by default on such CPUs. Convs
        with groups or horizontal dilation stay fp32. Not exact: the report gives the cost
        against the fp32 model. Default "fp32".
    verify : bool
        Also run the converted model and onnxruntime (when installed) on seeded random
        inputs and record their agreement in ``result.verification``.

    Returns
    -------
    ConversionResult
        ``graph`` (``xnorinfer.ir.Graph``) and ``report`` (``ConversionReport``). The report is
        also stored JSON-able in ``graph.metadata["report"]``.

    Raises
    ------
    ConversionError
        An op, attribute or pattern the engine cannot run, named with node, op type and opset;
        also when the engine refuses the converted graph, so no file is written that does
        not load.
    """
    check_first_layer(first_layer)
    check_float_layers(float_layers)
    onnx_graph = load_onnx(model, input_shapes)
    with _progress_callback(progress, len(onnx_graph.nodes)) as on_node:
        lowering = Lowering(onnx_graph, allow_float=allow_float, sign_zero=sign_zero,
                            on_node=on_node)
        builder = lowering.run()
    values = {info.name: info for info in builder.inputs} | builder.values
    for info in [*builder.inputs, *builder.values.values()]:
        info.shape = _dynamic_dims(info.shape)
    outputs = [ir.ValueInfo(name, _dynamic_dims(values[name].shape), "float32")
               for name in onnx_graph.outputs]
    graph = ir.Graph(builder.inputs, outputs, builder.nodes, builder.constants, builder.values)
    run_fusions(graph, lowering.keep_float_by_name)
    reasons = dict(lowering.float_reasons)
    for layer, reason in lowering.ternary_layers.items():
        reasons[layer] = "; ".join(r for r in (reasons.get(layer), reason) if r)
    # The fp32 graph, checked by the engine (a refusal names its ONNX node): what reduced
    # layers are measured against.
    reduced = first_layer != "fp32" or float_layers != "fp32"
    exact = _engine_accepted_bytes(graph, onnx_graph) if reduced else b""
    notes = (lowering.notes + mark_first_layers(graph, first_layer, exact)
             + mark_float_layers(graph, float_layers, exact))
    while fuse_nchw_input(graph):  # fp32 stems only: after the precisions are set
        pass
    report = build_report(onnx_graph, graph, reasons, notes)
    graph.metadata.update(report=report.to_json(), onnx_bytes=onnx_graph.onnx_bytes,
                          producer=_producer(onnx_graph.producer_name, onnx_graph.opset),
                          input_dim_names=onnx_graph.input_dim_names,
                          onnx_model=onnx_graph.model_metadata)
    data = _engine_accepted_bytes(graph, onnx_graph)
    verification = None
    if verify:
        from xnorinfer.onnx.verify import verify as run_verification

        verification = run_verification(model, graph)
    if output_path is not None:
        from xnorinfer import model_file

        model_file.save_bytes(data, Path(output_path))
    return ConversionResult(graph, report, verification)


def _engine_accepted_bytes(graph: ir.Graph, onnx_graph: OnnxGraph) -> bytes:
    """The model file's bytes, once the engine has loaded them and planned the graph for
    batch 1 (and 2 when a dim is dynamic), as InferenceSession would; a refusal names the ONNX
    node it came from."""
    from xnorinfer import InferenceSession, model_file

    try:
        data = model_file.dumps(graph)
        session = InferenceSession(data, num_threads=1)
        if any(-1 in value.shape for value in graph.inputs):
            session.output_shapes(batch=2)
    except ModelError as error:
        raise _engine_refusal(graph, onnx_graph, str(error)) from None
    return data


def _engine_refusal(graph: ir.Graph, onnx_graph: OnnxGraph, message: str) -> ConversionError:
    """The engine's message, attributed to the first ONNX node of the engine node it names."""
    named = re.search(r"node '([^']+)'", message)
    engine_node = next((n for n in graph.nodes if named and n.name == named.group(1)), None)
    sources = engine_node.attrs.get("source", "").split(",") if engine_node else []
    onnx_node = next((n for n in onnx_graph.nodes if n.name in sources), None)
    reason = f"the engine refuses the converted graph: {message}"
    if onnx_node is None:
        return ConversionError(f"cannot convert the model: {reason}")
    return onnx_graph.node_error(onnx_node, reason)


def _dynamic_dims(shape: list[int]) -> list[int]:
    """A shape that ONNX inferred from a folded batch-dependent constant holds the batch
    sentinel as dim 0: it is the dynamic batch; a symbolic input dim's sentinel (or a product
    with one) is dynamic too. Both are -1 in the engine graph."""
    batch = [-1 if axis == 0 and dim == BATCH_SENTINEL else dim for axis, dim in enumerate(shape)]
    return engine_dims(batch)


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
