"""Shared helpers for bench/bench_app.py and bench/bench_load.py: a Streamlit app as a subprocess on a
free loopback port, Debian's Chromium via Playwright, a job store filled fast with finished jobs,
and small /proc readers (RSS, listening ports). Nothing here asserts on timings."""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lib.demo import DEMO_KEY, DEMO_LABEL  # noqa: E402

sys.path.insert(0, str(REPO / "tests"))
from browser_support import AppServer  # noqa: E402  (one app launcher for tests and benchmarks)
from lib.keys import key_id  # noqa: E402
from lib.runtime import request_hash  # noqa: E402
from lib.store import JobStore  # noqa: E402
from lib.studio import LOCAL_WORKSPACE  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# JS taking one argument, a substring of the wanted <video>'s source URL ("" = the first video): the
# page may show several videos (e.g. the workspace's newest jobs), so find ours by its taskUUID.
_FIND_VIDEO = ("const v = [...document.querySelectorAll('video')]"
               ".find(v => (v.currentSrc || v.src || '').includes(part));")
# A video "loads": the browser read its metadata and knows its length.
VIDEO_LOADED_JS = "(part) => { " + _FIND_VIDEO + " return !!v && v.readyState >= 1 && v.duration > 0; }"
# Start it (muted, so no autoplay policy can refuse) and report whether play() was accepted.
VIDEO_PLAY_JS = """async (part) => {
  """ + _FIND_VIDEO + """
  if (!v) return 'no video';
  v.muted = true;
  try { await v.play(); return 'playing'; } catch (e) { return 'play() refused: ' + e.name; }
}"""
VIDEO_PLAYING_JS = "(part) => { " + _FIND_VIDEO + " return !!v && !v.paused && v.currentTime > 0; }"
VIDEO_PAUSE_JS = "(part) => { " + _FIND_VIDEO + " if (v) v.pause(); }"
VIDEO_INFO_JS = ("(part) => { " + _FIND_VIDEO + " return v && (v.videoWidth + 'x' + v.videoHeight + ', '"
                 " + v.duration.toFixed(1) + ' s, ' + (v.currentSrc || v.src).split('/').pop()); }")


# -- the job store ---------------------------------------------------------------------------------

def db_path(data_dir: Path) -> Path:
    return Path(data_dir) / "studio.sqlite3"


def fill_finished_jobs(data_dir: Path, n: int, *, files: list[str] | None = None,
                       uuids: list[str] | None = None) -> list[str]:
    """Insert `n` finished (success) demo-mode jobs straight into the store's SQLite file, newest last.
    `files[i]` is job i's local video file name (default: `<uuid>-0.mp4`, which need not exist).
    Filed under slot 0's demo label, as the first demo process of a data folder files its jobs."""
    data_dir = Path(data_dir)
    # Opening the store creates the schema and runs every migration exactly as the app does; the rows
    # then go in with one executemany (store.add would take minutes for 10,000 jobs).
    JobStore(db_path(data_dir)).close()
    kid = key_id(DEMO_KEY)
    now = time.time()
    uuids = list(uuids) if uuids else [str(uuid.uuid4()) for _ in range(n)]
    models = [("runware:108@22", 640, 360), ("klingai:5@3", 1920, 1080), ("runware:108@22", 1280, 720)]
    rows = []
    for i, task_uuid in enumerate(uuids):
        model, width, height = models[i % len(models)]
        prompt = (f"Bench job {i}: a red fox trotting through a snowy birch forest at golden hour, "
                  f"cinematic lighting, take {i % 97}")
        task = {"taskType": "videoInference", "taskUUID": task_uuid, "positivePrompt": prompt, "model": model,
                "duration": 5, "width": width, "height": height, "numberResults": 1, "outputFormat": "MP4",
                "outputQuality": 95, "includeCost": True, "deliveryMethod": "async"}
        file = files[i] if files else f"{task_uuid}-0.mp4"
        results = [{"videoUUID": str(uuid.uuid4()), "videoURL": "http://127.0.0.1:9/x.mp4", "seed": 1000 + i,
                    "cost": 0.25, "file": file}]
        created = now - (n - i) * 10.0
        row = {"task_uuid": task_uuid, "workspace": LOCAL_WORKSPACE, "api_url": DEMO_LABEL, "key_id": kid,
               "status": "success", "created_at": created, "updated_at": created + 8, "submitted_at": created + 0.1,
               "finished_at": created + 8, "model": model, "prompt": prompt, "duration": 5, "width": width,
               "height": height, "number_results": 1, "task_json": json.dumps(task),
               "results_json": json.dumps(results), "error_json": None, "cost": 0.25, "attempts": 1,
               # Schema v2 columns (leases, conditional writes, engine pacing) at their defaults: a
               # finished job holds no lease, no intent and nothing due.
               "revision": 0, "lease_owner": None, "lease_until": None, "next_at": None, "intent": None,
               "progress": None, "strikes": 0, "request_hash": request_hash(task)}
        rows.append(row)
    if rows:
        columns = list(rows[0])
        db = sqlite3.connect(db_path(data_dir))
        try:
            with db:  # one transaction
                db.executemany(f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                               [list(r.values()) for r in rows])
        finally:
            db.close()
    return uuids


def task_uuid_of(data_dir: Path, prompt: str) -> str | None:
    """The taskUUID of the job with this prompt, or None while there is none."""
    path = db_path(data_dir)
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        row = db.execute("SELECT task_uuid FROM jobs WHERE prompt = ? ORDER BY created_at DESC", [prompt]).fetchone()
        return row[0] if row else None
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()


def status_counts(data_dir: Path) -> dict[str, int]:
    """{status: count} read straight from the app's SQLite file (read-only; {} before it exists)."""
    path = db_path(data_dir)
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return dict(db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())
    except sqlite3.OperationalError:  # the app has not created the table yet
        return {}
    finally:
        db.close()


# -- logging -----------------------------------------------------------------------------------------

def quiet_streamlit() -> None:
    """Benchmarks reach the pages' runtime from outside a script run (st.cache_resource), which is fine;
    Streamlit warns "missing ScriptRunContext" each time anyway. A filter, not a level: Streamlit resets
    its loggers' levels whenever it reads its config."""
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())


# -- processes ---------------------------------------------------------------------------------------

def rss_bytes(pid: int) -> int:
    """VmRSS of a process, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def listening_ports(pid: int) -> set[int]:
    """TCP ports a process listens on (its socket inodes matched against /proc/net/tcp{,6})."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and parts[9] in inodes:  # 0A = LISTEN
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def get_json(url: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


# -- the browser ---------------------------------------------------------------------------------------

def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_idle(page, timeout_ms: float = 60_000) -> None:
    """Wait until Streamlit has rendered a title and its script is not running."""
    page.locator("h1").first.wait_for(state="visible", timeout=timeout_ms)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        state="attached", timeout=timeout_ms)


def fmt_mb(n: float) -> str:
    return f"{n / 2**20:.1f} MB"


@contextmanager
def server_like_script_cache():
    """AppTest compiles the entry script and the page afresh on every run (a new ScriptCache each time,
    with Streamlit's "magic" AST pass: tens of ms); a server compiles each once. Inside this block every
    run shares one cache, as a server's sessions do."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    saved = app_test.ScriptCache, local_script_runner.ScriptCache
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared
    try:
        yield
    finally:
        app_test.ScriptCache, local_script_runner.ScriptCache = saved
