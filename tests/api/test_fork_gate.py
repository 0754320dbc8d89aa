"""The fork gate (base/fork_gate.h): after a fork whose slowest thread started late (another
process held its core), parallel loops stay on the calling thread for a backoff (5 ms at
first) that doubles while probes find the core busy, up to 2 s, and resets after a prompt
probe.

``_core.testing.fork_gate(events)`` runs a fresh gate through ``(now_ns, latest_start_ns)``
events (a negative start is a query only) and returns whether it allowed each."""

from __future__ import annotations

from xnorinfer import _core

MS = 1_000_000


def test_prompt_forks_never_close_the_gate():
    events = [(t * MS, 20_000) for t in range(10)]
    assert _core.testing.fork_gate(events) == [True] * 10


def test_a_late_start_closes_the_gate_for_5_ms():
    allowed = _core.testing.fork_gate([(0, 2 * MS), (1 * MS, -1), (4 * MS, -1), (5 * MS, -1)])
    assert allowed == [True, False, False, True]


def test_the_backoff_doubles_while_probes_are_late_and_resets_after_a_prompt_one():
    events = [(0, 2 * MS),                        # late: closed until 5 ms
              (5 * MS, 2 * MS),                   # late probe: closed for 10 ms
              (14 * MS, -1), (15 * MS, 20_000),   # prompt probe: back to 5 ms
              (16 * MS, 2 * MS), (20 * MS, -1), (21 * MS, -1)]
    assert _core.testing.fork_gate(events) == [True, True, False, True, True, False, True]


def test_the_backoff_stops_doubling_at_two_seconds():
    now, events = 0, []
    for _ in range(12):  # late probes, each once the gate is open: 5, 10, ..., 1280, 2000 ms
        events.append((now, 2 * MS))
        now += 3_000 * MS
    events += [(now, 2 * MS), (now + 1999 * MS, -1), (now + 2000 * MS, -1)]
    assert _core.testing.fork_gate(events) == [True] * 13 + [False, True]
