"""Fixtures for the converter tests.

``run_graph(graph, feeds) -> {output name: array}`` executes a converted engine graph, once with
the NumPy reference interpreter (tests/reference/ir_reference.py) and once per engine setup:
every ISA path this CPU runs at 1 thread, and the widest at 3 threads. The engine runs go
through the model file (``dumps`` then ``InferenceSession``), as a user's model would.
"""

from __future__ import annotations

import pytest

from reference import ir_reference
from xnorinfer import InferenceSession, get_available_isas, model_file

ENGINE_SETUPS = [(isa, 1) for isa in get_available_isas()] + [(get_available_isas()[-1], 3)]


def _engine_runner(isa: str, threads: int):
    def run(graph, feeds):
        sess = InferenceSession(model_file.dumps(graph), num_threads=threads, isa=isa)
        names = [o.name for o in sess.get_outputs()]
        return dict(zip(names, sess.run(None, feeds)))
    return run


@pytest.fixture(params=[None] + ENGINE_SETUPS,
                ids=["reference"] + [f"engine-{isa}-{t}t" for isa, t in ENGINE_SETUPS])
def run_graph(request):
    if request.param is None:
        return ir_reference.run
    return _engine_runner(*request.param)
