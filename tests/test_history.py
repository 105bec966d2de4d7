"""lib/history.py: shaping the store's DataFrame, filtering it and exporting it."""
from __future__ import annotations

import csv
import io
import json
import time

import pandas as pd
import pytest

from conftest import TEST_KEY, force, video_task
from lib import jobquery
from lib.history import EXPORT_COLUMNS, shape, to_csv, to_json
from lib.jobquery import JobFilter
from lib.store import JobStore
from lib.keys import key_id
from lib.runtime import Runtime
from lib.settings import load_settings
from lib.studio import open_studio

WS = "local"
API_URL = "http://127.0.0.1:9/v1"
SHAPED_COLUMNS = ["task_uuid", "status", "created", "finished", "model", "prompt", "duration", "width", "height",
                  "number_results", "cost", "seeds", "video_files", "error_code", "error_message", "job_link",
                  "video", "poster", "sweep_id", "sweep", "favourite", "rating", "note", "tags"]
INTERNAL = ["key_id", "api_url", "task_json", "results_json", "error_json", "workspace"]


@pytest.fixture
def store(tmp_path):
    return JobStore(tmp_path / "studio.sqlite3")


def add(store, status="success", *, results=None, error=None, cost=None, **task_fields):
    task = video_task(**task_fields)
    store.add(task, workspace=WS, api_url=API_URL, key_id=key_id(TEST_KEY))
    changes = {"status": status}
    if results is not None:
        changes["results"] = results
    if error is not None:
        changes["error"] = error
    if cost is not None:
        changes["cost"] = cost
    if status in ("success", "error", "timeout"):
        changes["finished_at"] = time.time()
    force(store, task["taskUUID"], **changes)
    time.sleep(0.005)  # distinct created_at, so "newest first" is well defined
    return task["taskUUID"]


@pytest.fixture
def jobs(store):
    """A small history: uuid by name."""
    return {
        "fox": add(store, "success", positivePrompt="A red FOX in the snow (golden hour)", seed=42,
                   results=[{"videoUUID": "v1", "seed": 42, "cost": 0.1, "file": "a-0.mp4"},
                            {"videoUUID": "v2", "seed": 43, "cost": 0.1, "file": "a-1.mp4"}], cost=0.2),
        "whale": add(store, "error", positivePrompt="A blue whale [deep sea]", model="klingai:5@3",
                     error={"code": "timeoutProvider", "message": "The provider did not answer in time."}),
        "city": add(store, "timeout", positivePrompt="City lights at night.*",
                    error={"code": "studioTimeout", "message": "Still processing."}),
        "cat": add(store, "processing", positivePrompt="A cat, sleeping", model="klingai:5@3"),
    }


@pytest.fixture
def df(store, jobs):
    return shape(store.frame(WS))


def filtered(store, *, statuses=(), models=(), text=""):
    """History's filters, as the page asks the database for them."""
    f = JobFilter(statuses=tuple(statuses), models=tuple(models), text=text)
    return shape(jobquery.rows(store, WS, f))


def test_shape_columns_and_order(df, jobs):
    assert list(df.columns) == SHAPED_COLUMNS
    assert not set(INTERNAL) & set(df.columns)
    assert list(df["task_uuid"]) == [jobs["cat"], jobs["city"], jobs["whale"], jobs["fox"]]  # newest first
    assert list(df.index) == [0, 1, 2, 3]


def test_shape_values(df, jobs):
    fox = df[df["task_uuid"] == jobs["fox"]].iloc[0]
    assert fox["status"] == "success"
    assert fox["model"] == "runware:108@22"
    assert fox["seeds"] == "42, 43"
    assert fox["video_files"] == "a-0.mp4 a-1.mp4"
    assert fox["video"] == "/videos/a-0.mp4"
    assert fox["job_link"] == f"history?job={jobs['fox']}"
    assert fox["cost"] == pytest.approx(0.2)
    assert (fox["width"], fox["height"], fox["duration"], fox["number_results"]) == (320, 256, 5, 1)
    assert isinstance(fox["created"], pd.Timestamp) and str(fox["created"].tz) == "UTC"
    assert abs(fox["created"].timestamp() - time.time()) < 600
    assert fox["finished"] >= fox["created"]
    assert pd.isna(fox["error_code"]) and pd.isna(fox["error_message"])

    whale = df[df["task_uuid"] == jobs["whale"]].iloc[0]
    assert whale["error_code"] == "timeoutProvider"
    assert whale["error_message"] == "The provider did not answer in time."
    assert whale["seeds"] == "" and whale["video_files"] == ""
    assert pd.isna(whale["video"])

    cat = df[df["task_uuid"] == jobs["cat"]].iloc[0]
    assert pd.isna(cat["finished"]) and pd.isna(cat["cost"])


def test_shape_of_an_empty_history(store):
    empty = shape(store.frame(WS))
    assert empty.empty
    assert list(empty.columns) == SHAPED_COLUMNS
    assert filtered(store, statuses=["success"], text="x").empty
    assert json.loads(to_json(empty)) == []
    assert to_csv(empty).decode().strip() == ",".join(EXPORT_COLUMNS)


def test_filter_nothing_keeps_everything(store, jobs):
    assert len(filtered(store)) == 4
    assert len(filtered(store, statuses=[], models=[], text="   ")) == 4


def test_filter_by_status(store, jobs):
    assert list(filtered(store, statuses=["success"])["task_uuid"]) == [jobs["fox"]]
    assert set(filtered(store, statuses=["error", "timeout"])["task_uuid"]) == {jobs["whale"], jobs["city"]}
    assert filtered(store, statuses=["queued"]).empty


