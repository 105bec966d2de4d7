"""Client-side request budget, shared by every session in the process.

Runware has no hard per-minute limit (it queues, then answers 429/503/504), but the spec asks for a
polite 60 requests a minute. One limiter per API URL lives in this module, so every Streamlit session
in the process draws from the same budget. (The tasks-in-flight budget is counted from the job store,
which every session shares already: see tracker.dispatch.)
"""
from __future__ import annotations

import threading
import time
from collections import deque

WINDOW_SECONDS = 60.0


class RateLimiter:
    """At most `per_minute` acquisitions in any sliding 60-second window, across threads."""

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()

    def _wait_needed(self, now: float) -> float:
        while self._stamps and now - self._stamps[0] >= WINDOW_SECONDS:
            self._stamps.popleft()
        if len(self._stamps) < self.per_minute:
            return 0.0
        return WINDOW_SECONDS - (now - self._stamps[0])

    def try_acquire(self) -> float:
        """Take one slot and return 0, or take nothing and return the seconds until one frees."""
        with self._lock:
            now = self._clock()
            wait = self._wait_needed(now)
            if wait == 0.0:
                self._stamps.append(now)
            return wait

    def acquire(self, max_wait: float) -> bool:
        """Wait up to `max_wait` seconds for a slot; False if none frees in time (nothing taken)."""
        deadline = self._clock() + max_wait
        while True:
            wait = self.try_acquire()
            if wait == 0.0:
                return True
            if self._clock() + wait > deadline:
                return False
            time.sleep(wait)

    def used(self) -> int:
        with self._lock:
            self._wait_needed(self._clock())
            return len(self._stamps)


_limiters: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(api_url: str, per_minute: int) -> RateLimiter:
    """The process-wide limiter for one API URL (its limit follows the latest setting)."""
    with _registry_lock:
        limiter = _limiters.get(api_url)
        if limiter is None:
            limiter = _limiters[api_url] = RateLimiter(per_minute)
        limiter.per_minute = per_minute
        return limiter
