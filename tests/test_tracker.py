"""Tracker: submit, one polling step, downloads, budgets and recovery, against the real simulator."""
from __future__ import annotations

import time

import pytest

from conftest import TEST_KEY, free_port, video_task
from lib import tracker as tracker_mod
from lib.client import RunwareClient
from lib.store import FINISHED, IN_FLIGHT, PENDING, JobStore
from lib.tracker import Tracker, key_id, next_interval

WS = "local"


@pytest.fixture
def store(tmp_path):
    return JobStore(tmp_path / "studio.sqlite3")


@pytest.fixture
def media_dir(tmp_path):
    return tmp_path / "media"


@pytest.fixture
def make_tracker(simulator, store, media_dir):
    def make(key: str = TEST_KEY, *, url: str | None = None, retries: int = 4, **kwargs) -> Tracker:
        client = RunwareClient(key, url or simulator.url, retries=retries, backoff=0.01, read_timeout=10)
        return Tracker(store, client, key=key, media_dir=media_dir, **kwargs)
    return make


def tick_until(trackers, done, timeout: float = 30.0, after_tick=None):
    """Tick (every tracker given) until `done()`; fail with a clear message if it never happens."""
    trackers = trackers if isinstance(trackers, (list, tuple)) else [trackers]
    deadline = time.monotonic() + timeout
    while True:
        for t in trackers:
            t.tick()
        if after_tick:
            after_tick()
        if done():
            return
        assert time.monotonic() < deadline, "the jobs never reached the expected state"
        time.sleep(0.05)


def status(store, uuid):
    return store.get(uuid).status


def video_posts(sim) -> int:
    return sum(1 for kinds in sim.stats.snapshot()["post_task_types"] if "videoInference" in kinds)


# -- the happy path --------------------------------------------------------------------------------

def test_key_id_is_a_short_stable_label():
    assert key_id(TEST_KEY) == key_id(TEST_KEY)
    assert key_id(TEST_KEY) != key_id(TEST_KEY + "x")
    assert len(key_id(TEST_KEY)) == 16
    assert TEST_KEY not in key_id(TEST_KEY)


def test_submit_then_tick_to_success(make_tracker, store, simulator, media_dir):
    tr = make_tracker()
    task = video_task(seed=42, includeCost=True)
    job = tr.submit(task, WS)
    assert job.status == "processing" and job.attempts == 1 and job.submitted_at
    assert job.key_id == key_id(TEST_KEY) and job.api_url == simulator.url and job.workspace == WS
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]

    tick_until(tr, lambda: status(store, task["taskUUID"]) == "success")
    job = store.get(task["taskUUID"])
    assert job.error is None and job.finished_at
    assert len(job.results) == 1
    result = job.results[0]
    assert result["seed"] == 42
    assert result["cost"] > 0 and job.cost == pytest.approx(result["cost"])
    assert result["file"] == f"{task['taskUUID']}-0.mp4"
    path = media_dir / result["file"]
    assert path.read_bytes()[4:8] == b"ftyp"
    assert sorted(p.name for p in media_dir.iterdir()) == [f"{task['taskUUID']}-0.mp4"]  # no partial files
    # A finished job is left alone: no more requests for it.
    before = simulator.stats.snapshot()["posts"]
    report = tr.tick()
    assert report.requests == 0 and simulator.stats.snapshot()["posts"] == before


def test_without_include_cost_there_is_no_cost(make_tracker, store):
    tr = make_tracker()
    task = video_task(seed=42)
    tr.submit(task, WS)
    tick_until(tr, lambda: status(store, task["taskUUID"]) == "success")
    job = store.get(task["taskUUID"])
    assert job.cost is None and "cost" not in job.results[0]
    assert job.results[0]["seed"] == 42


def test_number_results_two_downloads_two_files(make_tracker, store, media_dir):
    tr = make_tracker()
    task = video_task(seed=42, numberResults=2, includeCost=True)
    tr.submit(task, WS)
    tick_until(tr, lambda: status(store, task["taskUUID"]) == "success")
    job = store.get(task["taskUUID"])
    assert len(job.results) == 2
    assert len({r["videoUUID"] for r in job.results}) == 2
    assert sorted(r["seed"] for r in job.results) == [42, 43]
    names = sorted(r["file"] for r in job.results)
    assert names == [f"{task['taskUUID']}-0.mp4", f"{task['taskUUID']}-1.mp4"]
    for name in names:
        assert (media_dir / name).read_bytes()[4:8] == b"ftyp"
    assert job.cost == pytest.approx(sum(r["cost"] for r in job.results))


