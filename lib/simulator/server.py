"""The simulator's HTTP side: Runware's REST protocol at POST /v1, result videos at GET /video/...,
and a small admin surface under /_sim for tests (faults, counters).

It may serve a hosted demo where anonymous visitors share it, so every request is bounded (see
limits.py): header and body deadlines, a cap on connections, a body size, a JSON complexity and a
task count per request, errors that never echo more than a few hundred characters of input, and an
answer size. Every request gets an answer in Runware's error shape, whatever it contains.
"""
from __future__ import annotations

import io
import json
import logging
import socket
import struct
import tempfile
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..catalog import Catalog, load_catalog
from . import content
from .accounts import Accounts, refusal, well_formed
from .engine import Engine
from .faults import Faults
from .limits import WORKSPACE_HEADER, Limits, owner_id, workspace_hint

log = logging.getLogger("studio.simulator")

MAX_BODY_BYTES = Limits.max_body_bytes  # kept for importers of the old constant
# Request statistics kept for tests and benchmarks (the oldest are dropped).
STATS_MAX = 10_000
# Error fields longer than this are cut: an error must never echo a large input back.
ERROR_FIELD_MAX = 300


def error(code: str, message: str, **context) -> dict:
    return {"errors": [{"code": code, "message": message, **context}]}


