"""Many sessions at once: five trackers (as five browser sessions of one process would have) share
one store and one request budget, and submit ten jobs each. Every job must finish, each under one
taskUUID, with the tasks-in-flight and requests-per-window budgets held throughout."""
from __future__ import annotations

import threading
import time

from lib.budget import RateLimiter
from lib.client import RunwareClient
from lib.store import IN_FLIGHT, JobStore
from lib.tracker import Tracker

from conftest import TEST_KEY, video_task

SESSIONS, JOBS_EACH, MAX_IN_FLIGHT = 5, 10, 10
# The per-minute rule, scaled down: at most 40 requests in any 2-second window.
WINDOW, PER_WINDOW = 2.0, 40


def test_five_sessions_ten_jobs_each_budgets_hold_nothing_lost(simulator, tmp_path):
    store = JobStore(tmp_path / "studio.sqlite3")
    limiter = RateLimiter(PER_WINDOW, window=WINDOW)
    in_flight_seen, queued_seen, stop = [], [], threading.Event()

    def watch():
        while not stop.is_set():
            in_flight_seen.append(store.count(statuses=IN_FLIGHT))
            queued_seen.append(store.count(statuses=["queued"]))
            time.sleep(0.01)

    def session(n: int):
        client = RunwareClient(TEST_KEY, simulator.url, limiter=limiter, backoff=0.01, budget_wait=WINDOW)
        tracker = Tracker(store, client, key=TEST_KEY, media_dir=tmp_path / "media", max_in_flight=MAX_IN_FLIGHT)
        for i in range(JOBS_EACH):
            tracker.submit(video_task(positivePrompt=f"session {n} job {i}"), workspace="local")
        deadline = time.time() + 120
        while store.count(statuses=["queued", "submitting", "processing"]) and time.time() < deadline:
            tracker.tick()
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    threads = [threading.Thread(target=session, args=(n,)) for n in range(SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()

    jobs = store.jobs()
    assert len(jobs) == SESSIONS * JOBS_EACH  # nothing lost
    assert {j.status for j in jobs} == {"success"}, [(j.status, j.error) for j in jobs if j.status != "success"]
    submitted = simulator.stats.snapshot()["submitted"]
    assert sorted(submitted) == sorted(j.task_uuid for j in jobs)  # each accepted exactly once
    assert max(in_flight_seen) <= MAX_IN_FLIGHT
    assert max(queued_seen) > 0  # extra jobs waited, visibly, for capacity
    times = sorted(simulator.stats.snapshot()["post_times"])
    worst = max(sum(1 for u in times[i:] if u - t < WINDOW) for i, t in enumerate(times))
    assert worst <= PER_WINDOW


def test_open_tabs_share_one_poll(simulator, tmp_path):
    """Five sessions ticking at once poll the same jobs once per gap, not five times."""
    store = JobStore(tmp_path / "studio.sqlite3")
    trackers = [Tracker(store, RunwareClient(TEST_KEY, simulator.url, backoff=0.01), key=TEST_KEY,
                        media_dir=tmp_path / "media", min_poll_gap=30.0) for _ in range(SESSIONS)]
    trackers[0].submit(video_task(), workspace="local")
    before = simulator.stats.snapshot()["post_task_types"]
    for tracker in trackers:
        tracker.tick()
    polls = [kinds for kinds in simulator.stats.snapshot()["post_task_types"][len(before):]
             if "getResponse" in kinds]
    assert len(polls) == 1


def test_retries_draw_from_the_budget_too(simulator):
    """Each retry of a call is a request like any other: it takes a slot of the shared budget."""
    limiter = RateLimiter(10, window=60.0)
    client = RunwareClient(TEST_KEY, simulator.url, limiter=limiter, backoff=0.01, retries=3)
    simulator.faults.script("503", times=2)
    client.poll(["5f0e7c1a-0000-4000-8000-000000000000"])
    assert simulator.stats.snapshot()["posts"] == 3
    assert limiter.used() == 3
