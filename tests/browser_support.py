"""Helpers for the browser end-to-end tests (tests/test_browser.py): the real app and the simulator as
subprocesses on free loopback ports, and Debian's Chromium driven by Playwright, with a watch for
tracebacks on every page and screenshots on failure."""
from __future__ import annotations

import functools
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import free_port

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
START_TIMEOUT = 60.0
WAIT_MS = 60_000  # generous: two cores, Chromium, Streamlit and the simulator's renderer share them

# A video "loads": the browser read its metadata and knows its length.
VIDEO_LOADED_JS = ("() => { const v = document.querySelector('video');"
                   " return !!v && v.readyState >= 1 && v.duration > 0; }")
VIDEO_INFO_JS = ("() => { const v = document.querySelector('video');"
                 " return v && {src: v.currentSrc || v.src, duration: v.duration, readyState: v.readyState}; }")

# Runs in every page: reports a traceback (text or Streamlit's exception element) whenever one shows
# up, even briefly between reruns, through a binding that outlives navigations.
TRACEBACK_WATCH_JS = """
(() => {
  let reported = false;
  const check = () => {
    if (reported || !document.body) return;
    const el = document.querySelector('[data-testid="stException"]');
    const text = document.body.innerText || '';
    if (el || text.includes('Traceback')) {
      reported = true;
      window.__e2eReport((el ? el.innerText : text).slice(0, 2000));
    }
  };
  setInterval(check, 200);
})();
"""