# -- budgets -------------------------------------------------------------------------------------------

def test_tasks_in_flight_budget(make_tracker, store, simulator):
    tr = make_tracker(max_in_flight=2)
    tasks = [video_task(seed=42, positivePrompt=f"Budget test {i}") for i in range(5)]
    for task in tasks:
        tr.submit(task, WS)
    statuses = [status(store, t["taskUUID"]) for t in tasks]
    assert statuses == ["processing", "processing", "queued", "queued", "queued"]  # oldest first
    assert len(simulator.stats.snapshot()["submitted"]) == 2
    assert tr.in_flight() == 2

    peak = {"in_flight": 0, "sim_unfinished": 0}

    def check():
        in_flight = store.count(statuses=IN_FLIGHT)
        finished = store.count(statuses=FINISHED)
        sent = len(simulator.stats.snapshot()["submitted"])
        assert in_flight <= 2
        assert sent - finished <= 2, "the simulator had more than 2 unfinished tasks at once"
        peak["in_flight"] = max(peak["in_flight"], in_flight)
        peak["sim_unfinished"] = max(peak["sim_unfinished"], sent - finished)

    tick_until(tr, lambda: store.count(statuses=PENDING) == 0, after_tick=check)
    assert [status(store, t["taskUUID"]) for t in tasks] == ["success"] * 5
    assert sorted(simulator.stats.snapshot()["submitted"]) == sorted(t["taskUUID"] for t in tasks)
    assert peak["in_flight"] == 2


def test_one_poll_request_for_twenty_processing_jobs(make_tracker, store, simulator):
    tr = make_tracker(max_in_flight=20)
    tasks = [video_task(seed=42) for _ in range(20)]
    for task in tasks:
        tr.submit(task, WS)
    assert store.count(statuses=["processing"]) == 20
    before = simulator.stats.snapshot()
    tr.tick()
    after = simulator.stats.snapshot()
    assert after["posts"] - before["posts"] == 1
    polled = after["post_task_types"][-1]
    assert polled == ["getResponse"] * 20


def test_idle_tick_sends_nothing(make_tracker, simulator):
    tr = make_tracker()
    report = tr.tick()
    assert report.requests == 0 and report.problem is None
    assert simulator.stats.snapshot()["posts"] == 0


# -- recovery ------------------------------------------------------------------------------------------

def test_crash_mid_submit_is_resent_under_the_same_uuid(make_tracker, store, simulator):
    tr = make_tracker(resubmit_after=0.0)  # i.e. the crash was long enough ago
    task = video_task(seed=42)
    # The row was written, the submit reached Runware, then the process died before recording it.
    store.add(task, workspace=WS, api_url=tr.api_url, key_id=tr.key_id, status="submitting")
    tr.client.submit(task)
    assert video_posts(simulator) == 1

    report = tr.tick()
    assert report.problem is None
    job = store.get(task["taskUUID"])
    assert job.status == "processing" and job.attempts == 1 and job.error is None
    assert video_posts(simulator) == 2  # resent ...
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]  # ... and known once
    tick_until(tr, lambda: status(store, task["taskUUID"]) == "success")
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]


def test_crash_mid_submit_when_runware_never_got_it(make_tracker, store, simulator):
    tr = make_tracker(resubmit_after=0.0)
    task = video_task(seed=42)
    store.add(task, workspace=WS, api_url=tr.api_url, key_id=tr.key_id, status="submitting")
    tr.tick()
    assert status(store, task["taskUUID"]) == "processing"
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]
    tick_until(tr, lambda: status(store, task["taskUUID"]) == "success")


def test_a_fresh_submitting_job_is_not_resent_yet(make_tracker, store, simulator):
    tr = make_tracker()
    task = video_task(seed=42)
    store.add(task, workspace=WS, api_url=tr.api_url, key_id=tr.key_id, status="submitting")
    tr.tick()
    assert status(store, task["taskUUID"]) == "submitting"
    assert simulator.stats.snapshot()["posts"] == 0


