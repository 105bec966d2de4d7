"""Only the app's own pages ever appear in the sidebar: on a fresh server whatever the first URL, and in
a tab left open across a server restart (never Streamlit's raw list of files in pages/)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser_support import APP_PAGES, CHROMIUM, AppServer, goto
from browser_support import browser, chromium  # noqa: F401  (fixtures)

if not Path(CHROMIUM).is_file():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright for Python")
expect = sync_api.expect



def nav_labels(page) -> list[str]:
    links = page.locator('[data-testid="stSidebarNav"] a')
    expect(links.first).to_be_visible(timeout=20_000)
    return [re.sub(r"^[a-z_]+\s*", "", t).strip() for t in links.all_inner_texts()]


@pytest.mark.parametrize("first_url", ["/history", "/gallery", "/settings"])
def test_a_fresh_servers_first_visit_shows_only_the_apps_pages(browser, tmp_path, first_url):
    with AppServer(tmp_path / "data", tmp_path / "app.log") as app:
        page = browser.page(app, None)
        goto(page, app, first_url)
        assert nav_labels(page) == APP_PAGES
        expect(page.get_by_text("Mode: Demo (simulator)")).to_be_visible()  # the shared sidebar ran: the router ran


def test_an_open_tab_keeps_the_apps_pages_across_a_restart(browser, tmp_path):
    app = AppServer(tmp_path / "data", tmp_path / "app.log", port=None)
    with app:
        page = browser.page(app, None)
        goto(page, app, "/gallery")
        assert nav_labels(page) == APP_PAGES
        port = app.port
    app.fixed_port = port  # the same address, as after a real restart
    with app:
        page.reload()
        assert nav_labels(page) == APP_PAGES
        expect(page.get_by_text("Mode: Demo (simulator)")).to_be_visible()
