"""``xnorinfer batch MODEL INPUT OUTPUT``: score a dataset with a model into a Parquet folder,
in this process (``--engine local``, batched, with a progress bar) or on Ray (``--engine
ray``: :func:`xnorinfer.ray.predict` over a pool of actors). Both write the same rows.

Inputs: a ``.npy`` file (one row per first-axis entry), a ``.npz`` (the input's array), a
folder of ``.npy`` files (one row each), a Parquet file or folder with a tensor column (nested
lists or fixed-size lists), or a folder of images (resized, scaled to [0, 1] and normalized per
channel, as NCHW). The output holds ``row_id``, ``path`` where rows came from files, and one
column per model output (a fixed-size list of float32 per row; the row shape is in the
column's field metadata under ``shape``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np


ROW_ID = "row_id"
PATH = "path"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
ROWS_PER_FILE = 65536


@dataclass
class ImageOptions:
    """How a folder of images becomes NCHW float32 rows."""

    size: tuple[int, int] = (224, 224)  # height, width
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    grayscale: bool = False


def read_rows(source: Path, column: str, images: ImageOptions | None = None) -> dict[str, Any]:
    """The rows of ``source`` as columns: ``row_id``, ``path`` (rows from files) and
    ``column`` (float32, one row per first-axis entry)."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file())
        if any(p.suffix == ".parquet" for p in files):
            return _numbered(_parquet_column([p for p in files if p.suffix == ".parquet"],
                                             column), column)
        npy = [p for p in files if p.suffix == ".npy"]
        pictures = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
        if npy:
            return _numbered(_stacked([_load_row(p) for p in npy], npy), column, npy)
        if pictures:
            options = images or ImageOptions()
            return _numbered(_stacked([_image(p, options) for p in pictures], pictures), column,
                             pictures)
        raise ValueError(f"{source} holds no .npy, .parquet or image files")
    if source.suffix == ".npy":
        return _numbered(np.load(source, allow_pickle=False), column)
    if source.suffix == ".npz":
        with np.load(source, allow_pickle=False) as archive:
            names = archive.files
            name = column if column in names else names[0] if len(names) == 1 else None
            if name is None:
                raise ValueError(f"{source} holds {names}: name the model input's array "
                                 f"'{column}' (or pass --input-name)")
            return _numbered(archive[name], column)
    if source.suffix == ".parquet":
        return _numbered(_parquet_column([source], column), column)
    raise ValueError(f"cannot read {source}: give a .npy, .npz or .parquet file, or a folder "
                     "of .npy, .parquet or image files")


def _numbered(values: np.ndarray, column: str, paths: Sequence[Path] | None = None
              ) -> dict[str, Any]:
    if not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"the input holds {values.dtype}, not numbers")
    rows = {ROW_ID: np.arange(len(values), dtype=np.int64),
            column: np.ascontiguousarray(values, dtype=np.float32)}
    if paths is not None:
        rows[PATH] = np.array([str(p) for p in paths], dtype=object)
    return rows


def _stacked(rows: list[np.ndarray], paths: Sequence[Path]) -> np.ndarray:
    """The rows as one array; a row whose shape differs from the first's is an error naming
    its file."""
    for row, path in zip(rows, paths):
        if row.shape != rows[0].shape:
            raise ValueError(f"{path} holds shape {list(row.shape)}, {paths[0].name} "
                             f"{list(rows[0].shape)}: every row must have the same shape")
    return np.stack(rows)


