"""The simulator's HTTP side: Runware's REST protocol at POST /v1, result videos at GET /video/...,
and a small admin surface under /_sim for tests (faults, counters)."""
from __future__ import annotations

import json
import logging
import socket
import struct
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..catalog import Catalog, load_catalog
from .accounts import Accounts, refusal, well_formed
from .engine import Engine
from .faults import Faults

log = logging.getLogger("studio.simulator")

MAX_BODY_BYTES = 64 * 2**20  # frame images travel inline as data URIs


class Stats:
    """Counters the tests read: what reached the server, and when."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts: list[tuple[float, list[str]]] = []  # (time, task types) per POST /v1
        self.submitted: list[str] = []

    def record(self, task_types: list[str]) -> None:
        with self.lock:
            self.posts.append((time.time(), task_types))

    def snapshot(self) -> dict:
        with self.lock:
            return {"posts": len(self.posts), "post_times": [t for t, _ in self.posts],
                    "post_task_types": [k for _, k in self.posts], "submitted": list(self.submitted)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "SimulatorServer"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and delayed
        # ACKs add ~40 ms to every keep-alive answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # the default writes every request to stderr
        log.debug("%s " + fmt, self.address_string(), *args)

    # -- plumbing ----------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str = "application/json", headers: dict | None = None,
              declared_length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(declared_length if declared_length is not None else len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        if declared_length is not None and declared_length != len(body):
            self.close_connection = True

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers=headers)

    def _reset(self) -> None:
        """Drop the connection with a TCP reset, as a crashed proxy would."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._json(413, {"errors": [{"code": "payloadTooLarge", "message": "The request body is too large."}]})
            self.close_connection = True
            return None
        return self.rfile.read(length)

    # -- routes --------------------------------------------------------------------------------------

    def do_POST(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/_sim/faults":
            body = self._read_body() or b"{}"
            spec = json.loads(body)
            if spec.get("clear"):
                self.server.faults.clear()
            if spec.get("kind"):
                self.server.faults.script(spec["kind"], int(spec.get("times", 1)))
            return self._json(200, {"ok": True})
        if path != "/v1":
            return self._json(404, {"errors": [{"code": "notFound", "message": "Use POST /v1."}]})
        body = self._read_body()
        if body is None:
            return
        fault = self.server.faults.next_api_fault()
        if fault and self._apply_fault(fault):
            return
        self._answer(body)

    def _apply_fault(self, fault: str) -> bool:
        """Answer with the fault; False for faults that only delay the real answer."""
        faults = self.server.faults
        self.server.stats.record([f"fault:{fault}"])
        if fault == "slow":
            time.sleep(faults.slow_seconds)
            return False
        if fault in ("401", "402", "403"):
            self._json(int(fault), {"errors": [refusal(int(fault))]})
        elif fault == "reset":
            self._reset()
        elif fault == "html":
            self._send(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        elif fault == "truncate":
            whole = json.dumps({"data": [{"taskType": "getResponse", "status": "processing"}]}).encode()
            self._send(200, whole[: len(whole) // 2], declared_length=len(whole))
        else:
            headers = {"Retry-After": str(faults.retry_after)} if fault == "429" else None
            code = {"400": "invalidRequest", "429": "rateLimitExceeded"}.get(fault, "serverBusy")
            self._json(int(fault), {"errors": [{"code": code, "message": f"Simulated HTTP {fault}."}]}, headers)
        return True

    def _answer(self, body: bytes) -> None:
        try:
            tasks = json.loads(body)
        except ValueError:
            return self._json(400, {"errors": [{"code": "invalidJSON", "message": "The body is not valid JSON."}]})
        if not isinstance(tasks, list):
            tasks = [tasks]  # Runware documents an array; a lone object is taken as an array of one
        key = self._api_key(tasks)
        tasks = [t for t in tasks if not (isinstance(t, dict) and t.get("taskType") == "authentication")]
        self.server.stats.record([t.get("taskType", "?") if isinstance(t, dict) else "?" for t in tasks])
        if not key:
            return self._json(401, {"errors": [{"code": "missingApiKey", "message": "An API key is required."}]})
        if not self._key_accepted(key):
            return self._json(401, {"errors": [refusal(401)]})
        dry_run = self.headers.get("X-Runware-Dry-Run") == "1"
        data, errors, statuses = [], [], []
        for task in tasks:
            items, problems, status = self._run_task(task, key, dry_run)
            data += items
            errors += problems
            statuses += [status] if problems else []
        payload = {"data": data}
        if errors:
            payload["errors"] = errors
        # One HTTP status for the whole answer: 200 when any task went through, else the gravest refusal.
        self._json(max(statuses) if errors and not data else 200, payload)

    def _key_accepted(self, key: str) -> bool:
        if not well_formed(key) or self.server.accounts.refuse_keys.get(key) == 401:
            return False
        return not self.server.api_key or key == self.server.api_key

    def _run_task(self, task, key: str, dry_run: bool) -> tuple[list[dict], list[dict], int]:
        """(data items, errors, HTTP status of the errors) for one task of the body."""
        kind = task.get("taskType") if isinstance(task, dict) else None
        engine = self.server.engine
        if kind == "videoInference":
            return self._submit(task, key, dry_run)
        if kind == "getResponse":
            items, problems = engine.get_response(task.get("taskUUID"))
            return items, problems, 400
        if kind == "getTaskDetails":
            item, problem = engine.task_details(task.get("taskUUID"))
            return ([item], [], 200) if item else ([], [problem], 404)
        if kind == "accountManagement":
            return self._account(task, key)
        return [], [{"code": "invalidTaskType", "parameter": "taskType",
                     "message": f"taskType {kind!r} is not supported by the simulator."}], 400

    def _submit(self, task: dict, key: str, dry_run: bool) -> tuple[list[dict], list[dict], int]:
        refused = self.server.accounts.refuse_keys.get(key)
        if refused in (402, 403):
            return [], [refusal(refused, "videoInference", task.get("taskUUID"))], refused
        item, problems = self.server.engine.submit(task, dry_run=dry_run)
        if item and not dry_run:
            self.server.accounts.charge(key, self.server.engine.cost(task))
            with self.server.stats.lock:
                self.server.stats.submitted.append(item["taskUUID"])
        return ([item] if item else []), problems, 400

    def _account(self, task: dict, key: str) -> tuple[list[dict], list[dict], int]:
        if task.get("operation") != "getDetails":
            return [], [{"code": "invalidOperation", "parameter": "operation", "allowedValues": ["getDetails"],
                         "taskType": "accountManagement", "taskUUID": task.get("taskUUID"),
                         "message": "The simulator supports the getDetails operation only."}], 400
        item = {"taskType": "accountManagement", "taskUUID": task.get("taskUUID"), "operation": "getDetails",
                **self.server.accounts.details(key)}
        return [item], [], 200

    def _api_key(self, tasks: list) -> str:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:].strip():
            return auth[7:].strip()
        first = tasks[0] if tasks else None
        if isinstance(first, dict) and first.get("taskType") == "authentication":
            return str(first.get("apiKey") or "")
        return ""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_sim/stats":
            return self._json(200, self.server.stats.snapshot())
        if path == "/health":
            return self._json(200, {"ok": True})
        if not path.startswith("/video/"):
            return self._json(404, {"errors": [{"code": "notFound", "message": "Not found."}]})
        video_uuid = path.rsplit("/", 1)[-1].split(".", 1)[0]
        found = self.server.engine.video(video_uuid)
        fault = self.server.faults.next_video_fault()
        if found is None or fault == "video404":
            return self._json(404, {"errors": [{"code": "notFound", "message": "This video does not exist or has expired."}]})
        file, mime = found
        data = file.read_bytes()
        if fault == "video_truncate":
            return self._send(200, data[: len(data) // 2], mime, declared_length=len(data))
        self._send_ranged(data, mime)

    def _send_ranged(self, data: bytes, mime: str) -> None:
        """Serve bytes with Range support, so a browser can also play the URL directly."""
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes="):
            start_s, _, end_s = rng[6:].split(",")[0].partition("-")
            try:
                start = int(start_s) if start_s else len(data) - int(end_s)
                end = int(end_s) if start_s and end_s else len(data) - 1
            except ValueError:
                start, end = 0, -1
            if 0 <= start <= end < len(data):
                return self._send(206, data[start:end + 1], mime, {
                    "Content-Range": f"bytes {start}-{end}/{len(data)}", "Accept-Ranges": "bytes"})
        self._send(200, data, mime, {"Accept-Ranges": "bytes"})


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, engine: Engine, faults: Faults, api_key: str | None, accounts: Accounts):
        super().__init__(address, Handler)
        self.engine, self.faults, self.api_key, self.accounts = engine, faults, api_key, accounts
        self.stats = Stats()


class Simulator:
    """A running simulator on a loopback port, in a background thread.

    >>> with Simulator() as sim:
    ...     sim.url  # "http://127.0.0.1:<port>/v1"
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None,
                 latency: float = 2.0, faults: Faults | None = None, media_dir: str | Path | None = None,
                 catalog: Catalog | None = None, render_workers: int = 1, deliver_to_private: bool = True,
                 refuse_keys: dict[str, int] | None = None, balance: float = 1000.0):
        """refuse_keys maps an API key to the refusal it always gets: 401 (invalid key, on every call),
        402 (balance too low) or 403 (model not allowed), both at submit. balance is each key's
        simulated starting balance in USD, reported by accountManagement getDetails."""
        self.faults = faults or Faults()
        self._tmp = None if media_dir else tempfile.TemporaryDirectory(prefix="runware-sim-")
        media = Path(media_dir) if media_dir else Path(self._tmp.name)
        self.engine = Engine(catalog or load_catalog(), media, self.faults, latency=latency,
                             render_workers=render_workers, deliver_to_private=deliver_to_private)
        self.accounts = Accounts(balance, refuse_keys)
        self.server = SimulatorServer((host, port), self.engine, self.faults, api_key, self.accounts)
        self.host, self.port = self.server.server_address[:2]
        self.engine.base_url = f"http://{self.host}:{self.port}"
        # A short poll interval makes stop() quick (the default waits up to 0.5 s).
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="runware-sim", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def stats(self) -> Stats:
        return self.server.stats

    def start(self) -> "Simulator":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.engine.close()
        if self._tmp:
            self._tmp.cleanup()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
