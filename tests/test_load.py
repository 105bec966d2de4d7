"""Many sessions at once on one process: sessions (workspaces) submit jobs concurrently into one store,
and the process's one engine, with one request budget, moves them all on. Every job must finish, each
taskUUID sent once unless a fault forced a resend, with the tasks-in-flight and requests-per-window
budgets held throughout."""
from __future__ import annotations

import threading
import time

from conftest import TEST_KEY, Received, video_task, wait_for
from lib import engine as engine_module
from lib import jobstate as js
from lib.budget import RateLimiter
from lib.demo import DEMO_KEY
from lib.keys import key_id
from lib.runtime import request_hash
from lib.simulator.faults import FaultRates, Faults
from lib.simulator.server import Simulator
from lib.studio import open_studio

MAX_IN_FLIGHT = 10
# The per-minute rule, scaled down: at most 40 requests in any 2-second window.
WINDOW, PER_WINDOW = 2.0, 40


def run_sessions(simulator, received, make_engine, sessions: int, jobs_each: int, *, retries: int = 2):
    """Sessions submit at once (as pages do: a row each, then a wake); the engine does the rest. Returns
    the store, and what was seen of the budgets on the way."""
    limiter = RateLimiter(PER_WINDOW, window=WINDOW)
    engine = make_engine(simulator.url, max_in_flight=MAX_IN_FLIGHT,
                         client={"limiter": limiter, "budget_wait": WINDOW, "retries": retries})
    store = engine.store
    seen, stop = {"in_flight": [], "at_runware": [], "queued": []}, threading.Event()

    def watch():
        while not stop.is_set():
            accepted = len(simulator.stats.snapshot()["submitted"])  # read first: it only grows
            done = store.count(statuses=js.FINISHED + (js.DOWNLOADING,))
            seen["at_runware"].append(accepted - done)
            seen["in_flight"].append(store.count(statuses=js.IN_FLIGHT))
            seen["queued"].append(store.count(statuses=[js.QUEUED]))
            time.sleep(0.01)

    def session(n: int):
        for i in range(jobs_each):
            task = video_task(seed=42, positivePrompt=f"session {n} job {i}")
            store.add(task, workspace=f"session-{n}", api_url=simulator.url, key_id=key_id(TEST_KEY),
                      request_hash=request_hash(task), dedupe_seconds=2.0)
            engine.wake()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        threads = [threading.Thread(target=session, args=(n,)) for n in range(sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_for(lambda: store.count() == sessions * jobs_each and store.count(statuses=js.PENDING) == 0,
                 90, "every job to finish", every=0.1)
    finally:
        stop.set()
        watcher.join()
    return store, seen


def assert_rate_budget_held(received):
    times = sorted(p.at for p in received.posts)
    worst = max(sum(1 for u in times[i:] if u - t < WINDOW) for i, t in enumerate(times))
    assert worst <= PER_WINDOW


def test_five_sessions_ten_jobs_each_budgets_hold_nothing_lost(simulator, received, make_engine):
    store, seen = run_sessions(simulator, received, make_engine, sessions=5, jobs_each=10)
    jobs = store.jobs()
    assert len(jobs) == 50  # nothing lost
    assert {j.status for j in jobs} == {"success"}, [(j.status, j.error) for j in jobs if j.status != "success"]
    assert received.sends_by_uuid() == {j.task_uuid: 1 for j in jobs}  # each sent exactly once
    assert max(seen["in_flight"]) <= MAX_IN_FLIGHT and max(seen["at_runware"]) <= MAX_IN_FLIGHT
    assert max(seen["queued"]) > 0  # extra jobs waited, visibly, for capacity
    assert_rate_budget_held(received)


def test_sessions_under_random_faults_finish_and_resend_only_what_a_fault_hit(make_engine, monkeypatch, tmp_path):
    monkeypatch.setattr(engine_module, "_backoff", lambda attempt: 0.2)  # resend pauses, scaled down
    faults = Faults(FaultRates(http_429=0.05, http_5xx=0.1, truncate=0.05), retry_after=0, seed=7)
    with Simulator(latency=0.3, faults=faults, media_dir=tmp_path / "sim") as simulator:
        received = Received(simulator)
        store, seen = run_sessions(simulator, received, make_engine, sessions=3, jobs_each=8, retries=1)
        jobs = store.jobs()
        assert {j.status for j in jobs} == {"success"}, [(j.status, j.error) for j in jobs if j.status != "success"]
        assert any(p.fault for p in received.posts)  # the faults did happen
        for job in jobs:
            faults = [a.fault for a in received.arrivals("videoInference", job.task_uuid)]
            # Every send but the last was answered by a fault (so a resend was needed); the last got through.
            assert faults[-1] is None and all(faults[:-1]), (job.task_uuid, faults)
        assert sorted(simulator.stats.snapshot()["submitted"]) == sorted(j.task_uuid for j in jobs)  # run once
        assert max(seen["in_flight"]) <= MAX_IN_FLIGHT and max(seen["at_runware"]) <= MAX_IN_FLIGHT
        assert_rate_budget_held(received)


def test_open_tabs_never_poll_the_engine_polls_once_per_beat(make_runtime):
    """Five tabs (Studios on one runtime) reading a job's state make no request of their own: every
    request is the engine's one send and its polls, at most one per poll_min."""
    runtime = make_runtime(demo_latency=1.0)
    received = Received(runtime.demo.simulator)
    tabs = [open_studio(runtime, workspace=f"tab-{n}") for n in range(5)]
    task = video_task(seed=42)
    job = tabs[0].submit(task)
    started = time.monotonic()
    while (job := tabs[0].job(task["taskUUID"])).pending:
        for tab in tabs:  # what each page's rerun does
            tab.recent_jobs()
            tab.pending_count()
            tab.waiting_reason(job)
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    assert job.status == "success" and job.key_id == key_id(DEMO_KEY)
    polls = received.polls(task["taskUUID"])
    assert received.sends(task["taskUUID"]) == 1
    assert len(received.posts) == 1 + len(polls)  # nothing else was asked
    assert len(polls) <= elapsed / runtime.engine.config.poll_min + 1
