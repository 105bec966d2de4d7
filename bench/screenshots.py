"""Screenshots of the app as a user first sees it, on a desktop (1440x900) and a phone (390x844): Generate
(and Generate after a refused submit, its error in view), History, Gallery and Settings.

    python bench/screenshots.py [OUT_DIR] [--no-job]

Starts the app in demo mode on a temporary data directory, makes one video (unless --no-job, so History
and Gallery show something), restarts the server (the shots are of a restarted app: its sidebar must
list the app's pages, never Streamlit's raw list of files in pages/), then saves one PNG per page and
size into OUT_DIR (default /tmp/studio-shots). Prints each file, the Generate button's top and bottom
at each size, and the sidebar's page list. Run from the repo root; needs /usr/bin/chromium.
Asserts nothing: the pictures are for a person to look at.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import AppServer, launch_chromium  # noqa: E402
from browser_support import APP_PAGES, wait_rendered  # noqa: E402  (tests/ is on the path via bench._support)

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGES = {"generate": "/", "history": "/history", "gallery": "/gallery", "settings": "/settings"}
JOB_PROMPT = "A red fox trotting through a snowy birch forest at golden hour"
WAIT_MS = 120_000


def settle(page) -> None:
    """Rendered, idle, and a moment for layout (fonts, expanders opening, a scroll)."""
    wait_rendered(page)
    page.wait_for_timeout(1500)


def make_one_video(browser, app: AppServer) -> None:
    """One finished job, so History and Gallery have a row and a video to show."""
    context = browser.new_context(viewport=SIZES["desktop"])
    page = context.new_page()
    page.goto(app.url + "/")
    settle(page)
    page.get_by_label("Prompt", exact=True).fill(JOB_PROMPT)
    page.get_by_role("button", name="Generate").click()
    page.get_by_text("done ·").first.wait_for(timeout=WAIT_MS)
    context.close()


def generate_button_span(page) -> tuple[float, float]:
    box = page.get_by_role("button", name="Generate").bounding_box()
    return box["y"], box["y"] + box["height"]


def sidebar_pages(page) -> list[str]:
    """The page links the sidebar lists (on a phone the sidebar is collapsed: read from the DOM)."""
    links = page.locator('[data-testid="stSidebarNav"] a')
    return [t.split("\n")[-1].strip() for t in links.all_inner_texts()] if links.count() else []


def break_the_form(page) -> None:
    """A refused submit: invalid JSON in Advanced -> providerSettings (then Advanced closed again), and
    Generate pressed from the top of the page."""
    advanced = page.locator('[data-testid="stExpander"]').filter(has_text="Advanced").first
    advanced.locator("summary").click()
    box = advanced.get_by_role("textbox", name="Provider settings (JSON)")
    box.fill('{"klingai": {')
    box.press("Tab")
    settle(page)
    advanced.locator("summary").click()
    page.get_by_label("Prompt", exact=True).fill(JOB_PROMPT)
    page.get_by_label("Prompt", exact=True).press("Tab")
    settle(page)
    page.locator('[data-testid="stMain"]').evaluate("el => el.scrollTo(0, 0)")
    page.get_by_role("button", name="Generate").click()
    page.mouse.move(page.viewport_size["width"] - 5, 5)  # nothing hovered: no tooltip or hover effect
    settle(page)


def shoot(browser, app: AppServer, out: Path) -> list[Path]:
    files = []
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        # History first: a restarted server's first visit to a page other than Generate.
        for name in ("history", "gallery", "settings", "generate"):
            page.goto(app.url + PAGES[name])
            settle(page)
            path = out / f"{name}-{size}.png"
            page.screenshot(path=str(path))
            files.append(path)
            pages = sidebar_pages(page)
            note = "" if pages == APP_PAGES else "  <- NOT the app's pages"
            print(f"{path}  sidebar: {', '.join(pages) or '(none)'}{note}")
        top, bottom = generate_button_span(page)
        print(f"  {size} {viewport['width']}x{viewport['height']}: Generate button top {top:.0f} px, "
              f"bottom {bottom:.0f} px ({'on screen' if 0 <= top and bottom <= viewport['height'] else 'OFF SCREEN'})")
        break_the_form(page)
        path = out / f"generate-error-{size}.png"
        page.screenshot(path=str(path))
        files.append(path)
        print(path)
        context.close()
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default="/tmp/studio-shots", help="folder for the PNGs")
    parser.add_argument("--no-job", action="store_true", help="skip making a video first (faster)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="studio-shots-") as tmp:
        app = AppServer(Path(tmp) / "data", Path(tmp) / "app.log")
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                app.start()
                if not args.no_job:
                    started = time.monotonic()
                    make_one_video(browser, app)
                    print(f"made one video in {time.monotonic() - started:.0f} s")
                app.restart()
                print(f"restarted the app at {app.url}")
                shoot(browser, app, out)
            finally:
                browser.close()
                app.stop()


if __name__ == "__main__":
    main()
