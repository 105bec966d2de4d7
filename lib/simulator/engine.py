"""The simulator's tasks: accept, render in the background, answer getResponse, deliver.

Kept apart from HTTP so the protocol rules read plainly: a task is `processing` until its latency has
passed and its videos are rendered, then one `success` item per result (or an errors[] item when the
task was chosen to fail).
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import random
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from ..catalog import Catalog
from ..errors import problem
from ..images import decode_image_ref
from ..validation import normalize_task, validate_task
from .faults import Faults
from .render import render_mp4

log = logging.getLogger("studio.simulator")


def _public(url: str) -> bool:
    """Whether every address the URL's host resolves to is a public one."""
    try:
        host = urlsplit(url).hostname
        infos = socket.getaddrinfo(host, None)
    except (OSError, ValueError, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_global for info in infos)

# A processing item carries no `progress` before this many seconds (a provider reports none while
# the job is only queued).
PROGRESS_AFTER = 1.0

# Used for `cost` where Runware publishes no price: clearly a simulated figure.
SIMULATED_PRICE_PER_SECOND = 0.05


class RenderProgress:
    """Frames encoded so far for one render (shared by every result that reuses the render)."""

    def __init__(self, total: int):
        self.total, self.done = max(1, total), 0

    def update(self, done: int) -> None:
        self.done = done

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total)


@dataclass
class Result:
    video_uuid: str
    seed: int
    path: Path
    future: Future
    progress: RenderProgress | None = None

    @property
    def fraction(self) -> float:
        if self.future.done():
            return 1.0
        return self.progress.fraction if self.progress else 0.0


@dataclass
class SimTask:
    task: dict
    created: float
    ready_at: float
    fails: bool
    results: list[Result] = field(default_factory=list)

    @property
    def uuid(self) -> str:
        return self.task["taskUUID"]


