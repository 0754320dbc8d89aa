"""Shared pytest configuration: report which engine build and ISAs the run exercised."""

from __future__ import annotations

import numpy as np
import pytest

from xnorinfer import _core


def pytest_report_header(config):
    """Print the build and the ISAs this CPU runs, so a skipped ISA path is never a surprise."""
    info = _core.build_info()
    return [
        "xnorinfer build: " + ", ".join(f"{key}={value}" for key, value in info.items()),
        "xnorinfer available ISAs: " + ", ".join(_core.available_isas()),
    ]


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """The bundled digits test images (float32) and the exact packed model's logits on them."""
    from xnorinfer import InferenceSession
    from xnorinfer.demo import MODEL, TEST_SET

    images = np.load(TEST_SET)["x"].astype(np.float32)
    return images, InferenceSession(MODEL).run(None, {"input": images})[0]


@pytest.fixture(scope="module")
def digit_images(digits, request):
    """The first ``ROWS`` (a constant of the test module) digits images."""
    return digits[0][:request.module.ROWS]


@pytest.fixture(scope="module")
def digit_logits(digits, request):
    """The exact model's logits on :func:`digit_images`."""
    return digits[1][:request.module.ROWS]
