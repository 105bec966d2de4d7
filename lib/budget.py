"""Client-side request budget.

Runware has no hard per-minute limit (it queues, then answers 429/503/504), but the spec asks for a
polite 60 requests a minute. The runtime keeps one limiter per API URL, so every session and every
engine action of the process draws from the same budget. (The tasks-in-flight budget is counted from
the job store: see JobStore.claim_next_queued.)
"""
from __future__ import annotations

import threading
import time

WINDOW_SECONDS = 60.0


class RateLimiter:
    """At most `per_minute` requests in any sliding window (60 s), across threads.

    A slot is stamped when taken and stamped again when its request completes (`release`), so the
    window is measured from the end of each request: however a request is delayed on the way, the
    server never sees more than `per_minute` in any window either.
    """

    def __init__(self, per_minute: int, clock=time.monotonic, window: float = WINDOW_SECONDS):
        self.per_minute = per_minute
        self.window = window  # a shorter window lets tests check the same rule in seconds
        self._clock = clock
        self._slots: list[list[float]] = []  # one [time] cell per slot, updated on release
        self._lock = threading.Lock()

    def _wait_needed(self, now: float) -> float:
        self._slots = [cell for cell in self._slots if now - cell[0] < self.window]
        if len(self._slots) < self.per_minute:
            return 0.0
        return self.window - (now - min(cell[0] for cell in self._slots))

    def _take(self) -> tuple[float, list[float] | None]:
        with self._lock:
            now = self._clock()
            wait = self._wait_needed(now)
            if wait > 0:
                return wait, None
            cell = [now]
            self._slots.append(cell)
            return 0.0, cell

    def try_acquire(self) -> float:
        """Take one slot and return 0, or take nothing and return the seconds until one frees."""
        return self._take()[0]

    def acquire(self, max_wait: float) -> list[float] | None:
        """Wait up to `max_wait` seconds for a slot; the slot (pass it to `release`), or None if
        none frees in time (nothing taken)."""
        deadline = self._clock() + max_wait
        while True:
            wait, cell = self._take()
            if cell is not None:
                return cell
            if self._clock() + wait > deadline:
                return None
            time.sleep(wait)

    def release(self, slot: list[float] | None) -> None:
        """The slot's request is done: its window runs from now."""
        if slot is not None:
            with self._lock:
                slot[0] = max(slot[0], self._clock())

    def used(self) -> int:
        with self._lock:
            self._wait_needed(self._clock())
            return len(self._slots)
