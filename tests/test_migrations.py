"""A studio.sqlite3 made by the previous release (tests/fixtures/studio-v1.sqlite3: six jobs, one of each
status it knew) opens in this one with its whole history intact, and its unfinished jobs wait for their
key instead of being touched."""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from lib import jobstate as js
from lib.db import Database
from lib.migrations import LATEST, version
from lib.store import JobStore
from lib.studio import open_studio

FIXTURE = Path(__file__).parent / "fixtures" / "studio-v1.sqlite3"
V1_COLUMNS = {"task_uuid", "workspace", "api_url", "key_id", "status", "created_at", "updated_at", "submitted_at",
              "finished_at", "model", "prompt", "duration", "width", "height", "number_results", "task_json",
              "results_json", "error_json", "cost", "attempts"}
STATUSES = {"success", "processing", "error", "queued", "submitting", "timeout"}


def v1_copy(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "studio.sqlite3"
    shutil.copy(FIXTURE, path)
    return path


def raw_rows(path: Path) -> list[dict]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM jobs ORDER BY task_uuid")]


def schema(path: Path) -> list:
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT type, name, sql FROM sqlite_master").fetchall(), key=str)


@pytest.fixture
def v1_path(tmp_path) -> Path:
    return v1_copy(tmp_path / "data")


def test_the_fixture_is_a_first_release_database(v1_path):
    db = Database(f"sqlite:///{v1_path}")
    assert version(db) == 1
    assert {r["name"] for r in db.query("PRAGMA table_info(jobs)")} == V1_COLUMNS
    db.close()


def test_a_fresh_database_starts_at_the_latest_version(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert version(db) == 0
    JobStore(db)
    assert version(db) == LATEST


def test_opening_migrates_it_to_the_latest_version(v1_path):
    store = JobStore(v1_path)
    assert version(store.db) == LATEST >= 2
    assert store.db.query("SELECT value FROM meta WHERE name = 'schema_version'") == [{"value": str(LATEST)}]


def test_every_job_is_readable_with_its_results_error_and_cost(v1_path):
    before = {r["task_uuid"]: r for r in raw_rows(v1_path)}
    store = JobStore(v1_path)
    jobs = {j.status: j for j in store.jobs()}
    assert set(jobs) == STATUSES and store.count() == 6
    for job in jobs.values():  # every first-release column reads back unchanged
        row = before[job.task_uuid]
        assert (job.workspace, job.api_url, job.key_id, job.model, job.prompt, job.attempts, job.cost) == (
            row["workspace"], row["api_url"], row["key_id"], row["model"], row["prompt"], row["attempts"], row["cost"])
        assert job.task["taskUUID"] == job.task_uuid and job.created_at == row["created_at"]
    done = jobs["success"]
    assert done.cost == 0.92 and done.results[0]["file"] == f"{done.task_uuid}-0.mp4"
    assert done.results[0]["seed"] == 42 and done.error is None
    assert jobs["error"].error == {"code": "timeoutProvider", "message": "The provider timed out."}
    assert jobs["timeout"].error["code"] == "studioTimeout"
    assert jobs["submitting"].error["code"] == "notConfirmed" and jobs["submitting"].attempts == 2
    assert jobs["queued"].results == [] and jobs["processing"].submitted_at


def test_new_columns_have_their_defaults(v1_path):
    store = JobStore(v1_path)
    for job in store.jobs():
        assert (job.revision, job.lease_owner, job.lease_until, job.next_at, job.intent, job.progress,
                job.strikes, job.request_hash) == (0, None, None, None, None, None, 0, None)
    added = {r["name"] for r in store.db.query("PRAGMA table_info(jobs)")} - V1_COLUMNS
    assert {"revision", "lease_owner", "lease_until", "next_at", "intent", "strikes", "request_hash"} <= added


def test_reopening_a_migrated_database_changes_nothing(v1_path):
    JobStore(v1_path).close()
    rows, tables = raw_rows(v1_path), schema(v1_path)
    store = JobStore(v1_path)
    assert version(store.db) == LATEST
    store.close()
    assert raw_rows(v1_path) == rows and schema(v1_path) == tables


def test_two_processes_opening_it_at_once_both_migrate_it_once(v1_path):
    stores, errors = [], []

    def open_it():
        try:
            stores.append(JobStore(v1_path))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(stores) == 4
    assert all(version(s.db) == LATEST for s in stores) and stores[0].count() == 6


def test_a_runtime_on_that_data_dir_keeps_the_history_and_leaves_pending_jobs_waiting(tmp_path, make_runtime):
    v1_copy(tmp_path / "data")
    runtime = make_runtime(data_dir=tmp_path / "data")  # demo mode: none of these jobs' keys is held
    assert len(runtime.store.frame()) == 6
    pending = {j.task_uuid: j for j in runtime.store.jobs(statuses=js.PENDING)}
    assert {j.status for j in pending.values()} == {"processing", "queued", "submitting"}
    studio = open_studio(runtime)
    for job in pending.values():
        assert "Paste your key again" in studio.waiting_reason(job)
    time.sleep(0.5)  # many engine beats
    for uuid, job in pending.items():
        now = runtime.store.get(uuid)
        assert (now.status, now.revision, now.updated_at, now.lease_owner) == (job.status, 0, job.updated_at, None)
