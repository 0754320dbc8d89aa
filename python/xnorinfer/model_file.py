"""The xnorinfer model file (``.xnor``): one self-contained, versioned, checksummed file
holding an engine graph (``docs/ir.md``) and its constants.

Layout (all integers little-endian; offsets in bytes)::

    0   magic          8    b"XNORINF\\0"
    8   version        u32  format version, 1
    12  flags          u32  0 (no flags are defined in version 1)
    16  header_len     u64  length of the header
    24  header         header_len bytes of UTF-8 JSON (below)
        padding        zeros up to the next multiple of 64: the data section starts there
        data section   constant blobs, each starting 64-byte aligned, zero padding between
        trailer        32-byte SHA-256 of every byte before the trailer, then b"XNOREND\\0"

The trailer follows the end of the last blob (or the data section start when there are no
constants); no other byte may sit between them. The header is one JSON object::

    {"inputs": [ValueInfo], "outputs": [ValueInfo], "values": [ValueInfo],
     "nodes": [{"name", "op", "inputs", "outputs", "attrs"}], "metadata": {...},
     "constants": [{"name", "dtype", "shape", "offset", "nbytes", "crc32"}]}

where a ValueInfo is ``{"name", "shape", "dtype"}``. A constant's ``offset`` counts from
the data section start, its dtype is ``"float32"`` (stored float32 LE) or ``"uint64"``
(packed bits, stored uint64 LE) and ``crc32`` is zlib's CRC-32 of its bytes. Non-finite
float attributes are written as Python's ``json`` writes them (``Infinity``, ``NaN``).

Python writes the file; the one reader is the C++ engine's (src/xnorinfer/model/, through
``_core.read_model``), which the C++ API uses too. Its contract: reading a file never executes
anything from it (no pickle), never reads outside the file and never allocates more than the
file's size justifies. Every field is checked before use, and a bad file raises ``ModelError``
saying which problem it has: not an xnorinfer file, truncated, corrupted, written by a newer
version, or malformed. ``save`` reads back what it wrote, so a graph that saves also loads.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from xnorinfer import _core, ir
from xnorinfer.errors import ModelError

MAGIC = b"XNORINF\x00"
END_MAGIC = b"XNOREND\x00"
FORMAT_VERSION = 1
ALIGNMENT = 64

_PREAMBLE = struct.Struct("<8sIIQ")  # magic, version, flags, header_len

# Constant dtypes in the file -> little-endian NumPy dtype they are stored as.
_STORAGE_DTYPES = {"float32": np.dtype("<f4"), "uint64": np.dtype("<u8")}


# --------------------------------------------------------------------------- public API


def save(graph: ir.Graph, path: str | os.PathLike[str]) -> int:
    """Write ``graph`` to a model file.

    The file is written next to ``path`` under a temporary name and renamed into place, so
    a crash never leaves a half-written model behind.

    Parameters
    ----------
    graph : ir.Graph
        The graph to store. Constants must be float32 or uint64 NumPy arrays.
    path : str or os.PathLike
        Destination file; replaced if it exists.

    Returns
    -------
    int
        The number of bytes written.

    Raises
    ------
    ModelError
        If the graph breaks a rule that ``load`` checks (so it could not be read back).
    """
    return save_bytes(dumps(graph), path)


def save_bytes(data: bytes, path: str | os.PathLike[str]) -> int:
    """Write the bytes of a model file (from :func:`dumps`) as :func:`save` does: under a
    temporary name, renamed into place. Returns the number of bytes written."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return len(data)


def dumps(graph: ir.Graph) -> bytes:
    """Serialize ``graph`` to the bytes of a model file.

    Parameters
    ----------
    graph : ir.Graph
        The graph to store.

    Returns
    -------
    bytes
        The complete file, trailer included.

    Raises
    ------
    ModelError
        If the graph breaks a rule that ``loads`` checks.
    """
    try:
        return _encode(graph)
    except ModelError as error:
        raise ModelError(f"cannot save graph: {error}") from None


def load(path: str | os.PathLike[str]) -> ir.Graph:
    """Read a model file.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xnor`` file. It may come from anyone: it is validated before use.

    Returns
    -------
    ir.Graph
        The graph, with constants as owned, C-contiguous float32 / uint64 arrays.

    Raises
    ------
    ModelError
        If the file is not an xnorinfer model, is truncated, corrupted, from a newer format
        version, or malformed. The message says which.
    OSError
        If the file cannot be read.
    """
    return _loads(Path(path).read_bytes(), f"model file '{path}'")


def loads(data: bytes) -> ir.Graph:
    """Read a model from the bytes of a model file.

    Parameters
    ----------
    data : bytes-like
        The complete file contents.

    Returns
    -------
    ir.Graph
        The graph, with constants as owned, C-contiguous float32 / uint64 arrays.

    Raises
    ------
    ModelError
        As for ``load``.
    """
    return _loads(data, "model bytes")


# ------------------------------------------------------------------------------ writing


