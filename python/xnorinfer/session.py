"""InferenceSession: runs a converted model with the same calling convention as onnxruntime.

    sess = xnorinfer.InferenceSession("model.xnor", num_threads=2)
    [logits] = sess.run(None, {"input": x})

An ONNX model (path, bytes or ``onnx.ModelProto``) is converted on the way in, and onnxruntime's
constructor arguments and session methods are accepted (:mod:`xnorinfer.ort_compat`), so
onnxruntime code runs with its import line changed.

Inputs are given in the ONNX model's own layout (NCHW for PyTorch exports); the engine
converts to its NHWC layout internally, and outputs come back in the ONNX layout too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from xnorinfer import _core, ir
from xnorinfer.errors import ModelError
from xnorinfer.ort_compat import (ModelMetadata, SessionOptions, check_providers, load_model,
                                  model_metadata, threads_from)

DYNAMIC_DIM = "batch"


class NodeTime(NamedTuple):
    """One engine node's time in :meth:`InferenceSession.profile`."""

    name: str
    op: str
    seconds: float


@dataclass(frozen=True)
class NodeArg:
    """A graph input or output, as onnxruntime's ``NodeArg``: name, shape, type.

    A dynamic dimension is given as a string, as onnxruntime gives symbolic names: dim 0 is
    ``"batch"``; another dynamic input dim has its ONNX name (``"tokens"``), an output's
    ``"dim1"``, ``"dim2"`` ...
    """

    name: str
    shape: list[int | str]
    type: str = "tensor(float)"


def _node_arg(value: ir.ValueInfo, names: list[str | None] | None = None) -> NodeArg:
    def dim(axis: int, d: int) -> int | str:
        if d != -1:
            return d
        if names and axis < len(names) and names[axis]:
            return names[axis]
        return DYNAMIC_DIM if axis == 0 else f"dim{axis}"
    return NodeArg(value.name, [dim(axis, d) for axis, d in enumerate(value.shape)])


def _conversion_report(graph: ir.Graph) -> Any:
    """The ConversionReport a converted graph carries in its metadata."""
    from xnorinfer.onnx.report import ConversionReport  # the converter imports this module

    report = graph.metadata.get("report")
    return ConversionReport.from_json(report) if isinstance(report, dict) else None


def build_engine_graph(graph: ir.Graph) -> Any:
    """Hand an :class:`ir.Graph` to the C++ engine, which validates it again."""
    engine = _core.Graph()
    for value in graph.inputs:
        engine.add_input(value.name, list(value.shape))
    for name, array in graph.constants.items():
        engine.add_constant(name, np.ascontiguousarray(array))
    for node in graph.nodes:
        engine.add_node(node.name, node.op, node.inputs, node.outputs, node.attrs)
    for value in graph.outputs:
        engine.add_output(value.name)
    return engine


