"""Browser end-to-end tests: the real app (`streamlit run streamlit_app.py`) as a subprocess, driven by
Debian's Chromium through Playwright. Demo mode unless said: no RUNWARE_API_KEY, so the app runs its
bundled simulator in-process.

The tests share app processes (module-scoped fixtures) and run in file order:
  validation (empty History) -> generate -> restart -> every page without a traceback (the demo app),
  then a pasted key against a simulator subprocess, then per-user workspaces (one app each).
Every page of every test is watched for a traceback the whole time it is open.
"""
from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from urllib.request import urlopen

import pytest

from browser_support import (CHROMIUM, WAIT_MS, AppServer, SimulatorProcess, assert_no_traceback,
                             body_text, goto, port_open, screenshot_on_failure, task_uuid_from_src, video_info,
                             wait_rendered)
from browser_support import browser, chromium  # noqa: F401  (fixtures)

if not Path(CHROMIUM).is_file():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium); "
                "Playwright's own browser download does not work here", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright for Python")
expect = sync_api.expect

PROMPT_MESSAGE = "Write a prompt describing the video."
# Status lines as cards show them (their Material icons are separate elements).
ACTIVE = re.compile(r"\b(submitting|queued|processing|downloading)\b[^·]* · \d+ s")
DONE = re.compile(r"\bdone · \d+ s")
DEFAULT_DURATION = 5  # the default model (Kling 2.1 Master) at its default 5 s


# -- fixtures -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """Demo mode, one shared workspace. The restart test replaces its process (same data dir)."""
    root = tmp_path_factory.mktemp("demo")
    app = AppServer(root / "data", root / "app.log").start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def shared():
    """What the generate test leaves for the restart and traceback tests."""
    return {}


@pytest.fixture(scope="module")
def key_setup(tmp_path_factory):
    """A simulator subprocess that accepts only one long random key, and an app (no key: demo mode)
    whose RUNWARE_API_URL points at it, logging at DEBUG so every API interaction is in its log."""
    root = tmp_path_factory.mktemp("key")
    key = "rw-e2e-" + secrets.token_urlsafe(32)
    sim = SimulatorProcess(key, root / "sim.log", root / "sim-media")
    app = AppServer(root / "data", root / "app.log",
                    extra_env={"RUNWARE_API_URL": sim.api_url, "LOG_LEVEL": "DEBUG"})
    try:
        app.start()
        yield key, sim, app
    finally:
        app.stop()
        sim.stop()


@pytest.fixture(scope="module")
def per_user_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("per-user")
    app = AppServer(root / "data", root / "app.log", extra_env={"STUDIO_WORKSPACES": "per-user"}).start()
    yield app
    app.stop()


# -- helpers ------------------------------------------------------------------------------------------

def unique_prompt(words: str) -> str:
    return f"{words} (e2e {secrets.token_hex(4)})"


def track_media(page) -> list[str]:
    """URLs of every video request the page makes."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if r.resource_type == "media" or ".mp4" in r.url else None)
    return urls


def prompt_box(page):
    """The Prompt box, once the page has settled: while a rerun redraws the page, Streamlit can show the
    old and the new copy of an element for a moment."""
    box = page.get_by_label("Prompt", exact=True)
    expect(box).to_have_count(1, timeout=15_000)
    return box


def prompt_text(page, prompt: str):
    """The prompt shown as text (st.text), not the Prompt box's own value."""
    return page.locator('[data-testid="stText"]').get_by_text(prompt, exact=True)


def job_card(page, prompt: str):
    """The job card showing this (unique) prompt: the innermost block holding it."""
    return page.locator('[data-testid="stVerticalBlock"]').filter(
        has=prompt_text(page, prompt)).filter(has=page.get_by_text(re.compile(r" · \d+ s"))).last


def generate(page, prompt: str) -> dict:
    """Fill the prompt, click Generate, see the job's card go through an active status to done and its
    video load. Returns the <video>'s src, duration and readyState."""
    prompt_box(page).fill(prompt)
    page.get_by_role("button", name="Generate").click()
    card = job_card(page, prompt)
    card.get_by_text(ACTIVE).wait_for(timeout=30_000)
    card.get_by_text(DONE).wait_for(timeout=WAIT_MS)
    expect(prompt_text(page, prompt)).to_have_count(1)  # one click, one job
    return video_info(page, card.locator("video"))