class Stats:
    """Counters the tests read: what reached the server, and when (the last STATS_MAX of each)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts: deque[tuple[float, list[str]]] = deque(maxlen=STATS_MAX)  # (time, task types) per POST /v1
        self.submitted: deque[str] = deque(maxlen=STATS_MAX)
        self.post_count = 0

    def record(self, task_types: list[str]) -> None:
        with self.lock:
            self.posts.append((time.time(), task_types[:20]))
            self.post_count += 1

    def snapshot(self) -> dict:
        with self.lock:
            return {"posts": self.post_count, "post_times": [t for t, _ in self.posts],
                    "post_task_types": [k for _, k in self.posts], "submitted": list(self.submitted)}


class _DeadlineReader(io.RawIOBase):
    """Socket reads that fail once a deadline passes, however slowly the bytes trickle in
    (a per-read timeout alone lets a client send one byte every few seconds forever)."""

    def __init__(self, sock: socket.socket):
        self.sock, self.deadline = sock, None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("request deadline passed")
            self.sock.settimeout(remaining)
        return self.sock.recv_into(buffer)


def _cut(value):
    if isinstance(value, str) and len(value) > ERROR_FIELD_MAX:
        return value[:ERROR_FIELD_MAX] + "…"
    if isinstance(value, list):
        return [_cut(v) for v in value[:50]]
    if isinstance(value, dict):  # e.g. a taskUUID sent as an object: echoed as (cut) text
        return _cut(json.dumps(value))
    return value


def _task_uuid(task: dict):
    """The task's taskUUID for echoing in a data item: only when it is a plausible one."""
    value = task.get("taskUUID")
    return value if isinstance(value, str) and len(value) <= 64 else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "SimulatorServer"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and delayed
        # ACKs add ~40 ms to every keep-alive answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = _DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader, 65536)

    def handle_one_request(self):
        # The request line and headers (and, on keep-alive, the wait for them) have one deadline.
        self._reader.deadline = time.monotonic() + self.server.limits.header_timeout
        try:
            super().handle_one_request()
        except (TimeoutError, ConnectionError):
            self.close_connection = True

    def log_message(self, fmt, *args):  # the default writes every request to stderr
        log.debug("%s " + fmt, self.address_string(), *args)

    def send_error(self, code, message=None, explain=None):
        """HTTP-level errors (a garbled request line, headers too long, an unknown method) in
        Runware's error shape too, instead of http.server's HTML page."""
        names = {400: "invalidRequest", 408: "requestTimeout", 414: "uriTooLong", 431: "headersTooLarge",
                 501: "unsupportedMethod", 505: "unsupportedHttpVersion"}
        self.close_connection = True
        try:
            self._json(code, error(names.get(code, "invalidRequest"), _cut(message or "Bad request.")))
        except OSError:
            pass

    # -- plumbing ----------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str = "application/json", headers: dict | None = None,
              declared_length: int | None = None) -> None:
        # A client that does not read its answer must not hold the thread either.
        self.connection.settimeout(self.server.limits.body_timeout)
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

    def _refuse_body(self, status: int, code: str, message: str, **context) -> None:
        """Answer without reading the body, then close (the unread body cannot be skipped safely)."""
        self.close_connection = True
        self._json(status, error(code, message, **context))

    def _content_length(self) -> int | None:
        """The declared body length, or None after answering 400/411/413."""
        limit = self.server.limits.max_body_bytes
        if self.headers.get("Transfer-Encoding"):
            self._refuse_body(411, "lengthRequired", "Send the body with a Content-Length (chunked bodies are not accepted).")
            return None
        raw = self.headers.get("Content-Length", "0").strip()
        if not raw.isdigit() or len(raw) > 18 or len(self.headers.get_all("Content-Length") or []) > 1:
            self._refuse_body(400, "invalidContentLength", "The Content-Length header is not a valid length.")
            return None
        if int(raw) > limit:
            self._refuse_body(413, "payloadTooLarge", f"The request body is larger than {limit // 2**20} MB.",
                              max=limit)
            return None
        return int(raw)

    def _read_body(self, length: int) -> bytes | None:
        """The whole body within the body deadline, or None after answering 408."""
        self._reader.deadline = time.monotonic() + self.server.limits.body_timeout
        try:
            body = self.rfile.read(length)
        except (TimeoutError, ConnectionError):
            body = b""
        if len(body) != length:
            self._refuse_body(408, "requestTimeout", "The request body did not arrive in time.")
            return None
        return body

    # -- routes --------------------------------------------------------------------------------------

    def do_POST(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/_sim/faults" and self.server.control_endpoints:
            return self._post_faults()
        if path != "/v1":
            self.close_connection = True
            return self._json(404, error("notFound", "Use POST /v1."))
        length = self._content_length()
        if length is None:
            return
        # Big bodies are read and parsed a few at a time, so many at once cannot exhaust memory.
        large = length > self.server.limits.large_body_bytes
        if large and not self.server.large_bodies.acquire(timeout=self.server.limits.body_timeout):
            return self._refuse_body(503, "serverBusy", "Too many large requests at once; try again shortly.")
        try:
            body = self._read_body(length)
            if body is None:
                return
            fault = self.server.faults.next_api_fault()
            if fault and self._apply_fault(fault):
                return
            self._answer_safely(body)
        finally:
            if large:
                self.server.large_bodies.release()

    def _post_faults(self):
        length = self._content_length()
        body = self._read_body(length) if length is not None else None
        if body is None:
            return
        try:
            spec = json.loads(body or b"{}")
            if spec.get("clear"):
                self.server.faults.clear()
            if spec.get("kind"):
                self.server.faults.script(spec["kind"], int(spec.get("times", 1)))
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            return self._json(400, error("invalidFault", str(exc)[:ERROR_FIELD_MAX]))
        return self._json(200, {"ok": True})

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

    def _answer_safely(self, body: bytes) -> None:
        try:
            status, payload = self._answer(body)
        except Exception:  # noqa: BLE001 - a bug must still get an answer, never a dropped connection
            log.exception("simulator: unexpected error answering a request")
            status, payload = 500, error("internalServerError", "The simulator failed to answer this request.")
        self._json(status, self._bounded(status, payload))

    def _bounded(self, status: int, payload: dict) -> dict:
        """The payload with errors capped in number and length, and the whole answer in size."""
        lim = self.server.limits
        if "errors" in payload:
            errors = payload["errors"][:lim.max_errors_per_answer]
            payload["errors"] = [{k: _cut(v) for k, v in e.items()} if isinstance(e, dict) else e for e in errors]
        if len(json.dumps(payload)) > lim.max_answer_bytes:
            return error("responseTooLarge", "The answer would be too large; ask for fewer tasks per request.",
                         max=lim.max_answer_bytes)
        return payload

    def _parse(self, body: bytes) -> tuple[list | None, dict | None]:
        """(tasks, None) or (None, Runware-shaped 400 payload)."""
        lim = self.server.limits
        # Counted on the bytes before parsing: a few MB of "[[[[" or "[],[]," would otherwise become
        # a crash (too deep) or a gigabyte of Python objects.
        if body.count(b"[") + body.count(b"{") + body.count(b",") > lim.max_json_items:
            return None, error("invalidJSON", "The body has too many JSON values.", max=lim.max_json_items)
        try:
            tasks = json.loads(body)
        except (ValueError, RecursionError):
            return None, error("invalidJSON", "The body is not valid JSON.")
        if not isinstance(tasks, list):
            tasks = [tasks]  # Runware documents an array; a lone object is taken as an array of one
        if len(tasks) > lim.max_tasks_per_request:
            return None, error("tooManyTasks", f"A request may carry at most {lim.max_tasks_per_request} tasks.",
                               max=lim.max_tasks_per_request)
        submits = sum(1 for t in tasks if isinstance(t, dict) and t.get("taskType") == "videoInference")
        if submits > lim.max_submits_per_request:
            return None, error("tooManyTasks", f"A request may carry at most {lim.max_submits_per_request} "
                                               f"videoInference tasks.", max=lim.max_submits_per_request)
        return tasks, None

    def _answer(self, body: bytes) -> tuple[int, dict]:
        tasks, refused = self._parse(body)
        if refused:
            return 400, refused
        key = self._api_key(tasks)
        tasks = [t for t in tasks if not (isinstance(t, dict) and t.get("taskType") == "authentication")]
        self.server.stats.record([str(t.get("taskType", "?"))[:40] if isinstance(t, dict) else "?" for t in tasks])
        if not key:
            return 401, error("missingApiKey", "An API key is required.")
        if not self._key_accepted(key):
            return 401, {"errors": [refusal(401)]}
        owner = owner_id(key, workspace_hint(self.headers.get(WORKSPACE_HEADER)))
        dry_run = self.headers.get("X-Runware-Dry-Run") == "1"
        data, errors, statuses, request_cost = [], [], [], [0.0]
        for task in tasks:
            items, problems, status = self._run_task(task, key, owner, dry_run, request_cost)
            data += items
            errors += problems
            statuses += [status] if problems else []
        payload = {"data": data}
        if errors:
            payload["errors"] = errors
        # One HTTP status for the whole answer: 200 when any task went through, else the gravest refusal.
        return (max(statuses) if errors and not data else 200), payload

    def _key_accepted(self, key: str) -> bool:
        if not well_formed(key) or self.server.accounts.refuse_keys.get(key) == 401:
            return False
        return not self.server.api_key or key == self.server.api_key

    def _run_task(self, task, key: str, owner: str, dry_run: bool,
                  request_cost: list[float]) -> tuple[list[dict], list[dict], int]:
        """(data items, errors, HTTP status of the errors) for one task of the body."""
        kind = task.get("taskType") if isinstance(task, dict) else None
        engine = self.server.engine
        if kind == "videoInference":
            return self._submit(task, key, owner, dry_run, request_cost)
        if kind == "getResponse":
            items, problems = engine.get_response(task.get("taskUUID"))
            return items, problems, 400
        if kind == "getTaskDetails":
            item, problem = engine.task_details(task.get("taskUUID"))
            return ([item], [], 200) if item else ([], [problem], 404)
        if kind == "accountManagement":
            return self._account(task, key)
        return [], [{"code": "invalidTaskType", "parameter": "taskType",
                     "message": f"taskType {_cut(str(kind))!r} is not supported by the simulator."}], 400

    def _submit(self, task: dict, key: str, owner: str, dry_run: bool,
                request_cost: list[float]) -> tuple[list[dict], list[dict], int]:
        refused = self.server.accounts.refuse_keys.get(key)
        if refused in (402, 403):
            return [], [refusal(refused, "videoInference", task.get("taskUUID"))], refused
        item, problems, status = self.server.engine.submit(task, owner=owner, dry_run=dry_run,
                                                           request_cost=request_cost)
        if item and not dry_run:
            self.server.accounts.charge(key, self.server.engine.cost(task))
            with self.server.stats.lock:
                self.server.stats.submitted.append(item["taskUUID"])
        return ([item] if item else []), problems, status

    def _account(self, task: dict, key: str) -> tuple[list[dict], list[dict], int]:
        if task.get("operation") != "getDetails":
            return [], [{"code": "invalidOperation", "parameter": "operation", "allowedValues": ["getDetails"],
                         "taskType": "accountManagement", "taskUUID": task.get("taskUUID"),
                         "message": "The simulator supports the getDetails operation only."}], 400
        item = {"taskType": "accountManagement", "taskUUID": _task_uuid(task), "operation": "getDetails",
                **self.server.accounts.details(key)}
        return [item], [], 200

    def _api_key(self, tasks: list) -> str:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:].strip():
            return auth[7:].strip()
        first = tasks[0] if tasks else None
        if isinstance(first, dict) and first.get("taskType") == "authentication":
            key = first.get("apiKey")
            return key if isinstance(key, str) else ""
        return ""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_sim/stats":
            return self._json(200, self.server.stats.snapshot())
        if path == "/health":
            return self._json(200, {"ok": True})
        # The schema and content services' stand-ins (catalog refresh): read-only, from the catalog.
        served = content.answer(self.server.engine.catalog, path, self.path.partition("?")[2])
        if served is not None:
            return self._json(*served)
        if not path.startswith("/video/"):
            return self._json(404, error("notFound", "Not found."))
        video_uuid = path.rsplit("/", 1)[-1].split(".", 1)[0]
        found = self.server.engine.video(video_uuid)
        fault = self.server.faults.next_video_fault()
        if found is None or fault == "video404":
            return self._json(404, error("notFound", "This video does not exist or has expired."))
        file, mime = found
        if fault == "video_truncate":
            data = file.read_bytes()
            return self._send(200, data[: len(data) // 2], mime, declared_length=len(data))
        self._send_file(file, mime)

    def _send_file(self, file: Path, mime: str) -> None:
        """Stream the file (with Range support, so a browser can also play the URL directly): many
        downloads at once must not each hold a whole video in memory."""
        size = file.stat().st_size
        start, end, status, headers = 0, size - 1, 200, {"Accept-Ranges": "bytes"}
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes="):
            start_s, _, end_s = rng[6:].split(",")[0].partition("-")
            try:
                first = int(start_s) if start_s else size - int(end_s)
                last = int(end_s) if start_s and end_s else size - 1
            except ValueError:
                first, last = 0, -1
            if 0 <= first <= last < size:
                start, end, status = first, last, 206
                headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        self.connection.settimeout(self.server.limits.body_timeout)
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(end - start + 1))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        with open(file, "rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(65536, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)


_BUSY = json.dumps(error("serverBusy", "Too many connections; try again shortly.")).encode()
_BUSY_ANSWER = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Retry-After: 1\r\nContent-Length: " + str(len(_BUSY)).encode() + b"\r\n\r\n" + _BUSY)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, engine: Engine, faults: Faults, api_key: str | None, accounts: Accounts,
                 limits: Limits, control_endpoints: bool):
        super().__init__(address, Handler)
        self.engine, self.faults, self.api_key, self.accounts = engine, faults, api_key, accounts
        self.limits, self.control_endpoints = limits, control_endpoints
        self.stats = Stats()
        self.large_bodies = threading.BoundedSemaphore(limits.max_large_bodies)
        self._connections = 0
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address):
        """A thread per connection, up to max_connections; beyond that a quick 503 and close."""
        with self._connections_lock:
            full = self._connections >= self.limits.max_connections
            if not full:
                self._connections += 1
        if full:
            try:
                request.setblocking(False)  # never let a refused client stall the accept loop
                request.send(_BUSY_ANSWER)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections -= 1

    @property
    def connections(self) -> int:
        return self._connections


