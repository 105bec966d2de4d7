"""lib/jobquery.py: History's and the Gallery's filtered, paged reads, on SQLite and on PostgreSQL."""
from __future__ import annotations

import time

import pytest

from conftest import force, video_task
from lib import jobquery
from lib.db import Database
from lib.jobquery import JobFilter
from lib.store import JobStore

WS = "local"
SCOPE = {"workspace": WS, "api_url": "http://127.0.0.1:1/v1", "key_id": "k1"}


@pytest.fixture
def store(db_url):
    s = JobStore(Database(db_url))
    yield s
    s.close()


def add(store: JobStore, prompt: str = "A test video", *, status: str = "success", workspace: str = WS,
        results=None, **task_fields) -> str:
    task = video_task(positivePrompt=prompt, **task_fields)
    store.add(task, **{**SCOPE, "workspace": workspace})
    force(store, task["taskUUID"], status=status, results=results or [])
    time.sleep(0.002)  # distinct created_at: "newest first" is well defined
    return task["taskUUID"]


def prompts(store, f: JobFilter, **paging) -> list[str]:
    return list(jobquery.rows(store, WS, f, **paging)["prompt"])


def test_rows_are_the_workspaces_newest_first(store):
    for p in ("one", "two", "three"):
        add(store, p)
    add(store, "elsewhere", workspace="other")
    assert prompts(store, JobFilter()) == ["three", "two", "one"]
    assert jobquery.count(store, WS) == 3


def test_a_page_is_limit_rows_from_offset(store):
    for i in range(7):
        add(store, f"job {i}")
    assert prompts(store, JobFilter(), offset=3, limit=3) == ["job 3", "job 2", "job 1"]
    assert prompts(store, JobFilter(), offset=6, limit=3) == ["job 0"]


def test_rows_have_the_frame_columns_and_no_task(store):
    add(store)
    frame = jobquery.rows(store, WS, JobFilter())
    assert list(frame.columns) == list(jobquery.FRAME_COLUMNS)
    assert "task_json" not in frame.columns


def test_filter_by_status(store):
    add(store, "done")
    add(store, "broke", status="error")
    f = JobFilter(statuses=("error",))
    assert prompts(store, f) == ["broke"] and jobquery.count(store, WS, f) == 1


def test_filter_by_model(store):
    add(store, "runware")
    add(store, "kling", model="klingai:5@3")
    assert prompts(store, JobFilter(models=("klingai:5@3",))) == ["kling"]


def test_text_matches_prompt_case_insensitively(store):
    add(store, "A red FOX")
    add(store, "A whale")
    assert prompts(store, JobFilter(text="fox")) == ["A red FOX"]


def test_text_matches_a_task_id(store):
    wanted = add(store, "one")
    add(store, "two")
    assert prompts(store, JobFilter(text=wanted[:8].upper())) == ["one"]


@pytest.mark.parametrize("needle, expected", [("100%", ["100% fox"]), ("a_b", ["a_b"]), ("c\\d", ["c\\d"]),
                                              ("'", ["it's"])])
def test_text_is_literal_not_a_pattern(store, needle, expected):
    for p in ("100% fox", "1000 foxes", "a_b", "axb", "c\\d", "cd", "it's"):
        add(store, p)
    assert prompts(store, JobFilter(text=needle)) == expected


def test_videos_only_wants_a_success_with_a_local_file(store):
    add(store, "with file", results=[{"videoUUID": "v", "file": "x-0.mp4"}])
    add(store, "no local copy", results=[{"videoUUID": "v"}])
    add(store, "failed", status="error")
    assert prompts(store, JobFilter(videos_only=True)) == ["with file"]


def test_distinct_values_are_sorted_and_per_workspace(store):
    add(store, model="klingai:5@3")
    add(store)
    add(store, model="google:3@0", workspace="other")
    assert jobquery.distinct(store, WS, "model") == ["klingai:5@3", "runware:108@22"]


