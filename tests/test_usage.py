"""Usage figures against a known set of jobs (costs, days, statuses, durations)."""
from __future__ import annotations

import pandas as pd
import pytest

from lib import usage
from test_pages import data_dir, demo_job, open_page, store_for  # noqa: F401

# Wednesday 2026-03-04 12:00 UTC; the week began Monday 2026-03-02.
NOW = 1772625600.0
DAY = 86400.0


def job(uuid, model, status, created, cost=None, took=None):
    return {"task_uuid": uuid, "model": model, "status": status, "created_at": created,
            "finished_at": created + took if took is not None else None, "cost": cost}


@pytest.fixture
def df():
    return usage.prepare(pd.DataFrame([
        job("a", "m:1@1", "success", NOW - 60, cost=0.50, took=30),
        job("b", "m:1@1", "success", NOW - 3600, cost=0.25, took=50),
        job("c", "m:2@1", "error", NOW - DAY, cost=None, took=5),         # Tuesday, nothing billed
        job("d", "m:2@1", "success", NOW - 2 * DAY, cost=1.00, took=120),  # Monday
        job("e", "m:1@1", "success", NOW - 5 * DAY, cost=2.00, took=40),  # last Friday
        job("f", "m:2@1", "processing", NOW - 30, cost=None),
    ]))


def test_spend_per_day(df):
    assert usage.spend_per_day(df).to_dict("records") == [
        {"day": "2026-02-27", "spend": 2.00}, {"day": "2026-03-02", "spend": 1.00},
        {"day": "2026-03-03", "spend": 0.0}, {"day": "2026-03-04", "spend": 0.75}]


def test_spend_per_model(df):
    assert usage.spend_per_model(df).to_dict("records") == [
        {"model": "m:1@1", "spend": 2.75}, {"model": "m:2@1", "spend": 1.00}]


def test_jobs_by_status(df):
    assert usage.jobs_by_status(df).to_dict("records") == [
        {"status": "success", "jobs": 4}, {"status": "error", "jobs": 1}, {"status": "processing", "jobs": 1}]


def test_time_to_finish_counts_successes_only(df):
    assert usage.time_to_finish(df).to_dict("records") == [
        {"model": "m:1@1", "jobs": 3, "median": 40.0, "mean": 40.0, "longest": 50.0},
        {"model": "m:2@1", "jobs": 1, "median": 120.0, "mean": 120.0, "longest": 120.0}]


def test_totals_today_this_week_and_all_time(df):
    assert usage.totals(df, NOW) == pytest.approx({"today": 0.75, "week": 1.75, "all": 3.75})


def test_remaining_cap():
    assert usage.remaining(5.0, 3.25) == 1.75
    assert usage.remaining(5.0, 7.0) == 0.0
    assert usage.remaining(0.0, 1.0) is None


def test_csv_export(df):
    lines = usage.to_csv(df).decode().splitlines()
    assert lines[0] == "task_uuid,day,model,status,spend,seconds" and len(lines) == 7
    assert lines[1] == "a,2026-03-04,m:1@1,success,0.5,30.0"


def test_no_jobs():
    empty = usage.prepare(pd.DataFrame(columns=["task_uuid", "model", "status", "created_at", "finished_at", "cost"]))
    assert usage.totals(empty, NOW) == {"today": 0.0, "week": 0.0, "all": 0.0}
    assert usage.spend_per_day(empty).empty and usage.time_to_finish(empty).empty


def test_the_usage_page_labels_demo_amounts_simulated(data_dir):  # noqa: F811
    demo_job(store_for(data_dir), "success", prompt="Counted")
    at = open_page("pages/usage.py")
    assert [t.value for t in at.title] == ["Usage"]
    assert all("(simulated)" in m.label for m in at.metric)
