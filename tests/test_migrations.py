"""A studio.sqlite3 made by the first release (tests/fixtures/studio-v1.sqlite3, written by that
release's own store) opens with its whole history, and is brought to the current schema once."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from lib import migrations
from lib.db import Database
from lib.runtime import Runtime
from lib.settings import load_settings
from lib.store import JobStore

FIXTURE = Path(__file__).with_name("fixtures") / "studio-v1.sqlite3"


@pytest.fixture
def v1_path(tmp_path) -> Path:
    path = tmp_path / "studio.sqlite3"
    shutil.copy(FIXTURE, path)
    return path


def test_the_fixture_is_a_first_release_database(v1_path):
    db = sqlite3.connect(v1_path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"jobs"}  # no meta table: version 1
    assert db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 6


def test_opening_migrates_to_the_latest_version_and_keeps_every_job(v1_path):
    before = {r[0]: r for r in sqlite3.connect(v1_path).execute(
        "SELECT task_uuid, status, prompt, results_json, error_json, cost, workspace FROM jobs")}
    store = JobStore(v1_path)
    assert migrations.version(store.db) == migrations.LATEST
    jobs = {j.task_uuid: j for j in store.jobs()}
    assert set(jobs) == set(before)
    for uuid, (_, status, prompt, _, _, cost, workspace) in before.items():
        job = jobs[uuid]
        assert (job.status, job.prompt, job.cost, job.workspace) == (status, prompt, cost, workspace)
        assert job.revision == 0 and job.lease_owner is None and job.intent is None and job.strikes == 0
    done = next(j for j in jobs.values() if j.status == "success")
    assert done.results[0]["seed"] == 42 and done.results[0]["file"].endswith("-0.mp4")
    failed = next(j for j in jobs.values() if j.status == "error")
    assert failed.error["code"] == "timeoutProvider"
    assert {j.status for j in jobs.values()} == {"success", "processing", "error", "queued", "submitting", "timeout"}


def test_a_second_open_changes_nothing(v1_path):
    JobStore(v1_path).close()
    store = JobStore(v1_path)
    assert migrations.version(store.db) == migrations.LATEST
    assert migrations.migrate(store.db) == migrations.LATEST
    assert store.count() == 6


def test_a_fresh_database_starts_at_the_latest_version(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert migrations.version(db) == 0
    JobStore(db)
    assert migrations.version(db) == migrations.LATEST


def test_a_runtime_on_an_old_data_dir_keeps_the_history_and_leaves_others_jobs_alone(tmp_path, v1_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(v1_path, data / "studio.sqlite3")
    settings = load_settings(environ={"STUDIO_DATA_DIR": str(data), "RUNWARE_API_KEY": ""}, dotenv_path=None)
    runtime = Runtime(settings).start()
    try:
        runtime.engine.step()
        jobs = runtime.store.jobs()
        assert len(jobs) == 6
        # Their key is not in this process's memory: they wait, untouched, for a session that has it.
        assert all(j.revision == 0 for j in jobs)
    finally:
        runtime.stop()