def _encode(graph: ir.Graph) -> bytes:
    blobs = {name: _constant_bytes(name, array) for name, array in graph.constants.items()}
    header = _graph_to_json(graph)
    header["constants"] = _constant_table(graph.constants, blobs)
    header_bytes = _encode_header(header)

    out = bytearray(_PREAMBLE.pack(MAGIC, FORMAT_VERSION, 0, len(header_bytes)))
    out += header_bytes
    data_start = _align(len(out))
    out += bytes(data_start - len(out))
    for entry, blob in zip(header["constants"], blobs.values()):
        out += bytes(data_start + entry["offset"] - len(out))
        out += blob
    out += hashlib.sha256(out).digest() + END_MAGIC
    # The reader's checks are the rules: a graph that saves also loads.
    try:
        _core.read_model(out)
    except _core.InvalidModelFile as error:
        raise ModelError(str(error)) from None
    return bytes(out)


def _constant_table(constants: dict[str, np.ndarray], blobs: dict[str, bytes]
                    ) -> list[dict[str, Any]]:
    """Header entries for the blobs, laid out in order from the data section start."""
    table, position = [], 0
    for name, blob in blobs.items():
        position = _align(position)
        table.append({"name": name, "dtype": _storage_name(constants[name]),
                      "shape": list(constants[name].shape), "offset": position,
                      "nbytes": len(blob), "crc32": zlib.crc32(blob)})
        position += len(blob)
    return table


# ------------------------------------------------------------------------------ reading


def _loads(data: bytes, label: str) -> ir.Graph:
    view = memoryview(data).cast("B")
    try:
        described = _core.read_model(view)
    except _core.InvalidModelFile as error:
        raise ModelError(f"cannot load {label}: {error}") from None
    return _graph_from(described, view)


def _graph_from(described: dict[str, Any], view: memoryview) -> ir.Graph:
    """The ir.Graph of what the C++ reader returned, with each constant copied out of
    ``view`` into an owned, native-order array (the result outlives the file bytes)."""
    def values(items: list[tuple]) -> list[ir.ValueInfo]:
        return [ir.ValueInfo(name, list(shape), dtype) for name, shape, dtype in items]

    constants = {}
    for name, stored, shape, offset, nbytes in described["constants"]:
        stored = np.dtype(stored)
        flat = np.frombuffer(view, dtype=stored, count=nbytes // stored.itemsize, offset=offset)
        constants[name] = flat.reshape(shape).astype(stored.newbyteorder("="), order="C")
    nodes = [ir.Node(name, op, list(inputs), list(outputs), attrs)
             for name, op, inputs, outputs, attrs in described["nodes"]]
    value_map = {value.name: value for value in values(described["values"])}
    return ir.Graph(values(described["inputs"]), values(described["outputs"]), nodes,
                    constants, value_map, described["metadata"])


# -------------------------------------------------------------- graph <-> header JSON


def _graph_to_json(graph: ir.Graph) -> dict[str, Any]:
    """The header without its constant table, with NumPy scalars turned into JSON ones."""
    for name, value in graph.values.items():
        if not isinstance(value, ir.ValueInfo) or value.name != name:
            raise ModelError(f"values['{name}'] must be a ValueInfo named '{name}'")
    return {
        "inputs": [_value_to_json(v) for v in graph.inputs],
        "outputs": [_value_to_json(v) for v in graph.outputs],
        "values": [_value_to_json(v) for v in graph.values.values()],
        "nodes": [{"name": n.name, "op": n.op, "inputs": list(n.inputs),
                   "outputs": list(n.outputs),
                   "attrs": {k: _attr_to_json(v) for k, v in n.attrs.items()}}
                  for n in graph.nodes],
        "metadata": graph.metadata,
    }


def _value_to_json(value: ir.ValueInfo) -> dict[str, Any]:
    return {"name": value.name, "shape": [_scalar_to_json(d) for d in value.shape],
            "dtype": value.dtype}


def _attr_to_json(value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_scalar_to_json(item) for item in value]
    return _scalar_to_json(value)


def _scalar_to_json(value: Any) -> Any:
    """NumPy integers and floats become Python ones; anything else is checked later."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _encode_header(header: dict[str, Any]) -> bytes:
    try:
        return json.dumps(header, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise ModelError(f"graph metadata is not JSON-serializable ({error})") from None


# -------------------------------------------------------------------------- helpers


def _constant_bytes(name: str, array: Any) -> bytes:
    if not isinstance(array, np.ndarray):
        raise ModelError(f"constant '{name}' must be a NumPy array, got "
                         f"{type(array).__name__}")
    storage = _storage_name(array)
    if storage is None:
        raise ModelError(f"constant '{name}' has dtype {array.dtype}, expected float32 or "
                         f"uint64 (packed bits)")
    return np.ascontiguousarray(array, dtype=_STORAGE_DTYPES[storage]).tobytes()


def _storage_name(array: np.ndarray) -> str | None:
    """The file dtype for an array of either byte order, or None."""
    for name, stored in _STORAGE_DTYPES.items():
        if array.dtype.kind == stored.kind and array.dtype.itemsize == stored.itemsize:
            return name
    return None


def _align(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT
