"""Shared pytest configuration: report which engine build and ISAs the run exercised."""

from __future__ import annotations

from xnorinfer import _core


def pytest_report_header(config):
    """Print the build and the ISAs this CPU runs, so a skipped ISA path is never a surprise."""
    info = _core.build_info()
    return [
        "xnorinfer build: " + ", ".join(f"{key}={value}" for key, value in info.items()),
        "xnorinfer available ISAs: " + ", ".join(_core.available_isas()),
    ]
