"""The fork gate (base/fork_gate.h): after a fork whose slowest thread started late (another
process held its core), parallel loops stay on the calling thread for a backoff (5 ms at
first) that doubles while probes find the core busy, up to 2 s, and resets after a prompt
probe. A late start after the workers idled over 10 ms (asleep, their vCPUs descheduled) leaves
the gate as it is.

``_core.testing.fork_gate(events)`` runs a fresh gate through ``(now_ns, latest_start_ns)``
events, each a fork that starts and ends at now_ns (a negative start is a query only), records
the allowed ones and returns whether it allowed each."""

from __future__ import annotations

from xnorinfer import _core

MS = 1_000_000
PROMPT, LATE = 20_000, 2 * MS


def test_prompt_forks_never_close_the_gate():
    events = [(t * MS, PROMPT) for t in range(10)]
    assert _core.testing.fork_gate(events) == [True] * 10


def test_a_late_start_closes_the_gate_for_5_ms():
    events = [(0, PROMPT), (1 * MS, LATE), (2 * MS, -1), (5 * MS, -1), (6 * MS, -1)]
    assert _core.testing.fork_gate(events) == [True, True, False, False, True]


def test_a_late_start_after_the_workers_idled_leaves_the_gate_open():
    """The first fork, and one over 10 ms after the last, wait for sleeping workers; the fork
    after such a one tells."""
    events = [(0, LATE), (1 * MS, -1),           # the first fork: cold
              (12 * MS, LATE), (13 * MS, -1),    # 11 ms after the last: cold
              (14 * MS, LATE), (15 * MS, -1)]    # 2 ms after: the core is busy
    assert _core.testing.fork_gate(events) == [True, True, True, True, True, False]


def test_the_backoff_doubles_while_probes_are_late_and_resets_after_a_prompt_one():
    events = [(0, PROMPT), (1 * MS, LATE),       # late: closed until 6 ms
              (6 * MS, LATE),                    # late probe: closed for 10 ms
              (15 * MS, -1), (16 * MS, PROMPT),  # prompt probe: back to 5 ms
              (17 * MS, LATE), (21 * MS, -1), (22 * MS, -1)]
    assert _core.testing.fork_gate(events) == [True, True, True, False, True, True, False, True]


def test_the_backoff_stops_doubling_at_two_seconds():
    now, events = 0, []
    for _ in range(12):  # a cold probe, then a late fork: closed for 5, 10, ..., 1280, 2000 ms
        events += [(now, LATE), (now + MS, LATE)]
        now += 3_000 * MS
    events += [(now, LATE), (now + MS, LATE), (now + 2000 * MS, -1), (now + 2001 * MS, -1)]
    assert _core.testing.fork_gate(events) == [True] * 26 + [False, True]
