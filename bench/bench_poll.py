"""Latency of ONE getResponse poll for 100 pending tasks against the simulator on loopback.

    python bench/bench_poll.py [--tasks 100] [--repeats 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.client import RunwareClient  # noqa: E402
from lib.simulator.server import Simulator  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", type=int, default=100)
    p.add_argument("--repeats", type=int, default=20)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Simulator(latency=3600, media_dir=Path(tmp)) as sim:
        client = RunwareClient("bench-key-0123456789", sim.url)
        uuids = []
        for _ in range(a.tasks):
            task_uuid = str(uuid.uuid4())
            client.submit({"taskType": "videoInference", "taskUUID": task_uuid, "positivePrompt": "bench",
                           "model": "runware:108@22", "duration": 5, "width": 320, "height": 256, "seed": 7})
            uuids.append(task_uuid)
        before = sim.stats.snapshot()["posts"]
        times = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            updates = client.poll(uuids)
            times.append(time.perf_counter() - t0)
            assert len(updates) == a.tasks and all(u.status == "processing" for u in updates.values())
        requests_made = sim.stats.snapshot()["posts"] - before
    print(f"poll of {a.tasks} pending tasks, {a.repeats} repeats, {requests_made // a.repeats} HTTP request(s) each")
    print(f"median {statistics.median(times) * 1000:.1f} ms · min {min(times) * 1000:.1f} ms · "
          f"max {max(times) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
