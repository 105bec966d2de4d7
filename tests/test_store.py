"""JobStore: the durable SQLite job table every session shares."""
from __future__ import annotations

import json
import threading
import sqlite3
import time

import pandas as pd
import pytest

from conftest import video_task
from lib.store import COLUMNS, FINISHED, IN_FLIGHT, PENDING, Job, JobStore

SCOPE = {"workspace": "local", "api_url": "http://127.0.0.1:1/v1", "key_id": "k1"}


@pytest.fixture
def store(tmp_path):
    return JobStore(tmp_path / "db" / "studio.sqlite3")


def add(store: JobStore, **overrides) -> Job:
    scope = {k: overrides.pop(k) for k in ("workspace", "api_url", "key_id", "status") if k in overrides}
    return store.add(video_task(**overrides), **{**SCOPE, **scope})


def test_status_groups_are_disjoint_and_complete():
    assert set(IN_FLIGHT) < set(PENDING)
    assert not set(PENDING) & set(FINISHED)
    assert set(PENDING) | set(FINISHED) == {"queued", "submitting", "processing", "success", "error", "timeout"}


def test_add_writes_a_queued_row_with_the_task(store, tmp_path):
    task = video_task(positivePrompt="A red fox", numberResults=2, seed=7)
    job = store.add(task, **SCOPE)
    assert job.status == "queued"
    assert job.pending
    assert job.task == task
    assert (job.task_uuid, job.model, job.prompt) == (task["taskUUID"], "runware:108@22", "A red fox")
    assert (job.width, job.height, job.duration, job.number_results) == (320, 256, 5, 2)
    assert job.results == [] and job.error is None and job.cost is None and job.attempts == 0
    assert job.submitted_at is None and job.finished_at is None
    assert job.created_at == job.updated_at
    # On disk at once: a second store on the same file (another process, or after a crash) sees it.
    assert JobStore(tmp_path / "db" / "studio.sqlite3").get(task["taskUUID"]).status == "queued"


def test_add_with_explicit_status_and_defaults_for_missing_fields(store):
    task = {"taskType": "videoInference", "taskUUID": "5b1c2f1e-0000-4000-8000-000000000001", "model": "acme:1@1"}
    job = store.add(task, status="submitting", **SCOPE)
    assert job.status == "submitting"
    assert job.prompt == "" and job.duration is None and job.width is None and job.number_results == 1


def test_add_same_task_uuid_twice_is_refused(store):
    task = video_task()
    store.add(task, **SCOPE)
    with pytest.raises(Exception):
        store.add(task, **SCOPE)
    assert store.count() == 1


def test_task_json_holds_no_api_key(store):
    job = add(store)
    with sqlite3.connect(store.path) as db:
        (task_json,) = db.execute("SELECT task_json FROM jobs").fetchone()
    assert "apiKey" not in task_json
    assert job.key_id == "k1"


def test_update_serialises_results_and_error_and_bumps_updated_at(store):
    job = add(store)
    time.sleep(0.01)
    results = [{"videoUUID": "v1", "videoURL": "http://x/v1.mp4", "seed": 3, "cost": 0.1}]
    store.update(job.task_uuid, status="processing", results=results, cost=0.1, attempts=2)
    got = store.get(job.task_uuid)
    assert got.status == "processing" and got.results == results and got.cost == 0.1 and got.attempts == 2
    assert got.updated_at > job.updated_at
    store.update(job.task_uuid, status="error", error={"code": "timeoutProvider", "message": "slow"})
    assert store.get(job.task_uuid).error == {"code": "timeoutProvider", "message": "slow"}
    store.update(job.task_uuid, error=None)
    assert store.get(job.task_uuid).error is None


def test_claim_is_compare_and_set(store):
    job = add(store)
    assert store.claim(job.task_uuid, "queued", "submitting")
    assert store.get(job.task_uuid).status == "submitting"
    # A second claim from the same status fails: someone else already moved it.
    assert not store.claim(job.task_uuid, "queued", "submitting")
    assert store.claim(job.task_uuid, "submitting", "processing", submitted_at=123.0)
    got = store.get(job.task_uuid)
    assert got.status == "processing" and got.submitted_at == 123.0
    assert not store.claim("00000000-0000-4000-8000-000000000000", "queued", "submitting")


def test_concurrent_claims_exactly_one_wins(store):
    jobs = [add(store) for _ in range(5)]
    for job in jobs:
        barrier = threading.Barrier(8)
        wins = []

        def worker():
            barrier.wait()
            wins.append(store.claim(job.task_uuid, "queued", "submitting"))

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert sorted(wins) == [False] * 7 + [True]
        assert store.get(job.task_uuid).status == "submitting"


