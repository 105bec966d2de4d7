"""The Gallery in a real browser (`streamlit run` + headless Chromium): tiles are poster pictures
loaded from the app's /videos route, and Play puts one video player on that tile only."""
from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image

from browser_support import CHROMIUM, AppServer, assert_no_traceback, goto, screenshot_on_failure, video_info
from browser_support import browser, chromium  # noqa: F401  (fixtures)
from conftest import force, video_task
from lib import demo
from lib.keys import key_id
from lib.simulator.render import render_mp4
from lib.store import JobStore

if not Path(CHROMIUM).is_file():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright for Python")
expect = sync_api.expect

POSTERS = '[data-testid="stImage"] img'


def finished_jobs(data_dir: Path, prompts: list[str]) -> list[str]:
    """Finished demo jobs with a real local MP4 and poster each, filed before the app starts."""
    media = data_dir / "media"
    media.mkdir(parents=True)
    sample = data_dir / "sample.mp4"
    render_mp4(sample, prompt="gallery", width=320, height=256, duration=1.0, fps=8, seed=1)
    buf = io.BytesIO()
    Image.new("RGB", (320, 256), (40, 120, 200)).save(buf, format="JPEG")
    store = JobStore(data_dir / "studio.sqlite3")
    uuids = []
    for prompt in prompts:
        task = video_task(positivePrompt=prompt)
        u = task["taskUUID"]
        store.add(task, workspace="local", api_url=demo.DEMO_LABEL, key_id=key_id(demo.DEMO_KEY))
        (media / f"{u}-0.mp4").write_bytes(sample.read_bytes())
        (media / f"{u}-0.jpg").write_bytes(buf.getvalue())
        force(store, u, status="success", finished_at=time.time(),
              results=[{"videoUUID": "v-" + u, "seed": 1, "file": f"{u}-0.mp4", "poster": f"{u}-0.jpg"}])
        uuids.append(u)
        time.sleep(0.002)
    store.close()
    return uuids


@screenshot_on_failure
def test_tiles_are_posters_and_play_opens_one_player(browser, tmp_path):
    first, second, third = finished_jobs(tmp_path / "data", ["First clip", "Second clip", "Third clip"])
    with AppServer(tmp_path / "data", tmp_path / "app.log") as app:
        page = browser.page(app, None)
        goto(page, app, "/gallery")
        posters = page.locator(POSTERS)
        expect(posters).to_have_count(3)
        page.wait_for_function(f"() => [...document.querySelectorAll('{POSTERS}')]"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        sources = posters.evaluate_all("imgs => imgs.map(i => i.src)")
        assert [s.rsplit("/", 1)[-1] for s in sources] == [f"{u}-0.jpg" for u in (third, second, first)]
        assert all("/videos/" in s for s in sources)
        assert page.locator("video").count() == 0

        page.get_by_role("button", name="Play").nth(1).click()  # the second tile: "Second clip"
        expect(page.locator("video")).to_have_count(1)
        assert f"{second}-0.mp4" in video_info(page)["src"]
        expect(posters).to_have_count(2)
        assert_no_traceback(browser, page)