def test_distinct_refuses_other_columns(store):
    with pytest.raises(ValueError):
        jobquery.distinct(store, WS, "prompt; DROP TABLE jobs")


def test_pages_counts_at_least_one():
    assert [jobquery.pages(n, 12) for n in (0, 1, 12, 13)] == [1, 1, 1, 2]


# -- the data layer's marks: favourite, tags, rating, note, sweeps ------------------------------------

def test_filter_by_favourite(store):
    liked = add(store, "liked")
    add(store, "not liked")
    store.annotate(liked, WS, favourite=True)
    assert prompts(store, JobFilter(favourite=True)) == ["liked"]


def test_filter_by_tags_wants_every_tag(store):
    both, one = add(store, "both"), add(store, "one")
    store.annotate(both, WS, tags=["winter", "fox"])
    store.annotate(one, WS, tags=["fox"])
    assert prompts(store, JobFilter(tags=("fox",))) == ["one", "both"]
    assert prompts(store, JobFilter(tags=("fox", "winter"))) == ["both"]


def test_a_tag_matches_whole_tags_only(store):
    store.annotate(add(store, "foxes"), WS, tags=["foxes", "a_b"])
    store.annotate(add(store, "fox"), WS, tags=["fox"])
    assert prompts(store, JobFilter(tags=("fox",))) == ["fox"]
    assert prompts(store, JobFilter(tags=("a%b",))) == []


def test_a_tag_with_quotes_and_accents_is_found(store):
    store.annotate(add(store, "odd"), WS, tags=['say "hi"', "été"])
    assert prompts(store, JobFilter(tags=('say "hi"',))) == ["odd"]
    assert prompts(store, JobFilter(tags=("Été",))) == ["odd"]


def test_filter_by_minimum_rating(store):
    for p, rating in (("five", 5), ("three", 3), ("unrated", None)):
        store.annotate(add(store, p), WS, rating=rating)
    assert prompts(store, JobFilter(min_rating=4)) == ["five"]
    assert prompts(store, JobFilter(min_rating=3)) == ["three", "five"]


def test_text_matches_the_note(store):
    store.annotate(add(store, "plain"), WS, note="Client LIKED this one")
    add(store, "other")
    assert prompts(store, JobFilter(text="liked")) == ["plain"]


def sweep(store, name: str, prompts_: list[str]):
    tasks = [video_task(positivePrompt=p) for p in prompts_]
    made, _ = store.add_sweep(name, tasks, spec={"vary": "prompt"}, **SCOPE)
    return made, tasks


def test_filter_by_sweep(store):
    first, _ = sweep(store, "First", ["a", "b"])
    sweep(store, "Second", ["c"])
    add(store, "alone")
    assert prompts(store, JobFilter(sweeps=(first.sweep_id,))) == ["b", "a"]


def test_rows_carry_the_marks(store):
    made, [task] = sweep(store, "S", ["marked"])
    store.annotate(task["taskUUID"], WS, favourite=True, rating=4, note="n", tags=["x"])
    [row] = jobquery.rows(store, WS, JobFilter()).to_dict("records")
    assert (row["sweep_id"], bool(row["favourite"]), row["rating"], row["note"], row["tags_json"]) == \
        (made.sweep_id, True, 4, "n", '["x"]')


def test_tags_lists_every_tag_once(store):
    store.annotate(add(store), WS, tags=["winter", "fox"])
    store.annotate(add(store), WS, tags=["fox"])
    add(store)
    store.annotate(add(store, workspace="other"), "other", tags=["secret"])
    assert jobquery.tags(store, WS) == ["fox", "winter"]


def test_sweep_tasks_in_the_order_queued(store):
    made, tasks = sweep(store, "S", ["one", "two", "three"])
    assert jobquery.sweep_tasks(store, WS, made.sweep_id) == tasks
    assert jobquery.sweep_tasks(store, "other", made.sweep_id) == []