def assert_own_video_url(src: str, app: AppServer) -> str:
    url = urlparse(src)
    assert url.scheme == "http", src
    assert url.hostname == "127.0.0.1" and url.port == app.port, f"video not served by the app: {src}"
    assert re.fullmatch(r"/videos/[0-9a-f-]{36}-0\.mp4", url.path), src
    return task_uuid_from_src(src)


def nav(page, label: str, title: str) -> None:
    """Follow a sidebar link (same browser session, unlike page.goto) and wait for the page's title."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=label).click()
    page.locator("h1", has_text=title).wait_for()
    wait_rendered(page)


def simulator_port(page, app: AppServer) -> int:
    """The in-process simulator's port, as the Settings page reports it."""
    goto(page, app, "/settings")
    page.get_by_text(re.compile(r"running at http://")).wait_for()
    match = re.search(r"running at http://127\.0\.0\.1:(\d+)/v1", body_text(page))
    assert match, "Settings does not show the running simulator"
    return int(match.group(1))


def ws_param(page) -> str | None:
    return (parse_qs(urlparse(page.url).query).get("ws") or [None])[0]


# -- scenarios ----------------------------------------------------------------------------------------

@screenshot_on_failure
def test_empty_prompt_is_refused_and_nothing_is_sent(browser, demo_app):
    page = browser.page(demo_app, "/")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text(PROMPT_MESSAGE)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Nothing was sent. Fix: Prompt\."))).to_be_visible()
    # A prompt of spaces is no prompt either.
    prompt_box(page).fill("   ")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text(PROMPT_MESSAGE)).to_be_visible()
    expect(page.get_by_text(ACTIVE)).to_have_count(0)
    expect(page.get_by_text(DONE)).to_have_count(0)
    assert_no_traceback(browser, page)

    history = browser.page(demo_app, "/history")
    expect(history.get_by_text("No jobs yet.")).to_be_visible()
    assert_no_traceback(browser, history)
    # Nothing reached the simulator either.
    port = simulator_port(history, demo_app)
    with urlopen(f"http://127.0.0.1:{port}/_sim/stats", timeout=5) as r:
        kinds = json.loads(r.read())["post_task_types"]
    # (Settings read the simulated balance: an accountManagement request, not a job.)
    assert not [k for k in kinds if "videoInference" in k], kinds


@screenshot_on_failure
def test_generate_plays_from_the_app_and_lands_in_history(browser, demo_app, shared):
    page = browser.page(demo_app, None)
    media = track_media(page)
    goto(page, demo_app, "/")
    expect(page.get_by_text("Demo mode")).to_be_visible()
    prompt = unique_prompt("A red fox trotting through a snowy birch forest at golden hour")
    info = generate(page, prompt)
    uuid = assert_own_video_url(info["src"], demo_app)
    assert info["readyState"] >= 1
    assert info["duration"] == pytest.approx(DEFAULT_DURATION, abs=0.5)
    expect(prompt_text(page, prompt)).to_be_visible()
    assert_no_traceback(browser, page)

    # The Download button points at the same file, as an attachment; the route honours ranges.
    download = page.get_by_role("link", name=re.compile("Download"))
    href = download.get_attribute("href")
    assert href.startswith(info["src"] + "?download=1&as=a-red-fox-trotting")
    r = page.request.get(href)
    assert r.status == 200 and r.headers["content-type"] == "video/mp4"
    # Named after the prompt (and the seed), not the task's UUID.
    assert 'attachment; filename="a-red-fox-trotting' in r.headers.get("content-disposition", "")
    odd = page.request.get(info["src"] + '?download=1&as=../evil".mp4')
    assert f'filename="{uuid}-0.mp4"' in odd.headers.get("content-disposition", "")  # an odd name is ignored
    r = page.request.get(info["src"], headers={"Range": "bytes=0-99"})
    assert r.status == 206 and len(r.body()) == 100

    # Never the simulator's address: every video request went to the app itself.
    sim_port = simulator_port(page, demo_app)
    assert sim_port != demo_app.port
    assert media, "the page requested no video"
    for url in media:
        assert urlparse(url).port == demo_app.port, f"video fetched from elsewhere: {url}"

    history = browser.page(demo_app, "/history")
    expect(history.get_by_text("1 of 1 jobs")).to_be_visible()
    goto(history, demo_app, f"/history?job={uuid}")
    for attempt in ("first visit", "after reload"):
        expect(history.get_by_text("1 of 1 jobs"), attempt).to_be_visible()
        expect(history.get_by_text("Job details"), attempt).to_be_visible()
        expect(prompt_text(history, prompt), attempt).to_be_visible()
        expect(history.locator("code").filter(has_text=re.compile(f"^{uuid}$")), attempt).to_be_visible()
        details = video_info(history)
        assert assert_own_video_url(details["src"], demo_app) == uuid
        assert details["duration"] == pytest.approx(DEFAULT_DURATION, abs=0.5)
        assert_no_traceback(browser, history)
        if attempt == "first visit":
            history.reload()
            wait_rendered(history)
    shared.update(uuid=uuid, prompt=prompt)


