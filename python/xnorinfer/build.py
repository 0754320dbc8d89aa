"""What this build of xnorinfer is and which kernel paths it can run here."""

from __future__ import annotations

import os
from typing import Any

from xnorinfer import _core


def build_info() -> dict[str, Any]:
    """Version, compiler, OpenMP, and the ISA paths compiled, detected and in use.

    ``isa_in_use`` is what a session created now without an explicit ``isa`` would run:
    ``$XNORINFER_ISA`` when set, else the best path this CPU supports. If ``$XNORINFER_ISA``
    names a path this CPU lacks, ``isa_in_use`` holds the error message instead.
    """
    info = dict(_core.build_info())
    try:
        info["isa_in_use"] = _core.resolve_isa("")
    except (_core.UnsupportedIsa, _core.InvalidArgument) as error:
        info["isa_in_use"] = f"error: {error}"
    info["isa_env"] = os.environ.get("XNORINFER_ISA", "")
    return info


def get_available_isas() -> list[str]:
    """Kernel paths that are compiled in and supported by this CPU, narrowest first."""
    return list(_core.available_isas())
