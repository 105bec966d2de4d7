"""Hostile servers (issue 9, items 1 and 3): what a Runware API (or a proxy in front of it) sends back is
never trusted. A key it echoes is scrubbed before anything is stored, shown, logged or exported; its
values show as plain text, never as links, images or formatting. Real servers on loopback ports."""
from __future__ import annotations

import gc
import json
import logging
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import TEST_KEY, StandIn, force, video_task, wait_for
from lib import demo, logs
from lib.history import shape, to_csv, to_json
from lib.keys import KeyRing, key_id
from lib.store import JobStore
from lib.studio import open_studio

REPO = Path(__file__).resolve().parents[1]
SERVER_KEY = "server-key-ECHOED-0123456789abcdef"
PASTED_KEY = "pasted-key-ECHOED-" + "p4" * 12


def echoing_api():
    """An API that refuses every task with a message quoting the key it was sent, and the server key."""
    def respond(method, path, body, n):
        sent = api.requests[n - 1][2].get("Authorization", "")
        message = f"Key {sent.removeprefix('Bearer ')} is not allowed (also seen: {SERVER_KEY})"
        return 400, "application/json", json.dumps({"errors": [
            {"code": "invalidApiKey", "message": message, "parameter": sent}]}).encode()
    api = StandIn(respond)
    return api


# -- item 1: a key echoed by the server ------------------------------------------------------------------


def refused_with_echo(make_runtime, data_dir):
    """A runtime with a server key and a pasted key; a job of workspace "ws-a" sent with the pasted key
    and refused by an API that echoes both keys. (runtime, the finished job)."""
    with echoing_api() as api:
        runtime = make_runtime(api_key=SERVER_KEY, api_url=api.url, data_dir=data_dir)
        kid = runtime.hold_key(PASTED_KEY)
        task = video_task()
        runtime.submit(task, workspace="ws-a", api_url=api.url, kid=kid)
        job = wait_for(lambda: (j := runtime.store.get(task["taskUUID"])) and not j.pending and j)
        assert PASTED_KEY in api.requests[0][2]["Authorization"]  # the server did get the key
    return runtime, job


def test_a_key_echoed_by_the_server_is_not_stored_or_exported(make_runtime, tmp_path):
    runtime, job = refused_with_echo(make_runtime, tmp_path / "data")
    assert job.status == "error" and "is not allowed" in job.error["message"]
    frame = shape(runtime.store.frame("ws-a"))
    exported = to_csv(frame) + to_json(frame)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("studio.sqlite3*"))
    for key in (PASTED_KEY, SERVER_KEY):
        assert key not in json.dumps(job.error)
        assert key.encode() not in exported and key.encode() not in stored


def test_a_failure_is_shown_only_in_the_workspace_of_its_job(make_runtime, tmp_path):
    runtime, job = refused_with_echo(make_runtime, tmp_path / "data")
    other = open_studio(runtime, workspace="ws-b")
    assert other.recent_jobs() == [] and other.job(job.task_uuid) is None
    assert shape(runtime.store.frame("ws-b")).empty
    assert other.runtime.engine.resting(job.scope) is None  # no key-wide note from one job's refusal


def test_the_log_filter_redacts_every_key_a_keyring_holds():
    ring = KeyRing()
    ring.add(PASTED_KEY)
    record = logging.LogRecord("studio.client", logging.DEBUG, __file__, 1, "server said: %s", (PASTED_KEY,), None)
    logs.RedactingFilter().filter(record)
    assert PASTED_KEY not in record.getMessage() and logs.REDACTED in record.getMessage()


def test_the_log_filter_holds_no_keyring_beyond_its_life():
    ring = KeyRing()
    ring.add(PASTED_KEY)
    del ring
    gc.collect()
    assert logs.redact(f"x {PASTED_KEY}") == f"x {PASTED_KEY}"  # no module-level copy of the key remains


