"""JobStore: the durable job table every session, engine and process shares; conditional writes and
leases. Every test runs on SQLite and on a real PostgreSQL server."""
from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from conftest import video_task
from lib import jobstate
from lib.db import Database
from lib.jobstate import FINISHED, IN_FLIGHT, PENDING, TransitionError
from lib.store import DuplicateSubmit, Job, JobStore

SCOPE = {"workspace": "local", "api_url": "http://127.0.0.1:1/v1", "key_id": "k1"}


@pytest.fixture
def store(db_url):
    s = JobStore(Database(db_url))
    yield s
    s.close()


def second_store(store: JobStore) -> JobStore:
    """Another store on the same database: another process's connections."""
    return JobStore(Database(store.db.url))


def add(store: JobStore, status: str = "queued", **overrides) -> Job:
    """A job, walked through the state machine to `status` as the engine would."""
    scope = {k: overrides.pop(k) for k in ("workspace", "api_url", "key_id") if k in overrides}
    job = store.add(video_task(**overrides), **{**SCOPE, **scope})
    path = {"queued": [], "submitting": ["send"], "processing": ["send", "accepted"],
            "downloading": ["send", "accepted", "delivered"], "success": ["send", "accepted", "delivered", "downloaded"],
            "error": ["send", "refused"], "cancelled": ["cancel"],
            "timeout": ["send", "accepted", "timed_out"]}[status]
    for event in path:
        job = store.write(job, event, **({"submitted_at": time.time()} if event == "accepted" else {}))
    return job


def test_status_groups_are_disjoint_and_complete():
    assert set(IN_FLIGHT) < set(PENDING)
    assert not set(PENDING) & set(FINISHED)
    assert set(PENDING) | set(FINISHED) == {"queued", "submitting", "processing", "downloading", "success",
                                            "error", "timeout", "cancelled"}


def test_add_writes_a_queued_row_with_the_task(store):
    task = video_task(positivePrompt="A red fox", numberResults=2, seed=7)
    job = store.add(task, **SCOPE)
    assert job.status == "queued" and job.pending and job.task == task
    assert (job.task_uuid, job.model, job.prompt) == (task["taskUUID"], "runware:108@22", "A red fox")
    assert (job.width, job.height, job.duration, job.number_results) == (320, 256, 5, 2)
    assert job.results == [] and job.error is None and job.cost is None and job.attempts == 0
    assert job.revision == 0 and job.lease_owner is None
    # On disk at once: a second store on the same file (another process, or after a crash) sees it.
    assert second_store(store).get(task["taskUUID"]).status == "queued"


def test_add_same_task_uuid_twice_is_refused(store):
    task = video_task()
    store.add(task, **SCOPE)
    with pytest.raises(Exception):
        store.add(task, **SCOPE)
    assert store.count() == 1


def test_task_json_holds_no_api_key(store):
    add(store)
    [row] = store.db.query("SELECT task_json FROM jobs")
    assert "apiKey" not in row["task_json"]


def test_same_request_in_a_workspace_within_the_window_is_a_duplicate(store):
    first = store.add(video_task(), request_hash="h1", dedupe_seconds=2, **SCOPE)
    with pytest.raises(DuplicateSubmit) as info:
        store.add(video_task(), request_hash="h1", dedupe_seconds=2, **SCOPE)
    assert info.value.job.task_uuid == first.task_uuid
    store.add(video_task(), request_hash="h1", dedupe_seconds=2, **{**SCOPE, "workspace": "other"})
    store.add(video_task(), request_hash="h2", dedupe_seconds=2, **SCOPE)
    assert store.count() == 3


def test_write_applies_an_event_and_bumps_the_revision(store):
    job = add(store)
    sent = store.write(job, "send", attempts=1, results=[{"videoUUID": "v"}], error={"code": "x", "message": "y"})
    assert sent.status == "submitting" and sent.revision == job.revision + 1
    assert sent.attempts == 1 and sent.results == [{"videoUUID": "v"}] and sent.error == {"code": "x", "message": "y"}
    assert store.write(sent, "note", error=None).error is None


def test_write_is_conditional_on_the_revision_read(store):
    job = add(store)
    assert store.write(job, "send") is not None
    # A writer still holding the old read loses: someone else changed the job first.
    assert store.write(job, "cancel") is None
    assert store.get(job.task_uuid).status == "submitting"


def test_an_event_that_cannot_start_from_the_status_is_refused(store):
    job = add(store, "success")
    with pytest.raises(TransitionError):
        store.write(job, "send")
    with pytest.raises(TransitionError):
        store.write(job, "no-such-event")


def test_concurrent_writers_exactly_one_wins(store):
    job = add(store)
    barrier = threading.Barrier(8)
    wins = []

    def worker():
        barrier.wait()
        wins.append(store.write(job, "send") is not None)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(wins) == [False] * 7 + [True]


