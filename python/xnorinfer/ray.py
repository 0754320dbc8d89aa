"""Batch inference on a Ray cluster: ``Dataset.map_batches`` over a pool of actors, each loading
the model once (``pip install "xnorinfer[ray]"``, Ray 2.40 or newer with ``ray[data]``).

    import ray, xnorinfer.ray
    ds = ray.data.read_parquet("s3://bucket/images/")          # a tensor column named "input"
    scored = xnorinfer.ray.predict(ds, "bnn.onnx", batch_size=256, actors=8)
    scored.write_parquet("s3://bucket/scores/")

The model travels as bytes in Ray's object store, so workers need no shared filesystem; an
actor that dies is restarted by Ray and its batch retried.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from xnorinfer.session import InferenceSession

# Ray versions from which map_batches prefers compute=ActorPoolStrategy(size=...) over the
# concurrency=... argument of older ones.
COMPUTE_STRATEGY_SINCE = (2, 50)


class Predictor:
    """A callable class for ``Dataset.map_batches`` with ``batch_format="numpy"``: each actor
    builds one session and scores batches (dicts of column name to array) with it.

    Parameters
    ----------
    model : bytes, str or os.PathLike
        The model (an ``.xnor`` file's bytes, or an ONNX model's) or a path every worker can
        read. :func:`predict` passes the converted model's bytes.
    input_names : list of str, optional
        The columns fed to the model's inputs, in the model's input order. Default: the model's
        input names.
    output_names : list of str, optional
        The outputs to compute, each written to a column of its name. Default: all.
    num_threads : int or None
        Threads of the session (the actor's CPUs); None: all cores.

    Columns the model does not read pass through unchanged (ids, paths). A tensor column may
    hold one array per row (Ray's ragged form); numeric columns are converted to float32.
    A row whose shape does not fit the model is a ValueError naming the row and its shape.
    """

    def __init__(self, model: Any, *, input_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None,
                 num_threads: int | None = 1) -> None:
        self._session = InferenceSession(model, num_threads=num_threads)
        model_inputs = self._session.get_inputs()
        self._inputs = list(input_names or [arg.name for arg in model_inputs])
        if len(self._inputs) != len(model_inputs):
            raise ValueError(f"input_names needs one column per model input "
                             f"{[arg.name for arg in model_inputs]}, got {self._inputs}")
        self._outputs = list(output_names) if output_names else None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        feed = {arg.name: self._column(batch, column, arg.shape)
                for arg, column in zip(self._session.get_inputs(), self._inputs)}
        names = self._outputs or [arg.name for arg in self._session.get_outputs()]
        for name, values in zip(names, self._session.run(names, feed)):
            batch[name] = values
        return batch

    def _column(self, batch: dict[str, np.ndarray], column: str, shape: list) -> np.ndarray:
        if column not in batch:
            raise ValueError(f"the batch has no column '{column}' (columns: {sorted(batch)})")
        values = batch[column]
        want = [d if isinstance(d, int) else None for d in shape[1:]]  # None: any extent
        # A ragged column (an array per row) is checked row by row, a stacked one once.
        rows = list(values) if values.dtype == object else [values[0]] if len(values) else []
        for index, row in enumerate(rows):
            got = list(np.shape(row))
            if len(got) != len(want) or any(w is not None and w != g for w, g in zip(want, got)):
                where = _row_name(batch, index) if values.dtype == object else "every row"
                raise ValueError(f"{where} of column '{column}' has shape {got}, the model "
                                 f"expects {shape[1:]} per row")
        stacked = np.stack(rows) if values.dtype == object else values
        if not np.issubdtype(stacked.dtype, np.number):
            raise ValueError(f"column '{column}' holds {stacked.dtype}, not numbers")
        return np.ascontiguousarray(stacked, dtype=np.float32)


def _row_name(batch: dict[str, np.ndarray], index: int) -> str:
    """The row by its id or path column when the batch has one."""
    for key in ("path", "id", "row_id"):
        if key in batch:
            return f"row {batch[key][index]!s} ({key})"
    return f"row {index} of its batch"


def model_bytes(model: Any) -> bytes:
    """An ``.xnor`` model's bytes as they are; an ONNX model converted once, here (path, bytes
    or ModelProto), so that actors load it without converting it each."""
    from xnorinfer import model_file
    from xnorinfer.ort_compat import load_model

    if isinstance(model, (str, os.PathLike)):
        data = Path(model).read_bytes()
        if data.startswith(model_file.MAGIC):
            return data
    elif isinstance(model, (bytes, bytearray, memoryview)) and bytes(model).startswith(
            model_file.MAGIC):
        return bytes(model)
    return model_file.dumps(load_model(model)[0])  # an ONNX path keeps its external data


def map_batches_args(model: Any, *, batch_size: int = 64, actors: int = 2,
                     threads_per_actor: int = 1, input_names: Sequence[str] | None = None,
                     output_names: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``map_batches`` arguments :func:`predict` uses with :class:`Predictor` (for a
    subclass of it, or to add Ray arguments of your own)."""
    import ray

    if batch_size < 1 or actors < 1 or threads_per_actor < 1:
        raise ValueError("batch_size, actors and threads_per_actor must be positive")
    args: dict[str, Any] = {
        "batch_size": batch_size, "batch_format": "numpy", "num_cpus": threads_per_actor,
        "fn_constructor_kwargs": {"model": model_bytes(model), "input_names": input_names,
                                  "output_names": output_names,
                                  "num_threads": threads_per_actor}}
    version = tuple(int(part) for part in ray.__version__.split(".")[:2])
    if version >= COMPUTE_STRATEGY_SINCE:
        args["compute"] = ray.data.ActorPoolStrategy(size=actors)
    else:
        args["concurrency"] = actors
    return args


def predict(ds: Any, model: Any, *, batch_size: int = 64, actors: int = 2,
            threads_per_actor: int = 1, input_names: Sequence[str] | None = None,
            output_names: Sequence[str] | None = None, **map_batches_kwargs: Any) -> Any:
    """``ds.map_batches(Predictor, ...)`` over ``actors`` actors of ``threads_per_actor`` CPUs:
    the lazily mapped ``ray.data.Dataset``, with one column per model output added.

    Parameters
    ----------
    ds : ray.data.Dataset
        Rows with the model's input column(s); other columns pass through.
    model : path, bytes or onnx.ModelProto
        An ``.xnor`` model or an ONNX model (converted once, on the driver).
    batch_size, actors, threads_per_actor : int
        Rows per batch; actors in the pool; CPUs (and session threads) per actor.
    input_names, output_names : list of str, optional
        As for :class:`Predictor`.
    **map_batches_kwargs
        More ``map_batches`` arguments (``max_restarts``, ``runtime_env``, ...).
    """
    args = map_batches_args(model, batch_size=batch_size, actors=actors,
                            threads_per_actor=threads_per_actor, input_names=input_names,
                            output_names=output_names)
    return ds.map_batches(Predictor, **{**args, **map_batches_kwargs})
