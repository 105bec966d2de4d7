"""Whole-app figures: page rerun time with a big history, HTTP requests per engine poll, seconds from
clicking Generate to a playing video, and server memory after playing 30 videos (the app's disk route
/videos versus st.video(bytes) in Streamlit's in-memory media manager).

    python bench/bench_app.py [--only rerun|poll|click|memory ...] [--quick] [--sequential] [--plain-video]

--quick: 200/1,000 jobs, 1 click run, 5 videos (a smoke run). Memory: by default every video page stays
open in its own tab (one live session each); --sequential goes page to page in one tab instead.

Run from the repo root. Parts "click" and "memory" drive the real app in headless Chromium
(/usr/bin/chromium via Playwright). Prints figures; asserts nothing about timings.
"""
from __future__ import annotations

import argparse
import os
import statistics
import struct
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (REPO, VIDEO_INFO_JS, VIDEO_LOADED_JS, VIDEO_PAUSE_JS, VIDEO_PLAY_JS,  # noqa: E402
                            VIDEO_PLAYING_JS, AppServer, fill_finished_jobs, fmt_mb, launch_chromium,
                            quiet_streamlit, rss_bytes, task_uuid_of, wait_idle)

PARTS = ("rerun", "poll", "click", "memory")
WAIT_MS = 90_000


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# -- 1. page rerun time with a big history ---------------------------------------------------------

def bench_rerun(sizes: list[int], warm_runs: int) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import studio_ui

    quiet_streamlit()
    saved = {name: os.environ.get(name) for name in ("RUNWARE_API_KEY", "STUDIO_DATA_DIR")}
    # An empty key (not a missing one) also overrides a developer's .env: demo mode for sure.
    os.environ["RUNWARE_API_KEY"] = ""
    print("\n== 1. server time of a full page rerun (AppTest, in-process; demo mode) ==")
    with tempfile.TemporaryDirectory(prefix="bench-rerun-") as tmp:
        try:
            # Imports and the catalog are paid once per process: do that first.
            os.environ["STUDIO_DATA_DIR"] = str(Path(tmp) / "warmup")
            t0 = time.perf_counter()
            at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=300)
            at.run()
            print(f"process warm-up (imports, runtime with its demo simulator; empty history): "
                  f"{time.perf_counter() - t0:.2f} s")
            st.cache_resource.clear()  # stops that runtime (engine and simulator) via on_release
            for n in sizes:
                data_dir = Path(tmp) / f"jobs-{n}"
                t0 = time.perf_counter()
                fill_finished_jobs(data_dir, n)
                print(f"-- {n:,} finished jobs in history (filled in {time.perf_counter() - t0:.1f} s)")
                os.environ["STUDIO_DATA_DIR"] = str(data_dir)
                # Each data folder has its own runtime (one per settings): start it outside the timings,
                # so "cold" below is a new browser session, not a new process.
                t0 = time.perf_counter()
                studio_ui.runtime_for(studio_ui.current_settings())
                print(f"   runtime started (store, engine, demo simulator) in {(time.perf_counter() - t0) * 1000:.0f} ms")
                for label, page in (("History", "pages/history.py"), ("Generate", "pages/generate.py")):
                    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=300)
                    at.switch_page(page)
                    t0 = time.perf_counter()
                    at.run()
                    cold = time.perf_counter() - t0
                    warm = []
                    for _ in range(warm_runs):
                        t0 = time.perf_counter()
                        at.run()
                        warm.append(time.perf_counter() - t0)
                    problems = [e.value for e in at.exception]
                    shown = next((c.value for c in at.caption if " jobs" in str(c.value) and " of " in str(c.value)),
                                 None)
                    extra = f" [{shown}]" if label == "History" and shown else ""
                    if problems:
                        extra += f" [EXCEPTION: {problems[0][:120]}]"
                    print(f"   {label:<8} page rerun, {n:>6,} jobs: cold (new session) {cold * 1000:8.0f} ms · "
                          f"warm median of {len(warm)} {median(warm) * 1000:8.0f} ms "
                          f"(min {min(warm) * 1000:.0f}, max {max(warm) * 1000:.0f}){extra}")
                st.cache_resource.clear()
        finally:
            st.cache_resource.clear()  # every runtime this part started stops here
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


# -- 2. HTTP requests per engine poll -----------------------------------------------------------------

