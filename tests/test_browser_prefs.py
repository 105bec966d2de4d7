"""Issue 13 items 11 and 12 in Chromium against the real app (`streamlit run`, demo mode): the Generate
draft survives a reload (it is in the page's URL), and defaults saved on Settings reach a fresh page of
the same browser (a cookie) but not another browser (a second context)."""
from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from browser_support import (CHROMIUM, WAIT_MS, AppServer, assert_no_traceback, goto,
                             screenshot_on_failure, wait_rendered)
from browser_support import browser, chromium  # noqa: F401  (fixtures)
from lib import prefs
from lib.catalog import load_catalog

if not Path(CHROMIUM).is_file():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright for Python")
expect = sync_api.expect

CATALOG = load_catalog()
DEFAULT_MODEL = "klingai:5@3"
CHOSEN_MODEL = "runware:108@22"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("prefs")
    server = AppServer(root / "data", root / "app.log").start()
    yield server
    server.stop()


def settled(page, label: str):
    """A text box by its label, once a rerun has stopped drawing two copies of it."""
    widget = page.get_by_role("textbox", name=label, exact=True)
    expect(widget).to_have_count(1, timeout=15_000)
    return widget


def selectbox_text(page, label: str) -> str:
    """What a selectbox shows as chosen (its searchable input holds it)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text(label, exact=True))
    expect(box).to_have_count(1, timeout=15_000)
    return box.inner_text() + " " + " ".join(box.locator("input").evaluate_all(
        "els => els.map(e => e.value + ' ' + (e.placeholder || ''))"))


def choose(page, label: str, typed: str, option: str | re.Pattern) -> None:
    """Pick an option of a Streamlit selectbox: open it, narrow it by typing, click the option."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text(label, exact=True))
    box.locator("input").click()
    box.locator("input").fill(typed)
    page.get_by_role("option", name=option).first.click()


def quality_slider(page):
    thumb = page.locator('[data-testid="stSlider"]').filter(
        has=page.get_by_text("Quality", exact=True)).get_by_role("slider")
    expect(thumb).to_have_count(1, timeout=15_000)
    return thumb


def quality(page) -> str:
    return quality_slider(page).input_value()


def wait_for_draft(page, prompt: str) -> None:
    """Wait until the page's URL carries a draft with this prompt."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        word = parse_qs(urlparse(page.url).query).get(prefs.DRAFT_PARAM, [None])[0]
        if prefs.decode_draft(word, CATALOG).get("f_prompt") == prompt:
            return
        assert time.monotonic() < deadline, f"no draft with {prompt!r} in {page.url}"
        page.wait_for_timeout(200)


@screenshot_on_failure
def test_a_typed_prompt_survives_a_reload(app, browser):
    page = browser.page(app, "/")
    settled(page, "Prompt").fill("A lighthouse in a storm, waves breaking")
    settled(page, "Prompt").press("Tab")  # Streamlit sends a text area's value when it loses focus
    wait_for_draft(page, "A lighthouse in a storm, waves breaking")
    page.reload()
    wait_rendered(page)
    expect(settled(page, "Prompt")).to_have_value("A lighthouse in a storm, waves breaking")
    assert_no_traceback(browser, page)


@screenshot_on_failure
def test_keeping_the_draft_adds_no_browser_history_entries(app, browser):
    """Back should leave the page, not step through every edit of the form."""
    page = browser.page(app, "/")
    before = page.evaluate("history.length")
    for text in ("first words", "second words", "third words"):
        settled(page, "Prompt").fill(text)
        settled(page, "Prompt").press("Tab")
        wait_for_draft(page, text)
    assert page.evaluate("history.length") == before
    assert_no_traceback(browser, page)


@screenshot_on_failure
def test_saved_defaults_reach_a_new_page_of_this_browser_only(app, browser):
    settings = browser.page(app, "/settings")
    choose(settings, "Model", "108@22", re.compile(re.escape(CHOSEN_MODEL)))
    choose(settings, "Format", "MOV", "MOV")
    slider = quality_slider(settings)
    slider.focus()
    for _ in range(5):
        slider.press("ArrowLeft")
    expect(slider).to_have_value("90")
    settings.get_by_role("button", name="Save my defaults").click()
    expect(settings.get_by_text("Saved: new Generate forms")).to_be_visible()
    context = settings.context
    settings.wait_for_function(f"() => document.cookie.includes('{prefs.DEFAULTS_COOKIE}=')", timeout=WAIT_MS)

    fresh = context.new_page()
    goto(fresh, app, "/")
    assert CHOSEN_MODEL in selectbox_text(fresh, "Model")
    assert "MOV" in selectbox_text(fresh, "Format")
    assert quality(fresh) == "90"

    other = browser.page(app, "/")  # a second browser context: its own cookies
    assert DEFAULT_MODEL in selectbox_text(other, "Model")
    assert "MP4" in selectbox_text(other, "Format")
    assert quality(other) == "95"
    assert_no_traceback(browser, settings, fresh, other)