def test_submit_failing_past_retries_stays_submitting(make_tracker, store, simulator):
    tr = make_tracker(retries=4)  # 5 attempts per submit
    simulator.faults.script("503", times=10)
    task = video_task(seed=42)
    job = tr.submit(task, WS)
    # Not lost and not failed: still to be sent, with the reason kept for the user.
    assert job.status == "submitting" and job.attempts == 1
    assert job.error["code"] == "notConfirmed" and "503" in job.error["message"]
    assert job.finished_at is None
    report = tr.tick()  # resent at the next tick (it cannot still be under way); fails too
    assert report.problem and "503" in report.problem
    job = store.get(task["taskUUID"])
    assert job.status == "submitting" and job.attempts == 2 and job.error["code"] == "notConfirmed"
    assert simulator.stats.snapshot()["post_task_types"].count(["fault:503"]) == 10
    assert simulator.stats.snapshot()["submitted"] == []
    tr.tick()  # the faults are used up: this one gets through
    job = store.get(task["taskUUID"])
    assert job.status == "processing" and job.error is None
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]
    tick_until(tr, lambda: status(store, task["taskUUID"]) == "success")


def test_submit_to_an_unreachable_server_keeps_the_job(store, media_dir):
    client = RunwareClient(TEST_KEY, f"http://127.0.0.1:{free_port()}/v1", retries=0, backoff=0.01,
                           connect_timeout=2)
    tr = Tracker(store, client, key=TEST_KEY, media_dir=media_dir)
    task = video_task()
    job = tr.submit(task, WS)
    assert job.status == "submitting" and job.error["code"] == "notConfirmed"
    assert store.count() == 1


def test_refused_task_ends_error_with_runware_code(make_tracker, store, simulator, catalog):
    tr = make_tracker()
    assert catalog.get("acme:1@1").custom  # a valid custom AIR the simulator does not run
    task = video_task(model="acme:1@1")
    job = tr.submit(task, WS)
    assert job.status == "error"
    assert job.error["code"] == "invalidModel"
    assert job.error.get("message")
    assert job.finished_at
    assert simulator.stats.snapshot()["submitted"] == []
    posts = simulator.stats.snapshot()["posts"]
    tr.tick()
    assert simulator.stats.snapshot()["posts"] == posts  # a refused task is not sent again
    assert not tr.recheck(task["taskUUID"])


def test_task_failure_ends_error_timeout_provider(make_tracker, store, simulator):
    tr = make_tracker()
    simulator.faults.script("task_failure")
    task = video_task(seed=42)
    tr.submit(task, WS)
    tick_until(tr, lambda: not store.get(task["taskUUID"]).pending)
    job = store.get(task["taskUUID"])
    assert job.status == "error"
    assert job.error["code"] == "timeoutProvider"
    assert job.results == []
    assert not tr.recheck(task["taskUUID"])  # a task failure is final; re-check is for downloads/timeouts


def test_download_404_then_recheck_succeeds(make_tracker, store, simulator, media_dir):
    tr = make_tracker()
    simulator.faults.script("video404")
    task = video_task(seed=42)
    tr.submit(task, WS)
    tick_until(tr, lambda: not store.get(task["taskUUID"]).pending)
    job = store.get(task["taskUUID"])
    assert job.status == "error"
    assert job.error["code"] == "downloadFailed"
    assert job.results and "file" not in job.results[0] and job.results[0].get("download_error")
    assert not media_dir.exists() or not any(media_dir.iterdir())

    assert tr.recheck(task["taskUUID"])
    job = store.get(task["taskUUID"])
    assert job.status == "processing" and job.error is None and job.finished_at is None
    assert "download_error" not in job.results[0]
    submitted = list(simulator.stats.snapshot()["submitted"])
    tick_until(tr, lambda: status(store, task["taskUUID"]) == "success")
    job = store.get(task["taskUUID"])
    assert (media_dir / job.results[0]["file"]).is_file()
    assert "download_error" not in job.results[0]
    assert simulator.stats.snapshot()["submitted"] == submitted  # re-check never resubmits
    assert not tr.recheck(task["taskUUID"])  # nothing to re-check on a success


def test_job_timeout_then_recheck_succeeds(make_tracker, store, simulator, media_dir):
    simulator.engine.latency = 2.0  # still processing at the first poll, whatever the machine's speed
    impatient = make_tracker(job_timeout=0.001)
    task = video_task(seed=42)
    impatient.submit(task, WS)
    tick_until(impatient, lambda: not store.get(task["taskUUID"]).pending)
    job = store.get(task["taskUUID"])
    assert job.status == "timeout"
    assert job.error["code"] == "studioTimeout"

    patient = make_tracker()  # e.g. the next session, with the normal timeout
    assert patient.recheck(task["taskUUID"])
    job = store.get(task["taskUUID"])
    assert job.status == "processing" and job.error is None
    tick_until(patient, lambda: status(store, task["taskUUID"]) == "success")
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]


def test_recheck_unknown_or_pending_job(make_tracker, store):
    tr = make_tracker()
    assert not tr.recheck("00000000-0000-4000-8000-000000000000")
    task = video_task(seed=42)
    tr.submit(task, WS)
    assert not tr.recheck(task["taskUUID"])  # processing: nothing to re-check


