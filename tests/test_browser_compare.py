"""The Compare view in a real browser: four demo jobs made by the app's own engine and simulator, opened
side by side, played by the one control and kept in step (also after a seek), through the real
`streamlit run` server and Debian's Chromium."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from browser_support import CHROMIUM, AppServer, Browser, assert_no_traceback, goto, screenshot_on_failure
from conftest import video_task, wait_for
from lib import demo
from lib.compare import jobs_param
from lib.keys import key_id
from lib.store import JobStore

if not Path(CHROMIUM).is_file():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright for Python")
expect = sync_api.expect

IN_STEP = 0.3  # seconds between the earliest and the latest video
VIDEOS = 'video[data-sync-group]'
# Every compared video, as the browser plays it.
STATE_JS = f"""() => Array.from(document.querySelectorAll('{VIDEOS}')).map(v => ({{
    paused: v.paused, time: v.currentTime, ready: v.readyState, src: v.currentSrc}}))"""
READY_JS = f"""n => {{ const vs = document.querySelectorAll('{VIDEOS}');
    return vs.length === n && Array.from(vs).every(v => v.readyState >= 3); }}"""


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as p:
        chromium = Browser(p)
        yield chromium
        chromium.close()


def sweep_of_four(data_dir: Path) -> list[str]:
    """A 2 x 2 sweep (seed x prompt) filed the way demo mode files jobs: the app's engine sends them to its
    simulator, which renders real MP4s, and downloads them."""
    store = JobStore(data_dir / "studio.sqlite3")
    uuids = []
    for prompt in ("A red fox in the snow", "A blue whale at dusk"):
        for seed in (1, 2):
            task = video_task(positivePrompt=prompt, seed=seed)
            store.add(task, workspace="local", api_url=demo.DEMO_LABEL, key_id=key_id(demo.DEMO_KEY))
            uuids.append(task["taskUUID"])
    store.close()
    return uuids


def all_done(data_dir: Path, uuids: list[str]) -> bool:
    store = JobStore(data_dir / "studio.sqlite3")
    try:
        jobs = [store.get(u) for u in uuids]
        failed = [j.error for j in jobs if j.status not in ("success", "queued", "submitting", "processing",
                                                              "downloading")]
        assert not failed, failed
        return all(j.status == "success" and j.results and j.results[0].get("file") for j in jobs)
    finally:
        store.close()


def starred(data_dir: Path, uuid: str) -> bool:
    store = JobStore(data_dir / "studio.sqlite3")
    try:
        return store.get(uuid).favourite
    finally:
        store.close()


def assert_in_step(states: list[dict], playing: bool) -> list[float]:
    times = [s["time"] for s in states]
    assert len(states) == 4, states
    assert all(s["paused"] is (not playing) for s in states), states
    assert max(times) - min(times) <= IN_STEP, times
    return times


@screenshot_on_failure
def test_four_videos_play_in_step_and_stay_in_step_after_a_seek(browser, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    uuids = sweep_of_four(data_dir)
    with AppServer(data_dir, tmp_path / "app.log") as app:
        wait_for(lambda: all_done(data_dir, uuids), timeout=120, what="the four demo jobs to finish", every=0.5)
        page = browser.page(app, None)
        goto(page, app, f"/compare?jobs={jobs_param(uuids)}")
        page.wait_for_function(READY_JS, arg=4)
        states = page.evaluate(STATE_JS)
        assert [s["src"].rsplit("/", 1)[-1] for s in states] == [f"{u}-0.mp4" for u in uuids]
        assert_in_step(states, playing=False)

        page.get_by_role("button", name="Play all videos").click()
        time.sleep(2.0)
        first = assert_in_step(page.evaluate(STATE_JS), playing=True)
        assert min(first) > 0.5  # they really play, not just stand still together
        time.sleep(1.0)
        later = assert_in_step(page.evaluate(STATE_JS), playing=True)
        assert min(later) > max(first) or min(later) < 0.5  # moving on (or looped to the start)

        page.locator('input[data-role="seek"]').fill("1.5")
        time.sleep(0.5)
        after_seek = assert_in_step(page.evaluate(STATE_JS), playing=True)
        assert all(1.4 <= t <= 2.6 for t in after_seek), after_seek

        # Starring one reruns the page: the videos keep playing, in step, where they were.
        page.get_by_role("button", name="Favourite").first.click()
        wait_for(lambda: starred(data_dir, uuids[0]), what="the favourite to be stored")
        time.sleep(1.0)
        after_star = assert_in_step(page.evaluate(STATE_JS), playing=True)
        assert min(after_star) > min(after_seek) or min(after_star) < 0.5

        page.get_by_role("button", name="Pause all videos").click()
        time.sleep(0.3)
        paused = assert_in_step(page.evaluate(STATE_JS), playing=False)
        time.sleep(0.5)
        assert page.evaluate(STATE_JS)[0]["time"] == paused[0]  # paused means still
        assert_no_traceback(browser, page)
        assert not browser.page_errors, browser.page_errors