@screenshot_on_failure
def test_video_plays_from_the_local_copy_after_a_restart(browser, demo_app, shared):
    if "uuid" not in shared:
        pytest.skip("needs the job of test_generate_plays_from_the_app_and_lands_in_history")
    old_port = demo_app.port
    demo_app.restart()  # the in-process simulator goes with the old process
    assert demo_app.port != old_port and not port_open(old_port)
    assert (demo_app.data_dir / "media" / f"{shared['uuid']}-0.mp4").is_file()

    page = browser.page(demo_app, None)
    media = track_media(page)
    goto(page, demo_app, f"/history?job={shared['uuid']}")
    expect(page.get_by_text("Job details")).to_be_visible()
    expect(prompt_text(page, shared["prompt"])).to_be_visible()
    expect(page.get_by_text(DONE).first).to_be_visible()
    info = video_info(page)
    assert assert_own_video_url(info["src"], demo_app) == shared["uuid"]
    assert info["duration"] == pytest.approx(DEFAULT_DURATION, abs=0.5)
    assert all(urlparse(u).port == demo_app.port for u in media), media
    assert_no_traceback(browser, page)


@screenshot_on_failure
def test_no_page_ever_shows_a_traceback(browser, demo_app, shared):
    page = browser.page(demo_app, "/")
    uuid = shared.get("uuid")
    visits = [("/", "Generate a video"), ("/history", "History"), ("/gallery", "Gallery"),
              ("/settings", "Settings & status"),
              ("/history?job=00000000-0000-4000-8000-000000000000", "History"),
              ("/history?job=not-a-uuid%27%22%3Cb%3E", "History")]
    if uuid:
        visits += [(f"/history?job={uuid}", "History"), (f"/gallery?job={uuid}", "History")]
    for path, title in visits:
        goto(page, demo_app, path)
        page.locator("h1", has_text=title).wait_for()
        assert_no_traceback(browser, page)
        if "?job=0000" in path or "not-a-uuid" in path:
            expect(page.get_by_text("That job is not in this workspace")).to_be_visible()
    if uuid:  # a job link on another page opens the job's details
        expect(page.get_by_text("Job details")).to_be_visible()
        video_info(page)
        goto(page, demo_app, "/gallery")
        expect(prompt_text(page, shared["prompt"])).to_be_visible()
        page.get_by_role("button", name="Play").first.click()  # tiles show posters; a video plays on click
        video_info(page)
    # A missing or bad video name is a plain client error, not an error page (nor another file).
    r = page.request.get(demo_app.url + "/videos/00000000-0000-4000-8000-000000000000-0.mp4")
    assert r.status == 404 and "Traceback" not in r.text()
    for bad in ("..%2Fstudio.sqlite3", "%2E%2E%2Fstudio.sqlite3", "x.mp4"):
        r = page.request.get(demo_app.url + "/videos/" + bad)
        assert 400 <= r.status < 500 and b"SQLite" not in r.body() and b"Traceback" not in r.body(), bad
    # And the form's own validation shows messages, not exceptions.
    goto(page, demo_app, "/")
    prompt_box(page).fill("x")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Nothing was sent")).to_be_visible()
    assert_no_traceback(browser, page)
    assert not browser.page_errors, browser.page_errors


@screenshot_on_failure
def test_a_reload_mid_job_keeps_the_job_and_it_finishes(browser, demo_app):
    page = browser.page(demo_app, "/")
    prompt = unique_prompt("A lighthouse in a storm, reloaded while it renders")
    prompt_box(page).fill(prompt)
    page.get_by_role("button", name="Generate").click()
    job_card(page, prompt).get_by_text(ACTIVE).wait_for(timeout=30_000)
    page.reload()
    wait_rendered(page)
    card = job_card(page, prompt)
    card.get_by_text(DONE).wait_for(timeout=WAIT_MS)
    expect(prompt_text(page, prompt)).to_have_count(1)  # still one job: nothing lost, nothing doubled
    info = video_info(page, card.locator("video"))
    assert info["readyState"] >= 1 and info["duration"] > 0
    assert_no_traceback(browser, page)


