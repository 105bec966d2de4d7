"""Load: several browser sessions each submitting several jobs to ONE app process in demo mode, with
the in-flight and per-minute budgets checked from the outside.

    python bench/bench_load.py [--sessions 5] [--jobs 10] [--timeout 300] [--default-model]
                               [--max-in-flight 10] [--requests-per-minute 600] [--quick]

Run from the repo root. Drives the real app (`streamlit run streamlit_app.py`; its engine and demo
simulator in process) with headless Chromium (/usr/bin/chromium via Playwright). Reads the app's
SQLite file (jobs.status, sampled every 0.25 s), the simulator's journal (STUDIO_DATA_DIR/simulator/
tasks.jsonl, one line per accepted submit) and the simulator's own POST log (GET /_sim/stats on its loopback port,
found from the app process's listening sockets). Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (AppServer, db_path, get_json, launch_chromium, listening_ports,  # noqa: E402
                            status_counts, wait_idle)
from lib.jobstate import FINISHED, IN_FLIGHT  # noqa: E402

FAST_MODEL, FAST_SIZE = "runware:108@22", "640x360"
WAIT_MS = 60_000


class Sampler(threading.Thread):
    """Every `period` s: jobs in flight (jobstate.IN_FLIGHT), whether any is queued, row count."""

    def __init__(self, data_dir: Path, budget: int, period: float = 0.25):
        super().__init__(daemon=True, name="db-sampler")
        self.data_dir, self.budget, self.period = data_dir, budget, period
        self.stop_event = threading.Event()
        self.max_in_flight = 0
        self.max_queued = 0
        self.queued_at_budget = 0  # samples with a job queued while the in-flight budget was full
        self.samples = 0
        self.first_queued_at: float | None = None

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                counts = status_counts(self.data_dir)
            except sqlite3.Error:
                counts = None  # a busy moment: skip this sample
            if counts is not None:
                self.samples += 1
                in_flight = sum(counts.get(s, 0) for s in IN_FLIGHT)
                self.max_in_flight = max(self.max_in_flight, in_flight)
                queued = counts.get("queued", 0)
                if queued and in_flight >= self.budget:
                    self.queued_at_budget += 1
                self.max_queued = max(self.max_queued, queued)
                if queued and self.first_queued_at is None:
                    self.first_queued_at = time.time()
            self.stop_event.wait(self.period)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)


def prompts_in_db(data_dir: Path) -> Counter:
    path = db_path(data_dir)
    if not path.exists():
        return Counter()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return Counter(p for (p,) in db.execute("SELECT prompt FROM jobs"))
    except sqlite3.OperationalError:
        return Counter()
    finally:
        db.close()


def query(data_dir: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(f"file:{db_path(data_dir)}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def pick_option(page, label: str, option: str) -> str:
    """Choose `option` (a substring of the option's text) in Streamlit's selectbox `label`; returns the
    widget's shown value afterwards."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    page.get_by_role("option", name=option).first.click()
    wait_idle(page)
    return box.input_value()


def max_in_window(times: list[float], window: float = 60.0) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def find_simulator(app: AppServer) -> str | None:
    """The demo simulator's base URL: the app process's other listening port that answers /_sim/stats."""
    for port in sorted(listening_ports(app.pid) - {app.port}):
        try:
            stats = get_json(f"http://127.0.0.1:{port}/_sim/stats", timeout=3)
        except Exception:  # not the simulator
            continue
        if "posts" in stats:
            return f"http://127.0.0.1:{port}"
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=5, help="browser contexts (default 5)")
    ap.add_argument("--jobs", type=int, default=10, help="jobs per session (default 10)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds to wait for every job to finish")
    ap.add_argument("--default-model", action="store_true",
                    help=f"keep the default model (Kling 1920x1080) instead of {FAST_MODEL} {FAST_SIZE}")
    ap.add_argument("--max-in-flight", type=int, default=10, help="STUDIO_MAX_IN_FLIGHT (default 10)")
    ap.add_argument("--requests-per-minute", type=int, default=600, help="STUDIO_REQUESTS_PER_MINUTE (default 600)")
    ap.add_argument("--quick", action="store_true", help="2 sessions x 3 jobs (a smoke run)")
    a = ap.parse_args()
    max_in_flight, requests_per_minute = a.max_in_flight, a.requests_per_minute
    if a.quick:
        a.sessions, a.jobs = 2, 3
    expected_total = a.sessions * a.jobs
    env = {"STUDIO_MAX_IN_FLIGHT": str(max_in_flight), "STUDIO_REQUESTS_PER_MINUTE": str(requests_per_minute)}
    print(f"load: {a.sessions} browser sessions x {a.jobs} jobs = {expected_total} jobs, one app process, demo mode")
    print(f"budgets: STUDIO_MAX_IN_FLIGHT={max_in_flight} · STUDIO_REQUESTS_PER_MINUTE={requests_per_minute}")

    from playwright.sync_api import sync_playwright

    run_id = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        data_dir = tmp / "data"
        app = AppServer(data_dir, tmp / "app.log", extra_env=env)
        browser = None
        sampler = Sampler(data_dir, max_in_flight)
        try:
            app.start()
            browser = launch_chromium(p)
            pages = []
            for _ in range(a.sessions):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.set_default_timeout(WAIT_MS)
                page = context.new_page()
                page.goto(app.url + "/")
                wait_idle(page)
                pages.append(page)
            sim_url = find_simulator(app)

            model_note = "default model (Kling 2.1 Master 1920x1080 5 s)"
            if not a.default_model:
                try:
                    for page in pages:
                        chosen = pick_option(page, "Model", FAST_MODEL)
                        size = pick_option(page, "Size", FAST_SIZE)
                        if FAST_MODEL not in chosen or FAST_SIZE not in size:
                            raise RuntimeError(f"selectbox shows {chosen!r} / {size!r}")
                    model_note = f"{FAST_MODEL} {FAST_SIZE} 5 s (chosen in the Model and Size selectboxes)"
                except Exception as exc:  # keep the default model rather than fail the run
                    print(f"could not choose {FAST_MODEL} {FAST_SIZE} ({type(exc).__name__}: {exc}); "
                          f"keeping whatever the selectboxes show")
                    model_note = "mixed/default model (selectbox driving failed)"
            print(f"model: {model_note}")

            sampler.start()
            expected: list[str] = []
            unconfirmed: list[str] = []
            t_start = time.time()
            last: dict[int, str] = {}  # session -> its previous prompt

            def confirm(prompt: str) -> None:
                """Wait (up to 30 s) until a click's row is in the store; note it if it never comes."""
                deadline = time.time() + 30
                while not prompts_in_db(data_dir)[prompt]:
                    if time.time() > deadline:
                        unconfirmed.append(prompt)
                        return
                    time.sleep(0.05)

            for j in range(a.jobs):
                for ci, page in enumerate(pages):
                    # A session clicks again only once its previous click has written its row (so no
                    # click can be swallowed by a rerun still in progress); other sessions go meanwhile.
                    if ci in last:
                        confirm(last[ci])
                    prompt = f"Load {run_id} session {ci} job {j}: paper boats drifting down a rainy street"
                    page.get_by_label("Prompt", exact=True).fill(prompt)
                    page.get_by_role("button", name="Generate").click()
                    expected.append(prompt)
                    last[ci] = prompt
            for prompt in last.values():
                confirm(prompt)
            t_clicked = time.time()
            print(f"{len(expected)} Generate clicks in {t_clicked - t_start:.1f} s"
                  + (f"; {len(unconfirmed)} click(s) had no row after 30 s" if unconfirmed else ""))

            # Every job must finish. The app's engine moves them on by itself; the pages stay open like
            # a user's would (their live views re-read the store, adding load).
            deadline = t_start + a.timeout
            finished_at = None
            while time.time() < deadline:
                counts = status_counts(data_dir)
                rows = sum(counts.values())
                if rows >= len(expected) - len(unconfirmed) and rows == sum(counts.get(s, 0) for s in FINISHED):
                    finished_at = time.time()
                    break
                time.sleep(0.25)
            t_end = finished_at or time.time()
            sampler.stop()

            counts = status_counts(data_dir)
            present = prompts_in_db(data_dir)
            rows = sum(counts.values())
            done = counts.get("success", 0)
            errors = sum(counts.get(s, 0) for s in ("error", "timeout"))
            lost = sum(1 for q in expected if not present[q])
            doubled = sum(1 for q in expected if present[q] > 1)
            journal = data_dir / "simulator" / "tasks.jsonl"
            journal_uuids = []
            if journal.exists():
                for line in journal.read_text(encoding="utf-8").splitlines():
                    try:
                        journal_uuids.append(json.loads(line)["task"]["taskUUID"])
                    except (ValueError, KeyError):
                        pass
            dup_uuids = sum(n - 1 for n in Counter(journal_uuids).values() if n > 1)
            wall = t_end - t_start

            print("\n== results ==")
            print(f"jobs submitted (Generate clicks): {len(expected)} · rows in the store: {rows} · "
                  f"by status: {dict(sorted(counts.items()))}")
            print(f"done: {done} · errors (error/timeout): {errors} · lost (clicked, no row): {lost} · "
                  f"prompts stored twice: {doubled}"
                  + ("" if finished_at else f" · NOT ALL FINISHED within {a.timeout:g} s"))
            print(f"duplicates: {dup_uuids} repeated taskUUID(s) among {len(journal_uuids)} accepted submits "
                  f"in the simulator journal ({len(set(journal_uuids))} distinct)")
            print(f"max jobs in flight observed: {sampler.max_in_flight} (budget {max_in_flight}; "
                  f"{sampler.samples} DB samples every 0.25 s)")
            waits = [w for (w,) in query(data_dir, "SELECT submitted_at - created_at FROM jobs "
                                                   "WHERE submitted_at IS NOT NULL")]
            print(f"any job seen 'queued': {'yes' if sampler.max_queued else 'no'} "
                  f"(max queued at once: {sampler.max_queued}; samples with a job queued while {max_in_flight} "
                  f"were in flight: {sampler.queued_at_budget}; longest row-written-to-accepted wait: "
                  f"{max(waits) if waits else float('nan'):.1f} s)")
            stats = get_json(f"{sim_url}/_sim/stats") if sim_url else None
            if stats is not None and not set(journal_uuids) <= set(stats.get("submitted", [])):
                print(f"(the simulator found at {sim_url} does not know the journal's tasks: ignoring its log)")
                stats = None
            if stats is not None:
                times = [t for t in stats["post_times"] if t >= t_start - 1]
                kinds = Counter(k for t, ks in zip(stats["post_times"], stats["post_task_types"]) if t >= t_start - 1
                                for k in set(ks))
                print(f"max POSTs to the API in any 60 s window: {max_in_window(times)} (budget {requests_per_minute}); "
                      f"total POSTs {len(times)} over {wall:.0f} s "
                      f"(containing videoInference: {kinds.get('videoInference', 0)}, "
                      f"getResponse: {kinds.get('getResponse', 0)}) [simulator's own log]")
            else:
                print("max POSTs in any 60 s window: n/a (simulator port not found)")
            print(f"total wall time (first click to last job finished): {wall:.1f} s · "
                  f"{done / wall * 60 if wall else 0:.1f} jobs/minute")
            models = Counter(f"{m} {w}x{h}" for m, w, h in query(data_dir, "SELECT model, width, height FROM jobs"))
            print(f"models: {dict(models)}")
            problems = [line for line in app.log().splitlines() if "Traceback" in line or " ERROR " in line]
            if problems:
                print(f"app log: {len(problems)} error line(s), first: {problems[0][:200]}")
        finally:
            if sampler.is_alive():
                sampler.stop()
            if browser is not None:
                browser.close()
            app.stop()


if __name__ == "__main__":
    main()
