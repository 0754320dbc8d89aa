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

Contract: reading a file never executes anything from it (no pickle), never reads outside
the file and never allocates more than the file's size justifies. Every field is checked
before use, and a bad file raises ``ModelError`` saying which problem it has: not an
xnorinfer file, truncated, corrupted, written by a newer version, or malformed. ``save``
runs the same checks, so a graph that saves also loads.
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

from xnorinfer import ir
from xnorinfer.errors import ModelError
from xnorinfer.graph_rules import check_graph

MAGIC = b"XNORINF\x00"
END_MAGIC = b"XNOREND\x00"
FORMAT_VERSION = 1
ALIGNMENT = 64

_PREAMBLE = struct.Struct("<8sIIQ")  # magic, version, flags, header_len
_DIGEST_BYTES = 32
_TRAILER_BYTES = _DIGEST_BYTES + len(END_MAGIC)
_MIN_FILE_BYTES = _PREAMBLE.size + _TRAILER_BYTES

# Constant dtypes in the file -> little-endian NumPy dtype they are stored as.
_STORAGE_DTYPES = {"float32": np.dtype("<f4"), "uint64": np.dtype("<u8")}
_MAX_RANK = 32  # NumPy 1.x's limit; keeps hostile shapes from costing time
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

_HEADER_KEYS = ("inputs", "outputs", "values", "nodes", "metadata", "constants")
_VALUE_KEYS = ("name", "shape", "dtype")
_NODE_KEYS = ("name", "op", "inputs", "outputs", "attrs")
_CONSTANT_KEYS = ("name", "dtype", "shape", "offset", "nbytes", "crc32")



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
    check_graph(_graph_from_json(header), set(blobs))
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
    try:
        return _decode(memoryview(data).cast("B"))
    except ModelError as error:
        raise ModelError(f"cannot load {label}: {error}") from None


def _decode(data: memoryview) -> ir.Graph:
    header_len = _check_preamble(data)
    if not _ends_with_end_magic(data):
        _raise_incomplete(data, header_len)
    _check_digest(data)
    flags = _PREAMBLE.unpack_from(data)[2]
    if flags != 0:
        raise ModelError(f"unsupported flags 0x{flags:08x}: format version 1 defines none")
    trailer_start = len(data) - _TRAILER_BYTES
    data_start = _align(_PREAMBLE.size + header_len)
    if data_start > trailer_start:
        raise ModelError(f"header length {header_len} runs past the trailer at byte "
                         f"{trailer_start}")
    header = _parse_header(data[_PREAMBLE.size:_PREAMBLE.size + header_len])
    table = _read_constant_table(_field(header, "constants", list, "header"),
                                 trailer_start - data_start, len(data))
    graph = _graph_from_json(header)
    check_graph(graph, set(table))
    graph.constants = {name: _read_constant(data, data_start, e) for name, e in table.items()}
    return graph


def _check_preamble(data: memoryview) -> int:
    """Check magic, then version (before the checksum, so a newer file says so)."""
    size = len(data)
    magic = bytes(data[:len(MAGIC)])
    if magic != MAGIC[:len(magic)]:
        raise ModelError(f"not an xnorinfer model file: it starts with {magic!r}, "
                         f"expected the magic {MAGIC!r}")
    if size < len(MAGIC) + 4:
        raise _truncated(size, f"at least {_MIN_FILE_BYTES}")
    version = struct.unpack_from("<I", data, len(MAGIC))[0]
    if version > FORMAT_VERSION:
        raise ModelError(f"written by a newer xnorinfer (format version {version}, this "
                         f"build reads up to {FORMAT_VERSION}): upgrade xnorinfer")
    if version < 1:
        raise ModelError(f"format version {version} does not exist (versions start at 1)")
    if size < _PREAMBLE.size:
        raise _truncated(size, f"at least {_MIN_FILE_BYTES}")
    return _PREAMBLE.unpack_from(data)[3]


def _ends_with_end_magic(data: memoryview) -> bool:
    return len(data) >= _MIN_FILE_BYTES and bytes(data[-len(END_MAGIC):]) == END_MAGIC