class InferenceSession:
    """A loaded model, ready to run. Safe to call :meth:`run` from several threads at once.

    Parameters
    ----------
    path_or_bytes : str, os.PathLike, bytes or onnx.ModelProto
        A ``.xnor`` model file written by :func:`xnorinfer.convert`, or its bytes; or an ONNX
        model (a file, its bytes or a ``ModelProto``), converted with the default options and
        cached on disk by the SHA-256 of its bytes and the xnorinfer version (in the user cache
        directory; ``$XNORINFER_CACHE_DIR`` moves it, ``0`` turns it off). Its conversion
        report is ``conversion_report``.
    sess_options : SessionOptions or onnxruntime.SessionOptions, optional
        ``intra_op_num_threads`` sets the threads (0: all cores); the rest is ignored.
    providers : list, optional
        Only ``"CPUExecutionProvider"`` (or none); anything else is a ValueError.
    provider_options : list of dict, optional
        Must be empty: the CPU provider takes no options.
    num_threads : int, optional
        Threads each run uses inside ops (over ``sess_options``). Default: all cores OpenMP
        reports.
    isa : {"scalar", "avx2", "avx512", "neon"}, optional
        Force a kernel path. Default: ``$XNORINFER_ISA`` if set, else the best this CPU has.
        Asking for more than the CPU supports raises ``xnorinfer.UnsupportedIsa``.
    batch_mode : {"auto", "whole", "per_sample"}
        How a batch larger than 1 runs when every op computes each sample alone: whole, or
        one sample at a time (its activations then stay in cache: faster for layers whose
        activations outweigh their weights, such as a ResNet's early stages; slower for layers
        that reuse large weights across the batch, such as its last stage or AlexNet's dense
        layers). "auto" (default) times both on the first runs of each batch shape, then tries
        the split their per-node times point to (the leading nodes one sample at a time, the
        rest on the whole batch), and keeps the fastest of the three. Outputs are identical.

    Raises
    ------
    ModelError
        The file is not a valid model (truncated, corrupted, newer version, an op or attribute
        the engine rejects, ...).
    """

    def __init__(self, path_or_bytes: Any, sess_options: Any = None,
                 providers: Sequence[Any] | None = None,
                 provider_options: Sequence[dict] | None = None, *,
                 num_threads: int | None = None, isa: str | None = None,
                 batch_mode: str = "auto") -> None:
        check_providers(providers, provider_options)
        if num_threads is None:
            num_threads = threads_from(sess_options)
        if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
            raise ValueError(f"num_threads must be a positive int, got {num_threads!r}")
        graph, from_onnx = load_model(path_or_bytes)
        self._graph = graph
        self._sess_options = sess_options if sess_options is not None else SessionOptions()
        self.conversion_report = _conversion_report(graph) if from_onnx else None
        try:
            engine_graph = build_engine_graph(graph)
            self._session = _core.Session(engine_graph, num_threads or 0, isa or "", batch_mode)
            # Plan now (batch 1 for a dynamic batch): a graph whose shapes do not fit together
            # is refused here, not at its first run.
            planned = self._session.output_shapes([[1 if d == -1 else d for d in v.shape]
                                                   for v in graph.inputs])
            # The file's output shapes, which get_outputs() reports, must be what it computes.
            _core.check_declared_outputs([v.name for v in graph.outputs],
                                         [list(v.shape) for v in graph.outputs], planned)
        except _core.InvalidModel as error:
            raise ModelError(f"the model's graph is invalid: {error}") from error
        dim_names = graph.metadata.get("input_dim_names") or {}
        self._inputs = [_node_arg(v, dim_names.get(v.name)) for v in graph.inputs]
        self._outputs = [_node_arg(v) for v in graph.outputs]

    @property
    def isa(self) -> str:
        """The kernel path this session runs: ``"scalar"``, ``"avx2"``, ``"avx512"`` or
        ``"neon"``."""
        return self._session.isa

    @property
    def num_threads(self) -> int:
        return self._session.num_threads

    @property
    def metadata(self) -> dict[str, Any]:
        """What the converter recorded: producer, conversion report, sizes."""
        return self._graph.metadata

    def output_shapes(self, batch: int = 1) -> list[list[int]]:
        """The output shapes for inputs whose dynamic dimensions (the batch, and any other) are
        all ``batch``. Plans the run (the buffers are reused by later runs of that shape), so a
        graph that cannot run at this size raises ModelError here."""
        shapes = [[batch if d == -1 else d for d in v.shape] for v in self._graph.inputs]
        try:
            return self._session.output_shapes(shapes)
        except _core.InvalidModel as error:
            raise ModelError(f"the model's graph is invalid at batch {batch}: {error}") from error

    def get_providers(self) -> list[str]:
        return ["CPUExecutionProvider"]

    def get_provider_options(self) -> dict[str, dict[str, str]]:
        return {"CPUExecutionProvider": {}}

    def get_session_options(self) -> Any:
        """The ``sess_options`` given (a new :class:`SessionOptions` when none was)."""
        return self._sess_options

    def get_modelmeta(self) -> ModelMetadata:
        """The ONNX model's producer, graph name, domain, descriptions, version and custom
        metadata, as onnxruntime reports them."""
        return model_metadata(self._graph)

    def get_inputs(self) -> list[NodeArg]:
        return list(self._inputs)

    def get_outputs(self) -> list[NodeArg]:
        return list(self._outputs)

    def run(self, output_names: Sequence[str] | None, input_feed: Mapping[str, np.ndarray],
            run_options: Any = None) -> list[np.ndarray]:
        """Run the model.

        Parameters
        ----------
        output_names : list of str or None
            Outputs to return, in this order; None returns all of them.
        input_feed : dict of str to numpy.ndarray
            One float32 array per model input. Any memory layout is accepted (non-contiguous
            and Fortran-ordered arrays are copied). Other dtypes are refused rather than
            silently converted: pass ``x.astype(np.float32)``.
        run_options : RunOptions or onnxruntime.RunOptions, optional
            Accepted for onnxruntime code, and ignored.

        Returns
        -------
        list of numpy.ndarray
            float32 arrays, in the order of ``output_names``.

        Raises
        ------
        ValueError
            Wrong input names, rank or shape, or a zero-size batch (a dynamic batch is any
            positive size).
        TypeError
            An input that is not a float32 ``numpy.ndarray`` (float64 and integer arrays are
            refused, not converted).
        xnorinfer.OutOfMemory
            The batch needs more working memory than this machine has (a MemoryError, raised
            before anything is allocated).

        Notes
        -----
        Binary layers binarize with ``x < 0 -> -1``, else +1; NaN becomes +1. A layer whose
        input can hold exact zeros keeps ONNX's Sign(0) = 0 (0 and -0 add nothing), unless it
        was converted with ``sign_zero="plus_one"`` (then they become +1). Float layers
        propagate NaN and inf as IEEE arithmetic does.
        """
        arrays = self._check_feed(input_feed)
        wanted = self._output_indices(output_names)
        # Plan before copying inputs: a batch too large for memory fails without allocating.
        self._session.output_shapes([list(a.shape) for a in arrays])
        outputs = self._session.run([np.ascontiguousarray(a) for a in arrays])
        return [outputs[i] for i in wanted]

    def profile(self, input_feed: Mapping[str, np.ndarray], repeats: int = 5) -> list[NodeTime]:
        """Time every engine node: the median wall time of each over ``repeats`` runs of
        ``input_feed``, after one untimed run that plans it.

        Parameters
        ----------
        input_feed : dict of str to numpy.ndarray
            As for :meth:`run`.
        repeats : int
            Timed runs (at least 1).

        Returns
        -------
        list of NodeTime
            One per engine node, in execution order: its name (``"<ONNX node>:<op>"`` for a
            converted model), op and median seconds. Their sum is a run less the input and
            output copies. A batch whose nodes run one sample at a time (``batch_mode``) sums
            a node over its samples, divided by the threads that ran samples side by side.
        """
        if not isinstance(repeats, int) or repeats < 1:
            raise ValueError(f"repeats must be a positive int, got {repeats!r}")
        arrays = [np.ascontiguousarray(a) for a in self._check_feed(input_feed)]
        self._session.output_shapes([list(a.shape) for a in arrays])
        self._session.run_profiled(arrays)
        runs = [self._session.run_profiled(arrays)[1] for _ in range(repeats)]
        return [NodeTime(node.name, node.op, float(np.median(column)))
                for node, column in zip(self._graph.nodes, zip(*runs))]

    def _check_feed(self, feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        if not isinstance(feed, Mapping):
            raise TypeError(f"input_feed must be a dict of name -> array, got {type(feed).__name__}")
        names = [arg.name for arg in self._inputs]
        missing = [n for n in names if n not in feed]
        extra = [n for n in feed if n not in names]
        if missing or extra:
            raise ValueError(f"input_feed must have exactly the inputs {names}; "
                             f"missing {missing}, unexpected {extra}")
        arrays = []
        for arg in self._inputs:
            array = feed[arg.name]
            if not isinstance(array, np.ndarray):
                raise TypeError(f"input '{arg.name}' must be a numpy.ndarray, "
                                f"got {type(array).__name__}")
            if array.dtype != np.float32:
                raise TypeError(f"input '{arg.name}' must be float32, got {array.dtype}: "
                                "pass x.astype(np.float32)")
            self._check_shape(arg, array.shape)
            arrays.append(array)
        return arrays

    @staticmethod
    def _check_shape(arg: NodeArg, shape: tuple[int, ...]) -> None:
        expected = arg.shape
        fits = len(shape) == len(expected) and all(
            (isinstance(e, str) and s >= 1) or e == s for s, e in zip(shape, expected))
        if not fits:
            raise ValueError(f"input '{arg.name}' has shape {list(shape)}, the model expects "
                             f"{expected} (a named dimension = any positive size)")

    def _output_indices(self, output_names: Sequence[str] | None) -> list[int]:
        names = [arg.name for arg in self._outputs]
        if output_names is None:
            return list(range(len(names)))
        unknown = [n for n in output_names if n not in names]
        if unknown:
            raise ValueError(f"unknown output names {unknown}; the model's outputs are {names}")
        return [names.index(n) for n in output_names]
