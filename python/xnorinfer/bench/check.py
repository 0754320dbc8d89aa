"""Agreement of a converted model with onnxruntime on the same ONNX, sample by sample.

A binarized network amplifies float rounding at one place: a Sign input that lies within
rounding distance of 0 may binarize to +1 in one engine and -1 in the other, which moves the
outputs of that sample far more than rounding alone. So a sample whose outputs differ by more
than ``RTOL`` (relative to its largest output) is *explained* when one of its Sign inputs, as
onnxruntime computes them, lies within ``SIGN_MARGIN`` times that input's RMS of 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from xnorinfer.onnx.onnx_graph import input_dependent_values

RTOL = 1e-4
SIGN_MARGIN = 1e-5


@dataclass
class Agreement:
    """How one output of ours compares with onnxruntime's.

    Attributes
    ----------
    output : str
        Output name.
    max_abs_diff, max_abs_value : float
        Largest difference, and largest onnxruntime value, over all samples.
    relative_errors : list of float
        Per sample: ``max |ours - ort| / max |ort|``.
    argmax_agree : int or None
        Samples whose argmax agrees, for ``[samples, classes]`` outputs; None otherwise.
    near_zero_sign : list of bool or None
        Per sample: a Sign input lies within ``SIGN_MARGIN`` of 0 (relative to its RMS); None
        when no sample exceeded ``RTOL`` (not computed).
    """

    output: str
    max_abs_diff: float
    max_abs_value: float
    relative_errors: list[float]
    argmax_agree: int | None
    near_zero_sign: list[bool] | None = None

    @property
    def samples(self) -> int:
        return len(self.relative_errors)

    @property
    def within(self) -> int:
        """Samples within ``RTOL``."""
        return sum(error <= RTOL for error in self.relative_errors)

    @property
    def unexplained(self) -> list[int]:
        """Samples beyond ``RTOL`` with no Sign input near 0."""
        near = self.near_zero_sign or [False] * self.samples
        return [i for i, error in enumerate(self.relative_errors) if error > RTOL and not near[i]]

    def summary(self) -> str:
        """One line for a report."""
        line = (f"output '{self.output}': max |diff| {self.max_abs_diff:.3g} (max |value| "
                f"{self.max_abs_value:.3g}); {self.within}/{self.samples} samples within "
                f"{RTOL:g} relative")
        if self.argmax_agree is not None:
            line += f"; argmax agrees on {self.argmax_agree}/{self.samples}"
        beyond = self.samples - self.within
        if beyond:
            explained = beyond - len(self.unexplained)
            line += (f"; {explained} of the {beyond} others have a Sign input within float "
                     "rounding of 0, which flips a binarized value")
        return line


def compare_with_onnxruntime(session: Any, onnx_model: str | os.PathLike | onnx.ModelProto,
                             feed: dict[str, np.ndarray], num_threads: int) -> list[Agreement]:
    """Run ``session`` (ours) and onnxruntime on ``feed`` and compare every output.

    Parameters
    ----------
    session : xnorinfer.InferenceSession
        The converted model.
    onnx_model : path or onnx.ModelProto
        The ONNX model it was converted from.
    feed : dict of str to numpy.ndarray
        Inputs; dim 0 is the sample axis.
    num_threads : int
        onnxruntime's threads.

    Returns
    -------
    list of Agreement
        One per output, in the session's output order.
    """
    from xnorinfer.bench.timing import ort_session

    names = [arg.name for arg in session.get_outputs()]
    ours = session.run(None, feed)
    reference = ort_session(onnx_model, num_threads).run(names, feed)
    agreements = [_agreement(name, got, want) for name, got, want in zip(names, ours, reference)]
    if any(a.within < a.samples for a in agreements):
        near = _near_zero_sign(onnx_model, feed, num_threads)
        for agreement in agreements:
            agreement.near_zero_sign = near
    return agreements


def _agreement(name: str, got: np.ndarray, want: np.ndarray) -> Agreement:
    samples = len(want) if want.ndim else 1
    diff = np.abs(got - want).reshape(samples, -1)
    scale = np.abs(want).reshape(samples, -1).max(axis=1)
    errors = (diff.max(axis=1) / np.maximum(scale, np.finfo(np.float32).tiny)).tolist()
    argmax = None
    if want.ndim == 2 and want.shape[1] > 1:
        argmax = int((got.argmax(axis=1) == want.argmax(axis=1)).sum())
    return Agreement(name, float(diff.max()), float(scale.max()), errors, argmax)


def _near_zero_sign(onnx_model: Any, feed: dict[str, np.ndarray],
                    num_threads: int) -> list[bool]:
    """Per sample: does any Sign input (as onnxruntime computes it) lie near 0?"""
    from xnorinfer.bench.timing import ort_session

    model = onnx_model if isinstance(onnx_model, onnx.ModelProto) else onnx.load(
        os.fspath(onnx_model))
    model = onnx.ModelProto.FromString(model.SerializeToString())
    existing = {output.name for output in model.graph.output}
    activations = input_dependent_values(model.graph)
    signs = list(dict.fromkeys(node.input[0] for node in model.graph.node
                               if node.op_type == "Sign" and node.input[0] not in existing
                               and node.input[0] in activations))
    samples = len(next(iter(feed.values())))
    if not signs:
        return [False] * samples
    model.graph.output.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
                              for n in signs)
    values = ort_session(model, num_threads).run(signs, feed)
    near = [False] * samples
    for value in values:
        if value.ndim == 0 or len(value) != samples:
            continue
        flat = np.abs(value.reshape(samples, -1))
        rms = np.sqrt(np.mean(np.square(flat), axis=1))
        for i in np.flatnonzero(flat.min(axis=1) < SIGN_MARGIN * rms):
            near[i] = True
    return near