def wait_until_healthy(proc: subprocess.Popen, health_url: str, what: str, log_path: Path, stop) -> None:
    """Wait until the process answers 200 at its health URL; on exit or timeout, stop it and say why."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            log = log_path.read_text(errors="replace") if log_path.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}; see {log_path}:\n{log}")
        try:
            with urllib.request.urlopen(health_url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop()
            raise RuntimeError(f"{what} did not become healthy in {START_TIMEOUT:g} s; see {log_path}")
        time.sleep(0.2)


class AppServer:
    """`streamlit run streamlit_app.py` (or another script) as a subprocess in demo mode; start() can
    be called again after stop() (a restart: same data dir, new port). Output of every run goes to
    one log file. The benchmarks in bench/ use it too."""

    def __init__(self, data_dir: Path, log_path: Path, extra_env: dict | None = None,
                 script: str | Path = "streamlit_app.py", cwd: Path = REPO, port: int | None = None):
        self.fixed_port = port  # known before start, e.g. for STUDIO_PUBLIC_URL
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.extra_env = dict(extra_env or {})
        self.script, self.cwd = str(script), Path(cwd)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self) -> "AppServer":
        assert self.proc is None, "already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # An empty key (not a missing one) also overrides a developer's .env: demo mode for sure.
        env = {**os.environ, "RUNWARE_API_KEY": "", "STUDIO_DATA_DIR": str(self.data_dir),
               "PYTHONUNBUFFERED": "1", **self.extra_env}
        self.port = self.fixed_port or free_port()
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", self.script, "--server.port", str(self.port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=self.cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until_healthy(self.proc, f"{self.url}/_stcore/health", "the app", self.log_path, self.stop)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            _terminate(self.proc)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> "AppServer":
        self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class SimulatorProcess:
    """`python -m lib.simulator` as a subprocess that accepts only `api_key`."""

    def __init__(self, api_key: str, log_path: Path, media_dir: Path, latency: float = 2.0):
        self.port = free_port()
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lib.simulator", "--port", str(self.port), "--api-key", api_key,
             "--latency", str(latency), "--media-dir", str(media_dir), "--log-level", "WARNING"],
            cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until_healthy(self.proc, f"{self.base_url}/health", "the simulator", self.log_path, self.stop)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v1"

    def stats(self) -> dict:
        import json
        with urllib.request.urlopen(f"{self.base_url}/_sim/stats", timeout=5) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc is not None:
            _terminate(self.proc)
            self.proc = None
        self._log.close()


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Browser:
    """One Chromium for the module; each `page()` is a fresh context (a separate browser session)
    that reports any traceback it ever shows into `self.tracebacks`."""

    def __init__(self, playwright):
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.tracebacks: list[str] = []
        self.page_errors: list[str] = []

    def page(self, app: AppServer, path: str = "/", viewport: dict | None = None):
        context = self.browser.new_context(viewport=viewport or {"width": 1400, "height": 900})
        context.set_default_timeout(WAIT_MS)
        context.expose_binding("__e2eReport", lambda source, text: self.tracebacks.append(f"{source['page'].url}: {text}"))
        context.add_init_script(TRACEBACK_WATCH_JS)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        if path is not None:
            goto(page, app, path)
        return page

    def screenshot_all(self, name: str) -> list[str]:
        paths = []
        for ci, context in enumerate(self.browser.contexts):
            for pi, page in enumerate(context.pages):
                path = f"/tmp/e2e-{name}-{ci}-{pi}.png"
                try:
                    page.screenshot(path=path, full_page=True, timeout=10_000)
                    paths.append(path)
                except Exception:  # a closed or crashed page: nothing to show
                    pass
        return paths

    def close_contexts(self) -> None:
        for context in list(self.browser.contexts):
            context.close()

    def close(self) -> None:
        self.browser.close()


def goto(page, app: AppServer, path: str) -> None:
    """Open a page of the app and wait until Streamlit has rendered its title."""
    page.goto(app.url + path)
    wait_rendered(page)


def wait_rendered(page) -> None:
    page.locator("h1").first.wait_for(state="visible", timeout=WAIT_MS)
    # The script run that rendered the title may still be going: wait until Streamlit is idle.
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(state="attached",
                                                                                  timeout=WAIT_MS)


def body_text(page) -> str:
    return page.locator("body").inner_text()


def assert_no_traceback(browser: Browser, *pages) -> None:
    for page in pages:
        text = body_text(page)
        assert "Traceback" not in text, f"a traceback is visible on {page.url}:\n{text[:3000]}"
        assert page.locator('[data-testid="stException"]').count() == 0, f"an exception is shown on {page.url}"
        assert "Something went wrong on this page" not in text, f"the app's error fallback is shown on {page.url}"
    assert not browser.tracebacks, "a traceback was shown at some point:\n" + "\n".join(browser.tracebacks)


def video_info(page, video=None) -> dict:
    """Wait until a <video> loads (the page's first one, or the given locator's) and describe it."""
    if video is None:
        page.wait_for_function(VIDEO_LOADED_JS, timeout=WAIT_MS)
        return page.evaluate(VIDEO_INFO_JS)
    handle = video.element_handle(timeout=WAIT_MS)
    page.wait_for_function("v => v.readyState >= 1 && v.duration > 0", arg=handle, timeout=WAIT_MS)
    return handle.evaluate("v => ({src: v.currentSrc || v.src, duration: v.duration, readyState: v.readyState})")


def task_uuid_from_src(src: str) -> str:
    name = urlparse(src).path.rsplit("/", 1)[-1]
    match = re.fullmatch(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-\d+\.mp4", name)
    assert match, f"unexpected video file name in {src!r}"
    return match.group(1)


def screenshot_on_failure(test):
    """Decorator: on any failure, screenshot every open page to /tmp/e2e-<test>-*.png, then re-raise."""
    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except BaseException as exc:
            browser = kwargs.get("browser")
            if isinstance(browser, Browser):
                shots = browser.screenshot_all(test.__name__)
                if shots and hasattr(exc, "add_note"):
                    exc.add_note("screenshots: " + ", ".join(shots))
            raise
    return wrapper


# The sidebar of the app, as a visitor sees it (never a raw list of the files in pages/).
APP_PAGES = ["Generate", "History", "Gallery", "Compare", "Usage", "Settings"]

sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright for Python")


# -- fixtures: test modules import these (`from browser_support import browser, chromium`) ------------

@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module: starting one takes a second or more."""
    with sync_api.sync_playwright() as p:
        launched = Browser(p)
        yield launched
        launched.close()


@pytest.fixture
def browser(chromium):
    """The module's Chromium, with fresh contexts for each test and its traceback reports reset."""
    chromium.tracebacks.clear()
    chromium.page_errors.clear()
    yield chromium
    chromium.close_contexts()