def _load_row(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def _image(path: Path, options: ImageOptions) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise ValueError("reading images needs Pillow: pip install pillow") from None
    with Image.open(path) as image:
        image = image.convert("L" if options.grayscale else "RGB")
        image = image.resize((options.size[1], options.size[0]), Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.float32) / 255.0
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    if len(options.mean) != pixels.shape[-1] or len(options.std) != pixels.shape[-1]:
        raise ValueError(f"--mean and --std need {pixels.shape[-1]} values per channel")
    pixels = (pixels - np.float32(options.mean)) / np.float32(options.std)
    return pixels.transpose(2, 0, 1)  # HWC -> CHW


def _parquet_column(files: Sequence[Path], column: str) -> np.ndarray:
    pq = _pyarrow_parquet()
    rows = []
    for path in files:
        table = pq.read_table(path)
        if column not in table.column_names:
            raise ValueError(f"{path} has no column '{column}' (columns: {table.column_names};"
                             " pass --input-name)")
        rows += table.column(column).to_pylist()
    try:
        return np.asarray(rows, dtype=np.float32)
    except ValueError:
        shapes = sorted({np.shape(r) for r in rows[:1000]}, key=str)
        raise ValueError(f"the rows of column '{column}' differ in shape ({shapes[:4]} ...)")


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("Parquet needs pyarrow: pip install pyarrow (or xnorinfer[ray])") from None
    return pq


def output_batches(rows: dict[str, Any], score: Callable[[dict[str, np.ndarray]], dict],
                   batch_size: int) -> Iterator[dict[str, np.ndarray]]:
    """``score`` (a Predictor) over ``rows`` in batches, with a progress bar on a terminal."""
    total = len(rows[ROW_ID])
    with _progress(total) as advance:
        for start in range(0, total, batch_size):
            batch = {key: values[start:start + batch_size] for key, values in rows.items()}
            yield score(batch)
            advance(len(batch[ROW_ID]))


class _progress:
    def __init__(self, total: int) -> None:
        self._total, self._bar = total, None

    def __enter__(self) -> Callable[[int], None]:
        try:
            from rich.progress import Progress
        except ImportError:
            return lambda n: None
        if not sys.stderr.isatty():
            return lambda n: None
        self._bar = Progress(transient=True)
        self._bar.__enter__()
        task = self._bar.add_task("scoring", total=self._total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def write_parquet(batches: Iterator[dict[str, np.ndarray]], output: Path,
                  columns: Sequence[str]) -> int:
    """Write ``row_id``, ``path`` (when present) and ``columns`` of the batches (in row order:
    both engines yield them so) as ``part-NNNNN.parquet`` files of about ROWS_PER_FILE rows,
    as they arrive; returns the rows written."""
    import pyarrow as pa

    pq = _pyarrow_parquet()
    output.mkdir(parents=True, exist_ok=True)
    for stale in output.glob("part-*.parquet"):
        stale.unlink()
    pending: list[pa.Table] = []
    written = parts = 0

    def flush() -> None:
        nonlocal parts
        if pending:
            pq.write_table(pa.concat_tables(pending), output / f"part-{parts:05d}.parquet")
            parts += 1
            pending.clear()

    for batch in batches:
        pending.append(_table(batch, columns))
        written += len(batch[ROW_ID])
        if sum(t.num_rows for t in pending) >= ROWS_PER_FILE:
            flush()
    flush()
    return written


def _table(batch: dict[str, np.ndarray], columns: Sequence[str]) -> Any:
    import pyarrow as pa

    arrays, fields = [pa.array(batch[ROW_ID], pa.int64())], [pa.field(ROW_ID, pa.int64())]
    if PATH in batch:
        arrays.append(pa.array([str(p) for p in batch[PATH]], pa.string()))
        fields.append(pa.field(PATH, pa.string()))
    for name in columns:
        values = np.ascontiguousarray(batch[name], dtype=np.float32)
        width = int(np.prod(values.shape[1:]))
        flat = pa.array(values.reshape(-1), pa.float32())
        arrays.append(pa.FixedSizeListArray.from_arrays(flat, width))
        fields.append(pa.field(name, pa.list_(pa.float32(), width),
                               metadata={"shape": json.dumps(list(values.shape[1:]))}))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def read_output(output: Path) -> dict[str, np.ndarray]:
    """A folder :func:`write_parquet` wrote, as columns (outputs reshaped to their rows)."""
    pq = _pyarrow_parquet()
    import pyarrow as pa

    table = pa.concat_tables([pq.read_table(p) for p in sorted(output.glob("part-*.parquet"))])
    columns = {}
    for field in table.schema:
        column = table.column(field.name)
        if field.metadata and b"shape" in field.metadata:
            shape = json.loads(field.metadata[b"shape"])
            flat = column.combine_chunks().flatten().to_numpy()
            columns[field.name] = flat.reshape([len(table)] + shape)
        else:
            columns[field.name] = np.asarray(column.to_pylist())
    return columns


def ray_batches(rows: dict[str, Any], model: bytes, column: str, *, batch_size: int, actors: int,
                threads_per_actor: int, address: str | None,
                outputs: Sequence[str]) -> Iterator[dict[str, np.ndarray]]:
    """The rows scored on Ray by :func:`xnorinfer.ray.predict` (a local Ray started for the job
    when no ``address`` is given and none is running), as batches of ``row_id``, ``path``
    and the outputs."""
    try:
        import ray
    except ImportError:
        raise ValueError('--engine ray needs Ray: pip install "xnorinfer[ray]"') from None
    from xnorinfer.ray import predict

    # Batches come back in row order, so both engines write the same files as they go.
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 **({} if address else {"num_cpus": actors * threads_per_actor}))
    try:
        keys = [key for key in (ROW_ID, PATH) if key in rows]
        items = [{**{key: rows[key][i] for key in keys}, column: rows[column][i]}
                 for i in range(len(rows[ROW_ID]))]
        scored = predict(ray.data.from_items(items), model, batch_size=batch_size,
                         actors=actors, threads_per_actor=threads_per_actor,
                         input_names=[column])
        for batch in scored.iter_batches(batch_format="numpy", batch_size=None):
            yield {key: batch[key] for key in [*keys, *outputs]}
    finally:
        if started:
            ray.shutdown()
