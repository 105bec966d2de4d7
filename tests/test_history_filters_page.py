"""History at scale and with issue 14's marks (AppTest, demo mode): favourite, tag, sweep and rating
filters, a sweep's actions (cancel what is queued, re-run as a new sweep), one page of rows at a time."""
from __future__ import annotations

import pytest

from conftest import video_task
from lib import demo
from lib.keys import key_id
from lib.runtime import request_hash
from test_pages import click, data_dir, demo_job, open_page, run, store_for  # noqa: F401  (data_dir: a fixture)

WS = "local"
# Filed under an API this app does not drive: its queued jobs stay queued (no engine sends them).
ELSEWHERE = {"workspace": WS, "api_url": "http://127.0.0.1:9/v1", "key_id": "someone-elses-key"}


def caption_count(at) -> str:
    return next(c.value for c in at.caption if c.value.endswith(" jobs"))


@pytest.fixture
def marked(data_dir):
    store = store_for(data_dir)
    jobs = {name: demo_job(store, "success", prompt=name) for name in ("fox", "whale", "cat")}
    store.annotate(jobs["fox"], WS, favourite=True, rating=5, tags=["snow", "animal"])
    store.annotate(jobs["whale"], WS, rating=3, tags=["animal"])
    sweep, _ = store.add_sweep("Lighthouse seeds", [video_task(positivePrompt="lighthouse", seed=s) for s in (1, 2, 3)],
                               spec={"vary": "seed"}, **ELSEWHERE)
    # Queued a minute ago: re-running it now is not a double click.
    store.db.execute("UPDATE jobs SET created_at = created_at - 60 WHERE sweep_id = ?", [sweep.sweep_id])
    return {**jobs, "sweep": sweep}


def test_favourite_filter(marked):
    at = open_page("pages/history.py")
    assert caption_count(at) == "6 of 6 jobs"
    at.toggle(key="h_favourite").set_value(True)
    run(at)
    assert caption_count(at) == "1 of 6 jobs"


def test_tag_filter(marked):
    at = open_page("pages/history.py")
    assert at.multiselect(key="h_tags").options == ["animal", "snow"]
    at.multiselect(key="h_tags").set_value(["animal"])
    run(at)
    assert caption_count(at) == "2 of 6 jobs"


def test_rating_filter(marked):
    at = open_page("pages/history.py")
    at.selectbox(key="h_rating").set_value(4)
    run(at)
    assert caption_count(at) == "1 of 6 jobs"


def test_sweep_filter_shows_the_sweep_and_its_actions(marked):
    at = open_page("pages/history.py")
    assert not [b for b in at.button if b.label == "Cancel queued"]
    at.selectbox(key="h_sweep").set_value(marked["sweep"].sweep_id)
    run(at)
    assert caption_count(at) == "3 of 6 jobs"
    assert "Sweep **Lighthouse seeds** · 3 queued" in [m.value for m in at.markdown]
    assert [b.label for b in at.button if b.label in ("Cancel queued", "Re-run sweep")] == ["Cancel queued", "Re-run sweep"]


def test_cancel_queued_cancels_that_sweeps_queued_jobs_only(marked, data_dir):
    store = store_for(data_dir)
    other = store.add(video_task(positivePrompt="not in the sweep"), **ELSEWHERE)
    at = open_page("pages/history.py")
    at.selectbox(key="h_sweep").set_value(marked["sweep"].sweep_id)
    run(at)
    click(at, "Cancel queued")
    statuses = [job.status for job in store.sweep_jobs(marked["sweep"].sweep_id, WS)]
    assert statuses == ["cancelled"] * 3
    assert store.get(other.task_uuid).status == "queued"
    assert [t.value.replace("\\", "") for t in at.toast] == ["Cancelled 3 queued job(s) of “Lighthouse seeds”."]


def test_rerun_sweep_queues_its_tasks_again_as_a_new_sweep(marked, data_dir):
    store = store_for(data_dir)
    old = store.sweep_jobs(marked["sweep"].sweep_id, WS)
    at = open_page("pages/history.py")
    at.selectbox(key="h_sweep").set_value(marked["sweep"].sweep_id)
    run(at)
    click(at, "Re-run sweep")
    click(at, "Queue 3 job(s)")
    [new] = [s for s in store.sweeps(WS) if s.sweep_id != marked["sweep"].sweep_id]
    assert new.name == "Lighthouse seeds (re-run)" and new.spec == {"vary": "seed"}
    jobs = store.sweep_jobs(new.sweep_id, WS)
    assert [(j.prompt, j.task["seed"]) for j in jobs] == [(j.prompt, j.task["seed"]) for j in old]
    assert not {j.task_uuid for j in jobs} & {j.task_uuid for j in old}
    assert all(j.task["taskUUID"] == j.task_uuid for j in jobs)
    # Queued in this session's own (demo) scope, and the filter now shows the new sweep.
    assert {(j.api_url, j.key_id) for j in jobs} == {(demo.DEMO_LABEL, key_id(demo.DEMO_KEY))}
    assert at.selectbox(key="h_sweep").value == new.sweep_id


def test_rerun_sweep_asks_first_with_the_count_and_price(marked, data_dir):
    store = store_for(data_dir)
    at = open_page("pages/history.py")
    at.selectbox(key="h_sweep").set_value(marked["sweep"].sweep_id)
    run(at)
    click(at, "Re-run sweep")
    assert any("again: 3 jobs, price unknown" in m.value for m in at.markdown)
    assert len(store.sweeps(WS)) == 1  # nothing queued while the question is open
    click(at, "Not now")
    assert len(store.sweeps(WS)) == 1 and store.count() == 6


def test_rerun_right_after_queueing_is_not_queued_twice(data_dir):
    store = store_for(data_dir)
    task = video_task(positivePrompt="fresh")
    sweep, _ = store.add_sweep("Fresh", [task], request_hashes=[request_hash(task)], **ELSEWHERE)
    # Still inside the double-submit window when the page runs, however slow the machine is.
    store.db.execute("UPDATE jobs SET created_at = created_at + 30 WHERE sweep_id = ?", [sweep.sweep_id])
    at = open_page("pages/history.py")
    at.selectbox(key="h_sweep").set_value(sweep.sweep_id)
    run(at)
    click(at, "Re-run sweep")
    click(at, "Queue 1 job(s)")
    assert [s.name for s in store.sweeps(WS)] == ["Fresh"]
    assert any("nothing was queued twice" in t.value for t in at.toast)


def test_only_one_page_of_rows_goes_to_the_table(data_dir):
    store = store_for(data_dir)
    for i in range(120):
        store.add(video_task(positivePrompt=f"job {i}"), **ELSEWHERE)
    at = open_page("pages/history.py")
    assert caption_count(at) == "120 of 120 jobs"
    assert len(at.dataframe[0].value) == 100
    assert at.dataframe[0].value["prompt"].iloc[0] == "job 119"
    at.number_input(key="h_page").set_value(2)
    run(at)
    assert list(at.dataframe[0].value["prompt"]) == [f"job {i}" for i in range(19, -1, -1)]
