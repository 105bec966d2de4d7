"""Two app processes x 50 jobs on one PostgreSQL database (issue 8): wall time, sends per job as the
API received them, peak tasks in flight (budget STUDIO_MAX_IN_FLIGHT, held across both processes).

A throwaway PostgreSQL server (tests/pg_server.py, Debian's postgresql) and a loopback simulator with
a 1 s latency; jobs go into the store as the pages of two workspaces would record them. Webhooks go to
replica B (polls 20-60 s apart).

    python bench/bench_replicas.py [--jobs 50] [--in-flight 10]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from _support import AppServer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import Received, free_port, video_task  # noqa: E402
from pg_server import PgServer, find_bin_dir  # noqa: E402
from lib import jobstate  # noqa: E402
from lib.db import Database  # noqa: E402
from lib.keys import key_id  # noqa: E402
from lib.simulator.server import Simulator  # noqa: E402
from lib.store import JobStore  # noqa: E402

KEY = "bench-replicas-key-0123456789"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=50, help="jobs per process's workspace")
    parser.add_argument("--in-flight", type=int, default=10)
    args = parser.parse_args()
    pg = PgServer(find_bin_dir()).start()
    try:
        url = pg.url(pg.create_database())
        with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp, \
                Simulator(latency=1.0, media_dir=Path(tmp) / "sim", render_workers=2) as sim:
            received = Received(sim)
            port_b = free_port()
            env = {"RUNWARE_API_KEY": KEY, "RUNWARE_API_URL": sim.url, "STUDIO_DATABASE_URL": url,
                   "STUDIO_MAX_IN_FLIGHT": str(args.in_flight), "STUDIO_REQUESTS_PER_MINUTE": "600",
                   "STUDIO_POLL_INTERVAL_MIN": "20", "STUDIO_POLL_INTERVAL_MAX": "60",
                   "STUDIO_PUBLIC_URL": f"http://127.0.0.1:{port_b}", "STUDIO_WEBHOOK_SECRET": "bench-secret-0123"}
            data = Path(tmp) / "data"
            with AppServer(data, Path(tmp) / "a.log", extra_env=env), \
                    AppServer(data, Path(tmp) / "b.log", extra_env=env, port=port_b):
                store = JobStore(Database(url))
                total = 2 * args.jobs
                started = time.time()
                for i in range(total):
                    store.add(video_task(positivePrompt=f"replica bench {i}", seed=1 + i % 3), workspace=f"ws-{i % 2}",
                              api_url=sim.url, key_id=key_id(KEY))
                peak, done = [0], threading.Event()

                def sample():
                    while not done.is_set():
                        peak[0] = max(peak[0], store.count(statuses=jobstate.IN_FLIGHT))
                        time.sleep(0.02)

                threading.Thread(target=sample, daemon=True).start()
                while store.count(statuses=jobstate.PENDING):
                    assert time.time() - started < 900, "not done in 15 minutes"
                    time.sleep(0.2)
                done.set()
                elapsed = time.time() - started
                statuses = Counter(j.status for j in store.jobs())
        sends = Counter(received.sends_by_uuid().values())
        print(f"2 processes x {args.jobs} jobs on PostgreSQL, budget {args.in_flight} in flight, simulator latency 1 s")
        print(f"done in {elapsed:.1f} s ({total / elapsed * 60:.1f} jobs/minute); statuses {dict(statuses)}")
        print(f"sends per job (as received): {dict(sorted(sends.items()))}; peak in flight {peak[0]} "
              f"(budget {args.in_flight}); API POSTs {len(received.posts)} in {elapsed:.0f} s (budget 600 per 60 s)")
    finally:
        pg.cleanup()


if __name__ == "__main__":
    main()
