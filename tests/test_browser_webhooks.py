"""The webhook path in a browser: with STUDIO_PUBLIC_URL set and polls 20-60 s apart, a job clicked in
the page plays within seconds of Runware's webhook, and the page never polled for it."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from browser_support import CHROMIUM, AppServer, Browser, assert_no_traceback, goto, task_uuid_from_src, video_info
from conftest import TEST_KEY, Received, free_port
from lib.simulator.server import Simulator
from lib.store import JobStore

if not Path(CHROMIUM).is_file():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright for Python")

DONE = re.compile(r"\bdone · \d+ s")


def test_a_webhook_makes_the_video_play_though_polls_are_20_s_apart(tmp_path):
    with Simulator(latency=1.0, media_dir=tmp_path / "sim") as sim, sync_api.sync_playwright() as p:
        received = Received(sim)
        port = free_port()
        env = {"RUNWARE_API_KEY": TEST_KEY, "RUNWARE_API_URL": sim.url, "STUDIO_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "STUDIO_POLL_INTERVAL_MIN": "20", "STUDIO_POLL_INTERVAL_MAX": "60"}
        browser = Browser(p)
        with AppServer(tmp_path / "data", tmp_path / "app.log", extra_env=env, port=port) as app:
            page = browser.page(app, None)
            goto(page, app, "/")
            page.get_by_label("Prompt", exact=True).fill("A lighthouse at dusk, waves rolling in")
            clicked = time.time()
            page.get_by_role("button", name="Generate").click()
            page.get_by_text(DONE).first.wait_for(timeout=15_000)
            info = video_info(page, page.locator("video").first)
            shown = time.time()
            assert info["readyState"] >= 1
            uuid = task_uuid_from_src(info["src"])
            job = JobStore(tmp_path / "data" / "studio.sqlite3").get(uuid)
            assert_no_traceback(browser, page)
        browser.close()
    # Accepted, rendered (about 1 s plus the render), announced by webhook, polled once, downloaded,
    # shown: far sooner than the first poll, due 20 s after acceptance.
    assert job.status == "success" and shown - clicked < 15
    assert job.finished_at - job.submitted_at < 10
    assert len(received.polls(uuid)) <= 2
