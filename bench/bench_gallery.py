"""History and Gallery at scale (issue 14, part 5): warm rerun time with 10,000 and 100,000 jobs, and
the server's memory with 60 poster thumbnails shown.

    python bench/bench_gallery.py [--only rerun memory] [--sizes 10000 100000] [--reruns 20]

rerun: fills a store with `n` realistic jobs (direct inserts: mostly finished with a local video and
its poster, some failed; favourites, tags, ratings and sweeps where the schema has them), then times
AppTest reruns of History and the Gallery in one session (p50/p95 of `--reruns` warm reruns; the goal
is p95 <= 150 ms at both sizes). memory: a real `streamlit run` and headless Chromium open the Gallery
with 60 tiles per page (60 real JPEG posters on disk) and read the server's VmRSS before and after.

Run from the repo root. Prints figures; asserts nothing about timings.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (REPO, AppServer, db_path, fmt_mb, launch_chromium, quiet_streamlit,  # noqa: E402
                            rss_bytes, server_like_script_cache, wait_idle)
from lib.demo import DEMO_KEY, DEMO_LABEL  # noqa: E402
from lib.keys import key_id  # noqa: E402
from lib.store import JobStore  # noqa: E402
from lib.studio import LOCAL_WORKSPACE  # noqa: E402

MODELS = [("runware:108@22", 640, 360), ("klingai:5@3", 1920, 1080), ("runware:108@22", 1280, 720),
          ("google:3@0", 1280, 720)]
TAGS = ["fox", "winter", "draft", "client", "best", "night"]
SUBJECTS = ["a red fox trotting through a snowy birch forest", "a lighthouse in a storm at night",
            "a paper boat on a rainy street", "a hummingbird over a flower, slow motion",
            "a city skyline at dusk, timelapse", "a sleeping cat in a sunbeam"]


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def _columns(db: sqlite3.Connection) -> set[str]:
    return {row[1] for row in db.execute("PRAGMA table_info(jobs)")}


def fill(data_dir: Path, n: int, *, seed: int = 14) -> list[str]:
    """`n` jobs of the local workspace, oldest first, straight into the SQLite file (store.add would take
    minutes). 9 in 10 finished with a local video and a poster (the files need not exist), the rest failed.
    Columns of the data layer (favourite, rating, tags, sweep) are filled when the schema has them."""
    rng = random.Random(seed)
    data_dir.mkdir(parents=True, exist_ok=True)
    JobStore(db_path(data_dir)).close()  # the schema, made by the app's own migrations
    db = sqlite3.connect(db_path(data_dir))
    try:
        have = _columns(db)
        sweeps = []
        if "sweep_id" in have and _has_table(db, "sweeps"):
            now = time.time()
            for i in range(max(1, n // 500)):
                sweep_id = str(uuid.uuid4())
                db.execute("INSERT INTO sweeps (sweep_id, workspace, name, created_at, spec_json) VALUES (?, ?, ?, ?, ?)",
                           [sweep_id, LOCAL_WORKSPACE, f"Sweep {i}", now - n * 10 + i, json.dumps({"vary": "seed"})])
                sweeps.append(sweep_id)
        kid, now, uuids, rows = key_id(DEMO_KEY), time.time(), [], []
        for i in range(n):
            task_uuid = str(uuid.uuid4())
            uuids.append(task_uuid)
            model, width, height = MODELS[i % len(MODELS)]
            prompt = f"{SUBJECTS[i % len(SUBJECTS)]}, cinematic lighting, take {i}"
            task = {"taskType": "videoInference", "taskUUID": task_uuid, "positivePrompt": prompt, "model": model,
                    "duration": 5, "width": width, "height": height, "numberResults": 1, "outputFormat": "MP4",
                    "includeCost": True, "deliveryMethod": "async", "seed": 1000 + i}
            ok = rng.random() < 0.9
            results = [{"videoUUID": str(uuid.uuid4()), "videoURL": "http://127.0.0.1:9/x.mp4", "seed": 1000 + i,
                        "cost": 0.25, "file": f"{task_uuid}-0.mp4", "poster": f"{task_uuid}-0.jpg"}] if ok else []
            error = None if ok else {"code": "timeoutProvider", "message": "The provider did not answer in time."}
            created = now - (n - i) * 10.0
            row = {"task_uuid": task_uuid, "workspace": LOCAL_WORKSPACE, "api_url": DEMO_LABEL, "key_id": kid,
                   "status": "success" if ok else "error", "created_at": created, "updated_at": created + 8,
                   "submitted_at": created + 0.1, "finished_at": created + 8, "model": model, "prompt": prompt,
                   "duration": 5, "width": width, "height": height, "number_results": 1,
                   "task_json": json.dumps(task), "results_json": json.dumps(results),
                   "error_json": json.dumps(error) if error else None, "cost": 0.25 if ok else None, "attempts": 1}
            extra = {"favourite": int(rng.random() < 0.1), "rating": rng.choice([None, None, None, 3, 4, 5]),
                     "note": "", "tags_json": json.dumps(sorted(rng.sample(TAGS, rng.choice([0, 0, 1, 2])))),
                     "sweep_id": sweeps[i // 500] if sweeps and rng.random() < 0.3 else None}
            row.update({k: v for k, v in extra.items() if k in have})
            rows.append(row)
        columns = list(rows[0]) if rows else []
        with db:
            db.executemany(f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                           [list(r.values()) for r in rows])
    finally:
        db.close()
    return uuids


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


# -- 1. warm reruns ----------------------------------------------------------------------------------

def _time_reruns(at, reruns: int) -> tuple[list[float], list[float]]:
    warm, cpu = [], []
    for _ in range(reruns):
        t0, c0 = time.perf_counter(), time.process_time()
        at.run()
        warm.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return warm, cpu


def bench_rerun(sizes: list[int], reruns: int) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import studio_ui

    quiet_streamlit()
    os.environ["RUNWARE_API_KEY"] = ""  # demo mode, whatever .env says
    print(f"\n== History and Gallery reruns (AppTest, in-process, demo mode; {reruns} warm reruns each) ==")
    table = []
    with tempfile.TemporaryDirectory(prefix="bench-gallery-") as tmp:
        try:
            for n in sizes:
                data_dir = Path(tmp) / f"jobs-{n}"
                t0 = time.perf_counter()
                fill(data_dir, n)
                print(f"-- {n:,} jobs filled in {time.perf_counter() - t0:.1f} s "
                      f"({fmt_mb(db_path(data_dir).stat().st_size)} database)")
                os.environ["STUDIO_DATA_DIR"] = str(data_dir)
                studio_ui.runtime_for(studio_ui.current_settings())  # the process's runtime, outside the timings
                for label, page in (("History", "pages/history.py"), ("Gallery", "pages/gallery.py")):
                    for how in ("AppTest", "1 script cache"):
                        at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=300)
                        at.switch_page(page)
                        with server_like_script_cache() if how != "AppTest" else nullcontext():
                            t0 = time.perf_counter()
                            at.run()
                            cold = time.perf_counter() - t0
                            warm, cpu = _time_reruns(at, reruns)
                        problems = [e.value for e in at.exception]
                        if problems:
                            print(f"   {label}: EXCEPTION {problems[0][:200]}")
                        table.append((label, n, how, cold, statistics.median(warm), percentile(warm, 0.95),
                                      max(warm), statistics.median(cpu), percentile(cpu, 0.95)))
                st.cache_resource.clear()  # stops this data folder's runtime
        finally:
            st.cache_resource.clear()
    # On a shared machine other processes' load stretches wall time; CPU time (this process, every
    # thread) is what the rerun itself costs.
    print(f"\n(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; "
          "first run = a new session, its queries not cached yet)")
    print(f"{'page':<8} {'jobs':>8} {'scripts compiled':<17} {'first run':>10} {'warm p50':>9} {'warm p95':>9} "
          f"{'max':>8} {'cpu p50':>8} {'cpu p95':>8}")
    for label, n, how, cold, p50, p95, top, cpu50, cpu95 in table:
        compiled = "every run" if how == "AppTest" else "once (server)"
        print(f"{label:<8} {n:>8,} {compiled:<17} {cold * 1000:>8.0f}ms {p50 * 1000:>7.0f}ms {p95 * 1000:>7.0f}ms "
              f"{top * 1000:>6.0f}ms {cpu50 * 1000:>6.0f}ms {cpu95 * 1000:>6.0f}ms"
              f"{'' if p95 <= 0.150 else '  (wall p95 over the 150 ms goal)'}")


# -- 2. memory with 60 thumbnails --------------------------------------------------------------------

IMAGES_LOADED_JS = """(count) => {
  const imgs = [...document.querySelectorAll('[data-testid="stImage"] img')];
  return imgs.length >= count && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""
IMAGES_INFO_JS = """() => {
  const imgs = [...document.querySelectorAll('[data-testid="stImage"] img')];
  return {count: imgs.length, fromRoute: imgs.filter(i => i.src.includes('/videos/')).length,
          videos: document.querySelectorAll('video').length};
}"""


def _poster_jpeg(i: int) -> bytes:
    """A 480x270 poster like lib/posters.py writes: a busy picture, so the files are of a real size."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(i)
    x = np.linspace(0.0, 1.0, 480, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, 270, dtype=np.float32)[:, None]
    rgb = np.stack([x * 255 + 0 * y, y * 255 + 0 * x, (0.5 + 0.5 * np.sin(20 * x + 10 * y + i)) * 255], axis=-1)
    rgb += rng.normal(0.0, 30.0, rgb.shape).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def bench_memory(count: int, jobs: int, settle: float) -> None:
    from playwright.sync_api import sync_playwright

    print(f"\n== server memory (VmRSS of streamlit) with {count} poster thumbnails shown; {jobs:,} jobs ==")
    with tempfile.TemporaryDirectory(prefix="bench-gallery-mem-") as tmp, sync_playwright() as p:
        data_dir = Path(tmp) / "data"
        uuids = fill(data_dir, jobs)
        media = data_dir / "media"
        media.mkdir(parents=True, exist_ok=True)
        # The newest jobs are the first page; give every one of them a real poster (failed jobs are no tile).
        posters = 0
        for task_uuid in reversed(uuids):
            (media / f"{task_uuid}-0.jpg").write_bytes(_poster_jpeg(posters))
            posters += 1
            if posters >= 2 * count:
                break
        browser = launch_chromium(p)
        try:
            with AppServer(data_dir, Path(tmp) / "app.log") as app:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.goto(app.url + "/gallery")
                wait_idle(page, 120_000)
                time.sleep(settle)
                before = rss_bytes(app.pid)
                first = page.evaluate(IMAGES_INFO_JS)
                page.get_by_label("Per page").click()
                page.get_by_role("option", name=str(count), exact=True).click()
                wait_idle(page, 120_000)
                t0 = time.perf_counter()
                page.wait_for_function(IMAGES_LOADED_JS, arg=count, timeout=120_000, polling=100)
                loaded = time.perf_counter() - t0
                time.sleep(settle)
                after = rss_bytes(app.pid)
                info = page.evaluate(IMAGES_INFO_JS)
                context.close()
        finally:
            browser.close()
        print(f"gallery open with {first['count']} tiles: RSS {fmt_mb(before)}")
        print(f"{info['count']} thumbnails shown ({info['fromRoute']} served by the /videos route, "
              f"{info['videos']} video players): RSS {fmt_mb(after)} (delta {(after - before) / 2**20:+.1f} MB); "
              f"all loaded {loaded:.1f} s after the page rendered")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=("rerun", "memory"), default=["rerun", "memory"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    ap.add_argument("--reruns", type=int, default=20)
    ap.add_argument("--thumbnails", type=int, default=60)
    a = ap.parse_args()
    t0 = time.perf_counter()
    if "rerun" in a.only:
        bench_rerun(a.sizes, a.reruns)
    if "memory" in a.only:
        bench_memory(a.thumbnails, jobs=10_000, settle=3.0)
    print(f"\ntotal bench time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
