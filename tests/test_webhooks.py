"""Webhooks: Runware's POST makes the job finish at once though polls are 20 s apart; the body is never
trusted for the result; a wrong token gets 404. Real processes: the app (streamlit run) and a simulator
that may deliver to loopback."""
from __future__ import annotations

import json
import time

import pytest
import requests

from browser_support import AppServer
from conftest import TEST_KEY, free_port, video_task
from lib.keys import key_id
from lib.simulator.server import Simulator
from lib.store import JobStore
from lib.webhooks import task_uuids


def test_task_uuids_from_a_bare_result_or_a_data_list():
    assert task_uuids(b'{"taskUUID": "a", "videoURL": "x"}') == ["a"]
    assert task_uuids(b'{"data": [{"taskUUID": "a"}, {"taskUUID": "b"}, {"taskUUID": "a"}]}') == ["a", "b"]
    for junk in (b"", b"not json", b"[]", b'{"data": 5}', b'{"taskUUID": 7}', b'"x"', b'{"data": [1, null]}'):
        assert task_uuids(junk) == []


@pytest.fixture
def webhook_app(tmp_path):
    """The app with STUDIO_PUBLIC_URL set and polls 20-60 s apart, against a simulator on loopback."""
    with Simulator(latency=1.0, media_dir=tmp_path / "sim") as sim:
        port = free_port()
        env = {"RUNWARE_API_KEY": TEST_KEY, "RUNWARE_API_URL": sim.url, "STUDIO_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "STUDIO_WEBHOOK_SECRET": "hook-secret-0123456789", "STUDIO_POLL_INTERVAL_MIN": "20",
               "STUDIO_POLL_INTERVAL_MAX": "60"}
        with AppServer(tmp_path / "data", tmp_path / "app.log", extra_env=env, port=port) as app:
            yield app, sim, JobStore(tmp_path / "data" / "studio.sqlite3")


def _wait(condition, timeout):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def test_a_webhook_finishes_the_job_long_before_the_next_poll(webhook_app):
    app, sim, store = webhook_app
    task = video_task()
    store.add(task, workspace="local", api_url=sim.url, key_id=key_id(TEST_KEY))  # as a page would
    job = _wait(lambda: (j := store.get(task["taskUUID"])).status == "success" and j, timeout=12)
    # Accepted at t0, ready 1 s later; the fallback poll would come 20 s after acceptance.
    assert job.finished_at - job.submitted_at < 5
    assert (app.data_dir / "media" / f"{task['taskUUID']}-0.mp4").is_file()
    sent = [t for t in sim.stats.snapshot()["post_task_types"] if t == ["videoInference"]]
    assert len(sent) == 1
    # The stored task holds no webhook URL (it carries the secret); the one sent did.
    assert "webhookURL" not in job.task
    assert "hook-secret" not in json.dumps(job.task)


def test_a_wrong_token_is_404_and_changes_nothing(webhook_app):
    app, sim, store = webhook_app
    reply = requests.post(f"{app.url}/webhooks/runware/not-the-secret", json={"taskUUID": "x"}, timeout=5)
    assert reply.status_code == 404
    assert "not-the-secret" not in app.log()


def test_a_forged_webhook_changes_nothing_but_the_moment_of_a_poll(webhook_app, tmp_path):
    app, sim, store = webhook_app
    hook = f"{app.url}/webhooks/runware/hook-secret-0123456789"
    # Unknown tasks and garbage: accepted at once, nothing happens.
    assert requests.post(hook, json={"taskUUID": "00000000-0000-4000-8000-000000000000"}, timeout=5).status_code == 200
    assert requests.post(hook, data=b"\x00garbage", timeout=5).status_code == 200
    # A forged "success" for a real task: the result is taken from getResponse, never from the body.
    task = video_task(duration=10)
    store.add(task, workspace="local", api_url=sim.url, key_id=key_id(TEST_KEY))
    _wait(lambda: store.get(task["taskUUID"]).status == "processing", timeout=10)
    forged = {"taskUUID": task["taskUUID"], "status": "success", "videoURL": "https://evil.example/x.mp4",
              "videoUUID": "forged", "cost": 999}
    assert requests.post(hook, json=forged, timeout=5).status_code == 200
    job = _wait(lambda: (j := store.get(task["taskUUID"])).status == "success" and j, timeout=15)
    assert [r["videoUUID"] for r in job.results] != ["forged"] and job.cost != 999