def test_concurrent_writers_across_store_instances(store):
    """Two stores on one database (two processes' worth of connections): still one winner."""
    a, b = store, second_store(store)
    job = add(a)
    barrier = threading.Barrier(2)
    wins = []

    def worker(s):
        barrier.wait()
        wins.append(s.write(job, "send") is not None)

    threads = [threading.Thread(target=worker, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(wins) == [False, True]


def test_a_live_lease_keeps_others_out_until_it_expires(store):
    job = add(store, "submitting")
    held = store.lease(job, "owner-a", 0.3)
    assert held.lease_owner == "owner-a"
    assert store.lease(store.get(job.task_uuid), "owner-b", 10) is None
    assert store.lease(store.get(job.task_uuid), "owner-a", 10) is not None  # its owner may renew
    time.sleep(0.05)
    expired = store.lease(store.get(job.task_uuid), "owner-a", 0.01)
    time.sleep(0.05)
    taken = store.lease(store.get(expired.task_uuid), "owner-b", 10)
    assert taken is not None and taken.lease_owner == "owner-b"


def test_release_gives_the_lease_back_with_the_outcome(store):
    job = store.lease(add(store, "submitting"), "owner-a", 60)
    done = store.release(job, "accepted", submitted_at=1.0)
    assert done.status == "processing" and done.lease_owner is None and done.lease_until is None
    assert store.lease(done, "owner-b", 60) is not None


def test_lease_due_takes_free_due_jobs_of_a_scope_once(store):
    due = [add(store, "processing") for _ in range(3)]
    later = store.write(add(store, "processing"), "update", next_at=time.time() + 60)
    held = store.lease(add(store, "processing"), "someone", 60)
    add(store, "processing", key_id="k2")
    got = store.lease_due(SCOPE["api_url"], "k1", "processing", owner="me", seconds=30)
    assert {j.task_uuid for j in got} == {j.task_uuid for j in due}
    assert later.task_uuid not in {j.task_uuid for j in got} and held.task_uuid not in {j.task_uuid for j in got}
    assert all(j.lease_owner == "me" for j in got)
    assert store.lease_due(SCOPE["api_url"], "k1", "processing", owner="other", seconds=30) == []


def test_claim_next_queued_holds_the_in_flight_budget_across_threads(store):
    for _ in range(12):
        add(store)
    claimed = []
    barrier = threading.Barrier(6)

    def worker():
        barrier.wait()
        while (job := store.claim_next_queued(SCOPE["api_url"], "k1", max_in_flight=5, owner="w", seconds=60)):
            claimed.append(job.task_uuid)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(claimed) == len(set(claimed)) == 5
    assert store.count(statuses=IN_FLIGHT, key_id="k1") == 5


def test_claim_next_queued_takes_the_oldest_first(store):
    first = add(store)
    time.sleep(0.01)
    add(store)
    job = store.claim_next_queued(SCOPE["api_url"], "k1", max_in_flight=5, owner="w", seconds=60)
    assert job.task_uuid == first.task_uuid and job.status == "submitting" and job.lease_owner == "w"


def test_active_scopes_are_those_with_unfinished_jobs(store):
    add(store)
    add(store, "success", key_id="k2")
    add(store, "processing", api_url="simulator://local", key_id="k3")
    assert sorted(store.active_scopes()) == sorted([(SCOPE["api_url"], "k1"), ("simulator://local", "k3")])


def test_delete_is_scoped_by_workspace(store):
    job = add(store, workspace="alice")
    assert not store.delete(job.task_uuid, workspace="bob")
    assert store.get(job.task_uuid, workspace="bob") is None
    assert store.get(job.task_uuid, workspace="alice") is not None
    assert store.delete(job.task_uuid, workspace="alice")
    assert store.get(job.task_uuid) is None


def test_jobs_and_count_filter(store):
    a1 = add(store)
    a2 = add(store, "processing")
    add(store, "success")
    add(store, "processing", workspace="other")
    add(store, "processing", api_url="simulator://local")
    add(store, "processing", key_id="k2")
    assert store.count() == 6
    assert store.count(statuses=["processing"]) == 4
    assert {j.task_uuid for j in store.jobs(statuses=PENDING, **SCOPE)} == {a1.task_uuid, a2.task_uuid}
    assert store.count(key_id="k1") == 5
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


def test_frame_is_newest_first_scoped_and_leaves_the_task_out(store):
    made = []
    for i in range(3):
        made.append(add(store, positivePrompt=f"prompt {i}"))
        time.sleep(0.01)
    add(store, workspace="other")
    df = store.frame("local")
    assert isinstance(df, pd.DataFrame)
    assert "task_json" not in df.columns and {"status", "results_json", "error_json", "cost"} <= set(df.columns)
    assert list(df["prompt"]) == ["prompt 2", "prompt 1", "prompt 0"]
    assert len(store.frame()) == 4
    assert store.frame("nobody").empty and list(store.frame("nobody").columns) == list(df.columns)


def test_version_changes_on_every_change_and_delete(store):
    empty = store.version("local")
    job = add(store)
    v1 = store.version("local")
    assert v1 != empty and store.version("local") == v1
    job = store.write(job, "send")
    v2 = store.version("local")
    assert v2 != v1
    store.write(job, "note", progress=50)
    assert store.version("local") != v2
    before = store.version("local")
    add(store, workspace="other")
    assert store.version("local") == before
    store.delete(job.task_uuid)
    assert store.version("local") != before


def test_store_works_from_many_threads(store):
    errors = []

    def worker():
        try:
            for _ in range(5):
                store.write(add(store), "send")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert store.count(statuses=[jobstate.SUBMITTING]) == 20
