"""Two app processes (`streamlit run`) on one PostgreSQL database and one media folder, against a flaky
API: every job sent once unless a fault made a resend necessary (counted as the server received them),
none lost, tasks in flight never above the budget in total, and a webhook received by either replica
finishes jobs the other one sent."""
from __future__ import annotations

import threading
import time

from browser_support import AppServer
from conftest import TEST_KEY, Received, free_port, video_task
from lib import jobstate
from lib.db import Database
from lib.keys import key_id
from lib.simulator.faults import FaultRates, Faults
from lib.simulator.server import Simulator
from lib.store import JobStore

JOBS_PER_WORKSPACE = 10
MAX_IN_FLIGHT = 4


def test_two_replicas_send_each_job_once_and_hold_the_budget_together(pg_url, tmp_path):
    faults = Faults(FaultRates(http_5xx=0.08, http_429=0.04), retry_after=0, seed=11)
    faults.script("503", 2)
    with Simulator(latency=1.0, media_dir=tmp_path / "sim", faults=faults) as sim:
        received = Received(sim)
        port_b = free_port()
        env = {"RUNWARE_API_KEY": TEST_KEY, "RUNWARE_API_URL": sim.url, "STUDIO_DATABASE_URL": pg_url,
               "STUDIO_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT), "STUDIO_REQUESTS_PER_MINUTE": "600",
               # Polls 20-60 s apart: jobs finish this fast only through the webhooks, all sent to B.
               "STUDIO_POLL_INTERVAL_MIN": "20", "STUDIO_POLL_INTERVAL_MAX": "60",
               "STUDIO_PUBLIC_URL": f"http://127.0.0.1:{port_b}", "STUDIO_WEBHOOK_SECRET": "replica-secret-0123",
               "LOG_LEVEL": "DEBUG"}
        data = tmp_path / "data"
        with AppServer(data, tmp_path / "a.log", extra_env=env) as a, \
                AppServer(data, tmp_path / "b.log", extra_env=env, port=port_b) as b:
            store = JobStore(Database(pg_url))
            tasks = [video_task(positivePrompt=f"replica job {i}") for i in range(2 * JOBS_PER_WORKSPACE)]
            for i, task in enumerate(tasks):  # as the pages of two workspaces would
                store.add(task, workspace=f"ws-{i % 2}", api_url=sim.url, key_id=key_id(TEST_KEY))

            peak, done = [0], threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], store.count(statuses=jobstate.IN_FLIGHT))
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            deadline = time.monotonic() + 150
            while store.count(statuses=jobstate.PENDING):
                assert time.monotonic() < deadline, [(j.status, j.error) for j in store.jobs(statuses=jobstate.PENDING)]
                time.sleep(0.2)
            done.set()
            sampler.join(5)
            logs = a.log(), b.log()

    jobs = store.jobs()
    assert len(jobs) == 2 * JOBS_PER_WORKSPACE
    assert [j.status for j in jobs] == ["success"] * len(jobs), [(j.status, j.error) for j in jobs]
    assert all((data / "media" / j.results[0]["file"]).is_file() for j in jobs)
    for task in tasks:
        sends = received.arrivals("videoInference", task["taskUUID"])
        # Each resend was made necessary by a fault that answered the send before it.
        assert sends and all(s.fault for s in sends[:-1]) and sends[-1].fault is None, [s.fault for s in sends]
    assert peak[0] <= MAX_IN_FLIGHT
    # Both replicas did work: each one's engine sent submits.
    assert all("videoInference x1" in log for log in logs)
    # And no job waited for a 20 s poll: every one finished within seconds of being accepted.
    assert max(j.finished_at - j.submitted_at for j in jobs) < 15
