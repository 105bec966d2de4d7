"""A shared demo simulator under hostile load: do ordinary visitors still get their videos quickly?

    python bench/bench_demo_users.py [--users 20] [--hostile 3] [--latency 2.0] [--sim-flags "..."]

Starts `python -m lib.simulator` (default limits, fault endpoints off, as a hosted demo runs it) on a
free loopback port. Every visitor uses the demo's shared API key and its own X-Studio-Workspace, as
the app sends them. Hostile visitors flood the largest renders one request allows (and also try
2,000-task bodies); meanwhile `--users` ordinary visitors, spread over a few seconds, each submit
one small job (640x360, 5 s, 24 fps), poll getResponse every 0.5 s and download the video. Prints
submit-to-video-ready times for the small jobs (goal: all under 10 s). Loopback only, bounded in
time and threads.
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
DEMO_KEY = "demo-mode-no-key"  # lib.demo.DEMO_KEY, spelled out so this script imports nothing of the app
GOAL_SECONDS = 10.0


def start_simulator(latency: float, media_dir: Path, extra: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "lib.simulator", "--port", "0", "--latency", str(latency),
                             "--media-dir", str(media_dir), "--log-level", "WARNING", "--no-control-endpoints",
                             "--public-deliveries-only", *extra],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[-1].strip()


def headers(workspace: str) -> dict:
    return {"Authorization": f"Bearer {DEMO_KEY}", "X-Studio-Workspace": workspace}


def task(**fields) -> dict:
    base = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": "runware:108@22",
            "positivePrompt": "A lighthouse at dusk, waves rolling in", "deliveryMethod": "async"}
    return {**base, **fields}


class Hostile(threading.Thread):
    """Submits the biggest render one request allows, again and again, until told to stop."""

    def __init__(self, url: str, n: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.url, self.stop, self.workspace = url, stop, f"hostile-{n}"
        self.accepted = self.refused = 0
        self.codes: dict[str, int] = {}

    def run(self) -> None:
        with requests.Session() as s:
            while not self.stop.is_set():
                if random.random() < 0.1:  # the 2,000-task body of the original attack
                    body = [task(width=1920, height=1920, duration=30, fps=30, numberResults=4, outputFormat="WEBM")
                            for _ in range(2000)]
                else:
                    body = [task(width=1920, height=1080, duration=30, fps=30, numberResults=2, outputFormat="WEBM",
                                 seed=random.randint(1, 2**31))]
                try:
                    r = s.post(self.url, json=body, headers=headers(self.workspace), timeout=30)
                except requests.RequestException:
                    continue
                if r.status_code == 200:
                    self.accepted += 1
                else:
                    self.refused += 1
                    code = (r.json().get("errors") or [{}])[0].get("code", str(r.status_code))
                    self.codes[code] = self.codes.get(code, 0) + 1
                    self.stop.wait(0.5)


def small_user(url: str, n: int, delay: float, out: list, errors: list) -> None:
    time.sleep(delay)
    job = task(width=640, height=360, duration=5, fps=24, seed=1000 + n)
    with requests.Session() as s:
        h = headers(f"visitor-{n}")
        started = time.monotonic()
        r = s.post(url, json=[job], headers=h, timeout=30)
        if r.status_code != 200:
            errors.append(f"visitor {n}: submit {r.status_code} {r.text[:200]}")
            return
        deadline = started + 60
        while time.monotonic() < deadline:
            time.sleep(0.5)
            body = s.post(url, json=[{"taskType": "getResponse", "taskUUID": job["taskUUID"]}], headers=h,
                          timeout=30).json()
            done = [d for d in body.get("data", []) if d.get("status") == "success"]
            if body.get("errors"):
                errors.append(f"visitor {n}: {body['errors'][0]}")
                return
            if done:
                video = s.get(done[0]["videoURL"], timeout=30)
                if video.status_code == 200 and video.content[4:8] == b"ftyp":
                    out.append(time.monotonic() - started)
                else:
                    errors.append(f"visitor {n}: video download {video.status_code}")
                return
        errors.append(f"visitor {n}: no video after 60 s")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--hostile", type=int, default=3)
    p.add_argument("--latency", type=float, default=2.0, help="the simulator's task latency (the demo's is 2 s)")
    p.add_argument("--spread", type=float, default=5.0, help="seconds over which the visitors arrive")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds the flood runs before visitors arrive")
    p.add_argument("--sim-flags", default="", help='extra simulator flags, e.g. "--renders-per-owner 1"')
    a = p.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        proc, url = start_simulator(a.latency, Path(tmp), a.sim_flags.split())
        stop = threading.Event()
        try:
            hostile = [Hostile(url, i, stop) for i in range(a.hostile)]
            for h in hostile:
                h.start()
            time.sleep(a.warmup)
            times, errors = [], []
            users = [threading.Thread(target=small_user, args=(url, i, random.uniform(0, a.spread), times, errors))
                     for i in range(a.users)]
            for u in users:
                u.start()
            for u in users:
                u.join(timeout=90)
        finally:
            stop.set()
            proc.terminate()
            proc.wait(timeout=10)
    print(f"simulator latency {a.latency:g} s; {a.hostile} hostile visitors flooding 1080p 30 s 30 fps WEBM x2 "
          f"(and 2,000-task bodies); {a.users} visitors with one 640x360 5 s job each")
    for h in hostile:
        print(f"  {h.workspace}: {h.accepted} big requests accepted, {h.refused} refused {h.codes}")
    if times:
        q = statistics.quantiles(times, n=20) if len(times) > 1 else [times[0]] * 19
        print(f"small jobs, submit to video downloaded: n={len(times)} p50 {statistics.median(times):.2f} s, "
              f"p95 {q[18]:.2f} s, max {max(times):.2f} s")
    for e in errors:
        print("  error:", e)
    ok = len(times) == a.users and max(times) < GOAL_SECONDS
    print(f"goal (every small job under {GOAL_SECONDS:g} s): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