def test_filter_by_model(store, jobs):
    assert set(filtered(store, models=["klingai:5@3"])["task_uuid"]) == {jobs["whale"], jobs["cat"]}
    assert set(filtered(store, models=["klingai:5@3", "runware:108@22"])["task_uuid"]) == set(jobs.values())


def test_filter_by_text_is_case_insensitive(store, jobs):
    assert list(filtered(store, text="fox")["task_uuid"]) == [jobs["fox"]]
    assert list(filtered(store, text="  RED fox ")["task_uuid"]) == [jobs["fox"]]
    assert list(filtered(store, text="WHALE")["task_uuid"]) == [jobs["whale"]]


@pytest.mark.parametrize("needle, expected", [
    ("(", ["fox"]), ("(golden hour)", ["fox"]), ("[deep", ["whale"]), ("[", ["whale"]), (".*", ["city"]),
    ("\\", []), ("*", ["city"]), ("+", []), ("?", []), ("|", []), (", sleeping", ["cat"]),
])
def test_filter_text_is_literal_not_regex(store, jobs, needle, expected):
    shown = filtered(store, text=needle)
    assert set(shown["task_uuid"]) == {jobs[name] for name in expected}


def test_filter_by_task_uuid(store, jobs):
    uuid = jobs["city"]
    assert list(filtered(store, text=uuid)["task_uuid"]) == [uuid]
    assert list(filtered(store, text=uuid[:13].upper())["task_uuid"]) == [uuid]


def test_filters_combine(store, jobs):
    shown = filtered(store, statuses=["error", "processing"], models=["klingai:5@3"], text="cat")
    assert list(shown["task_uuid"]) == [jobs["cat"]]
    assert filtered(store, statuses=["success"], models=["klingai:5@3"]).empty


def test_filter_keeps_columns_and_order(df, store, jobs):
    shown = filtered(store, models=["klingai:5@3"])
    assert list(shown.columns) == list(df.columns)
    assert list(shown["task_uuid"]) == [jobs["cat"], jobs["whale"]]


def _all_exported_text(df) -> str:
    return to_csv(df).decode("utf-8") + to_json(df).decode("utf-8")


def test_csv_export(df, jobs):
    text = to_csv(df).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0].keys()) == EXPORT_COLUMNS
    assert not set(INTERNAL) & set(rows[0].keys())
    assert "job_link" not in rows[0] and "video" not in rows[0]
    assert [r["task_uuid"] for r in rows] == list(df["task_uuid"])
    fox = next(r for r in rows if r["task_uuid"] == jobs["fox"])
    assert fox["prompt"] == "A red FOX in the snow (golden hour)"
    assert fox["seeds"] == "42, 43" and fox["video_files"] == "a-0.mp4 a-1.mp4"
    cat = next(r for r in rows if r["task_uuid"] == jobs["cat"])
    assert cat["prompt"] == "A cat, sleeping"  # the comma is quoted, not a column break


def test_json_export_parses(df, jobs):
    records = json.loads(to_json(df))
    assert isinstance(records, list) and len(records) == 4
    assert all(list(r.keys()) == EXPORT_COLUMNS for r in records)
    whale = next(r for r in records if r["task_uuid"] == jobs["whale"])
    assert whale["error_code"] == "timeoutProvider" and whale["status"] == "error"
    fox = next(r for r in records if r["task_uuid"] == jobs["fox"])
    assert fox["created"].startswith(time.strftime("%Y", time.gmtime())) and "T" in fox["created"]
    assert fox["cost"] == pytest.approx(0.2)


def test_exports_of_a_filtered_frame(store, jobs):
    shown = filtered(store, statuses=["error"])
    assert [r["task_uuid"] for r in json.loads(to_json(shown))] == [jobs["whale"]]
    assert len(list(csv.DictReader(io.StringIO(to_csv(shown).decode())))) == 1


def test_exports_hold_no_key_no_key_id_no_api_url(df):
    text = _all_exported_text(df)
    for secret in (TEST_KEY, key_id(TEST_KEY), API_URL, "task_json", "key_id", "api_url", "taskType"):
        assert secret not in text


def test_unicode_and_newlines_survive_export(store):
    uuid = add(store, positivePrompt='Ünïcödé "quoted", then\na new line 🎬')
    df = shape(store.frame(WS))
    assert json.loads(to_json(df))[0]["prompt"] == 'Ünïcödé "quoted", then\na new line 🎬'
    rows = list(csv.DictReader(io.StringIO(to_csv(df).decode("utf-8"))))
    assert rows[0]["task_uuid"] == uuid and rows[0]["prompt"] == 'Ünïcödé "quoted", then\na new line 🎬'


def test_a_real_job_exports_without_the_key(simulator, tmp_path):
    """End to end: a job run with a key through the simulator; the key is nowhere in the history."""
    settings = load_settings(environ={"RUNWARE_API_KEY": TEST_KEY, "RUNWARE_API_URL": simulator.url,
                                      "STUDIO_DATA_DIR": str(tmp_path), "STUDIO_POLL_INTERVAL_MIN": "0.2"},
                             dotenv_path=None)
    runtime = Runtime(settings).start()
    try:
        studio = open_studio(runtime)
        task = video_task(seed=42, includeCost=True)
        studio.submit(task)
        deadline = time.monotonic() + 30
        while runtime.store.get(task["taskUUID"]).status != "success":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        df = shape(runtime.store.frame(studio.workspace))
    finally:
        runtime.stop()
    row = df.iloc[0]
    assert row["status"] == "success" and row["seeds"] == "42" and row["video_files"] == f"{task['taskUUID']}-0.mp4"
    text = _all_exported_text(df)
    assert TEST_KEY not in text and key_id(TEST_KEY) not in text and simulator.url not in text
    assert "videoURL" not in text  # Runware's short-lived result URLs stay internal
