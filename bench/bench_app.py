"""Whole-app figures: page rerun time with a big history, HTTP requests per tracker tick, seconds from
clicking Generate to a playing video, and server memory after playing 30 videos (the app's disk route
/videos versus st.video(bytes) in Streamlit's in-memory media manager).

    python bench/bench_app.py [--only rerun|tick|click|memory ...] [--quick]

Run from the repo root. Parts "click" and "memory" drive the real app in headless Chromium
(/usr/bin/chromium via Playwright). Prints figures; asserts nothing about timings.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (REPO, VIDEO_LOADED_JS, VIDEO_PLAY_JS, VIDEO_PLAYING_JS,  # noqa: E402
                            StreamlitProcess, fill_finished_jobs, fmt_mb, launch_chromium, rss_bytes, wait_idle)

PARTS = ("rerun", "tick", "click", "memory")
WAIT_MS = 90_000


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# -- 1. page rerun time with a big history ---------------------------------------------------------

def bench_rerun(sizes: list[int], warm_runs: int) -> None:
    from streamlit.testing.v1 import AppTest

    from lib import demo

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    os.environ.pop("RUNWARE_API_KEY", None)
    saved_dir = os.environ.get("STUDIO_DATA_DIR")
    print("\n== 1. server time of a full page rerun (AppTest, in-process; demo mode) ==")
    with tempfile.TemporaryDirectory(prefix="bench-rerun-") as tmp:
        try:
            # Imports, the demo simulator and the catalog are paid once per process: do that first.
            os.environ["STUDIO_DATA_DIR"] = str(Path(tmp) / "warmup")
            t0 = time.perf_counter()
            at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=300)
            at.run()
            print(f"process warm-up (imports, demo simulator; empty history): {time.perf_counter() - t0:.2f} s")
            for n in sizes:
                data_dir = Path(tmp) / f"jobs-{n}"
                t0 = time.perf_counter()
                fill_finished_jobs(data_dir, n)
                print(f"-- {n:,} finished jobs in history (filled in {time.perf_counter() - t0:.1f} s)")
                os.environ["STUDIO_DATA_DIR"] = str(data_dir)
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
        finally:
            sim = demo.running_simulator()
            if sim is not None:
                sim.stop()
                demo._simulator = None
            if saved_dir is None:
                os.environ.pop("STUDIO_DATA_DIR", None)
            else:
                os.environ["STUDIO_DATA_DIR"] = saved_dir


# -- 2. HTTP requests per tick -----------------------------------------------------------------------

def bench_tick(pending: int, ticks: int) -> None:
    from lib.client import RunwareClient
    from lib.demo import DEMO_KEY
    from lib.simulator.server import Simulator
    from lib.store import JobStore
    from lib.tracker import Tracker

    print(f"\n== 2. HTTP requests per tracker tick with {pending} jobs pending ==")
    with tempfile.TemporaryDirectory(prefix="bench-tick-") as tmp, \
            Simulator(latency=3600, media_dir=Path(tmp) / "sim") as sim:
        store = JobStore(Path(tmp) / "studio.sqlite3")
        client = RunwareClient(DEMO_KEY, sim.url)
        tracker = Tracker(store, client, key=DEMO_KEY, media_dir=Path(tmp) / "media", max_in_flight=pending)
        for _ in range(pending):
            # Same prompt and seed: the simulator renders one file for all of them (keeps the CPU quiet).
            tracker.submit({"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "positivePrompt": "tick bench",
                            "model": "runware:108@22", "duration": 5, "width": 320, "height": 256, "fps": 8,
                            "seed": 7, "deliveryMethod": "async"}, "local")
        statuses = [j.status for j in store.jobs()]
        print(f"jobs: {len(statuses)}, processing: {statuses.count('processing')} (simulator latency 3600 s)")
        per_tick, times = [], []
        for _ in range(ticks):
            before = sim.stats.snapshot()["posts"]
            t0 = time.perf_counter()
            report = tracker.tick()
            times.append(time.perf_counter() - t0)
            per_tick.append(sim.stats.snapshot()["posts"] - before)
        kinds = sim.stats.snapshot()["post_task_types"][-1]
        print(f"HTTP POSTs per tick(): {per_tick[0]} (over {ticks} ticks: {per_tick}; "
              f"tracker's own count {report.requests}; last POST carried {len(kinds)} getResponse task(s))")
        print(f"tick() time: median {median(times) * 1000:.1f} ms (min {min(times) * 1000:.1f}, "
              f"max {max(times) * 1000:.1f})")


# -- 3. click Generate -> playing video ---------------------------------------------------------------

def bench_click(runs: int) -> None:
    from playwright.sync_api import sync_playwright

    print(f"\n== 3. seconds from clicking Generate to a playing video (demo mode, real app + Chromium) ==")
    with tempfile.TemporaryDirectory(prefix="bench-click-") as tmp, sync_playwright() as p:
        app = StreamlitProcess("streamlit_app.py", Path(tmp) / "data", Path(tmp) / "app.log")
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
                    page.wait_for_function(VIDEO_LOADED_JS, timeout=WAIT_MS, polling=50)
                    t_loaded = time.perf_counter() - t0
                    state = page.evaluate(VIDEO_PLAY_JS)
                    t_playing = None
                    if state == "playing":
                        page.wait_for_function(VIDEO_PLAYING_JS, timeout=WAIT_MS, polling=50)
                        t_playing = time.perf_counter() - t0
                        playing.append(t_playing)
                    loaded.append(t_loaded)
                    done = page.get_by_text("✅ done").count()
                    info = page.evaluate("() => { const v = document.querySelector('video');"
                                         " return v.videoWidth + 'x' + v.videoHeight + ' ' + v.duration.toFixed(1) + ' s'; }")
                    print(f"run {i + 1}: video loaded {t_loaded:.2f} s · playing "
                          f"{f'{t_playing:.2f} s' if t_playing else state} · {info} · '✅ done' cards: {done}")
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


def _play_all(browser, base_url: str, paths: list[str], label: str) -> tuple[int, int, int]:
    """Open base page, then each path in turn (one session after another, like a user clicking links),
    waiting until its video loads and plays. Returns (loaded, playing, failures)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    ok = playing = failed = 0
    try:
        for path in paths:
            try:
                page.goto(base_url + path)
                wait_idle(page)
                page.wait_for_function(VIDEO_LOADED_JS, timeout=WAIT_MS, polling=100)
                ok += 1
                if page.evaluate(VIDEO_PLAY_JS) == "playing":
                    page.wait_for_function(VIDEO_PLAYING_JS, timeout=20_000, polling=100)
                    playing += 1
            except Exception as exc:  # report, keep going
                failed += 1
                print(f"   {label}: {path} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    finally:
        context.close()
    return ok, playing, failed


def _measure(browser, app: StreamlitProcess, home: str, paths: list[str], label: str, settle: float) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(app.url + home)
    wait_idle(page, WAIT_MS)
    context.close()
    time.sleep(settle)
    before = rss_bytes(app.pid)
    t0 = time.perf_counter()
    ok, playing, failed = _play_all(browser, app.url, paths, label)
    elapsed = time.perf_counter() - t0
    time.sleep(settle)
    after = rss_bytes(app.pid)
    return {"before": before, "after": after, "ok": ok, "playing": playing, "failed": failed, "elapsed": elapsed}


def bench_memory(count: int, settle: float) -> None:
    from playwright.sync_api import sync_playwright

    from lib.simulator.render import render_mp4

    print(f"\n== 4. server memory (VmRSS of the streamlit process) after playing {count} videos ==")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        source = tmp / "source.mp4"
        t0 = time.perf_counter()
        render_mp4(source, prompt="Memory bench: one video, many names", width=1280, height=720, duration=5,
                   fps=24, seed=11)
        size = source.stat().st_size
        print(f"rendered one 1280x720 5 s mp4 ({fmt_mb(size)}) in {time.perf_counter() - t0:.1f} s; "
              f"{count} copies = {fmt_mb(size * count)} ({size * count:,} bytes) in total")
        data_dir = tmp / "data"
        media = data_dir / "media"
        media.mkdir(parents=True)
        uuids = [str(uuid.uuid4()) for _ in range(count)]
        files = [f"{u}-0.mp4" for u in uuids]
        for name in files:
            shutil.copyfile(source, media / name)
        fill_finished_jobs(data_dir, count, files=files, uuids=uuids)

        browser = launch_chromium(p)
        results = {}
        try:
            with StreamlitProcess("streamlit_app.py", data_dir, tmp / "app.log") as app:
                results["disk route /videos"] = _measure(
                    browser, app, "/history", [f"/history?job={u}" for u in uuids], "disk route /videos", settle)
            script_dir = tmp / "bytes_app"
            script_dir.mkdir()
            (script_dir / "bytes_app.py").write_text(BYTES_APP)
            with StreamlitProcess(script_dir / "bytes_app.py", tmp / "data-bytes", tmp / "bytes.log",
                                  extra_env={"BENCH_VIDEO_DIR": str(media)}, cwd=script_dir) as app:
                results["st.video(bytes)"] = _measure(
                    browser, app, "/", [f"/?v={name}" for name in files], "st.video(bytes)", settle)
        finally:
            browser.close()
        for label, r in results.items():
            print(f"{label:<20}: RSS before {fmt_mb(r['before'])} · after {fmt_mb(r['after'])} · "
                  f"delta {(r['after'] - r['before']) / 2**20:+.1f} MB · videos loaded {r['ok']}/{count}, "
                  f"playing {r['playing']}, failed {r['failed']} · {r['elapsed']:.0f} s")
        print(f"(total bytes of the {count} video files: {size * count:,} = {fmt_mb(size * count)}; "
              f"pages opened one after another in one tab, RSS read {settle:g} s after the last)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run (default: all)")
    ap.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (a smoke run)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    if "rerun" in a.only:
        bench_rerun([200, 1000] if a.quick else [1000, 10000], warm_runs=2 if a.quick else 5)
    if "tick" in a.only:
        bench_tick(20, ticks=3 if a.quick else 10)
    if "click" in a.only:
        bench_click(1 if a.quick else 3)
    if "memory" in a.only:
        bench_memory(5 if a.quick else 30, settle=1.0 if a.quick else 3.0)
    print(f"\ntotal bench time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
