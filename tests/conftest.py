"""Shared fixtures: real servers on free loopback ports, never mocks of requests."""
from __future__ import annotations

import os
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import streamlit as st

from lib.catalog import load_catalog
from lib.simulator.server import Simulator

# A throwaway PostgreSQL server for the store tests (`db_url` runs a test on SQLite and on PostgreSQL).
pytest_plugins = ["pg_server"]

TEST_KEY = "test-key-0123456789abcdefghij"

# Tests must never reach the real, paid API with a developer's key from .env or secrets: an empty
# key overrides .env, and the URL points at a closed loopback port. Tests that want API mode set
# both to a simulator of their own. (Subprocesses started by tests inherit this environment.)
os.environ["RUNWARE_API_KEY"] = ""
os.environ["RUNWARE_API_URL"] = "http://127.0.0.1:9/v1"


@pytest.fixture(autouse=True)
def _stop_runtimes():
    """Pages (AppTest) start a runtime per settings through st.cache_resource: stop them after each test,
    so no engine or demo simulator outlives the test that started it."""
    yield
    st.cache_resource.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def catalog():
    return load_catalog()


@pytest.fixture
def simulator(tmp_path):
    """A simulator on a free port with a short task latency; faults via sim.faults.script(...)."""
    with Simulator(latency=0.3, media_dir=tmp_path / "sim-media") as sim:
        yield sim


def video_task(**overrides) -> dict:
    """A small valid videoInference task (runware:108@22 takes small sizes, so tests render fast)."""
    task = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "positivePrompt": "A test video",
            "model": "runware:108@22", "duration": 5, "width": 320, "height": 256, "fps": 8,
            "deliveryMethod": "async"}
    task.update(overrides)
    return {k: v for k, v in task.items() if v is not None}


def empty_json(method, path, body, n):
    return 200, "application/json", b"{}"


class StandIn:
    """A tiny purpose-built HTTP server on a free loopback port, for behaviour the simulator lacks
    (a webhook receiver, a proxy answering HTML, ...). `respond(method, path, body, n)` returns
    (status, content_type, bytes); n counts requests from 1. Every request is kept in `requests`."""

    def __init__(self, respond=empty_json):
        self.requests: list[tuple[str, str, dict, bytes]] = []
        self.arrived = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.arrived:
                    outer.requests.append((self.command, self.path, dict(self.headers), body))
                    n = len(outer.requests)
                    outer.arrived.notify_all()
                status, ctype, payload = respond(self.command, self.path, body, n)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait(self, count: int, timeout: float = 20.0) -> list:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.requests) >= count, timeout), self.requests
            return list(self.requests)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def force(store, task_uuid: str, **changes) -> None:
    """Set a job's columns directly (test data only: the app changes jobs through store.write)."""
    from lib.store import _columns
    values = _columns(changes)
    store.db.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in values)}, revision = revision + 1 "
                     "WHERE task_uuid = ?", [*values.values(), task_uuid])
