"""Build model-file bytes by hand: split a file into its parts, and seal edited parts with a
valid trailer, so that a test's tampered header passes the integrity check and the structural
checks have to catch it."""

from __future__ import annotations

import hashlib
import json
import struct

from xnorinfer import model_file

PREAMBLE = struct.Struct("<8sIIQ")
TRAILER_BYTES = 40


def split(data: bytes) -> tuple[int, int, dict, bytes]:
    """(version, flags, header, blob section) of a well-formed file."""
    _, version, flags, header_len = PREAMBLE.unpack_from(data)
    header = json.loads(data[PREAMBLE.size:PREAMBLE.size + header_len])
    data_start = -(-(PREAMBLE.size + header_len) // 64) * 64
    return version, flags, header, data[data_start:-TRAILER_BYTES]


def seal(version: int, flags: int, header_bytes: bytes, blobs: bytes) -> bytes:
    """Lay out a file around the given parts and give it a valid trailer."""
    body = PREAMBLE.pack(model_file.MAGIC, version, flags, len(header_bytes)) + header_bytes
    body += bytes(-len(body) % 64) + blobs
    return body + hashlib.sha256(body).digest() + model_file.END_MAGIC


def reseal(data: bytes, edit=None, *, flags=None, blob_edit=None) -> bytes:
    """Tamper with a file's header (``edit(header)`` changes it in place), flags or blobs and
    recompute its checksum."""
    version, old_flags, header, blobs = split(data)
    if edit is not None:
        edit(header)
    if blob_edit is not None:
        blobs = blob_edit(blobs)
    return seal(version, old_flags if flags is None else flags, json.dumps(header).encode(),
                blobs)


def flip(data: bytes, offset: int) -> bytes:
    """``data`` with one bit of the byte at ``offset`` flipped."""
    return data[:offset] + bytes([data[offset] ^ 0x10]) + data[offset + 1:]