def test_concurrent_claims_across_store_instances(tmp_path):
    """Two stores on one file (two processes' worth of connections): still one winner."""
    path = tmp_path / "studio.sqlite3"
    a, b = JobStore(path), JobStore(path)
    job = add(a)
    barrier = threading.Barrier(2)
    wins = []

    def worker(s):
        barrier.wait()
        wins.append(s.claim(job.task_uuid, "queued", "processing"))

    threads = [threading.Thread(target=worker, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(wins) == [False, True]


def test_delete_is_scoped_by_workspace(store):
    job = add(store, workspace="alice")
    assert not store.delete(job.task_uuid, workspace="bob")
    assert store.get(job.task_uuid) is not None
    assert store.get(job.task_uuid, workspace="bob") is None
    assert store.get(job.task_uuid, workspace="alice") is not None
    assert store.delete(job.task_uuid, workspace="alice")
    assert store.get(job.task_uuid) is None
    assert not store.delete(job.task_uuid, workspace="alice")


def test_delete_without_workspace(store):
    job = add(store)
    assert store.delete(job.task_uuid)
    assert store.count() == 0


def test_jobs_and_count_filter(store):
    a1 = add(store, status="queued")
    a2 = add(store, status="processing")
    add(store, status="success")
    add(store, status="processing", workspace="other")
    add(store, status="processing", api_url="simulator://local")
    add(store, status="processing", key_id="k2")

    assert store.count() == 6
    assert store.count(statuses=["processing"]) == 4
    assert store.count(statuses=PENDING, **SCOPE) == 2
    assert {j.task_uuid for j in store.jobs(statuses=PENDING, **SCOPE)} == {a1.task_uuid, a2.task_uuid}
    assert store.count(workspace="other") == 1
    assert store.count(api_url="simulator://local") == 1
    assert store.count(key_id="k2") == 1
    assert store.count(key_id="k1") == 5
    assert store.count(statuses=["success", "error"]) == 1
    assert store.count(statuses=["nope"]) == 0
    assert store.jobs(statuses=["processing"], key_id="k2")[0].key_id == "k2"
    # Empty status filter means "any status".
    assert store.count(statuses=[]) == 6
    assert len(store.jobs(limit=2)) == 2


def test_filters_are_parameters_not_sql(store):
    add(store)
    assert store.count(workspace="x' OR '1'='1") == 0
    assert store.jobs(statuses=["queued') OR ('1'='1"]) == []
    assert store.count() == 1


def test_jobs_newest_first(store):
    made = []
    for _ in range(3):
        made.append(add(store))
        time.sleep(0.01)
    assert [j.task_uuid for j in store.jobs()] == [j.task_uuid for j in reversed(made)]


def test_frame_is_newest_first_and_scoped(store):
    made = []
    for i in range(3):
        made.append(add(store, positivePrompt=f"prompt {i}"))
        time.sleep(0.01)
    add(store, workspace="other")
    df = store.frame("local")
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == [c for c in COLUMNS if c != "task_json"]  # the task (and its images) left out
    assert list(df["task_uuid"]) == [j.task_uuid for j in reversed(made)]
    assert list(df["prompt"]) == ["prompt 2", "prompt 1", "prompt 0"]
    assert len(store.frame()) == 4
    assert store.frame("nobody").empty
    assert list(store.frame("nobody").columns) == [c for c in COLUMNS if c != "task_json"]


def test_version_changes_on_change_and_delete(store):
    empty = store.version("local")
    job = add(store)
    v1 = store.version("local")
    assert v1 != empty
    assert store.version("local") == v1  # stable while nothing changes
    time.sleep(0.01)
    store.update(job.task_uuid, status="processing")
    v2 = store.version("local")
    assert v2 != v1
    time.sleep(0.01)
    store.claim(job.task_uuid, "processing", "success")
    v3 = store.version("local")
    assert v3 != v2
    other = add(store)
    v4 = store.version("local")
    assert v4 != v3
    store.delete(other.task_uuid)
    assert store.version("local") != v4
    # Another workspace's changes leave this one's version alone.
    before = store.version("local")
    add(store, workspace="other")
    assert store.version("local") == before


def test_version_changes_when_an_older_job_is_deleted(store):
    """Deleting a job that is not the latest-updated one must still change the version."""
    old = add(store)
    time.sleep(0.01)
    add(store)
    add(store)
    before = store.version("local")
    store.delete(old.task_uuid)
    assert store.version("local") != before


def test_persists_across_instances(tmp_path):
    path = tmp_path / "nested" / "dir" / "studio.sqlite3"
    first = JobStore(path)
    job = add(first)
    first.update(job.task_uuid, status="success", results=[{"videoUUID": "v", "file": "f.mp4"}], cost=0.5)
    del first
    reopened = JobStore(path)
    got = reopened.get(job.task_uuid)
    assert got.status == "success" and got.results == [{"videoUUID": "v", "file": "f.mp4"}] and got.cost == 0.5
    assert got.task == job.task
    assert reopened.count() == 1


def test_store_works_from_many_threads(store):
    """Each thread gets its own connection; writes from all of them land."""
    errors = []

    def worker():
        try:
            for _ in range(5):
                job = add(store)
                store.update(job.task_uuid, status="processing")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert store.count(statuses=["processing"]) == 20


def test_job_from_row_round_trip(store):
    job = add(store)
    store.update(job.task_uuid, error={"code": "x", "message": "y"}, results=[{"seed": 1}])
    raw = store.frame().iloc[0]
    assert json.loads(raw["results_json"]) == [{"seed": 1}]
    assert json.loads(raw["error_json"]) == {"code": "x", "message": "y"}
