"""The on-disk cache of models converted from ONNX by :class:`xnorinfer.InferenceSession`.

An entry is the converted model file, named by the SHA-256 of the ONNX bytes and the xnorinfer
version, in the platform's user cache directory (``$XNORINFER_CACHE_DIR`` moves it, ``0``
turns the cache off). Entries are written to a temporary file and renamed into place, so
processes that convert the same model at once never see a partial file; an entry that does not
load is converted again and replaced.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

ENV = "XNORINFER_CACHE_DIR"


def cache_dir() -> Path | None:
    """Where entries go, or None when ``$XNORINFER_CACHE_DIR`` is ``0``."""
    configured = os.environ.get(ENV)
    if configured == "0":
        return None
    if configured:
        return Path(configured)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "xnorinfer" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "xnorinfer"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "xnorinfer"


def entry_name(onnx_bytes: bytes, version: str) -> str:
    """The file name of the entry for these ONNX bytes and this version."""
    return f"{hashlib.sha256(onnx_bytes).hexdigest()}-{version}.xnor"


def read(name: str) -> bytes | None:
    directory = cache_dir()
    if directory is None:
        return None
    try:
        return (directory / name).read_bytes()
    except OSError:
        return None


def write(name: str, data: bytes) -> None:
    """Store an entry atomically; a cache that cannot be written is skipped, not an error."""
    directory = cache_dir()
    if directory is None:
        return
    partial = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".partial-", delete=False) as f:
            partial = Path(f.name)
            f.write(data)
        os.replace(partial, directory / name)  # atomic: readers see all of it or nothing
    except OSError:
        if partial is not None:
            partial.unlink(missing_ok=True)
