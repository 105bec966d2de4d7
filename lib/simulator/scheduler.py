"""Fair rendering for a simulator shared by many users.

Two levels, both keyed by owner (API key + workspace):
- which renders run: each owner's renders wait in its own queue, owners are served round-robin, an
  owner's smallest render first, and no owner holds more than `per_owner` of the `slots`;
- which running render encodes its next frame: the owner that has been given the least encoding time
  so far (start-time fair queueing, by time). A small job therefore gets as much of the encoder as a
  flood of big ones together with its owner, and finishes quickly however many big jobs are running.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable


# How long the least-served owner keeps its turn after a frame: enough for a render to come back
# with its next (already prepared) frame, too short to matter when it does not.
RESERVATION = 0.02
# Seconds of encoding an owner arriving with work gets ahead of everyone else, once per busy spell.
NEWCOMER_CREDIT = 0.5


class SchedulerClosed(RuntimeError):
    pass


@dataclass
class _Job:
    owner: str
    cost: float
    run: Callable[[Callable], None]  # run(turn) renders, calling `with turn():` around each frame
    future: Future = field(default_factory=Future)


class FairScheduler:
    def __init__(self, *, slots: int = 16, per_owner: int = 2, concurrency: int = 1):
        self.slots, self.per_owner, self.concurrency = slots, per_owner, concurrency
        self._cond = threading.Condition()
        self._queues: dict[str, list[_Job]] = {}
        self._owners: deque[str] = deque()       # owners with queued jobs, in round-robin order
        self._running: dict[str, int] = {}       # owner -> renders running
        self._served: dict[str, float] = {}      # owner -> seconds of encoding granted, while running
        self._waiting: dict[str, int] = {}       # owner -> frames waiting for a turn
        self._encoding = 0
        self._reserved_for: str | None = None
        self._reserved_until = 0.0
        self._closed = False

    # -- which renders run ------------------------------------------------------------------------------

    def submit(self, owner: str, cost: float, run: Callable[[Callable], None]) -> Future:
        job = _Job(owner, cost, run)
        with self._cond:
            if self._closed:
                raise SchedulerClosed("the simulator is stopping")
            self._queues.setdefault(owner, []).append(job)
            if owner not in self._owners:
                self._owners.append(owner)
            self._start_ready()
        return job.future

    def _start_ready(self) -> None:
        """Start queued jobs while slots are free (lock held)."""
        for _ in range(len(self._owners)):
            if sum(self._running.values()) >= self.slots:
                return
            owner = self._owners.popleft()
            if self._running.get(owner, 0) >= self.per_owner:
                self._owners.append(owner)  # its turn comes back when one of its renders ends
                continue
            queue = self._queues[owner]
            job = min(queue, key=lambda j: j.cost)  # an owner's small job does not wait behind its big one
            queue.remove(job)
            if queue:
                self._owners.append(owner)
            else:
                del self._queues[owner]
            self._running[owner] = self._running.get(owner, 0) + 1
            threading.Thread(target=self._run, args=(job,), name="sim-render", daemon=True).start()

    def _run(self, job: _Job) -> None:
        try:
            if job.future.set_running_or_notify_cancel():
                try:
                    job.run(lambda: self.turn(job.owner))
                except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                    job.future.set_exception(exc)
                else:
                    job.future.set_result(None)
        finally:
            with self._cond:
                self._running[job.owner] -= 1
                if not self._running[job.owner]:
                    del self._running[job.owner]
                    if job.owner not in self._queues:
                        self._served.pop(job.owner, None)  # gone idle: nothing is banked while idle
                self._start_ready()
                self._cond.notify_all()

    # -- which render encodes next ----------------------------------------------------------------------

    @contextmanager
    def turn(self, owner: str):
        """Wait for this owner's fair turn to encode one frame.

        Owners are charged the time they hold the turn (a 1080p VP8 frame costs far more than its
        pixels suggest when encoders compete), and the least-served owner goes next. A render asks
        for one frame at a time, so between two of its frames another owner's (much longer) frame
        would always slip in; the least-served owner therefore keeps a short reservation after
        each frame, and a small job runs through its frames instead of alternating with big ones.
        """
        with self._cond:
            if owner not in self._served:
                # Joins just ahead of the least-served running owner: fair from then on, and a short
                # job (most of a visitor's) runs through before the big ones take turns again.
                self._served[owner] = min(self._served.values(), default=0.0) - NEWCOMER_CREDIT
            self._waiting[owner] = self._waiting.get(owner, 0) + 1
            try:
                while True:
                    if self._closed:
                        raise SchedulerClosed("the simulator is stopping")
                    go, retry_in = self._may_go(owner)
                    if go:
                        break
                    self._cond.wait(retry_in)
            finally:
                self._waiting[owner] -= 1
                if not self._waiting[owner]:
                    del self._waiting[owner]
            if self._reserved_for == owner:
                self._reserved_for = None
            self._encoding += 1
        started = time.monotonic()
        try:
            yield
        finally:
            with self._cond:
                self._encoding -= 1
                self._served[owner] = self._served.get(owner, 0.0) + time.monotonic() - started
                others = [self._served.get(o, 0.0) for o in self._waiting if o != owner]
                if not others or self._served[owner] <= min(others):
                    self._reserved_for, self._reserved_until = owner, time.monotonic() + RESERVATION
                self._cond.notify_all()

    def _may_go(self, owner: str) -> tuple[bool, float | None]:
        """(whether `owner` may encode now, seconds after which to look again; None: when notified)."""
        if self._encoding >= self.concurrency:
            return False, None
        now = time.monotonic()
        if self._reserved_for not in (None, owner) and now < self._reserved_until:
            return False, self._reserved_until - now
        least = min(self._waiting, key=lambda o: self._served.get(o, 0.0))
        return self._served.get(owner, 0.0) <= self._served.get(least, 0.0), None

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for queue in self._queues.values():
                for job in queue:
                    job.future.cancel()
            self._queues.clear()
            self._owners.clear()
            self._cond.notify_all()
