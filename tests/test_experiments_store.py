"""The data under experimenting (issue 14): sweeps as groups queued all-or-nothing, the user's marks
on a job (favourite, rating, note, tags), posters made at download, and History filters over them.
Store tests run on SQLite and on a real PostgreSQL server."""
from __future__ import annotations

import itertools
import threading

import pytest
import requests
import uvicorn
from PIL import Image
from starlette.applications import Starlette

from conftest import TEST_KEY, free_port, video_task, wait_for
from lib import jobstate
from lib.db import Database
from lib import jobquery
from lib.history import shape
from lib.jobquery import JobFilter
from lib.media import video_routes
from lib.posters import make_poster
from lib.simulator.render import render_mp4
from lib.spend import SpendCapExceeded
from lib.store import BadAnnotation, DuplicateSubmit, JobStore
from lib.studio import open_studio

SCOPE = {"workspace": "ws-a", "api_url": "http://127.0.0.1:1/v1", "key_id": "k1"}
_numbers = itertools.count()


def task(**overrides) -> dict:
    return video_task(positivePrompt=f"prompt {next(_numbers)}", **overrides)


@pytest.fixture
def store(db_url):
    s = JobStore(Database(db_url))
    yield s
    s.close()


# -- annotations ------------------------------------------------------------------------------------

def test_annotations_are_kept_with_the_job(store):
    job = store.add(task(), **SCOPE)
    assert store.annotate(job.task_uuid, "ws-a", favourite=True, rating=4, note="best light", tags=["Sunset ", "b"])
    got = store.get(job.task_uuid)
    assert (got.favourite, got.rating, got.note, got.tags) == (True, 4, "best light", ["sunset", "b"])


def test_an_annotation_leaves_other_marks_alone(store):
    job = store.add(task(), **SCOPE)
    store.annotate(job.task_uuid, "ws-a", favourite=True, rating=5)
    store.annotate(job.task_uuid, "ws-a", note="n")
    got = store.get(job.task_uuid)
    assert (got.favourite, got.rating, got.note) == (True, 5, "n")


def test_rating_none_clears_it(store):
    job = store.add(task(), **SCOPE)
    store.annotate(job.task_uuid, "ws-a", rating=3)
    store.annotate(job.task_uuid, "ws-a", rating=None)
    assert store.get(job.task_uuid).rating is None


@pytest.mark.parametrize("marks", [{"rating": 0}, {"rating": 6}, {"rating": True}, {"note": "x" * 2001},
                                   {"tags": ["t" * 41]}, {"tags": [f"t{i}" for i in range(21)]}])
def test_bad_annotations_are_refused(store, marks):
    job = store.add(task(), **SCOPE)
    with pytest.raises(BadAnnotation):
        store.annotate(job.task_uuid, "ws-a", **marks)


def test_annotating_another_workspaces_job_does_nothing(store):
    job = store.add(task(), **SCOPE)
    assert not store.annotate(job.task_uuid, "ws-b", favourite=True)
    assert store.get(job.task_uuid).favourite is False


def test_an_annotation_never_costs_the_engine_its_write(store):
    """The engine writes conditionally on the revision it read: a user's star in between must not make
    that write fail (or be lost)."""
    job = store.add(task(), **SCOPE)
    store.annotate(job.task_uuid, "ws-a", favourite=True)
    assert store.write(job, "send") is not None
    got = store.get(job.task_uuid)
    assert got.status == jobstate.SUBMITTING and got.favourite


def test_an_annotation_changes_the_history_version(store):
    job = store.add(task(), **SCOPE)
    before = store.version("ws-a")
    store.annotate(job.task_uuid, "ws-a", tags=["x"])
    assert store.version("ws-a") != before


# -- sweeps -----------------------------------------------------------------------------------------

def test_a_sweep_queues_all_its_jobs_under_one_id(store):
    tasks = [task() for _ in range(4)]
    sweep, jobs = store.add_sweep("Two by two", tasks, spec={"axes": ["prompt"]}, **SCOPE)
    assert [j.task_uuid for j in store.sweep_jobs(sweep.sweep_id, "ws-a")] == [t["taskUUID"] for t in tasks]
    assert all(j.status == jobstate.QUEUED and j.sweep_id == sweep.sweep_id for j in jobs)
    assert store.sweep(sweep.sweep_id, "ws-a").spec == {"axes": ["prompt"]}
    assert store.sweep(sweep.sweep_id, "ws-b") is None


def test_a_refused_sweep_queues_nothing(store):
    def refuse(tx):
        raise SpendCapExceeded("over the cap")
    with pytest.raises(SpendCapExceeded):
        store.add_sweep("s", [task() for _ in range(3)], admit=refuse, **SCOPE)
    assert store.count() == 0 and store.sweeps("ws-a") == []


def test_the_same_sweep_twice_within_moments_is_refused(store):
    tasks = [task() for _ in range(2)]
    hashes = ["h1", "h2"]
    store.add_sweep("s", tasks, request_hashes=hashes, dedupe_seconds=2.0, **SCOPE)
    again = [dict(t, taskUUID=video_task()["taskUUID"]) for t in tasks]
    with pytest.raises(DuplicateSubmit):
        store.add_sweep("s", again, request_hashes=hashes, dedupe_seconds=2.0, **SCOPE)
    assert store.count() == 2


