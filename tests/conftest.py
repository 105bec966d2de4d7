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
    (status, content_type, bytes) or (status, content_type, bytes, extra headers); n counts requests
    from 1. Every request is kept in `requests` as (method, path, headers, body). `host` may be any
    loopback address (127.0.0.2 plays a second host), `port` a chosen one."""

    def __init__(self, respond=empty_json, *, host: str = "127.0.0.1", port: int = 0):
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
                status, ctype, payload, *extra = respond(self.command, self.path, body, n)
                self.send_response(status)
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"

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


# -- job engine helpers (tests/test_engine.py, test_faults.py, test_load.py, test_migrations.py) --------

def wait_for(condition, timeout: float = 20.0, what: str = "the expected state", every: float = 0.02):
    """Poll `condition()` until it is truthy (and return it); fail with `what` after `timeout`."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


class Arrival:
    """One POST /v1 as a server received it: its tasks, and the scripted fault that answered it."""

    def __init__(self, at: float, tasks: list[dict]):
        self.at, self.tasks, self.fault = at, tasks, None

    def uuids(self, task_type: str) -> list[str]:
        return [t.get("taskUUID") for t in self.tasks if t.get("taskType") == task_type]


class Received:
    """Everything a simulator *received*, recorded as it arrived (before a scripted fault answers it):
    sends are counted here, never acceptances. Installed by wrapping the simulator's request handler."""

    def __init__(self, sim):
        import json
        import time
        self.posts: list[Arrival] = []
        self.gets: list[str] = []
        self.lock = threading.Lock()
        outer = self
        base = sim.server.RequestHandlerClass

        class Recording(base):
            def _read_body(self, *args, **kwargs):
                body = super()._read_body(*args, **kwargs)
                self._arrival = None
                if body is not None and self.path.split("?", 1)[0].rstrip("/") == "/v1":
                    try:
                        tasks = json.loads(body)
                    except ValueError:
                        tasks = []
                    tasks = tasks if isinstance(tasks, list) else [tasks]
                    self._arrival = Arrival(time.time(), [t for t in tasks if isinstance(t, dict)])
                    with outer.lock:
                        outer.posts.append(self._arrival)
                return body

            def _apply_fault(self, fault):
                if getattr(self, "_arrival", None) is not None:
                    self._arrival.fault = fault
                return super()._apply_fault(fault)

            def do_GET(self):
                if self.path.startswith("/video/"):
                    with outer.lock:
                        outer.gets.append(self.path.split("?", 1)[0])
                super().do_GET()

        sim.server.RequestHandlerClass = Recording

    def arrivals(self, task_type: str, task_uuid: str | None = None) -> list[Arrival]:
        with self.lock:
            posts = list(self.posts)
        if task_uuid is None:
            return [p for p in posts if p.uuids(task_type)]
        return [p for p in posts if task_uuid in p.uuids(task_type)]

    def sends(self, task_uuid: str) -> int:
        """videoInference POSTs received for this taskUUID (faulted ones included)."""
        return len(self.arrivals("videoInference", task_uuid))

    def sends_by_uuid(self) -> dict[str, int]:
        from collections import Counter
        return dict(Counter(u for p in self.arrivals("videoInference") for u in p.uuids("videoInference")))

    def polls(self, task_uuid: str | None = None) -> list[list[str]]:
        """The taskUUIDs asked for in each getResponse POST received (of one task, if given)."""
        return [p.uuids("getResponse") for p in self.arrivals("getResponse", task_uuid)]

    def video_gets(self) -> dict[str, int]:
        from collections import Counter
        with self.lock:
            return dict(Counter(self.gets))


@pytest.fixture
def received(simulator):
    return Received(simulator)


FAST = dict(poll_min=0.2, poll_max=1.0, beat=0.05, job_timeout=60.0)


@pytest.fixture
def make_engine(tmp_path):
    """Build and start Engines (default: on tmp_path's store and media folder, TEST_KEY held, the
    label `url` reaching `url`); every engine built is stopped after the test, whatever happens."""
    from lib.client import RunwareClient
    from lib.engine import Engine, EngineConfig
    from lib.keys import KeyRing
    from lib.store import JobStore

    built = []

    def make(url: str | None = None, *, store=None, media_dir=None, keys=(TEST_KEY,), routes=None,
             client=None, start: bool = True, **config):
        routes = dict(routes or ({url: url} if url else {}))
        options = dict(retries=3, backoff=0.01, connect_timeout=2.0, read_timeout=5.0, deadline=15.0)
        options.update(client or {})
        ring = KeyRing()
        for key in keys:
            ring.add(key)

        def client_for(label, api_key):
            return RunwareClient(api_key, routes[label], **options) if label in routes else None

        engine = Engine(store or JobStore(tmp_path / "studio.sqlite3"), media_dir or tmp_path / "media", ring,
                        client_for, EngineConfig(**{**FAST, **config}))
        built.append(engine)
        return engine.start() if start else engine

    yield make
    for engine in built:
        engine.stop()


CLOSED_URL = "http://127.0.0.1:9/v1"  # nothing listens on the discard port: "unreachable"


@pytest.fixture
def make_runtime(tmp_path):
    """Build and start whole-process Runtimes (demo mode unless an api_key is given) with short
    engine beats; each is stopped after the test. Several may share one data dir (a restart)."""
    from lib.engine import EngineConfig
    from lib.runtime import Runtime
    from lib.settings import Settings

    built = []

    def make(*, api_key: str = "", api_url: str = CLOSED_URL, data_dir=None, demo_latency: float = 0.3,
             start: bool = True, engine=None, **settings):
        settings = Settings(api_key=api_key, api_url=api_url, data_dir=data_dir or tmp_path / "data", **settings)
        runtime = Runtime(settings, demo_latency=demo_latency,
                          engine_config=EngineConfig(**{**FAST, **(engine or {})}))
        built.append(runtime)
        return runtime.start() if start else runtime

    yield make
    for runtime in built:
        runtime.stop()
