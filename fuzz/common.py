"""What both fuzzers share: coverage instrumentation of the xnorinfer package, a memory cap,
and one run of a model that loaded on a small input, telling documented exceptions from
findings."""

from __future__ import annotations

import inspect
import math
import resource
import sys

import atheris
import numpy as np

import xnorinfer

MAX_INPUT_ELEMENTS = 1 << 20
# The address space a fuzz process may use beyond what it has at start: a hostile graph's huge
# working memory then fails as OutOfMemory instead of tripping libFuzzer's RSS limit.
HEADROOM_BYTES = 3 << 30


def limit_memory() -> None:
    """Cap the address space at its current size plus HEADROOM_BYTES."""
    with open("/proc/self/statm") as statm:
        current = int(statm.read().split()[0]) * resource.getpagesize()
    limit = current + HEADROOM_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def instrument_package(package: str = "xnorinfer") -> None:
    """Instrument every function and method of an imported package for coverage.

    ``atheris.instrument_imports`` misses modules that an editable install loads through its
    own finder, and ``instrument_all`` spends most of a short run on numpy and onnx."""
    for name, module in list(sys.modules.items()):
        if name != package and not name.startswith(package + "."):
            continue
        for obj in list(vars(module).values()):
            if getattr(obj, "__module__", None) != name:
                continue
            members = vars(obj).values() if inspect.isclass(obj) else [obj]
            for member in members:
                member = getattr(member, "__func__", member)  # static and class methods
                if inspect.isfunction(member):
                    atheris.instrument_func(member)


def small_feed(session: xnorinfer.InferenceSession) -> dict[str, np.ndarray] | None:
    """Inputs of batch 2 with awkward values (0, -0, NaN, ±inf, denormals), or None when the
    model's inputs are too large to be worth a fuzz iteration."""
    rng = np.random.default_rng(0)
    specials = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1.0, 3.0], np.float32)
    feed = {}
    for arg in session.get_inputs():
        shape = [2 if isinstance(d, str) else d for d in arg.shape]  # dynamic dims: 2
        if math.prod(shape) > MAX_INPUT_ELEMENTS:
            return None
        x = rng.standard_normal(shape).astype(np.float32)
        x.flat[:len(specials)] = specials[:x.size]
        feed[arg.name] = x
    return feed


def run_once(session: xnorinfer.InferenceSession) -> None:
    """One run; a ValueError (a shape the model cannot take at this batch) or a MemoryError
    (xnorinfer.OutOfMemory) is documented behaviour, anything else propagates as a finding."""
    feed = small_feed(session)
    if feed is None:
        return
    try:
        outputs = session.run(None, feed)
    except (ValueError, MemoryError):
        return
    for output, arg in zip(outputs, session.get_outputs()):
        assert output.dtype == np.float32, (arg.name, output.dtype)
        assert output.ndim == len(arg.shape), (arg.name, output.shape, arg.shape)