def test_sweeps_are_listed_newest_first_per_workspace(store):
    first, _ = store.add_sweep("first", [task()], **SCOPE)
    second, _ = store.add_sweep("second", [task()], **SCOPE)
    store.add_sweep("elsewhere", [task()], **{**SCOPE, "workspace": "ws-b"})
    assert [s.name for s in store.sweeps("ws-a")] == ["second", "first"]


def test_cancel_sweep_stops_only_what_was_not_sent(make_runtime, db_url):
    runtime = make_runtime(api_key=TEST_KEY, database=db_url, start=False)
    scope = dict(workspace="ws-a", api_url=runtime.settings.api_url, kid=runtime.server_key_id)
    sweep, jobs = runtime.submit_sweep("s", [task() for _ in range(3)], {}, **scope)
    runtime.store.write(jobs[0], "send")  # already on its way to Runware
    assert runtime.cancel_sweep(sweep.sweep_id, "ws-a") == 2
    statuses = [j.status for j in runtime.store.sweep_jobs(sweep.sweep_id, "ws-a")]
    assert statuses == [jobstate.SUBMITTING, jobstate.CANCELLED, jobstate.CANCELLED]


def test_a_sweep_counts_its_whole_cost_against_the_daily_cap(make_runtime, db_url):
    # klingai:5@3 lists $0.184 per second: 5 s at 1920x1080 is $0.92; three are $2.76, past a $2 cap.
    runtime = make_runtime(api_key=TEST_KEY, database=db_url, start=False, daily_budget_usd=2.0)
    priced = [task(model="klingai:5@3", width=1920, height=1080, fps=None) for _ in range(3)]
    with pytest.raises(SpendCapExceeded):
        runtime.submit_sweep("s", priced, {}, workspace="ws-a", api_url=runtime.settings.api_url,
                             kid=runtime.server_key_id)
    assert runtime.store.count() == 0


# -- the history frame ------------------------------------------------------------------------------

def test_history_frame_carries_marks_and_sweep_names(store):
    sweep, (a, b) = store.add_sweep("Light study", [task(), task()], **SCOPE)
    loose = store.add(task(), **SCOPE)
    store.annotate(a.task_uuid, "ws-a", favourite=True, rating=5, tags=["sunset", "wide"], note="keeper")
    store.annotate(b.task_uuid, "ws-a", tags=["sunset"])
    df = shape(store.frame("ws-a"), {s.sweep_id: s.name for s in store.sweeps("ws-a")})

    def filter_jobs(_, **marks):
        return jobquery.rows(store, "ws-a", JobFilter(**marks))

    row = df.set_index("task_uuid").loc[a.task_uuid]
    assert (row["sweep"], bool(row["favourite"]), row["rating"], row["tags"], row["note"]) == \
        ("Light study", True, 5, "sunset, wide", "keeper")
    assert set(filter_jobs(df, favourite=True)["task_uuid"]) == {a.task_uuid}
    assert set(filter_jobs(df, tags=("sunset",))["task_uuid"]) == {a.task_uuid, b.task_uuid}
    assert set(filter_jobs(df, tags=("sunset", "wide"))["task_uuid"]) == {a.task_uuid}
    assert set(filter_jobs(df, sweeps=(sweep.sweep_id,))["task_uuid"]) == {a.task_uuid, b.task_uuid}
    assert set(filter_jobs(df, min_rating=4)["task_uuid"]) == {a.task_uuid}
    assert set(filter_jobs(df, text="keeper")["task_uuid"]) == {a.task_uuid}
    assert loose.task_uuid in set(df["task_uuid"])


# -- posters ----------------------------------------------------------------------------------------

def test_a_poster_is_the_first_frame_at_most_480_wide(tmp_path):
    video = tmp_path / "00000000-0000-4000-8000-000000000000-0.mp4"
    render_mp4(video, prompt="poster test", width=960, height=540, duration=1, fps=8, seed=1)
    poster = make_poster(video)
    assert poster.name == "00000000-0000-4000-8000-000000000000-0.jpg"
    with Image.open(poster) as image:
        assert image.format == "JPEG" and image.size == (480, 270)


def test_a_broken_video_gets_no_poster_and_no_error(tmp_path):
    video = tmp_path / "00000000-0000-4000-8000-000000000000-0.mp4"
    video.write_bytes(b"not a video at all")
    assert make_poster(video) is None
    assert not video.with_suffix(".jpg").exists()


def test_the_engine_makes_a_poster_with_each_download_and_the_route_serves_it(make_runtime, tmp_path):
    runtime = make_runtime()
    studio = open_studio(runtime)
    job = studio.submit(task(numberResults=2))
    done = wait_for(lambda: (j := studio.job(job.task_uuid)) and j.status == jobstate.SUCCESS and j, 60,
                    "the job to finish")
    posters = [r.get("poster") for r in done.results]
    assert posters == [f"{job.task_uuid}-0.jpg", f"{job.task_uuid}-1.jpg"]
    media_dir = runtime.settings.media_dir
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=video_routes(lambda: media_dir)), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 10, "the server to start")
        got = requests.get(f"http://127.0.0.1:{port}/videos/{posters[0]}", timeout=5)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert got.content[:2] == b"\xff\xd8"
    finally:
        server.should_exit = True
        thread.join(5)
    assert studio.delete(studio.job(job.task_uuid))
    assert not (media_dir / posters[0]).exists() and not (media_dir / posters[1]).exists()

