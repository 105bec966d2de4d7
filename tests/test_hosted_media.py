"""The media folder cap (issue 9, item 11): past STUDIO_MAX_MEDIA_GB the oldest finished jobs' local
copies are removed and their results say so; unfinished jobs' files are never touched."""
from __future__ import annotations

import time

import pytest

from conftest import force, video_task
from lib import mediacap
from lib.store import JobStore

MB = 2**20


@pytest.fixture
def store(tmp_path):
    s = JobStore(tmp_path / "studio.sqlite3")
    yield s
    s.close()


def job_with_file(store, media, status="success", size=MB, age=0.0) -> str:
    task = video_task()
    name = f"{task['taskUUID']}-0.mp4"
    media.mkdir(exist_ok=True)
    (media / name).write_bytes(b"\0" * size)
    store.add(task, workspace="local", api_url="simulator://local", key_id="demo")
    changes = {"status": status, "results": [{"videoUUID": "v", "file": name, "seed": 7}]}
    if status == "success":
        changes["finished_at"] = time.time() - age
    force(store, task["taskUUID"], **changes)
    return task["taskUUID"]


def test_under_the_cap_nothing_is_removed(store, tmp_path):
    media = tmp_path / "media"
    job_with_file(store, media)
    assert mediacap.enforce(store, media, 2 * MB) == []
    assert mediacap.folder_bytes(media) == MB


def test_past_the_cap_the_oldest_copies_go_first(store, tmp_path):
    media = tmp_path / "media"
    oldest = job_with_file(store, media, age=300)
    middle = job_with_file(store, media, age=200)
    newest = job_with_file(store, media, age=100)
    assert mediacap.enforce(store, media, 2 * MB) == [oldest]
    assert mediacap.folder_bytes(media) == 2 * MB
    assert not (media / f"{oldest}-0.mp4").exists()
    assert (media / f"{middle}-0.mp4").exists() and (media / f"{newest}-0.mp4").exists()


def test_an_evicted_result_says_so(store, tmp_path):
    media = tmp_path / "media"
    uuid = job_with_file(store, media, age=10)
    job_with_file(store, media)
    mediacap.enforce(store, media, MB)
    [result] = store.get(uuid).results
    assert result["evicted"] is True and "file" not in result
    assert result["seed"] == 7  # everything else about the result is kept
    assert store.get(uuid).status == "success"


def test_a_removed_video_takes_its_poster_with_it(store, tmp_path):
    """Posters count toward the cap too: one left behind could never be freed."""
    media = tmp_path / "media"
    uuid = job_with_file(store, media, age=10)
    (media / f"{uuid}-0.jpg").write_bytes(b"\xff\xd8" + b"\0" * 1000)
    force(store, uuid, results=[{"videoUUID": "v", "file": f"{uuid}-0.mp4", "poster": f"{uuid}-0.jpg"}])
    job_with_file(store, media)
    assert mediacap.enforce(store, media, MB) == [uuid]
    assert not (media / f"{uuid}-0.jpg").exists() and "poster" not in store.get(uuid).results[0]


def test_files_of_unfinished_jobs_are_never_removed(store, tmp_path):
    media = tmp_path / "media"
    downloading = job_with_file(store, media, status="downloading")
    assert mediacap.enforce(store, media, MB // 2) == []
    assert (media / f"{downloading}-0.mp4").exists()


def test_the_runtime_keeps_the_cap(make_runtime, tmp_path):
    runtime = make_runtime(start=False, max_media_gb=1.5 * MB / 2**30)
    media = runtime.settings.media_dir
    old = job_with_file(runtime.store, media, age=60)
    job_with_file(runtime.store, media)
    assert runtime.housekeep() == [old]


def test_the_runtime_does_nothing_when_off(make_runtime):
    runtime = make_runtime(start=False)
    job_with_file(runtime.store, runtime.settings.media_dir)
    assert runtime.housekeep() == []


def test_a_started_runtime_enforces_the_cap_on_its_own(make_runtime, tmp_path):
    from conftest import wait_for
    runtime = make_runtime(start=False, max_media_gb=1.5 * MB / 2**30)
    old = job_with_file(runtime.store, runtime.settings.media_dir, age=60)
    job_with_file(runtime.store, runtime.settings.media_dir)
    runtime.start()
    wait_for(lambda: runtime.store.get(old).results[0].get("evicted"), timeout=10, what="housekeeping")