def test_a_result_url_carrying_a_key_is_not_kept(make_engine):
    def respond(method, path, body, n):
        tasks = json.loads(body)
        if tasks[0]["taskType"] == "videoInference":
            return 200, "application/json", json.dumps({"data": [{"taskUUID": tasks[0]["taskUUID"]}]}).encode()
        return 200, "application/json", json.dumps({"data": [
            {"taskType": "videoInference", "taskUUID": t["taskUUID"], "status": "success", "videoUUID": "v",
             "videoURL": f"https://cdn.example/v.mp4?key={TEST_KEY}"} for t in tasks]}).encode()

    with StandIn(respond) as api:
        engine = make_engine(api.url)
        task = video_task()
        engine.store.add(task, workspace="local", api_url=api.url, key_id=key_id(TEST_KEY))
        engine.wake()
        job = wait_for(lambda: (j := engine.store.get(task["taskUUID"])) and not j.pending and j)
    assert job.status == "error" and job.error["code"] == "malformedAnswer" and job.results == []
    assert TEST_KEY not in json.dumps(job.error)


# -- item 3: markup from the server -----------------------------------------------------------------------

MARKUP_SEED = "[phish](https://evil.example/login) ![t](https://evil.example/track.png)"
LINKY_MESSAGE = "Log in at https://evil.example/login, or www.evil.example, or write to help@evil.example"
# What GFM would turn into a link once escapes are read: a scheme, www., an address, link syntax.
AUTOLINKABLE = re.compile(r"https?://|www\.|@[\w-]+\.", re.IGNORECASE)
LINK_SYNTAX = re.compile(r"(?<!\\)[\[<]")


def test_a_seed_that_is_markup_never_reaches_the_store(make_engine):
    def respond(method, path, body, n):
        tasks = json.loads(body)
        if tasks[0]["taskType"] == "videoInference":
            return 200, "application/json", json.dumps({"data": [{"taskUUID": tasks[0]["taskUUID"]}]}).encode()
        return 200, "application/json", json.dumps({"data": [
            {"taskType": "videoInference", "taskUUID": t["taskUUID"], "status": "success", "videoUUID": "v",
             "videoURL": "https://cdn.example/v.mp4", "seed": MARKUP_SEED, "cost": "<img src=x>"}
            for t in tasks]}).encode()

    with StandIn(respond) as api:
        engine = make_engine(api.url)
        task = video_task()
        engine.store.add(task, workspace="local", api_url=api.url, key_id=key_id(TEST_KEY))
        engine.wake()
        job = wait_for(lambda: (j := engine.store.get(task["taskUUID"])) and not j.pending and j)
    assert job.status == "error" and job.error["code"] == "malformedAnswer"
    assert job.results == [] and job.cost is None and "phish" not in json.dumps(job.error)


@pytest.fixture
def hostile_job(tmp_path, monkeypatch):
    """Demo mode on a temporary data dir, holding one finished job whose server-given values are markup
    (as a store written by an older release, or by hand, might hold them)."""
    monkeypatch.chdir(REPO)
    for name in ("RUNWARE_API_KEY", "RUNWARE_API_URL", "STUDIO_WORKSPACES"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("STUDIO_DATA_DIR", str(data))
    store = JobStore(data / "studio.sqlite3")
    task = video_task()
    store.add(task, workspace="local", api_url=demo.DEMO_LABEL, key_id=key_id(demo.DEMO_KEY))
    force(store, task["taskUUID"], status="error", submitted_at=time.time(), finished_at=time.time(),
          results=[{"videoUUID": "v", "seed": MARKUP_SEED}], cost="<b>1</b>",
          error={"code": "[click](https://evil.example)", "message": LINKY_MESSAGE})
    store.close()
    return task["taskUUID"]


def shown_markdown(at) -> list[str]:
    return [e.value for kind in ("markdown", "error", "warning", "caption", "info", "success")
            for e in getattr(at, kind)]


def test_a_job_card_shows_server_values_as_plain_text(hostile_job):
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=30)
    at.query_params["job"] = hostile_job
    at.switch_page("pages/history.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = shown_markdown(at)
    assert any("evil" in text for text in shown)  # the message is shown...
    for text in shown:
        assert "phish" not in text and "<b>" not in text
        assert not LINK_SYNTAX.search(text), text  # ...with no link or image syntax left unescaped
        assert not AUTOLINKABLE.search(re.sub(r"\\(.)", r"\1", text)), text  # ...and nothing to autolink
