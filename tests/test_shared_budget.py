"""The request budget shared through the database: two processes' worth of connections never take more
than the budget in any window together. Runs on SQLite and on a real PostgreSQL server."""
from __future__ import annotations

import threading
import time

from lib.db import Database
from lib.shared_budget import SharedRateLimiter
from lib.store import JobStore


def limiters(db_url, per_minute, window, scope="https://api.example/v1"):
    JobStore(Database(db_url)).close()  # the schema
    return [SharedRateLimiter(Database(db_url), scope, per_minute, window=window) for _ in range(2)]


def test_two_processes_share_one_budget(db_url):
    a, b = limiters(db_url, 3, 30)
    assert [a.try_acquire() for _ in range(2)] == [0.0, 0.0]
    assert b.try_acquire() == 0.0
    assert a.try_acquire() > 0 and b.try_acquire() > 0  # the budget is spent for both
    assert a.used() == b.used() == 3


def test_scopes_are_separate(db_url):
    a, _ = limiters(db_url, 1, 30)
    other = SharedRateLimiter(Database(db_url), "simulator://local", 1, window=30)
    assert a.try_acquire() == 0.0 and other.try_acquire() == 0.0


def test_a_slot_frees_a_window_after_its_request_ended(db_url):
    a, b = limiters(db_url, 1, 0.5)
    slot = a.acquire(1)
    time.sleep(0.4)
    a.release(slot)  # the window now runs from here, not from when the slot was taken
    assert b.acquire(0.2) is None
    assert b.acquire(1.0) is not None


def test_racing_threads_on_two_connections_never_pass_the_budget(db_url):
    a, b = limiters(db_url, 5, 30)
    taken, barrier = [], threading.Barrier(8)

    def worker(limiter):
        barrier.wait()
        for _ in range(3):
            if limiter.try_acquire() == 0.0:
                taken.append(1)

    threads = [threading.Thread(target=worker, args=(lim,)) for lim in (a, b) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(taken) == 5


def test_acquire_waits_for_a_slot_another_process_frees(db_url):
    a, b = limiters(db_url, 1, 0.6)
    a.release(a.acquire(1))
    started = time.monotonic()
    assert b.acquire(5) is not None
    assert time.monotonic() - started >= 0.4  # it waited for the window, it did not take a second slot