def bench_poll_requests(pending: int, seconds: float) -> None:
    """The engine asks after every processing job of a key in ONE getResponse: watch the POSTs it makes
    to a simulator whose tasks never finish (latency 3600 s) while `pending` jobs wait."""
    from lib.runtime import Runtime
    from lib.settings import Settings
    from lib.simulator.server import Simulator

    print(f"\n== 2. HTTP requests per engine poll with {pending} jobs processing ==")
    with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp, \
            Simulator(latency=3600, media_dir=Path(tmp) / "sim") as sim:
        settings = Settings(api_key="bench-key-0123456789", api_url=sim.url, data_dir=Path(tmp) / "data",
                            max_in_flight=pending, requests_per_minute=100_000)
        runtime = Runtime(settings).start()
        try:
            for i in range(pending):
                # Same prompt and seed: the simulator renders one file for all of them (keeps the CPU quiet).
                # outputQuality differs (it is not part of the render) only so that the store does not
                # take job 2 for a double submit of job 1.
                runtime.submit({"taskType": "videoInference", "taskUUID": str(uuid.uuid4()),
                                "positivePrompt": "poll bench", "model": "runware:108@22", "duration": 5,
                                "width": 320, "height": 256, "fps": 8, "seed": 7, "outputQuality": 20 + i % 80,
                                "deliveryMethod": "async"},
                               workspace="local", api_url=settings.api_url, kid=runtime.server_key_id)
            t0 = time.perf_counter()
            while runtime.store.count(statuses=["processing"]) < pending and time.perf_counter() - t0 < 60:
                time.sleep(0.05)
            print(f"{runtime.store.count(statuses=['processing'])} of {pending} processing "
                  f"{time.perf_counter() - t0:.1f} s after submit (simulator latency 3600 s, "
                  f"poll interval {settings.poll_interval_min:g}-{settings.poll_interval_max:g} s)")
            before = sim.stats.snapshot()["posts"]
            time.sleep(seconds)
            snap = sim.stats.snapshot()
            kinds = snap["post_task_types"][before:]
            times = snap["post_times"][before:]
            polls = [len(k) for k in kinds if "getResponse" in k]
            gaps = [b - a for a, b in zip(times, times[1:])]
            print(f"over {seconds:g} s: {len(kinds)} HTTP POST(s), {len(polls)} of them getResponse; "
                  f"getResponse tasks per POST: {polls}")
            if gaps:
                print(f"time between POSTs: median {median(gaps):.2f} s (min {min(gaps):.2f}, max {max(gaps):.2f})")
            # One look at the store per beat; it only schedules (network work runs on the pool).
            steps = []
            for _ in range(20):
                t0 = time.perf_counter()
                runtime.engine.step()
                steps.append(time.perf_counter() - t0)
            print(f"engine.step() (one look at the store, {pending} pending): median {median(steps) * 1000:.1f} ms "
                  f"(min {min(steps) * 1000:.1f}, max {max(steps) * 1000:.1f})")
        finally:
            runtime.stop()


# -- 3. click Generate -> playing video ---------------------------------------------------------------

def _model_of(data_dir: Path, task_uuid: str) -> str:
    import sqlite3

    from bench._support import db_path

    db = sqlite3.connect(f"file:{db_path(data_dir)}?mode=ro", uri=True)
    try:
        model, w, h, d = db.execute("SELECT model, width, height, duration FROM jobs WHERE task_uuid = ?",
                                    [task_uuid]).fetchone()
    finally:
        db.close()
    return f"{model} {w}x{h} {d:g} s"