# -- scoping -------------------------------------------------------------------------------------------

def test_trackers_with_different_keys_never_touch_each_others_jobs(make_tracker, store, simulator):
    alice = make_tracker("alice-key-0123456789abcdef", max_in_flight=1)
    bob = make_tracker("bob-key-0123456789abcdef", max_in_flight=1)
    a1, a2 = video_task(seed=42), video_task(seed=42)
    alice.submit(a1, WS)
    alice.submit(a2, WS)
    assert [status(store, t["taskUUID"]) for t in (a1, a2)] == ["processing", "queued"]

    # Bob's budget is his own: Alice's job in flight does not count against it ...
    assert bob.in_flight() == 0
    # ... and his ticks neither poll Alice's job nor send her queued one.
    before = simulator.stats.snapshot()["posts"]
    report = bob.tick()
    assert report.requests == 0
    assert simulator.stats.snapshot()["posts"] == before
    assert status(store, a2["taskUUID"]) == "queued"

    b1 = video_task(seed=42)
    bob.submit(b1, WS)
    assert status(store, b1["taskUUID"]) == "processing"
    # Bob finishes his job; Alice's queued one stays queued while only Bob ticks.
    tick_until(bob, lambda: status(store, b1["taskUUID"]) == "success")
    assert status(store, a2["taskUUID"]) == "queued"
    assert status(store, a1["taskUUID"]) == "processing"
    assert store.get(b1["taskUUID"]).key_id == key_id("bob-key-0123456789abcdef")

    tick_until(alice, lambda: store.count(statuses=PENDING) == 0)
    assert [status(store, t["taskUUID"]) for t in (a1, a2)] == ["success", "success"]


def test_trackers_for_different_api_urls_are_separate(make_tracker, store, simulator):
    here = make_tracker()
    elsewhere = make_tracker(url=f"http://127.0.0.1:{free_port()}/v1", retries=0)
    task = video_task(seed=42)
    here.submit(task, WS)
    assert elsewhere.in_flight() == 0
    assert elsewhere.tick().requests == 0
    tick_until(here, lambda: status(store, task["taskUUID"]) == "success")


# -- polling interval ------------------------------------------------------------------------------------

def test_next_interval_steps(store):
    now = time.time()
    jobs = [store.add(video_task(), workspace=WS, api_url="u", key_id="k") for _ in range(2)]
    assert next_interval([], now, 1.5, 10.0) is None

    def at_age(job, age):
        job.submitted_at = now - age
        return job

    assert next_interval([at_age(jobs[0], 1)], now, 1.5, 10.0) == 1.5
    assert next_interval([at_age(jobs[0], 30)], now, 1.5, 10.0) == 3.0
    assert next_interval([at_age(jobs[0], 100)], now, 1.5, 10.0) == 6.0
    assert next_interval([at_age(jobs[0], 1000)], now, 1.5, 10.0) == 10.0
    # The youngest job sets the pace.
    assert next_interval([at_age(jobs[0], 1000), at_age(jobs[1], 2)], now, 1.5, 10.0) == 1.5
    # Never outside [low, high].
    assert next_interval([at_age(jobs[0], 30)], now, 5.0, 10.0) == 5.0
    assert next_interval([at_age(jobs[0], 100)], now, 1.5, 4.0) == 4.0
    # Without submitted_at (queued), the job's age counts from its creation.
    queued = jobs[1]
    queued.submitted_at = None
    queued.created_at = now - 100
    assert next_interval([queued], now, 1.5, 10.0) == 6.0
    # Monotonic: never faster as jobs age.
    steps = [next_interval([at_age(jobs[0], a)], now, 1.5, 10.0) for a in range(0, 400, 5)]
    assert steps == sorted(steps)


def test_recheck_is_scoped_to_the_trackers_key(make_tracker, store, simulator):
    simulator.engine.latency = 2.0
    alice = make_tracker("alice-key-0123456789abcdef", job_timeout=0.001)
    task = video_task(seed=42)
    alice.submit(task, WS)
    tick_until(alice, lambda: not store.get(task["taskUUID"]).pending)
    assert status(store, task["taskUUID"]) == "timeout"
    bob = make_tracker("bob-key-0123456789abcdef")
    # Bob cannot poll Alice's job, so re-checking it would leave it "processing" for good.
    assert not bob.recheck(task["taskUUID"])
    assert status(store, task["taskUUID"]) == "timeout"