class Engine:
    """Tasks live in memory and in a journal (`tasks.jsonl` in the media folder), so a simulator
    restarted on the same folder still answers for its earlier tasks, as Runware would."""

    def __init__(self, catalog: Catalog, media_dir: Path, faults: Faults, *, latency: float = 2.0,
                 base_url: str = "", render_workers: int = 1, deliver_to_private: bool = True):
        self.catalog = catalog
        self.media_dir = Path(media_dir)
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.faults = faults
        self.latency = latency
        self.base_url = base_url
        # Inside a hosted demo, anyone could aim webhookURL/uploadEndpoint at the server's own
        # network; there, deliveries go to public addresses only.
        self.deliver_to_private = deliver_to_private
        self.tasks: dict[str, SimTask] = {}
        self.videos: dict[str, tuple[Path, float | None, str]] = {}  # videoUUID -> (path, expires_at, mime)
        self._renders: dict[str, Future] = {}  # same inputs, same file: render once
        self._progress: dict[str, RenderProgress] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=render_workers, thread_name_prefix="sim-render")
        self._journal = self.media_dir / "tasks.jsonl"
        self._restore()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- videoInference ------------------------------------------------------------------------------

    def submit(self, raw: dict, *, dry_run: bool = False) -> tuple[dict | None, list[dict]]:
        """(data item, errors) for one videoInference task."""
        problems = validate_task(raw, self.catalog, allow_custom=False)
        if problems:
            return None, problems
        task = normalize_task(raw)
        cost = self.cost(task)
        if dry_run:
            return {"taskType": "videoInference", "taskUUID": task["taskUUID"], "cost": cost}, []
        with self._lock:
            if task["taskUUID"] in self.tasks:
                return None, [problem("conflictTaskUUID", "taskUUID",
                                      "A task with this taskUUID already exists.",
                                      taskType="videoInference", taskUUID=task["taskUUID"])]
            now = time.monotonic()
            sim = SimTask(task, now, now + self.latency, self.faults.task_fails())
            self.tasks[sim.uuid] = sim
        if not sim.fails:
            self._start_renders(sim)
        self._record(sim)
        if task.get("webhookURL") or task.get("uploadEndpoint"):
            threading.Thread(target=self._deliver, args=(sim,), daemon=True).start()
        return {"taskType": "videoInference", "taskUUID": sim.uuid}, []

    def cost(self, task: dict) -> float:
        model = self.catalog.get(task["model"])
        per_second = model.price_per_second_usd or SIMULATED_PRICE_PER_SECOND
        return round(per_second * task.get("duration", model.default_duration) * task.get("numberResults", 1), 4)

    def _record(self, sim: SimTask) -> None:
        line = json.dumps({"task": sim.task, "created": time.time(), "latency": sim.ready_at - sim.created,
                           "fails": sim.fails, "videos": [r.video_uuid for r in sim.results]})
        with self._lock, open(self._journal, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def _restore(self) -> None:
        if not self._journal.is_file():
            return
        for line in self._journal.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            age = time.time() - rec["created"]
            created = time.monotonic() - age
            sim = SimTask(rec["task"], created, created + rec["latency"], rec["fails"])
            self.tasks[sim.uuid] = sim
            if not sim.fails:
                self._start_renders(sim, rec["videos"])

    def _start_renders(self, sim: SimTask, video_uuids: list[str] | None = None) -> None:
        task = sim.task
        model = self.catalog.get(task["model"])
        width, height = task.get("width"), task.get("height")
        if width is None:
            width, height = model.default_size
        frames = {f.get("frame", "first" if i == 0 else "last"): decode_image_ref(f.get("inputImage", f.get("image")))
                  for i, f in enumerate(task.get("frameImages") or [])}
        # One seed per result: the given seed for the first, then the next ones, as a batch would.
        base_seed = task.get("seed") or random.Random(sim.uuid).randint(1, 2**63 - 1)
        for i in range(task.get("numberResults", 1)):
            seed = (int(base_seed) + i - 1) % (2**63 - 1) + 1
            args = dict(prompt=task["positivePrompt"], width=int(width), height=int(height),
                        duration=float(task.get("duration", model.default_duration)),
                        fps=int(task.get("fps", model.default_fps)), seed=seed,
                        first_frame=frames.get("first"), last_frame=frames.get("last"))
            fmt = task.get("outputFormat", "MP4").lower()
            path, future, progress = self._render(args, fmt)
            video_uuid = video_uuids[i] if video_uuids else str(uuid.uuid4())
            sim.results.append(Result(video_uuid, seed, path, future, progress))

    def _render(self, args: dict, fmt: str) -> tuple[Path, Future, RenderProgress | None]:
        digest = hashlib.sha256(json.dumps({k: v if not isinstance(v, bytes) else hashlib.sha256(v).hexdigest()
                                            for k, v in args.items()}, sort_keys=True).encode()).hexdigest()[:24]
        path = self.media_dir / f"{digest}.{fmt}"
        with self._lock:
            future = self._renders.get(digest)
            if future is None and path.is_file():
                future = self._renders[digest] = Future()  # rendered by an earlier run
                future.set_result(None)
            if future is None:
                progress = self._progress[digest] = RenderProgress(round(args["duration"] * args["fps"]))
                future = self._renders[digest] = self._pool.submit(render_mp4, path, output_format=fmt,
                                                                   progress=progress.update, **args)
        return path, future, self._progress.get(digest)

    # -- getResponse ---------------------------------------------------------------------------------

    def get_response(self, task_uuid) -> tuple[list[dict], list[dict]]:
        """(data items, errors) for one getResponse."""
        sim = self.tasks.get(task_uuid) if isinstance(task_uuid, str) else None
        if sim is None:
            return [], [problem("taskNotFound", "taskUUID", "No task with this taskUUID exists.",
                                taskType="getResponse", taskUUID=task_uuid)]
        base = {"taskType": "videoInference", "taskUUID": sim.uuid}
        if time.monotonic() < sim.ready_at:
            return [self._processing_item(sim)], []
        if sim.fails:
            return [], [{"code": "timeoutProvider", "status": "error", "taskType": "videoInference",
                         "taskUUID": sim.uuid, "message": "The provider did not answer in time (simulated failure)."}]
        data = [self._success_item(sim, r) for r in sim.results if r.future.done()]
        errors = [self._render_error(sim, r) for r in sim.results if r.future.done() and r.future.exception()]
        data = [d for d in data if d]
        if errors:
            return data, errors[:1]
        if len(data) < len(sim.results):
            data.append(self._processing_item(sim))
        return data, []

    def _processing_item(self, sim: SimTask) -> dict:
        """A `processing` item, with `progress` (0-100) once the provider has "started" the task.

        Progress is the slower of the simulated latency and the rendering, so it never runs ahead of
        the result. It is left out in the first PROGRESS_AFTER seconds, as a provider that has only
        queued the job reports none yet.
        """
        item = {"taskType": "videoInference", "taskUUID": sim.uuid, "status": "processing"}
        elapsed = time.monotonic() - sim.created
        if elapsed < PROGRESS_AFTER:
            return item
        latency = sim.ready_at - sim.created
        by_time = min(1.0, elapsed / latency) if latency > 0 else 1.0
        by_render = (sum(r.fraction for r in sim.results) / len(sim.results)) if sim.results else 1.0
        item["progress"] = max(1, min(99, int(100 * min(by_time, by_render))))
        return item

    def task_details(self, task_uuid) -> tuple[dict | None, dict | None]:
        """(getTaskDetails item, error): the original request and the task's answer so far."""
        sim = self.tasks.get(task_uuid) if isinstance(task_uuid, str) else None
        if sim is None:
            return None, problem("taskNotFound", "taskUUID", "No task with this taskUUID exists.",
                                 taskType="getTaskDetails", taskUUID=task_uuid)
        data, errors = self.get_response(sim.uuid)
        if errors:
            status = "error"
        elif data and all(d.get("status") == "success" for d in data):
            status = "success"
        else:
            status = "processing"
        response = {"data": data}
        if errors:
            response["errors"] = errors
        return {"taskType": "getTaskDetails", "taskUUID": sim.uuid, "status": status,
                "request": sim.task, "response": response}, None

    def _success_item(self, sim: SimTask, result: Result) -> dict | None:
        if result.future.exception():
            return None
        ttl = sim.task.get("ttl")
        fmt = result.path.suffix.lstrip(".")
        with self._lock:
            if result.video_uuid not in self.videos:
                expires = time.monotonic() + ttl if ttl else None
                self.videos[result.video_uuid] = (result.path, expires, f"video/{fmt}")
        item = {"taskType": "videoInference", "taskUUID": sim.uuid, "status": "success",
                "videoUUID": result.video_uuid, "seed": result.seed,
                "videoURL": f"{self.base_url}/video/{result.video_uuid}.{fmt}"}
        if sim.task.get("includeCost"):
            item["cost"] = round(self.cost(sim.task) / len(sim.results), 4)
        return item

    @staticmethod
    def _render_error(sim: SimTask, result: Result) -> dict:
        log.warning("render failed for %s: %s", sim.uuid, result.future.exception())
        return {"code": "unknownErrorWhileReadingResults", "status": "error", "taskType": "videoInference",
                "taskUUID": sim.uuid, "message": "The simulator could not render this video."}

    def video(self, video_uuid: str) -> tuple[Path, str] | None:
        """The file of a result video, or None when unknown or past its ttl."""
        with self._lock:
            entry = self.videos.get(video_uuid)
        if entry is None:
            return None
        path, expires, mime = entry
        if expires is not None and time.monotonic() > expires:
            return None
        return path, mime

    # -- webhook / uploadEndpoint ------------------------------------------------------------------

    def _deliver(self, sim: SimTask) -> None:
        """POST each finished result to webhookURL and PUT its bytes to uploadEndpoint. Best effort:
        a failing endpoint never fails the task."""
        deadline = sim.ready_at + 600
        while time.monotonic() < deadline:
            data, errors = self.get_response(sim.uuid)
            if errors or not any(d.get("status") == "processing" for d in data):
                break
            time.sleep(0.2)
        items = data + errors
        for item in items:
            if sim.task.get("webhookURL"):
                self._best_effort("POST", sim.task["webhookURL"], json=item)
        if sim.task.get("uploadEndpoint"):
            for result in sim.results:
                if result.future.done() and not result.future.exception():
                    self._best_effort("PUT", sim.task["uploadEndpoint"], data=result.path.read_bytes())

    def _best_effort(self, method: str, url: str, **kwargs) -> None:
        if not self.deliver_to_private and not _public(url):
            log.info("not delivering to %s: not a public address", url)
            return
        for attempt in range(3):
            try:
                resp = requests.request(method, url, timeout=5, **kwargs)
                if 200 <= resp.status_code < 300:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5 * (attempt + 1))
        log.info("delivery to %s failed; the task is unaffected", url)