def bench_click(runs: int) -> None:
    from playwright.sync_api import sync_playwright

    print("\n== 3. seconds from clicking Generate to a playing video (demo mode, real app + Chromium) ==")
    with tempfile.TemporaryDirectory(prefix="bench-click-") as tmp, sync_playwright() as p:
        data_dir = Path(tmp) / "data"
        app = AppServer(data_dir, Path(tmp) / "app.log")
        browser = None
        try:
            t0 = time.perf_counter()
            app.start()
            print(f"app healthy in {time.perf_counter() - t0:.1f} s")
            browser = launch_chromium(p)
            loaded, playing = [], []
            for i in range(runs):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.set_default_timeout(WAIT_MS)
                page = context.new_page()
                try:
                    page.goto(app.url + "/")
                    wait_idle(page)
                    prompt = f"Click bench {i}: a lighthouse in a storm at night, waves crashing, {uuid.uuid4().hex[:8]}"
                    page.get_by_label("Prompt", exact=True).fill(prompt)
                    button = page.get_by_role("button", name="Generate")
                    t0 = time.perf_counter()
                    button.click()
                    # The page may list other jobs' videos too: wait for the one of THIS job.
                    task_uuid = None
                    while task_uuid is None and time.perf_counter() - t0 < WAIT_MS / 1000:
                        task_uuid = task_uuid_of(data_dir, prompt)
                        time.sleep(0.02)
                    if task_uuid is None:
                        raise RuntimeError(f"no job row for the prompt {prompt!r} after the click")
                    t_row = time.perf_counter() - t0
                    page.wait_for_function(VIDEO_LOADED_JS, arg=task_uuid, timeout=WAIT_MS, polling=50)
                    t_loaded = time.perf_counter() - t0
                    state = page.evaluate(VIDEO_PLAY_JS, task_uuid)
                    t_playing = None
                    if state == "playing":
                        page.wait_for_function(VIDEO_PLAYING_JS, arg=task_uuid, timeout=WAIT_MS, polling=50)
                        t_playing = time.perf_counter() - t0
                        playing.append(t_playing)
                    loaded.append(t_loaded)
                    info = page.evaluate(VIDEO_INFO_JS, task_uuid)
                    model = _model_of(data_dir, task_uuid)
                    print(f"run {i + 1}: row written {t_row:.2f} s · video loaded {t_loaded:.2f} s · playing "
                          f"{f'{t_playing:.2f} s' if t_playing else state} · {model} · {info}")
                finally:
                    context.close()
            print(f"click -> video loaded (readyState>=1, duration>0): median {median(loaded):.2f} s of {len(loaded)}")
            print(f"click -> video playing (currentTime>0): median {median(playing):.2f} s of {len(playing)}")
        finally:
            if browser is not None:
                browser.close()
            app.stop()


# -- 4. server memory after playing 30 videos -------------------------------------------------------------

BYTES_APP = '''"""Throwaway comparison app: the video as bytes in Streamlit's in-memory media manager."""
import os
import streamlit as st

folder = os.environ["BENCH_VIDEO_DIR"]
st.title("st.video(bytes)")
name = st.query_params.get("v")
if name and name in os.listdir(folder):
    with open(os.path.join(folder, name), "rb") as f:
        st.video(f.read())
'''


