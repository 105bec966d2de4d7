"""The simulator's tasks: accept, render in the background, answer getResponse, deliver.

Kept apart from HTTP so the protocol rules read plainly: a task is `processing` until its latency has
passed and its videos are rendered, then one `success` item per result (or an errors[] item when the
task was chosen to fail). Every task belongs to an owner (API key + workspace), which the limits and
the fair render scheduler are kept by.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Catalog
from ..errors import problem
from ..images import decode_image_ref, decode_media_ref, first_video_frame
from ..validation import normalize_task, validate_task
from .delivery import Delivery
from .faults import Faults
from .limits import FORMAT_WEIGHT, Limits, render_cost
from .render import render_mp4
from .scheduler import FairScheduler

log = logging.getLogger("studio.simulator")


def _public(url: str) -> bool:
    """Whether every address the URL's host resolves to is a public one."""
    return Delivery(private_allowed=False).pinned_target(url) is not None


# A processing item carries no `progress` before this many seconds (a provider reports none while
# the job is only queued).
PROGRESS_AFTER = 1.0

# Used for `cost` where Runware publishes no price: clearly a simulated figure.
SIMULATED_PRICE_PER_SECOND = 0.05

# Whole-number fields a client may send as 2.0; the renderer needs ints.
_INTEGER_FIELDS = ("width", "height", "fps", "numberResults", "seed", "ttl", "outputQuality")
# Strings longer than this are not echoed back (getTaskDetails, slim journal records).
ECHO_MAX_CHARS = 1024


