"""Child process of ``models.peak_rss``: load one model in one engine, run it, print peak RSS.

    python rss_child.py {xnorinfer|onnxruntime} MODEL BATCH THREADS RUNS

Prints one JSON line: ``after_imports_mb`` (peak RSS once the engine is imported, before the
model is loaded) and ``peak_mb`` (after loading and running). Peak RSS is ``VmHWM`` from
/proc/self/status where it exists: unlike ``getrusage``'s ``ru_maxrss``, it belongs to this
program's memory map and does not keep the high-water mark of the parent it was forked from.
"""

from __future__ import annotations

import json
import resource
import sys


def _peak_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(engine: str, model: str, batch: int, threads: int, runs: int) -> None:
    import numpy as np

    if engine == "xnorinfer":
        import xnorinfer
    elif engine == "onnxruntime":
        from xnorinfer.bench.timing import ort_session
    else:
        raise SystemExit(f"unknown engine '{engine}'")
    x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32)
    after_imports = _peak_mb()
    if engine == "xnorinfer":
        session = xnorinfer.InferenceSession(model, num_threads=threads)
    else:
        session = ort_session(model, threads)
    for _ in range(runs):
        session.run(None, {"input": x})
    print(json.dumps({"after_imports_mb": after_imports, "peak_mb": _peak_mb()}))


if __name__ == "__main__":
    engine, model, batch, threads, runs = sys.argv[1:]
    main(engine, model, int(batch), int(threads), int(runs))
