"""The Compare view in a real browser: a 2 x 2 sweep queued on Generate in demo mode (the app's own engine
and simulator make the four videos), its videos taken into Compare, played by the one control and kept in
step (also after a seek and a rerun), through the real `streamlit run` server and Debian's Chromium."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from browser_support import CHROMIUM, WAIT_MS, AppServer, assert_no_traceback, goto, screenshot_on_failure
from browser_support import browser, chromium  # noqa: F401  (fixtures)
from conftest import wait_for
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
# The videos' states once they are in step (else false): one look, so what is checked is what was seen.
IN_STEP_JS = f"""a => {{ const vs = Array.from(document.querySelectorAll('{VIDEOS}'));
    const ts = vs.map(v => v.currentTime);
    const ok = vs.length === 4 && vs.every(v => v.paused !== a.playing)
        && Math.max(...ts) - Math.min(...ts) <= a.spread && Math.min(...ts) > a.after;
    return ok && vs.map(v => ({{paused: v.paused, time: v.currentTime, ready: v.readyState, src: v.currentSrc}})); }}"""
READY_JS = f"""n => {{ const vs = document.querySelectorAll('{VIDEOS}');
    return vs.length === n && Array.from(vs).every(v => v.readyState >= 3); }}"""


def settle(page) -> None:
    """Wait until Streamlit has finished the rerun a change started (typing into a page that is still
    rerunning can be lost on a loaded machine): first for the run to start, then for it to end."""
    app = page.locator('[data-testid="stApp"]')
    try:
        app.and_(page.locator('[data-test-script-state="running"]')).wait_for(state="attached", timeout=2000)
    except sync_api.TimeoutError:
        pass  # it ran and ended already, or the change needed no rerun
    app.and_(page.locator('[data-test-script-state="notRunning"]')).wait_for(state="attached")


def pick_model(page, air: str) -> None:
    """Choose a model in the Sweep panel's Models list; again if a rerun closed the list meanwhile."""
    models = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Models")
    for _ in range(5):
        models.locator("input").fill(air)
        try:
            page.get_by_role("option", name=re.compile(re.escape(air))).click(timeout=5000)
            break
        except sync_api.TimeoutError:
            page.keyboard.press("Escape")
            settle(page)
    page.keyboard.press("Escape")
    expect(models).to_contain_text(air)
    settle(page)


def queue_sweep_of_four(page) -> None:
    """On Generate's Sweep panel: two prompts x two seeds of the small Runware model, at its smallest
    listed size (640x360)."""
    page.get_by_text("Sweep: vary parameters").click()
    prompts = page.get_by_label("Prompts", exact=True)
    prompts.fill("A red fox in the snow\nA blue whale at dusk")
    prompts.press("Control+Enter")  # a text area commits on Ctrl+Enter (or when it loses focus)
    settle(page)
    pick_model(page, "runware:108@22")
    for label, value in (("Seeds", "1, 2"), ("Sizes or resolutions", "640x360")):
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")
        settle(page)
        expect(field).to_have_value(value)
    page.get_by_role("button", name="Queue sweep (4 jobs)").click()
    settle(page)
    dialog = page.get_by_role("dialog")  # asked first when the price is unknown or above the setting
    if dialog.count():
        dialog.get_by_role("button", name="Queue 4 jobs").click()
    expect(page.get_by_text("Queued 4 jobs")).to_be_visible(timeout=WAIT_MS)


def the_sweep(data_dir: Path):
    store = JobStore(data_dir / "studio.sqlite3")
    try:
        [sweep] = store.sweeps("local")
        return sweep, store.sweep_jobs(sweep.sweep_id, "local")
    finally:
        store.close()


def all_done(data_dir: Path) -> list[str] | None:
    """The sweep's task UUIDs in its order once all four videos are downloaded (fails on a failed job)."""
    _, jobs = the_sweep(data_dir)
    failed = [j.error for j in jobs if j.status in ("error", "timeout", "cancelled")]
    assert not failed, failed
    finished = all(j.status == "success" and j.results and j.results[0].get("file") for j in jobs)
    return [j.task_uuid for j in jobs] if finished and len(jobs) == 4 else None


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


def in_step(page, playing: bool, after: float = 0.0) -> list[float]:
    """Wait until all four videos play (or all are paused), within IN_STEP of each other and past `after`
    seconds, then their times. A wait, not a sleep: on a loaded machine a seek can take a moment, and
    while the leading video waits for data the others wait with it (paused a moment, by design: so the
    states checked are the ones the wait saw)."""
    seen = page.wait_for_function(IN_STEP_JS, arg={"playing": playing, "spread": IN_STEP, "after": after})
    return assert_in_step(seen.json_value(), playing)


@screenshot_on_failure
def test_four_videos_play_in_step_and_stay_in_step_after_a_seek(browser, tmp_path):
    data_dir = tmp_path / "data"
    with AppServer(data_dir, tmp_path / "app.log") as app:
        page = browser.page(app, "/")
        queue_sweep_of_four(page)
        _, jobs = the_sweep(data_dir)
        assert sorted((j.prompt, j.task["seed"], j.width, j.height) for j in jobs) == [
            ("A blue whale at dusk", 1, 640, 360), ("A blue whale at dusk", 2, 640, 360),
            ("A red fox in the snow", 1, 640, 360), ("A red fox in the snow", 2, 640, 360)]
        uuids = wait_for(lambda: all_done(data_dir), timeout=180, what="the sweep's four jobs to finish", every=0.5)
        sweep, _ = the_sweep(data_dir)
        goto(page, app, "/compare")
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Or take a sweep's videos").click()
        page.get_by_role("option", name=re.compile(re.escape(sweep.name))).click()
        page.wait_for_function(READY_JS, arg=4)
        states = page.evaluate(STATE_JS)
        assert [s["src"].rsplit("/", 1)[-1] for s in states] == [f"{u}-0.mp4" for u in uuids]
        assert_in_step(states, playing=False)

        page.get_by_role("button", name="Play all videos").click()
        first = in_step(page, playing=True, after=0.5)  # they really play, not just stand still together
        for _ in range(3):  # and stay in step while they play
            time.sleep(0.4)
            later = in_step(page, playing=True)
        assert min(later) > max(first) or min(later) < 0.5  # moving on (or looped to the start)

        page.locator('input[data-role="seek"]').fill("1.5")
        after_seek = in_step(page, playing=True, after=1.45)
        assert max(after_seek) < 4.0, after_seek  # from 1.5 on, not from where they were

        # Starring one reruns the page: the videos keep playing, in step, where they were.
        page.get_by_role("button", name="Favourite").first.click()
        wait_for(lambda: starred(data_dir, uuids[0]), what="the favourite to be stored")
        in_step(page, playing=True)

        page.get_by_role("button", name="Pause all videos").click()
        paused = in_step(page, playing=False)
        time.sleep(0.5)
        assert page.evaluate(STATE_JS)[0]["time"] == paused[0]  # paused means still
        assert_no_traceback(browser, page)
        assert not browser.page_errors, browser.page_errors
