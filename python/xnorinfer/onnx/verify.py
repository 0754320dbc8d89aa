"""Check a converted graph against onnxruntime on the original ONNX model.

A binarized network amplifies float rounding in one place: a binarizer input within rounding
distance of 0 can take either sign in two float implementations, which moves the outputs far
more than rounding alone. So when outputs differ, :func:`verify` also counts the binarizer
inputs that lie that close to 0.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import helper, numpy_helper

from xnorinfer import console, ir, model_file
from xnorinfer.bench.timing import ort_session
from xnorinfer.onnx.onnx_graph import input_dependent_values
from xnorinfer.session import InferenceSession, NodeArg

RTOL = 1e-4  # an output agrees when max |diff| <= RTOL * max |reference|
NEAR_ZERO = 1e-5  # a binarizer input v with 0 < |v| <= NEAR_ZERO * max |v| can flip its sign
COMPARISONS = ("GreaterOrEqual", "Greater", "Less", "LessOrEqual")  # binarizers with a 0


@dataclass
class OutputCheck:
    """How one output of the converted graph compares with onnxruntime's.

    Attributes
    ----------
    name : str
        Output name.
    shape : list of int
        Output shape.
    max_abs_diff : float
        ``max |ours - reference|``.
    max_rel_diff : float
        ``max_abs_diff / max |reference|``.
    argmax_agreement : float or None
        For a rank-2 output, the fraction of rows whose argmax agrees; None otherwise.
    mismatches : int
        Elements that differ by more than ``RTOL * max |reference|``.
    """

    name: str
    shape: list[int]
    max_abs_diff: float
    max_rel_diff: float
    argmax_agreement: float | None
    mismatches: int

    @property
    def ok(self) -> bool:
        return self.max_rel_diff <= RTOL and self.argmax_agreement in (None, 1.0)

    def to_text(self) -> str:
        lines = [f"output '{self.name}' {self.shape}: max |diff| {self.max_abs_diff:.3g}, "
                 f"max relative diff {self.max_rel_diff:.3g}"]
        if self.argmax_agreement is not None:
            lines.append(f"  argmax agreement {self.argmax_agreement:.2%} "
                         f"({self.shape[0]} rows)")
        lines.append(f"  {self.mismatches} of {math.prod(self.shape)} elements differ beyond "
                     f"{RTOL:g} relative")
        return "\n".join(lines)


@dataclass
class Verification:
    """The result of :func:`verify`.

    Attributes
    ----------
    outputs : list of OutputCheck
        One per output of the converted graph; empty when skipped.
    near_zero_binarizer_inputs : int or None
        Binarizer input values, as onnxruntime computes them, within float rounding of 0 but
        not 0: each can flip a sign. Counted only when an output mismatches, else None.
    skipped : str or None
        Why nothing was compared (onnxruntime is not installed); None when it was.
    batch, seed : int
        The batch size and random seed of the inputs.
    """

    outputs: list[OutputCheck] = field(default_factory=list)
    near_zero_binarizer_inputs: int | None = None
    skipped: str | None = None
    batch: int = 2
    seed: int = 0

    @property
    def ok(self) -> bool:
        """Every output within ``RTOL`` relative with full argmax agreement; False when
        skipped."""
        return self.skipped is None and all(check.ok for check in self.outputs)

    def to_text(self) -> str:
        if self.skipped:
            return f"verification skipped: {self.skipped}"
        lines = [f"verification against onnxruntime on random N(0,1) inputs, batch "
                 f"{self.batch}, seed {self.seed}:"]
        lines += [check.to_text() for check in self.outputs]
        if self.ok:
            lines.append(f"ok: every output agrees within {RTOL:g} relative")
        else:
            mismatches = sum(check.mismatches for check in self.outputs)
            lines.append(f"MISMATCH: {mismatches} mismatching elements; "
                         f"{self.near_zero_binarizer_inputs} binarizer inputs within float "
                         "rounding of 0 (can flip a sign)")
        return "\n".join(lines)

    def print(self) -> None:
        """Print :meth:`to_text` to stdout."""
        for line in self.to_text().splitlines():
            console.out(line)


def verify(onnx_model: str | os.PathLike | onnx.ModelProto, graph: ir.Graph, *, seed: int = 0,
           batch: int = 2, num_threads: int | None = None) -> Verification:
    """Run the converted graph and onnxruntime on the original ONNX on the same random inputs,
    and compare every output.

    Parameters
    ----------
    onnx_model : path or onnx.ModelProto
        The ONNX model ``graph`` was converted from.
    graph : xnorinfer.ir.Graph
        The converted graph (``convert(...).graph``).
    seed : int
        Seed of the N(0,1) float32 inputs.
    batch : int
        Extent of every symbolic input dimension the converted graph leaves dynamic.
    num_threads : int, optional
        Threads of both runs (default: all cores).

    Returns
    -------
    Verification
        Per output: max absolute and relative difference, argmax agreement, mismatching
        elements; when some output mismatches, the binarizer inputs near 0. Skipped, saying
        why, when onnxruntime is not installed.
    """
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return Verification(skipped="onnxruntime is not installed (pip install onnxruntime)",
                            batch=batch, seed=seed)
    model = onnx_model if isinstance(onnx_model, onnx.ModelProto) else onnx.load(
        os.fspath(onnx_model))
    session = InferenceSession(model_file.dumps(graph), num_threads=num_threads)
    feed = _random_feed(model.graph, session.get_inputs(), batch, seed)
    names = [arg.name for arg in session.get_outputs()]
    ours = session.run(None, feed)  # first: its errors name a feed that does not fit the graph
    reference = ort_session(model, num_threads or 0).run(names, feed)
    outputs = [_compare(name, got, want) for name, got, want in zip(names, ours, reference)]
    result = Verification(outputs, batch=batch, seed=seed)
    if not result.ok:
        result.near_zero_binarizer_inputs = _near_zero_binarizer_inputs(model, feed,
                                                                         num_threads or 0)
    return result


def _random_feed(graph: onnx.GraphProto, engine_inputs: list[NodeArg], batch: int,
                 seed: int) -> dict[str, np.ndarray]:
    """N(0,1) float32 arrays for the ONNX graph's inputs. A symbolic dimension takes the
    converted graph's extent there (fixed by convert's ``input_shapes``), else ``batch``."""
    rng = np.random.default_rng(seed)
    engine_shapes = {arg.name: arg.shape for arg in engine_inputs}
    initializers = {tensor.name for tensor in graph.initializer}
    feed = {}
    for value in graph.input:
        if value.name in initializers:
            continue
        dims = value.type.tensor_type.shape.dim
        engine_shape = engine_shapes.get(value.name) or [None] * len(dims)
        shape = [d.dim_value or (e if isinstance(e, int) else batch)
                 for d, e in zip(dims, engine_shape)]
        feed[value.name] = rng.standard_normal(shape, dtype=np.float32)
    return feed


def _compare(name: str, got: np.ndarray, want: np.ndarray) -> OutputCheck:
    diff = np.abs(got.astype(np.float64) - want)
    max_diff = float(diff.max(initial=0))
    scale = max(float(np.abs(want).max(initial=0)), float(np.finfo(np.float32).tiny))
    argmax = float(np.mean(got.argmax(axis=1) == want.argmax(axis=1))) if want.ndim == 2 else None
    return OutputCheck(name, list(want.shape), max_diff, max_diff / scale, argmax,
                       int(np.count_nonzero(diff > RTOL * scale)))


def _near_zero_binarizer_inputs(model: onnx.ModelProto, feed: dict[str, np.ndarray],
                                num_threads: int) -> int:
    """Binarizer input values, as onnxruntime computes them, within float rounding of 0 but
    not 0 (an exact 0 is no rounding question: the converter's ``sign_zero`` settles it)."""
    names = _binarizer_inputs(model.graph)
    if not names:
        return 0
    probed = onnx.ModelProto()
    probed.CopyFrom(model)
    outputs = {output.name for output in probed.graph.output}
    probed.graph.output.extend(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
                               for name in names if name not in outputs)
    count = 0
    for value in ort_session(probed, num_threads).run(names, feed):
        magnitude = np.abs(value)
        limit = NEAR_ZERO * magnitude.max(initial=0)
        count += int(np.count_nonzero((magnitude > 0) & (magnitude <= limit)))
    return count


def _binarizer_inputs(graph: onnx.GraphProto) -> list[str]:
    """Activations a Sign binarizes or a comparison with a constant 0 thresholds (weights are
    binarized at conversion, exactly)."""
    zeros = _zero_scalars(graph)
    activations = input_dependent_values(graph)
    names = []
    for node in graph.node:
        if node.op_type == "Sign":
            names.append(node.input[0])
        elif node.op_type in COMPARISONS and len(node.input) == 2:
            left, right = node.input
            names += [x for x, other in ((left, right), (right, left)) if other in zeros]
    return [name for name in dict.fromkeys(names) if name in activations]


def _zero_scalars(graph: onnx.GraphProto) -> set[str]:
    """Initializers and Constant node outputs holding the single value 0."""
    values = {tensor.name: tensor for tensor in graph.initializer}
    values.update({node.output[0]: helper.get_attribute_value(node.attribute[0])
                   for node in graph.node if node.op_type == "Constant" and node.attribute})
    zeros = set()
    for name, value in values.items():
        if isinstance(value, onnx.TensorProto):
            if math.prod(value.dims) != 1:  # skip weights without reading them
                continue
            value = numpy_helper.to_array(value)
        if isinstance(value, (int, float, np.ndarray)) and np.all(value == 0):
            zeros.add(name)
    return zeros
