"""Fault injection for the simulator: random rates (for soak and load runs) and a script of exact
faults for the next N requests (for tests that must be deterministic)."""
from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass

# Faults on POST /v1 answers.
API_FAULTS = {"400", "401", "402", "403", "429", "500", "502", "503", "504", "html", "truncate", "reset", "slow"}
# Faults on GET of a result video.
VIDEO_FAULTS = {"video404", "video_truncate"}


@dataclass
class FaultRates:
    task_failure: float = 0.0  # a task ends in errors[] with timeoutProvider
    http_429: float = 0.0
    http_5xx: float = 0.0
    slow: float = 0.0
    truncate: float = 0.0


class Faults:
    def __init__(self, rates: FaultRates | None = None, *, slow_seconds: float = 5.0, retry_after: int = 1,
                 seed: int | None = None):
        self.rates = rates or FaultRates()
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self._random = random.Random(seed)
        self._script: dict[str, deque] = {"api": deque(), "video": deque(), "task": deque()}
        self._lock = threading.Lock()

    def script(self, kind: str, times: int = 1) -> None:
        """Make the next `times` matching requests fail with `kind` (see API_FAULTS / VIDEO_FAULTS,
        or "task_failure" for the next submitted tasks)."""
        if kind in API_FAULTS:
            queue = "api"
        elif kind in VIDEO_FAULTS:
            queue = "video"
        elif kind == "task_failure":
            queue = "task"
        else:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._script[queue].extend([kind] * times)

    def clear(self) -> None:
        with self._lock:
            for q in self._script.values():
                q.clear()

    def _next(self, queue: str) -> str | None:
        with self._lock:
            return self._script[queue].popleft() if self._script[queue] else None

    def next_api_fault(self) -> str | None:
        scripted = self._next("api")
        if scripted:
            return scripted
        r = self.rates
        roll = self._random.random()
        for kind, rate in (("429", r.http_429), ("503", r.http_5xx), ("slow", r.slow), ("truncate", r.truncate)):
            if roll < rate:
                return kind
            roll -= rate
        return None

    def next_video_fault(self) -> str | None:
        return self._next("video")

    def task_fails(self) -> bool:
        return self._next("task") is not None or self._random.random() < self.rates.task_failure