def _raise_incomplete(data: memoryview, header_len: int) -> None:
    """The end marker is missing: tell a cut-off file from a damaged end marker.

    Only the size the (not yet verified) header claims is used, and only for the message.
    """
    size = len(data)
    claimed = None
    if size >= _PREAMBLE.size + header_len:
        claimed = _claimed_file_size(data, header_len)
    if claimed is not None and claimed > size:
        raise _truncated(size, f"{claimed} (from its header)")
    least = _PREAMBLE.size + header_len + _TRAILER_BYTES
    if size < least:
        raise _truncated(size, f"at least {least} (a {header_len}-byte header and the trailer)")
    if claimed is None:
        raise ModelError("corrupted: the file does not end with the end marker and its "
                         "header cannot say how long it should be")
    raise ModelError(f"corrupted: the end marker is damaged (expected {END_MAGIC!r} in the "
                     f"last {len(END_MAGIC)} bytes)")


def _claimed_file_size(data: memoryview, header_len: int) -> int | None:
    """File size the header implies, or None when the header cannot tell."""
    try:
        header = json.loads(bytes(data[_PREAMBLE.size:_PREAMBLE.size + header_len]))
    except (ValueError, RecursionError):
        return None
    constants = header.get("constants") if isinstance(header, dict) else None
    if not isinstance(constants, list):
        return None
    data_end = 0
    for entry in constants:
        offset = entry.get("offset") if isinstance(entry, dict) else None
        nbytes = entry.get("nbytes") if isinstance(entry, dict) else None
        if not (_is_int(offset) and _is_int(nbytes) and offset >= 0 and nbytes >= 0):
            return None
        data_end = max(data_end, offset + nbytes)
    return _align(_PREAMBLE.size + header_len) + data_end + _TRAILER_BYTES


def _truncated(size: int, expected: str) -> ModelError:
    return ModelError(f"truncated: the file is {size} bytes, expected {expected}")


def _check_digest(data: memoryview) -> None:
    body_end = len(data) - _TRAILER_BYTES
    stored = bytes(data[body_end:body_end + _DIGEST_BYTES])
    if hashlib.sha256(data[:body_end]).digest() != stored:
        raise ModelError("corrupted: the SHA-256 of the file does not match the one in its "
                         "trailer")


def _parse_header(raw: memoryview) -> dict[str, Any]:
    try:
        header = json.loads(bytes(raw).decode("utf-8"), object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as error:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors; so is an integer literal
        # longer than Python's digit limit. Deep nesting is a RecursionError.
        raise ModelError(f"invalid header: not valid UTF-8 JSON ({error})") from None
    if not isinstance(header, dict):
        raise ModelError(f"invalid header: expected a JSON object, got {_json_type(header)}")
    _check_keys(header, _HEADER_KEYS, "header")
    return header


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse duplicate keys: which one wins differs between JSON readers."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _read_constant_table(entries: list[Any], data_bytes: int, file_bytes: int
                         ) -> dict[str, dict[str, Any]]:
    """Check each constant's entry against the data section, then their layout together."""
    table: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(entries):
        entry = _check_constant_entry(entry, f"constant #{index}", data_bytes, file_bytes)
        if entry["name"] in table:
            raise ModelError(f"invalid header: constant '{entry['name']}' is listed twice")
        table[entry["name"]] = entry
    _check_blob_layout(list(table.values()), data_bytes)
    return table


