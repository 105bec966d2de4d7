"""Faults, table-driven, through the tracker (what the app runs): for each fault the job ends as a
playable video or a clear error the user can act on, is submitted under one taskUUID only, and is
never lost. Faults come from the simulator's script, so each run is exact."""
from __future__ import annotations

import time

import av
import pytest

from lib.client import RunwareClient
from lib.simulator.server import Simulator
from lib.store import PENDING, JobStore
from lib.tracker import Tracker

from conftest import TEST_KEY, video_task

API_FAULTS = ["429", "500", "502", "503", "504", "html", "truncate", "reset", "slow"]


def make_tracker(sim, tmp_path, *, read_timeout=5.0, scope_url=None, retries=3):
    client = RunwareClient(TEST_KEY, sim.url, backoff=0.01, retries=retries, read_timeout=read_timeout)
    store = JobStore(tmp_path / "studio.sqlite3")
    return Tracker(store, client, key=TEST_KEY, media_dir=tmp_path / "media", scope_url=scope_url), store


def run_until_done(tracker, store, task_uuid, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        tracker.tick()
        job = store.get(task_uuid)
        if not job.pending:
            return job
        time.sleep(0.1)
    return store.get(task_uuid)


def assert_playable(tracker, job):
    assert job.status == "success", job.error
    path = tracker.media_dir / job.results[0]["file"]
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames > 0


@pytest.mark.parametrize("fault", API_FAULTS)
def test_transient_api_fault_on_every_call_ends_in_a_video(simulator, tmp_path, fault):
    simulator.faults.slow_seconds = 1.5
    tracker, store = make_tracker(simulator, tmp_path, read_timeout=1.0)
    simulator.faults.script(fault, times=2)  # hits the submit, then its retry
    task = video_task()
    tracker.submit(task, "local")
    simulator.faults.script(fault, times=2)  # and the first poll
    job = run_until_done(tracker, store, task["taskUUID"])
    assert_playable(tracker, job)
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]


@pytest.mark.parametrize("fault", ["503", "reset", "html"])
def test_a_long_outage_keeps_the_job_and_resumes_after(simulator, tmp_path, fault):
    tracker, store = make_tracker(simulator, tmp_path, retries=1)
    simulator.faults.script(fault, times=6)  # more than one call's retries can absorb
    task = video_task()
    tracker.submit(task, "local")
    report = tracker.tick()
    assert store.get(task["taskUUID"]).status in PENDING  # not lost, not failed: waiting
    assert report.problem
    job = run_until_done(tracker, store, task["taskUUID"])
    assert_playable(tracker, job)
    # Resent after the outage under the same taskUUID: accepted once whatever reached the server.
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]


def test_task_failure_is_a_clear_error(simulator, tmp_path):
    tracker, store = make_tracker(simulator, tmp_path)
    simulator.faults.script("task_failure")
    task = video_task()
    tracker.submit(task, "local")
    job = run_until_done(tracker, store, task["taskUUID"])
    assert job.status == "error" and job.error["code"] == "timeoutProvider" and job.error["message"]


def test_unknown_task_is_a_clear_error(simulator, tmp_path):
    tracker, store = make_tracker(simulator, tmp_path)
    task = video_task()
    store.add(task, workspace="local", api_url=simulator.url, key_id=tracker.key_id, status="processing")
    job = run_until_done(tracker, store, task["taskUUID"])
    assert job.status == "error" and job.error["code"] and job.error["message"]


def test_video_cut_short_mid_download_is_fetched_again(simulator, tmp_path):
    tracker, store = make_tracker(simulator, tmp_path)
    simulator.faults.script("video_truncate")
    task = video_task()
    tracker.submit(task, "local")
    job = run_until_done(tracker, store, task["taskUUID"])
    assert_playable(tracker, job)
    assert not list((tmp_path / "media").glob(".part-*"))  # no half file left behind


def test_video_gone_is_an_error_that_can_be_rechecked(simulator, tmp_path):
    tracker, store = make_tracker(simulator, tmp_path)
    simulator.faults.script("video404")
    task = video_task()
    tracker.submit(task, "local")
    job = run_until_done(tracker, store, task["taskUUID"])
    assert job.status == "error" and job.error["code"] == "downloadFailed"
    assert tracker.recheck(task["taskUUID"])
    assert_playable(tracker, run_until_done(tracker, store, task["taskUUID"]))
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]


def test_app_restart_mid_job_resumes_against_a_restarted_simulator(tmp_path):
    """Demo mode after a restart: a new simulator on the same folder (new port) still knows the task,
    and a new tracker over the same store finishes the job without resubmitting it."""
    sim_dir = tmp_path / "sim"
    with Simulator(latency=1.0, media_dir=sim_dir) as first:
        tracker, store = make_tracker(first, tmp_path, scope_url="simulator://local")
        task = video_task()
        tracker.submit(task, "local")
        assert store.get(task["taskUUID"]).status == "processing"
    with Simulator(latency=1.0, media_dir=sim_dir) as second:
        tracker, store = make_tracker(second, tmp_path, scope_url="simulator://local")
        job = run_until_done(tracker, store, task["taskUUID"])
        assert_playable(tracker, job)
        assert second.stats.snapshot()["submitted"] == []  # polled, never sent again


def test_crash_mid_submit_resends_the_same_task_once(simulator, tmp_path):
    """The row was written, then the process died before the answer: the next tick resends it."""
    tracker, store = make_tracker(simulator, tmp_path)
    tracker.resubmit_after = 0.0  # the crash was long enough ago
    task = video_task()
    store.add(task, workspace="local", api_url=simulator.url, key_id=tracker.key_id, status="submitting")
    tracker.client.submit(task)  # it did reach Runware before the crash
    job = run_until_done(tracker, store, task["taskUUID"])
    assert_playable(tracker, job)
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]


def test_a_refused_resend_never_fails_a_job_runware_already_has(simulator, tmp_path):
    """The first submit reached Runware but its answer was lost; the resend is refused outright. The
    tracker asks Runware before calling the job failed, finds it running, and keeps it."""
    tracker, store = make_tracker(simulator, tmp_path)
    tracker.resubmit_after = 0.0
    task = video_task()
    store.add(task, workspace="local", api_url=simulator.url, key_id=tracker.key_id, status="submitting")
    store.update(task["taskUUID"], attempts=1)  # sent once already
    tracker.client.submit(task)
    simulator.faults.script("400")
    job = run_until_done(tracker, store, task["taskUUID"])
    assert_playable(tracker, job)
    assert simulator.stats.snapshot()["submitted"] == [task["taskUUID"]]


def test_a_first_submit_refused_outright_is_a_clear_error(simulator, tmp_path):
    tracker, store = make_tracker(simulator, tmp_path)
    simulator.faults.script("400")
    task = video_task()
    tracker.submit(task, "local")
    job = store.get(task["taskUUID"])
    assert job.status == "error" and job.error["code"] == "invalidRequest"
    assert simulator.stats.snapshot()["submitted"] == []