def elide(value):
    """A copy with long strings (inline images) replaced by a short note of their size."""
    if isinstance(value, str) and len(value) > ECHO_MAX_CHARS:
        head = value.split(",", 1)[0] if value.startswith("data:") else value[:32]
        return f"{head},<{len(value)} characters not echoed>"
    if isinstance(value, dict):
        return {k: elide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [elide(v) for v in value]
    return value


def sanitize(raw: dict) -> tuple[dict, list[dict]]:
    """(task with whole-number floats made ints, problems) before validation: a null or a float where
    the renderer needs an int must be a 400, not a crash half-way through accepting the task."""
    task, out = dict(raw), []
    for name, value in raw.items():
        if value is None:
            out.append(problem("invalid" + name[:1].upper() + name[1:], name[:64], f"{name[:64]} must not be null."))
        elif name in _INTEGER_FIELDS and isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            task[name] = int(value)
    return task, out


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
    digest: str = ""

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
    owner: str = ""
    cost: float = 0.0  # render cost, megapixel-frames
    wall_created: float = field(default_factory=time.time)
    results: list[Result] = field(default_factory=list)
    spooled: dict[str, str] = field(default_factory=dict)  # frameImages index -> spool file digest

    @property
    def uuid(self) -> str:
        return self.task["taskUUID"]

    def pending(self, now: float) -> bool:
        if now < self.ready_at:
            return True
        return not self.fails and not all(r.future.done() for r in self.results)


def _seconds(task: dict, model) -> float:
    """The task's duration; a model default where it has none or a word such as "auto"."""
    value = task.get("duration")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float(model.default_duration)


def _render_size(task: dict, model) -> tuple[int, int]:
    """The requested width x height; for `resolution` the model's size for it (short side N at 16:9 unless
    the model's facts say otherwise); else the model's default."""
    if task.get("width") is not None and task.get("height") is not None:
        return int(task["width"]), int(task["height"])
    size = model.resolution_size(task["resolution"]) if task.get("resolution") else None
    return size or model.default_size


def _frames(task: dict) -> dict:
    """First/last frame bytes from frameImages, inputs.frameImages, or the first frame of inputs.video."""
    inputs = task.get("inputs") if isinstance(task.get("inputs"), dict) else {}
    items = (task.get("frameImages") or []) + (inputs.get("frameImages") or [])
    frames = {}
    for i, f in enumerate(items):
        frame = f.get("frame", "first" if i == 0 else "last")
        frames[frame if frame in ("first", "last") else "last"] = decode_image_ref(f.get("inputImage", f.get("image")))
    if frames.get("first") is None and isinstance(inputs.get("video"), str):
        video = decode_media_ref(inputs["video"])
        frames["first"] = first_video_frame(video) if video else None
    return frames


class Engine:
    """Tasks live in memory and in a journal (`tasks.jsonl` in the media folder), so a simulator
    restarted on the same folder still answers for its earlier tasks, as Runware would. The journal
    is compacted at start: tasks past their retention go, finished ones lose their inline images,
    and unfinished ones are re-admitted under the same limits as new submits."""

    def __init__(self, catalog: Catalog, media_dir: Path, faults: Faults, *, latency: float = 2.0,
                 base_url: str = "", render_workers: int = 1, deliver_to_private: bool = True,
                 limits: Limits | None = None, resolve=None, is_public=None):
        self.catalog = catalog
        self.media_dir = Path(media_dir)
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.faults = faults
        self.latency = latency
        self.base_url = base_url
        self.limits = limits or Limits()
        # Inside a hosted demo, anyone could aim webhookURL/uploadEndpoint at the server's own
        # network; there, deliveries go to public addresses only.
        self.deliver_to_private = deliver_to_private
        self.delivery = Delivery(private_allowed=deliver_to_private, resolve=resolve, is_public=is_public)
        self.tasks: dict[str, SimTask] = {}  # in submit order, so the oldest are pruned first
        self.videos: dict[str, tuple[Path, float | None, str]] = {}  # videoUUID -> (path, expires_at, mime)
        self._renders: dict[str, Future] = {}  # same inputs, same file: render once
        self._progress: dict[str, RenderProgress] = {}
        self._pending: dict[str, dict[str, SimTask]] = {}  # owner -> its unfinished tasks
        self._lock = threading.RLock()
        self._scheduler = FairScheduler(slots=self.limits.render_slots, per_owner=self.limits.renders_per_owner,
                                        concurrency=render_workers)
        self._journal = self.media_dir / "tasks.jsonl"
        self._spool_dir = self.media_dir / "spool"
        self._spool_dir.mkdir(exist_ok=True)
        self._spool_refs: dict[str, int] = {}  # spool file digest -> unfinished tasks using it
        self._restore()

    def close(self) -> None:
        self._scheduler.close()

    # -- videoInference ------------------------------------------------------------------------------

    def submit(self, raw: dict, *, owner: str = "", dry_run: bool = False,
               request_cost: list[float] | None = None) -> tuple[dict | None, list[dict], int]:
        """(data item, errors, HTTP status of the errors) for one videoInference task.
        request_cost accumulates the render cost of the request's tasks so far."""
        task, problems = sanitize(raw)
        problems = problems or validate_task(task, self.catalog, allow_custom=False)
        if problems:
            return None, problems, 400
        task = normalize_task(task)
        cost = self.render_cost(task)
        refused = self._over_request_budget(task, cost, request_cost)
        if refused:
            return None, [refused], 400
        if dry_run:
            return {"taskType": "videoInference", "taskUUID": task["taskUUID"], "cost": self.cost(task)}, [], 200
        with self._lock:
            if task["taskUUID"] in self.tasks:
                return None, [problem("conflictTaskUUID", "taskUUID", "A task with this taskUUID already exists.",
                                      taskType="videoInference", taskUUID=task["taskUUID"])], 400
            refused = self._over_pending_limits(owner, cost, task["taskUUID"])
            if refused:
                return None, [refused], 429
            now = time.monotonic()
            sim = SimTask(task, now, now + self.latency, self.faults.task_fails(), owner, cost)
            if not sim.fails:
                self._start_renders(sim)
                self._spool(sim)
            sim.task = elide(task)  # the renders hold the decoded images; nothing else needs them
            self._admit(sim)
        self._record(sim)
        if task.get("webhookURL") or task.get("uploadEndpoint"):
            threading.Thread(target=self._deliver, args=(sim,), daemon=True).start()
        return {"taskType": "videoInference", "taskUUID": sim.uuid}, [], 200

    def render_cost(self, task: dict) -> float:
        model = self.catalog.get(task["model"])
        return render_cost(task, model.default_size, model.default_duration, model.default_fps)

    def _over_request_budget(self, task: dict, cost: float, request_cost: list[float] | None) -> dict | None:
        spent = (request_cost[0] if request_cost else 0.0) + cost
        if spent > self.limits.max_request_cost:
            return problem("requestTooLarge", "numberResults",
                           f"This request asks for {spent:.0f} megapixel-frames of video; the simulator renders at "
                           f"most {self.limits.max_request_cost:.0f} per request (width x height x duration x fps "
                           f"x results). Ask for fewer or smaller videos.", max=self.limits.max_request_cost,
                           taskType="videoInference", taskUUID=task["taskUUID"])
        if request_cost is not None:
            request_cost[0] = spent
        return None

    def _over_pending_limits(self, owner: str, cost: float, task_uuid: str) -> dict | None:
        """The refusal when this owner, or everyone together, already has too much in progress."""
        lim, now = self.limits, time.monotonic()
        mine = self._prune_pending(owner, now)
        everyone = [t for o in list(self._pending) for t in self._prune_pending(o, now)]
        checks = [
            (len(mine) + 1 > lim.max_pending_tasks,
             f"This workspace already has {len(mine)} tasks in progress (the limit is {lim.max_pending_tasks})."),
            (sum(t.cost for t in mine) + cost > lim.max_pending_cost,
             f"This workspace's videos in progress already fill its render budget "
             f"({lim.max_pending_cost:.0f} megapixel-frames)."),
            (len(everyone) + 1 > lim.max_total_pending_tasks or sum(t.cost for t in everyone) + cost
             > lim.max_total_pending_cost, "The simulator is at capacity."),
        ]
        for over, why in checks:
            if over:
                return problem("queueCapacityExceeded", None, why + " Try again when some have finished.",
                               taskType="videoInference", taskUUID=task_uuid)
        return None

    def _prune_pending(self, owner: str, now: float) -> list[SimTask]:
        tasks = self._pending.get(owner, {})
        for task_uuid in [u for u, t in tasks.items() if not t.pending(now)]:
            del tasks[task_uuid]
        if not tasks:
            self._pending.pop(owner, None)
        return list(tasks.values())

    def _admit(self, sim: SimTask) -> None:
        """Remember the task (lock held), dropping the oldest beyond the limits."""
        self.tasks[sim.uuid] = sim
        self._pending.setdefault(sim.owner, {})[sim.uuid] = sim
        cutoff = time.time() - self.limits.task_retention
        while self.tasks and (len(self.tasks) > self.limits.max_tasks_kept
                              or next(iter(self.tasks.values())).wall_created < cutoff):
            self._forget(next(iter(self.tasks)))

    def _forget(self, task_uuid: str) -> None:
        sim = self.tasks.pop(task_uuid)
        self._pending.get(sim.owner, {}).pop(task_uuid, None)
        for r in sim.results:
            self.videos.pop(r.video_uuid, None)
            if r.future.done():
                self._renders.pop(r.digest, None)

    def cost(self, task: dict) -> float:
        model = self.catalog.get(task["model"])
        per_second = model.price_per_second_usd or SIMULATED_PRICE_PER_SECOND
        return round(per_second * _seconds(task, model) * task.get("numberResults", 1), 4)

    # -- journal -------------------------------------------------------------------------------------

    def _record_line(self, sim: SimTask) -> str:
        # Inline images are not journalled: an unfinished task's frame images wait in spool files
        # (deleted once rendered), so neither the journal nor memory grows with the images sent.
        return json.dumps({"task": elide(sim.task), "created": sim.wall_created,
                           "latency": sim.ready_at - sim.created, "fails": sim.fails, "owner": sim.owner,
                           "videos": [r.video_uuid for r in sim.results],
                           "files": [r.path.name for r in sim.results], "spooled": sim.spooled})

    def _record(self, sim: SimTask) -> None:
        line = self._record_line(sim)
        with self._lock, open(self._journal, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def _restore(self) -> None:
        if not self._journal.is_file():
            return
        records = []
        with open(self._journal, encoding="utf-8") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                    records.append((float(rec["created"]), rec))
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a crash
        cutoff = time.time() - self.limits.task_retention
        kept = [rec for created, rec in records if created >= cutoff][-self.limits.max_tasks_kept:]
        for rec in kept:
            try:
                self._restore_one(rec)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                log.info("journal: dropping a task that cannot be restored (%s)", exc)
        self._compact()

    def _restore_one(self, rec: dict) -> None:
        task, owner = rec["task"], rec.get("owner", "")
        if task["taskUUID"] in self.tasks:
            return
        age = time.time() - rec["created"]
        created = time.monotonic() - age
        sim = SimTask(task, created, created + rec["latency"], rec["fails"], owner, wall_created=rec["created"])
        files = rec.get("files") or []
        rendered = bool(files) and all((self.media_dir / name).is_file() for name in files)
        if not sim.fails and rendered:
            self._reuse_files(sim, rec)
        elif not sim.fails:
            # It must render again: admitted under the same limits as a new submit, so a flood in the
            # journal is not replayed in full at every restart.
            sim.cost = self.render_cost(task)
            if self._over_pending_limits(owner, sim.cost, sim.uuid):
                log.info("journal: not re-rendering task %s (over the limits)", sim.uuid)
                return
            sim.task = self._unspool(task, rec.get("spooled") or {})
            self._start_renders(sim, rec["videos"])
            self._spool(sim)
        sim.task = elide(sim.task)  # journals written before spooling carried images inline
        self.tasks[sim.uuid] = sim
        if sim.pending(time.monotonic()):
            self._pending.setdefault(owner, {})[sim.uuid] = sim

    def _reuse_files(self, sim: SimTask, rec: dict) -> None:
        task = sim.task
        base_seed = task.get("seed") or random.Random(sim.uuid).randint(1, 2**63 - 1)
        for i, (video_uuid, name) in enumerate(zip(rec["videos"], rec["files"])):
            done = Future()
            done.set_result(None)
            seed = (int(base_seed) + i - 1) % (2**63 - 1) + 1
            sim.results.append(Result(video_uuid, seed, self.media_dir / name, done))

    def _compact(self) -> None:
        """Rewrite the journal with only the remembered tasks, and drop spool files nobody needs."""
        lines = [self._record_line(sim) for sim in self.tasks.values()]
        tmp = self._journal.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        os.replace(tmp, self._journal)
        for path in self._spool_dir.glob("*.txt"):
            if path.stem not in self._spool_refs:
                path.unlink(missing_ok=True)

    # -- frame images of unfinished tasks --------------------------------------------------------------

    def _spool(self, sim: SimTask) -> None:
        """Keep the task's inline frame images in files until its renders are done (lock held)."""
        for i, frame in enumerate(sim.task.get("frameImages") or []):
            name = "inputImage" if isinstance(frame, dict) and "inputImage" in frame else "image"
            ref = frame.get(name) if isinstance(frame, dict) else None
            if not isinstance(ref, str) or len(ref) <= ECHO_MAX_CHARS:
                continue
            sha = hashlib.sha256(ref.encode()).hexdigest()[:32]
            path = self._spool_dir / f"{sha}.txt"
            if not path.is_file():
                tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
                tmp.write_text(ref, encoding="utf-8")
                os.replace(tmp, path)
            self._spool_refs[sha] = self._spool_refs.get(sha, 0) + 1
            sim.spooled[str(i)] = sha
        self._release_when_done(sim)

    def _unspool(self, task: dict, spooled: dict) -> dict:
        """The task with its spooled frame images put back (those whose files still exist)."""
        frames = [dict(f) for f in task.get("frameImages") or []]
        for index, sha in spooled.items():
            path = self._spool_dir / f"{sha}.txt"
            frame = frames[int(index)]
            if path.is_file():
                frame["inputImage" if "inputImage" in frame else "image"] = path.read_text(encoding="utf-8")
        return {**task, "frameImages": frames} if frames else task

    def _release_when_done(self, sim: SimTask) -> None:
        if not sim.spooled:
            return
        remaining = [len(sim.results)]

        def one_done(_future=None):
            if self._scheduler.closed:
                return  # stopped, not rendered: the next start re-renders from the spool
            with self._lock:
                remaining[0] -= 1
                if remaining[0] > 0:
                    return
                for sha in sim.spooled.values():
                    self._spool_refs[sha] -= 1
                    if not self._spool_refs[sha]:
                        del self._spool_refs[sha]
                        (self._spool_dir / f"{sha}.txt").unlink(missing_ok=True)

        if not sim.results:
            remaining[0] = 1
            one_done()
        for result in sim.results:
            result.future.add_done_callback(one_done)

    # -- rendering -----------------------------------------------------------------------------------

    def _start_renders(self, sim: SimTask, video_uuids: list[str] | None = None) -> None:
        task = sim.task
        model = self.catalog.get(task["model"])
        width, height = _render_size(task, model)
        frames = _frames(task)
        # One seed per result: the given seed for the first, then the next ones, as a batch would.
        base_seed = task.get("seed") or random.Random(sim.uuid).randint(1, 2**63 - 1)
        fmt = task.get("outputFormat", "MP4").lower()
        specs = []
        for i in range(int(task.get("numberResults", 1))):
            seed = (int(base_seed) + i - 1) % (2**63 - 1) + 1
            args = dict(prompt=task.get("positivePrompt") or model.name, width=int(width), height=int(height),
                        duration=_seconds(task, model),
                        fps=int(task.get("fps", model.default_fps)), seed=seed,
                        first_frame=frames.get("first"), last_frame=frames.get("last"))
            specs.append((seed, args))
        # Only now, with every argument worked out, does anything get queued.
        for i, (seed, args) in enumerate(specs):
            path, future, progress, digest = self._render(args, fmt, sim.owner)
            video_uuid = video_uuids[i] if video_uuids else str(uuid.uuid4())
            sim.results.append(Result(video_uuid, seed, path, future, progress, digest))

    def _render(self, args: dict, fmt: str, owner: str) -> tuple[Path, Future, RenderProgress | None, str]:
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
                cost = args["width"] * args["height"] * args["duration"] * args["fps"] * FORMAT_WEIGHT.get(fmt.upper(), 2.0)

                def run(turn, path=path, args=args, progress=progress):
                    render_mp4(path, output_format=fmt, progress=progress.update, turn=turn, **args)

                future = self._renders[digest] = self._scheduler.submit(owner, cost, run)
                future.add_done_callback(lambda _f, d=digest: self._progress.pop(d, None))
        return path, future, self._progress.get(digest), digest

    # -- getResponse ---------------------------------------------------------------------------------

    def get_response(self, task_uuid) -> tuple[list[dict], list[dict]]:
        """(data items, errors) for one getResponse."""
        sim = self.tasks.get(task_uuid) if isinstance(task_uuid, str) else None
        if sim is None:
            return [], [problem("taskNotFound", "taskUUID", "No task with this taskUUID exists.",
                                taskType="getResponse", taskUUID=task_uuid)]
        if time.monotonic() < sim.ready_at:
            return [self._processing_item(sim)], []
        if sim.fails:
            return [], [{"code": "timeoutProvider", "status": "error", "taskType": "videoInference",
                         "taskUUID": sim.uuid, "message": "The provider did not answer in time (simulated failure)."}]
        data = [self._success_item(sim, r) for r in sim.results if r.future.done()]
        errors = [self._render_error(sim, r) for r in sim.results if r.future.done() and self._failed(r)]
        data = [d for d in data if d]
        if errors:
            return data, errors[:1]
        if len(data) < len(sim.results):
            data.append(self._processing_item(sim))
        return data, []

    @staticmethod
    def _failed(result: Result) -> bool:
        return result.future.cancelled() or result.future.exception() is not None

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
        """(getTaskDetails item, error): the original request and the task's answer so far. Inline
        images are not echoed (they would make the answer as large as many requests)."""
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
        if self._failed(result):
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
        why = "cancelled" if result.future.cancelled() else result.future.exception()
        log.warning("render failed for %s: %s", sim.uuid, why)
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
                if result.future.done() and not self._failed(result):
                    self._best_effort("PUT", sim.task["uploadEndpoint"], data=result.path.read_bytes())

    def _best_effort(self, method: str, url: str, **kwargs) -> None:
        for attempt in range(3):
            if self.delivery.send(method, url, **kwargs):
                return
            time.sleep(0.5 * (attempt + 1))
        log.info("delivery to %s failed; the task is unaffected", url.split("?", 1)[0])