def _check_constant_entry(entry: Any, where: str, data_bytes: int, file_bytes: int
                          ) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ModelError(f"invalid header: {where} must be an object, got {_json_type(entry)}")
    name = _field(entry, "name", str, where)
    where = f"constant '{name}'"
    _check_keys(entry, _CONSTANT_KEYS, where)
    dtype = _field(entry, "dtype", str, where)
    if dtype not in _STORAGE_DTYPES:
        raise ModelError(f"invalid header: {where} has unknown dtype '{dtype}' (expected "
                         f"one of {', '.join(_STORAGE_DTYPES)})")
    shape = _check_shape(_field(entry, "shape", list, where), where, min_dim=0)
    offset = _field(entry, "offset", int, where)
    nbytes = _field(entry, "nbytes", int, where)
    crc = _field(entry, "crc32", int, where)
    itemsize = _STORAGE_DTYPES[dtype].itemsize
    count = _element_count(shape, file_bytes // itemsize)
    if count is None:
        raise ModelError(f"invalid header: {where} has shape {shape}, which needs more "
                         f"bytes than the whole {file_bytes}-byte file holds")
    if count * itemsize != nbytes:
        raise ModelError(f"invalid header: {where} has shape {shape} of {dtype} "
                         f"({count * itemsize} bytes) but nbytes {nbytes}")
    if offset < 0 or offset + nbytes > data_bytes:
        raise ModelError(f"invalid header: {where} at offset {offset} with {nbytes} bytes is "
                         f"out of range (the data section holds {data_bytes} bytes)")
    if offset % ALIGNMENT:
        raise ModelError(f"invalid header: {where} offset {offset} is not a multiple of "
                         f"{ALIGNMENT}")
    if not 0 <= crc <= 0xFFFFFFFF:
        raise ModelError(f"invalid header: {where} has crc32 {crc}, not a 32-bit value")
    return entry


def _element_count(shape: list[int], cap: int) -> int | None:
    """Product of ``shape``, or None once it exceeds ``cap`` (stops hostile shapes early)."""
    if 0 in shape:
        return 0
    count = 1
    for dim in shape:
        count *= dim
        if count > cap:
            return None
    return count


def _check_blob_layout(entries: list[dict[str, Any]], data_bytes: int) -> None:
    """Blobs may not overlap, and the data section must end where the last blob does."""
    ordered = sorted(entries, key=lambda e: (e["offset"], e["nbytes"]))
    for before, after in zip(ordered, ordered[1:]):
        if after["offset"] < before["offset"] + before["nbytes"]:
            raise ModelError(f"invalid header: constants '{before['name']}' and "
                             f"'{after['name']}' overlap (bytes {after['offset']}.."
                             f"{before['offset'] + before['nbytes']} of the data section)")
    data_end = max((e["offset"] + e["nbytes"] for e in entries), default=0)
    if data_end != data_bytes:
        raise ModelError(f"invalid header: the data section holds {data_bytes} bytes but the "
                         f"constants end at byte {data_end}")


def _read_constant(data: memoryview, data_start: int, entry: dict[str, Any]) -> np.ndarray:
    start = data_start + entry["offset"]
    blob = data[start:start + entry["nbytes"]]
    if zlib.crc32(blob) != entry["crc32"]:
        raise ModelError(f"corrupted: the CRC-32 of constant '{entry['name']}' does not match "
                         f"the header (stored 0x{entry['crc32']:08x}, computed "
                         f"0x{zlib.crc32(blob):08x})")
    stored = _STORAGE_DTYPES[entry["dtype"]]
    flat = np.frombuffer(blob, dtype=stored, count=entry["nbytes"] // stored.itemsize)
    # Owned, native-order copy: the result outlives the file bytes and is writable.
    return flat.reshape(entry["shape"]).astype(stored.newbyteorder("="), order="C")


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


def _graph_from_json(header: dict[str, Any]) -> ir.Graph:
    """Type-check the graph fields of the header; the result has no constants yet."""
    inputs = [_value_from_json(v, f"graph input #{i}")
              for i, v in enumerate(_field(header, "inputs", list, "header"))]
    outputs = [_value_from_json(v, f"graph output #{i}")
               for i, v in enumerate(_field(header, "outputs", list, "header"))]
    values = {}
    for i, v in enumerate(_field(header, "values", list, "header")):
        value = _value_from_json(v, f"value #{i}")
        if value.name in values:
            raise ModelError(f"invalid header: value '{value.name}' is described twice")
        values[value.name] = value
    nodes = [_node_from_json(n, f"node #{i}")
             for i, n in enumerate(_field(header, "nodes", list, "header"))]
    metadata = _field(header, "metadata", dict, "header")
    return ir.Graph(inputs, outputs, nodes, {}, values, metadata)


def _value_from_json(value: Any, where: str) -> ir.ValueInfo:
    if not isinstance(value, dict):
        raise ModelError(f"invalid header: {where} must be an object, got {_json_type(value)}")
    name = _field(value, "name", str, where)
    where = f"{where} '{name}'"
    _check_keys(value, _VALUE_KEYS, where)
    shape = _check_shape(_field(value, "shape", list, where), where, min_dim=-1)
    dtype = _field(value, "dtype", str, where)
    if dtype not in ir.DTYPES:
        raise ModelError(f"invalid header: {where} has unknown dtype '{dtype}' (expected "
                         f"one of {', '.join(ir.DTYPES)})")
    return ir.ValueInfo(name, shape, dtype)


def _node_from_json(node: Any, where: str) -> ir.Node:
    if not isinstance(node, dict):
        raise ModelError(f"invalid header: {where} must be an object, got {_json_type(node)}")
    name = _field(node, "name", str, where)
    where = f"node '{name}'"
    _check_keys(node, _NODE_KEYS, where)
    op = _field(node, "op", str, where)
    inputs = _string_list(_field(node, "inputs", list, where), f"{where} inputs")
    outputs = _string_list(_field(node, "outputs", list, where), f"{where} outputs")
    attrs = _field(node, "attrs", dict, where)
    for key, value in attrs.items():
        if not isinstance(key, str):
            raise ModelError(f"invalid header: {where} has attr name {key!r}, not a string")
        _check_attr(value, f"{where} attr '{key}'")
    return ir.Node(name, op, inputs, outputs, attrs)


def _check_attr(value: Any, where: str) -> None:
    """Attributes are int, float, str, list of int or list of float (docs/ir.md); ints are
    64-bit, as the engine stores them."""
    if _is_int(value):
        _check_int64([value], where)
        return
    if isinstance(value, (float, str)):
        return
    if isinstance(value, list):
        if all(_is_int(item) for item in value):
            _check_int64(value, where)
            return
        if all(isinstance(i, float) for i in value):
            return
        kinds = sorted({_json_type(item) for item in value})
        raise ModelError(f"invalid {where}: a list must hold only ints or only floats, got "
                         f"{', '.join(kinds)}")
    raise ModelError(f"invalid {where}: must be int, float, str, list of int or list of "
                     f"float, got {_json_type(value)}")


def _check_int64(values: list[int], where: str) -> None:
    for value in values:
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ModelError(f"invalid {where}: {value} does not fit in a 64-bit integer")


def _check_shape(shape: list[Any], where: str, min_dim: int) -> list[int]:
    if len(shape) > _MAX_RANK:
        raise ModelError(f"invalid header: {where} has rank {len(shape)}, more than "
                         f"{_MAX_RANK}")
    for dim in shape:
        if not _is_int(dim):
            raise ModelError(f"invalid header: {where} shape {shape} holds "
                             f"{_json_type(dim)}, expected ints")
        if dim < min_dim:
            allowed = ("only -1, a dynamic dimension, may be negative" if min_dim < 0
                       else "a constant has no dynamic dimension")
            raise ModelError(f"invalid header: {where} shape {shape} has a negative "
                             f"dimension {dim} ({allowed})")
        if dim > ir.MAX_EXTENT:
            raise ModelError(f"invalid header: {where} shape has a dimension {dim}, more than "
                             f"the engine's limit of {ir.MAX_EXTENT}")
    return list(shape)


def _string_list(items: list[Any], where: str) -> list[str]:
    for item in items:
        if not isinstance(item, str):
            raise ModelError(f"invalid header: {where} must be strings, got "
                             f"{_json_type(item)}")
    return list(items)


def _field(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise ModelError(f"invalid header: {where} is missing the field '{key}'")
    value = obj[key]
    ok = _is_int(value) if kind is int else isinstance(value, kind)
    if not ok:
        raise ModelError(f"invalid header: {where} field '{key}' must be "
                         f"{_JSON_NAMES[kind]}, got {_json_type(value)}")
    return value


def _check_keys(obj: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(obj) - set(known))
    if unknown:
        raise ModelError(f"invalid header: {where} has unknown field(s) "
                         f"{', '.join(map(repr, unknown))}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_JSON_NAMES = {int: "an int", str: "a string", list: "a list", dict: "an object"}


def _json_type(value: Any) -> str:
    names = {bool: "bool", int: "int", float: "float", str: "str", list: "list",
             dict: "object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


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
