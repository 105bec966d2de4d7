"""The Generate form's uploads in a real browser (what AppTest cannot see: the uploader's own text and
what the browser shows after a real upload): the true size limit, a bad file flagged at once, a thumbnail."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from browser_support import CHROMIUM, AppServer, wait_rendered
from browser_support import browser, chromium  # noqa: F401  (fixtures)

if not Path(CHROMIUM).is_file():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright for Python")
expect = sync_api.expect
WAIT = 30_000  # ms: the machine may be busy


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("form_ux")
    with AppServer(tmp / "data", tmp / "app.log") as server:
        yield server


@pytest.fixture
def page(app, browser):
    return browser.page(app)


def first_frame_uploader(page):
    return page.locator('[data-testid="stFileUploader"]').filter(has_text="First frame image").first


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 36), "orange").save(buf, "PNG")
    return buf.getvalue()


def test_the_frame_uploader_states_the_image_cap_not_the_servers(page):
    uploader = first_frame_uploader(page)
    expect(uploader).to_contain_text("10MB per file", timeout=WAIT)
    expect(uploader).not_to_contain_text("50MB")


def test_a_file_that_is_no_image_is_flagged_as_soon_as_it_is_uploaded(page):
    first_frame_uploader(page).locator('input[type="file"]').set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"plain text, not a picture"}])
    expect(page.get_by_text("This file is not a PNG, JPEG or WEBP image", exact=False)).to_be_visible(timeout=WAIT)


def test_an_uploaded_frame_image_shows_a_thumbnail(page):
    first_frame_uploader(page).locator('input[type="file"]').set_input_files(
        files=[{"name": "frame.png", "mimeType": "image/png", "buffer": png_bytes()}])
    wait_rendered(page)
    expect(page.locator('[data-testid="stImage"] img')).to_have_count(1, timeout=WAIT)
