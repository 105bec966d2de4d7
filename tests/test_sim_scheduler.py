"""The simulator's fair render scheduler on its own, with frames that only sleep (no CPU, no HTTP)."""
from __future__ import annotations

import time

from lib.simulator.scheduler import FairScheduler


def renders(frames: int, frame_seconds: float, gap: float = 0.002):
    """A fake render: `frames` frames of `frame_seconds` each, with a gap between them (the time a real
    render takes to fetch its next prepared frame, during which others may take the turn)."""
    def run(turn):
        for _ in range(frames):
            with turn():
                time.sleep(frame_seconds)
            time.sleep(gap)
    return run


def test_small_job_runs_through_its_frames_between_big_ones():
    scheduler = FairScheduler(slots=8, per_owner=2)
    try:
        for owner in ("big-a", "big-b"):
            for _ in range(2):
                scheduler.submit(owner, 1e9, renders(100, 0.05))
        time.sleep(0.3)
        started = time.monotonic()
        scheduler.submit("small", 1.0, renders(50, 0.001)).result(timeout=10)
        # Alternating with 50 ms frames would take 50 x 50 ms = 2.5 s or more.
        assert time.monotonic() - started < 1.0
    finally:
        scheduler.close()


def test_one_owner_cannot_hold_more_than_its_share_of_slots():
    scheduler = FairScheduler(slots=3, per_owner=1)
    try:
        flood = [scheduler.submit("flood", 1e9, renders(20, 0.01)) for _ in range(5)]
        time.sleep(0.05)
        other = scheduler.submit("other", 1.0, renders(1, 0.001))
        other.result(timeout=2)
        assert sum(f.done() for f in flood) <= 1
    finally:
        scheduler.close()


def test_close_stops_waiting_renders():
    scheduler = FairScheduler(slots=2, per_owner=2)
    running = scheduler.submit("a", 1.0, renders(1000, 0.01))
    queued = [scheduler.submit("a", 1.0, renders(1, 0.01)) for _ in range(3)]
    time.sleep(0.1)
    scheduler.close()
    assert running.exception(timeout=2) is not None
    assert all(q.cancelled() or q.done() for q in queued)
