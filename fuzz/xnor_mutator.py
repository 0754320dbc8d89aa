"""Model-file surgery for the fuzzer: recompute checksums, and mutate the JSON header by
structure (a number, name, list or attribute at a time) so that most mutants still parse and
reach the graph checks and the C++ engine, which byte flips in JSON rarely do."""

from __future__ import annotations

import hashlib
import json
import math
import random
import struct
import zlib
from typing import Any

from xnorinfer import ir, model_file

PREAMBLE = struct.Struct("<8sIIQ")
TRAILER = 40
INTERESTING_INTS = [-(2**63), -(2**31), -2, -1, 0, 1, 2, 3, 7, 63, 64, 65, 4095, 4096, 4097,
                    2**30, 2**31 - 1, 2**31, 2**31 + 1, 2**32, 2**62, 2**63 - 1]
INTERESTING_FLOATS = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e-45, 1e38, -1.0]
NAMES = sorted(set(ir.ALL_OPS) | {a for attrs in ir.OP_ATTRS.values() for a in attrs}
               | {"float", "bits", "float32", "uint64", ""})


def split(data: bytes) -> tuple[dict, bytes] | None:
    """(header, data section) of a model file, or None when its framing is too broken."""
    if len(data) < PREAMBLE.size + TRAILER:
        return None
    header_len = PREAMBLE.unpack_from(data)[3]
    data_start = -(-(PREAMBLE.size + header_len) // 64) * 64
    if data_start > len(data) - TRAILER:
        return None
    try:
        header = json.loads(data[PREAMBLE.size:PREAMBLE.size + header_len])
    except (ValueError, RecursionError):
        return None
    return (header, data[data_start:-TRAILER]) if isinstance(header, dict) else None


def seal(header: dict, blobs: bytes) -> bytes:
    """A model file around ``header`` and ``blobs``, with every in-range CRC-32 and the
    SHA-256 trailer recomputed."""
    for entry in header.get("constants") or []:
        try:
            entry["crc32"] = zlib.crc32(blobs[entry["offset"]:entry["offset"] + entry["nbytes"]])
        except (TypeError, KeyError, IndexError):
            continue
    header_bytes = json.dumps(header).encode()
    body = PREAMBLE.pack(model_file.MAGIC, model_file.FORMAT_VERSION, 0, len(header_bytes))
    body += header_bytes
    body += bytes(-len(body) % 64) + blobs
    return body + hashlib.sha256(body).digest() + model_file.END_MAGIC


def fix_checksums(data: bytes) -> bytes | None:
    """``data`` resealed (header re-encoded), or None when its header cannot be found."""
    parts = split(data)
    return None if parts is None else seal(*parts)


def mutate(data: bytes, rng: random.Random) -> bytes | None:
    """One structural change to the header of ``data``, resealed; None when it has none."""
    parts = split(data)
    if parts is None:
        return None
    header, blobs = parts
    slots = list(_slots(header))
    if not slots:
        return None
    container, key = rng.choice(slots)
    container[key] = _new_value(container[key], rng)
    return seal(header, blobs)


def _slots(value: Any):
    """Every (container, key) in a JSON tree."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in list(items):
        yield value, key
        if isinstance(item, (dict, list)):
            yield from _slots(item)


def _new_value(old: Any, rng: random.Random) -> Any:
    if isinstance(old, bool) or old is None:
        return rng.choice([0, 1, [], "x"])
    if isinstance(old, int):
        return rng.choice([rng.choice(INTERESTING_INTS), old + rng.randint(-3, 3), old * 2])
    if isinstance(old, float):
        return rng.choice(INTERESTING_FLOATS)
    if isinstance(old, str):
        return rng.choice(NAMES)
    if isinstance(old, list):
        changed = list(old)
        action = rng.randrange(4)
        if action == 0 and changed:
            del changed[rng.randrange(len(changed))]
        elif action == 1 and changed:
            changed.insert(rng.randrange(len(changed) + 1), rng.choice(changed))
        elif action == 2:
            changed = [rng.choice(INTERESTING_INTS) for _ in range(rng.randint(0, 5))]
        else:
            rng.shuffle(changed)
        return changed
    if isinstance(old, dict):  # an attribute map, most likely: add or drop one
        changed = dict(old)
        if changed and rng.random() < 0.5:
            del changed[rng.choice(list(changed))]
        else:
            changed[rng.choice(NAMES)] = rng.choice(INTERESTING_INTS)
        return changed
    return old