class Simulator:
    """A running simulator on a loopback port, in a background thread.

    >>> with Simulator() as sim:
    ...     sim.url  # "http://127.0.0.1:<port>/v1"
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None,
                 latency: float = 2.0, faults: Faults | None = None, media_dir: str | Path | None = None,
                 catalog: Catalog | None = None, render_workers: int = 1, deliver_to_private: bool = True,
                 refuse_keys: dict[str, int] | None = None, balance: float = 1000.0,
                 control_endpoints: bool = True, limits: Limits | None = None, resolve=None, is_public=None):
        """refuse_keys maps an API key to the refusal it always gets: 401 (invalid key, on every call),
        402 (balance too low) or 403 (model not allowed), both at submit. balance is each key's
        simulated starting balance in USD, reported by accountManagement getDetails.
        control_endpoints=False turns off POST /_sim/faults (a hosted demo must: anyone could switch
        every answer to an error). limits: see limits.Limits. resolve(host, port) -> [ip, ...] and
        is_public(ip) -> bool replace DNS and the public-address check of webhook/upload delivery
        (for tests)."""
        self.faults = faults or Faults()
        self.limits = limits or Limits()
        self._tmp = None if media_dir else tempfile.TemporaryDirectory(prefix="runware-sim-")
        media = Path(media_dir) if media_dir else Path(self._tmp.name)
        self.engine = Engine(catalog or load_catalog(), media, self.faults, latency=latency,
                             render_workers=render_workers, deliver_to_private=deliver_to_private,
                             limits=self.limits, resolve=resolve, is_public=is_public)
        self.accounts = Accounts(balance, refuse_keys)
        self.server = SimulatorServer((host, port), self.engine, self.faults, api_key, self.accounts,
                                      self.limits, control_endpoints)
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