def _play_all(browser, base_url: str, paths: list[tuple[str, str]], label: str, keep_open: bool):
    """Open each (path, video file) and wait until its video loads and plays. keep_open: every page
    stays open in its own tab (one live session per video, like that many viewers), each video paused
    once it played; else one tab goes from page to page (each old session is closed).
    Returns (loaded, playing, failures, the context, still open)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(WAIT_MS)
    page = None
    ok = playing = failed = 0
    for path, file in paths:
        try:
            if page is None or keep_open:
                page = context.new_page()
            page.goto(base_url + path)
            wait_idle(page)
            part = file  # "" = the page's first (only) video
            page.wait_for_function(VIDEO_LOADED_JS, arg=part, timeout=WAIT_MS, polling=100)
            ok += 1
            if page.evaluate(VIDEO_PLAY_JS, part) == "playing":
                page.wait_for_function(VIDEO_PLAYING_JS, arg=part, timeout=20_000, polling=100)
                playing += 1
            if keep_open:
                page.evaluate(VIDEO_PAUSE_JS, part)
        except Exception as exc:  # report, keep going
            failed += 1
            print(f"   {label}: {path} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    return ok, playing, failed, context


def _measure(browser, app: AppServer, home: str, paths: list[tuple[str, str]], label: str, settle: float,
             keep_open: bool) -> dict:
    # One page first, so "before" includes the first session (imports, the demo simulator).
    context = browser.new_context()
    page = context.new_page()
    page.goto(app.url + home)
    wait_idle(page, WAIT_MS)
    context.close()
    time.sleep(settle)
    before = rss_bytes(app.pid)
    t0 = time.perf_counter()
    ok, playing, failed, context = _play_all(browser, app.url, paths, label, keep_open)
    elapsed = time.perf_counter() - t0
    time.sleep(settle)
    after = rss_bytes(app.pid)
    context.close()
    return {"before": before, "after": after, "ok": ok, "playing": playing, "failed": failed, "elapsed": elapsed}


def _grainy_jpeg(width: int, height: int, seed: int) -> bytes:
    """A busy synthetic photo (colour bands plus grain), so the panned video is not trivially small."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    rgb = np.stack([x * 255 + 0 * y, y * 255 + 0 * x, (0.5 + 0.5 * np.sin(20 * x + 10 * y)) * 255], axis=-1)
    rgb += rng.normal(0.0, 40.0, rgb.shape).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def bench_memory(count: int, settle: float, plain: bool, keep_open: bool) -> None:
    from playwright.sync_api import sync_playwright

    from lib.simulator.render import render_mp4

    print(f"\n== 4. server memory (VmRSS of the streamlit process) after playing {count} videos ==")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        source = tmp / "source.mp4"
        t0 = time.perf_counter()
        # A plain prompt card compresses to ~0.1 MB; panning over a grainy picture gives ~1 MB, so the two
        # routes' memory can be told apart from noise.
        render_mp4(source, prompt="Memory bench: one video, many names", width=1280, height=720, duration=5,
                   fps=24, seed=11, first_frame=None if plain else _grainy_jpeg(1280, 720, 3))
        kind = "prompt card" if plain else "pan over a grainy picture"
        print(f"rendered one 1280x720 5 s 24 fps mp4 ({kind}, {fmt_mb(source.stat().st_size)}) "
              f"in {time.perf_counter() - t0:.1f} s")
        data_dir = tmp / "data"
        media = data_dir / "media"
        media.mkdir(parents=True)
        uuids = [str(uuid.uuid4()) for _ in range(count)]
        files = [f"{u}-0.mp4" for u in uuids]
        # Byte-identical copies would be stored ONCE by Streamlit's media manager (it keys files by a
        # hash of their content), so each copy ends with its own top-level MP4 'free' box (ignored by
        # players): same video, distinct bytes.
        data = source.read_bytes()
        for u, name in zip(uuids, files):
            tag = u.encode()
            (media / name).write_bytes(data + struct.pack(">I", 8 + len(tag)) + b"free" + tag)
        total = sum((media / name).stat().st_size for name in files)
        fill_finished_jobs(data_dir, count, files=files, uuids=uuids)

        browser = launch_chromium(p)
        results = {}
        try:
            with AppServer(data_dir, tmp / "app.log") as app:
                results["disk route /videos"] = _measure(
                    browser, app, "/history", [(f"/history?job={u}", f) for u, f in zip(uuids, files)],
                    "disk route /videos", settle, keep_open)
            script_dir = tmp / "bytes_app"
            script_dir.mkdir()
            (script_dir / "bytes_app.py").write_text(BYTES_APP)
            with AppServer(tmp / "data-bytes", tmp / "bytes.log", extra_env={"BENCH_VIDEO_DIR": str(media)},
                           script=script_dir / "bytes_app.py", cwd=script_dir) as app:
                results["st.video(bytes)"] = _measure(
                    browser, app, "/", [(f"/?v={name}", "") for name in files], "st.video(bytes)", settle,
                    keep_open)
        finally:
            browser.close()
        for label, r in results.items():
            print(f"{label:<20}: RSS before {fmt_mb(r['before'])} · after {fmt_mb(r['after'])} · "
                  f"delta {(r['after'] - r['before']) / 2**20:+.1f} MB · videos loaded {r['ok']}/{count}, "
                  f"playing {r['playing']}, failed {r['failed']} · {r['elapsed']:.0f} s")
        how = ("each page in its own tab, all kept open (one live session per video), each video paused after "
               "it played" if keep_open else "pages opened one after another in one tab (each old session closed)")
        print(f"(total bytes of the {count} video files: {total:,} = {fmt_mb(total)}; "
              f"{how}; RSS read {settle:g} s after the last)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run (default: all)")
    ap.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (a smoke run)")
    ap.add_argument("--sequential", action="store_true",
                    help="memory part: one tab going from page to page instead of one open tab per video")
    ap.add_argument("--plain-video", action="store_true",
                    help="memory part: use the plain prompt-card video (~0.1 MB) instead of a grainy ~1 MB one")
    a = ap.parse_args()
    t0 = time.perf_counter()
    if "rerun" in a.only:
        bench_rerun([200, 1000] if a.quick else [1000, 10000], warm_runs=2 if a.quick else 5)
    if "poll" in a.only:
        bench_poll_requests(20, seconds=4.0 if a.quick else 8.0)
    if "click" in a.only:
        bench_click(1 if a.quick else 3)
    if "memory" in a.only:
        bench_memory(5 if a.quick else 30, settle=1.0 if a.quick else 3.0, plain=a.plain_video,
                     keep_open=not a.sequential)
    print(f"\ntotal bench time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
