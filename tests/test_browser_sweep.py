"""A sweep in a real browser (issue 14): the real app (`streamlit run`, demo mode) driven by Debian's
Chromium through Playwright. Type prompts in the Sweep panel, see the count and the price, confirm in
the dialog (a real `st.dialog`, opened from inside an expander) and watch the jobs finish."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from browser_support import CHROMIUM, WAIT_MS, AppServer, assert_no_traceback, screenshot_on_failure
from browser_support import browser, chromium  # noqa: F401  (fixtures)

if not Path(CHROMIUM).is_file():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright for Python")
expect = sync_api.expect

DONE = re.compile(r"\bdone · \d+ s")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Demo mode; sweeps above $1 ask first (the default model, Kling 2.1 Master, is $0.92 for 5 s)."""
    root = tmp_path_factory.mktemp("sweep")
    server = AppServer(root / "data", root / "app.log", extra_env={"STUDIO_CONFIRM_ABOVE_USD": "1"}).start()
    yield server
    server.stop()


@screenshot_on_failure
def test_two_prompts_are_priced_confirmed_queued_and_finish(browser, app):
    tag = secrets.token_hex(3)
    first, second = f"A red fox in the snow ({tag})", f"A paper boat on a rainy street ({tag})"
    page = browser.page(app, "/")
    page.get_by_text("Sweep: vary parameters").click()
    prompts = page.get_by_label("Prompts", exact=True)
    prompts.fill(f"{first}\n\n{second}")
    prompts.press("Control+Enter")  # a text area commits on Ctrl+Enter (or when it loses focus)
    expect(page.get_by_text("2 jobs, about $1.84 (simulated: the demo charges nothing)")).to_be_visible(
        timeout=WAIT_MS)

    page.get_by_role("button", name="Queue sweep (2 jobs)").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Queue this sweep?")).to_be_visible()
    expect(dialog.get_by_text("Asking because the estimate is above $1.00.")).to_be_visible()
    dialog.get_by_role("button", name="Queue 2 jobs").click()
    expect(page.get_by_text(re.compile(r"Queued 2 jobs as the sweep “2 prompts”"))).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("dialog")).to_have_count(0)

    expect(page.get_by_text(DONE)).to_have_count(2, timeout=2 * WAIT_MS)
    assert_no_traceback(browser, page)