@screenshot_on_failure
def test_a_pasted_key_stays_in_its_own_browser_session(browser, key_setup):
    key, sim, app = key_setup
    a = browser.page(app, "/")
    expect(a.get_by_text("Demo mode")).to_be_visible()
    a.get_by_text("Use my own API key").click()
    # A key Runware refuses is refused at the field, and nothing changes.
    a.get_by_label("Runware API key", exact=True).fill("rw-wrong-" + secrets.token_urlsafe(24))
    a.get_by_role("button", name="Use this key").click()
    expect(a.get_by_text("Runware refused this key")).to_be_visible()
    expect(a.get_by_text("Demo mode")).to_be_visible()
    a.get_by_label("Runware API key", exact=True).fill(key)
    a.get_by_role("button", name="Use this key").click()
    expect(a.get_by_text("Runware API (your key)")).to_be_visible()
    expect(a.get_by_text("Demo mode")).to_have_count(0)
    expect(a.get_by_role("button", name="Forget my key")).to_be_visible()
    assert key not in a.content()

    info = generate(a, unique_prompt("A lighthouse in a storm, waves crashing"))
    uuid = assert_own_video_url(info["src"], app)
    assert uuid in sim.stats()["submitted"], "the job did not go to the simulator that only accepts the key"
    assert key not in a.content()
    for label, title in (("History", "History"), ("Settings", "Settings & status")):
        nav(a, label, title)
        assert key not in a.content(), f"the key is in the {label} page's HTML"
    expect(a.get_by_text("set (this browser session only)")).to_be_visible()
    expect(a.get_by_text(sim.api_url)).to_be_visible()
    assert_no_traceback(browser, a)

    b = browser.page(app, "/")  # another browser: its own session
    expect(b.get_by_text("Demo mode")).to_be_visible()
    expect(b.get_by_text("Demo (simulator)")).to_be_visible()
    assert key not in b.content()
    goto(b, app, "/settings")
    expect(b.get_by_text("not set (demo mode)")).to_be_visible()
    assert key not in b.content()
    goto(b, app, "/history")
    assert key not in b.content()
    assert_no_traceback(browser, b)

    log = app.log()
    assert "DEBUG" in log, "expected DEBUG logging of the API interactions"
    assert key not in log, f"the key is in the app's log {app.log_path}"
    for path in app.data_dir.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), f"the key was written to {path}"


@screenshot_on_failure
def test_per_user_workspaces_keep_jobs_private(browser, per_user_app):
    app = per_user_app
    a = browser.page(app, "/")
    a.wait_for_url(re.compile(r"[?&]ws="))
    ws = ws_param(a)
    assert ws and len(ws) >= 16
    expect(a.get_by_text("Private workspace")).to_be_visible()
    prompt = unique_prompt("Paper boats drifting down a rainy street")
    uuid = assert_own_video_url(generate(a, prompt)["src"], app)
    assert ws_param(a) == ws

    nav(a, "History", "History")
    a.wait_for_url(re.compile(r"[?&]ws="))
    assert ws_param(a) == ws
    expect(a.get_by_text("1 of 1 jobs")).to_be_visible()
    a.reload()
    wait_rendered(a)
    assert ws_param(a) == ws
    expect(a.get_by_text("1 of 1 jobs")).to_be_visible()
    goto(a, app, f"/history?job={uuid}&ws={ws}")
    expect(prompt_text(a, prompt)).to_be_visible()
    video_info(a)
    assert_no_traceback(browser, a)

    b = browser.page(app, "/history")
    expect(b.get_by_text("No jobs yet.")).to_be_visible()
    b.wait_for_url(re.compile(r"[?&]ws="))
    assert ws_param(b) != ws
    goto(b, app, "/gallery")
    expect(b.get_by_text("Finished videos appear here.")).to_be_visible()
    # Even with the job's link, another workspace does not see the job.
    goto(b, app, f"/history?job={uuid}")
    expect(b.get_by_text("That job is not in this workspace")).to_be_visible()
    expect(b.get_by_text("Job details")).to_have_count(0)
    expect(prompt_text(b, prompt)).to_have_count(0)
    assert b.locator("video").count() == 0
    assert_no_traceback(browser, b)
