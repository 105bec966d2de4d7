"""The job engine: one worker per process that owns every network action.

Pages only write intents to the store (a new job, a re-check, an abandon) and read state from it; the
engine's loop notices them, and moves every unfinished job on with nobody watching: it sends queued jobs
within the tasks-in-flight budget, resends submits that never got an answer (same taskUUID: safe),
polls every processing job of a key in ONE getResponse request, and copies finished videos into the
media folder. Before acting on a job over the network it takes a lease on it in the store, so two
engines (or two processes) never act on one job at once, and a crashed owner's lease simply expires.

The loop itself never waits on the network: actions run on a small thread pool, one at a time per
job (and per key for polls and sends).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import jobstate as js
from .answers import TaskUpdate
from .client import KEY_PROBLEMS, RunwareClient
from .demo import DEMO_LABEL
from .simulator.limits import WORKSPACE_HEADER
from .errors import ApiError, DownloadError
from .keys import KeyRing
from .media import local_path
from .netfetch import clean_partials
from .posters import make_poster
from .store import Job, JobStore

log = logging.getLogger("studio.engine")

# Strikes (malformed items, "task not found" answers) before an accepted job is given up on.
MAX_STRIKES = 3
MAX_DOWNLOAD_ATTEMPTS = 5
# Submits of one key that may be under way at once (a slow API must not serialize them all).
SEND_LANES = 2
# How long a key that Runware refused (401/402/403) rests before it is tried again.
KEY_REST_SECONDS = 60.0


@dataclass
class EngineConfig:
    max_in_flight: int = 10
    job_timeout: float = 600.0
    max_video_bytes: int = 500 * 2**20
    poll_min: float = 1.5
    poll_max: float = 10.0
    download_deadline: float = 600.0
    beat: float = 0.25  # how often the loop looks at the store
    workers: int = 4
    # Added to every submit that has none of its own, except to the demo simulator's jobs (it delivers
    # to public addresses only, so demo mode polls). It holds a secret: never stored with the job.
    webhook_url: str | None = None
    # Called after each finished download (the runtime keeps the media folder under its cap).
    after_download: Callable[[], object] | None = None


def poll_interval(age: float, low: float, high: float) -> float:
    """Poll quickly while a job is young, backing off as it ages."""
    step = low if age < 15 else 3.0 if age < 60 else 6.0 if age < 180 else high
    return min(high, max(low, step))


def _backoff(attempt: int) -> float:
    return min(60.0, 2.0 ** attempt)


class Engine:
    def __init__(self, store: JobStore, media_dir: Path, keys: KeyRing,
                 client_for: Callable[[str, str], RunwareClient | None], config: EngineConfig | None = None):
        """`client_for(api_url_label, api_key)` builds the client for a scope, or None when this
        process cannot reach that API (e.g. another process's demo simulator)."""
        self.store = store
        self.media_dir = Path(media_dir)
        self.keys = keys
        self.config = config or EngineConfig()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._client_for = client_for
        self._clients: dict[tuple[str, str], RunwareClient] = {}
        self._rested: dict[tuple[str, str], tuple[float, str]] = {}
        self._busy: set = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(self.config.workers, thread_name_prefix="studio-engine")
        # One-off requests users wait for (a key check) never queue behind sends, polls and downloads.
        self._calls = ThreadPoolExecutor(2, thread_name_prefix="studio-engine-call")

    # -- life cycle -----------------------------------------------------------------------------------

    def start(self) -> "Engine":
        if self._thread is None:
            clean_partials(self.media_dir)
            self._thread = threading.Thread(target=self._run, name="studio-engine-loop", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._calls.shutdown(wait=False, cancel_futures=True)
        for client in self._clients.values():
            client.close()

    def wake(self) -> None:
        """Look at the store now (a page just wrote an intent)."""
        self._wake.set()

    def call(self, fn: Callable, *args) -> Future:
        """Run a one-off network request a user started (checking a key, reading the balance)."""
        return self._calls.submit(fn, *args)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # the loop must outlive any one bad step; the next beat tries again
                log.exception("engine step failed")
            self._wake.wait(self.config.beat)
            self._wake.clear()

    # -- scheduling -----------------------------------------------------------------------------------

    def client(self, scope: tuple[str, str]) -> RunwareClient | None:
        """The client for (API URL label, key id), or None while the key is not in memory."""
        key = self.keys.get(scope[1])
        if key is None:
            return None
        client = self._clients.get(scope)
        if client is None:
            client = self._client_for(scope[0], key)
            if client is None:
                return None
            # Whatever the server says is scrubbed of every key this process holds before it is kept.
            client.redact = self.keys.redact
            self._clients[scope] = client
        return client

    def resting(self, scope: tuple[str, str]) -> str | None:
        """Why a key is resting after Runware refused it, or None."""
        until, reason = self._rested.get(scope, (0.0, ""))
        return reason if time.time() < until else None

    def unrest(self, kid: str) -> None:
        """A user gave this key again: try its jobs at once."""
        for scope in [s for s in self._rested if s[1] == kid]:
            self._rested.pop(scope, None)
        self.wake()

    def forget(self, kid: str) -> None:
        """Drop the clients made with a key the user took back."""
        for scope in [s for s in self._clients if s[1] == kid]:
            self._clients.pop(scope).close()

    def _schedule(self, token, fn: Callable, *args) -> None:
        with self._lock:
            if token in self._busy or self._stop.is_set():
                return
            self._busy.add(token)

        def run():
            try:
                fn(*args)
            except Exception:
                log.exception("engine action %s failed", token[0])
            finally:
                with self._lock:
                    self._busy.discard(token)
                self._wake.set()

        self._pool.submit(run)

    def step(self) -> None:
        """One look at the store: schedule whatever is due. Never waits on the network."""
        now = time.time()
        for row in self.store.with_intent():
            scope = (row["api_url"], row["key_id"])
            client = self.client(scope)
            if client and not (row["lease_until"] and row["lease_until"] > now):
                self._schedule(("job", row["task_uuid"]), self._intent, row["task_uuid"], client)
        for scope in self.store.active_scopes():
            client = self.client(scope)
            if client is None or self.resting(scope):
                continue
            rows = self.store.due(*scope)
            free = [r for r in rows if not (r["lease_until"] and r["lease_until"] > now)
                    and (r["next_at"] or 0) <= now]
            statuses = {r["status"] for r in free}
            if js.QUEUED in statuses:
                for lane in range(SEND_LANES):
                    self._schedule(("send", scope, lane), self._dispatch, scope, client)
            if js.PROCESSING in statuses:
                self._schedule(("poll", scope), self._poll, scope, client)
            for r in free:
                if r["status"] == js.SUBMITTING:
                    self._schedule(("job", r["task_uuid"]), self._resend, r["task_uuid"], client)
                elif r["status"] == js.DOWNLOADING:
                    self._schedule(("job", r["task_uuid"]), self._download, r["task_uuid"], client)

    # -- submit ---------------------------------------------------------------------------------------

    def _send_lease(self, client: RunwareClient) -> float:
        # True by construction: a call cannot outlast worst_case_seconds, so once the lease runs out the
        # submit is over, and resending under the same taskUUID cannot race it.
        return client.worst_case_seconds() + 5.0

    def _dispatch(self, scope, client: RunwareClient) -> None:
        while not self._stop.is_set():
            limiter = client.limiter
            if limiter and limiter.used() >= limiter.per_minute:
                return
            job = self.store.claim_next_queued(*scope, max_in_flight=self.config.max_in_flight,
                                               owner=self.owner, seconds=self._send_lease(client))
            if job is None:
                return
            self._send(job, client)

    def _resend(self, task_uuid: str, client: RunwareClient) -> None:
        job = self.store.get(task_uuid)
        # Once Abandon was asked for, nothing is sent again: the intent's check goes first.
        if job and job.status == js.SUBMITTING and not job.intent:
            job = self.store.lease(job, self.owner, self._send_lease(client))
            if job:
                self._send(job, client)

    def _send(self, job: Job, client: RunwareClient) -> None:
        """Send a leased "submitting" job; record the outcome and give the lease back."""
        sent_before = job.attempts > 0
        job = self.store.write(job, "attempt", attempts=job.attempts + 1)
        if job is None:
            return
        try:
            # The demo simulator schedules renders fairly across workspaces (not secret: a random label).
            client.submit(self._wire_task(job), extra_headers={WORKSPACE_HEADER: job.workspace}
                          if job.api_url.startswith(DEMO_LABEL) else None)
        except ApiError as exc:
            self._send_failed(job, client, exc, sent_before)
            return
        self._settle(job, "accepted", submitted_at=time.time(), error=None, strikes=0,
                     next_at=time.time() + self.config.poll_min)

    def _wire_task(self, job: Job) -> dict:
        """The task as sent: the stored task plus the studio's webhook, when it has one."""
        hook = self.config.webhook_url
        if hook and not job.task.get("webhookURL") and not job.api_url.startswith(DEMO_LABEL):
            return {**job.task, "webhookURL": hook}
        return job.task

    def _send_failed(self, job: Job, client: RunwareClient, exc: ApiError, sent_before: bool) -> None:
        now = time.time()
        if exc.retryable:
            # Runware may or may not have it: the call is over, so resend the same taskUUID after a pause.
            self._settle(job, "attempt", next_at=now + _backoff(job.attempts),
                         error={"code": "notConfirmed", "message": str(exc)})
            return
        if sent_before:
            has = self._runware_has(job, client)
            if has is None:
                self._settle(job, "attempt", next_at=now + _backoff(job.attempts), error={
                    "code": "notConfirmed", "message": f"{exc} Runware may have the job from an earlier try; "
                                                      "it is asked again before anything else happens."})
                return
            if has:
                self._settle(job, "accepted", submitted_at=now, error=None, next_at=now)
                return
        if exc.status in KEY_PROBLEMS:
            code, message = KEY_PROBLEMS[exc.status]
            error = {"code": code, "message": message, "detail": exc.errors[0] if exc.errors else None}
        else:
            error = exc.errors[0] if exc.errors else {"code": f"http{exc.status}", "message": str(exc)}
        self._settle(job, "refused", error={k: v for k, v in error.items() if v is not None},
                     finished_at=now)

    def _settle(self, job: Job, event: str, **changes) -> Job | None:
        """Record a send's outcome and give the lease back. A page may have left an intent meanwhile
        (Abandon while the submit was under way), which moves the revision: the outcome is then written
        on a fresh read while the lease is still ours, so what Runware answered is never lost."""
        for _ in range(3):
            done = self.store.release(job, event, **changes)
            if done is not None:
                return done
            fresh = self.store.get(job.task_uuid)
            if fresh is None or fresh.lease_owner != self.owner or fresh.status != job.status:
                return None
            job = fresh
        return None

    def _runware_has(self, job: Job, client: RunwareClient) -> bool | None:
        """Whether an earlier attempt reached Runware after all; None when it cannot be told."""
        try:
            update = client.poll([job.task_uuid])[job.task_uuid]
        except ApiError:
            return None
        return not (update.not_found or (update.error and not update.results))

    # -- poll -----------------------------------------------------------------------------------------

    def _call_lease(self, client: RunwareClient) -> float:
        return client.worst_case_seconds() + 5.0

    def _poll(self, scope, client: RunwareClient) -> None:
        # Once any job of the key is due, every one of them rides along: ONE getResponse per key.
        jobs = self.store.lease_due(*scope, js.PROCESSING, owner=self.owner, seconds=self._call_lease(client),
                                    horizon=self.config.poll_max + self.config.job_timeout)
        if not jobs:
            return
        try:
            updates = client.poll([j.task_uuid for j in jobs])
        except ApiError as exc:
            self._poll_failed(scope, jobs, exc)
            return
        for job in jobs:
            # One job's bad answer (or a failing write) must not strand the others of the poll under
            # a lease until it expires: each is applied on its own, and a failed one is given back.
            try:
                self._apply(job, updates[job.task_uuid], client)
            except Exception:
                log.exception("applying a poll answer to a job failed")
                self._give_back(job)

    def _poll_failed(self, scope, jobs: list[Job], exc: ApiError) -> None:
        now = time.time()
        if exc.status in KEY_PROBLEMS:
            # An accepted job is never written off for a key problem: it waits and says why.
            code, message = KEY_PROBLEMS[exc.status]
            reason = f"{message} The job waits and resumes when a working key is there."
            self._rested[scope] = (now + KEY_REST_SECONDS, reason)
            # The rest holds the whole key back; the jobs stay due, so unrest() (the key pasted
            # again) resumes them at once instead of a minute later.
            note, delay = {"code": code, "message": reason}, self.config.poll_min * 2
        else:
            note, delay = {"code": "pollFailed", "message": str(exc)}, self.config.poll_min * 2
        for job in jobs:
            if self._timed_out(job, now):
                self.store.release(job, "timed_out", finished_at=now, error=self._timeout_error())
            else:
                self.store.release(job, "update", error=note, next_at=now + delay)

    def _give_back(self, job: Job) -> None:
        """Release a job whose action failed unexpectedly, to be tried again after a pause."""
        fresh = self.store.get(job.task_uuid)
        if fresh is not None and fresh.lease_owner == self.owner:
            try:
                self.store.release(fresh, next_at=time.time() + self.config.poll_max)
            except Exception:  # the lease then runs out on its own
                log.exception("giving a job's lease back failed")

    def _timed_out(self, job: Job, now: float) -> bool:
        return now - (job.submitted_at or job.created_at) > self.config.job_timeout

    def _timeout_error(self) -> dict:
        return {"code": "studioTimeout",
                "message": f"Still processing after {self.config.job_timeout:.0f} s. Re-check to keep waiting."}

    def _apply(self, job: Job, update: TaskUpdate, client: RunwareClient, recheck: bool = False) -> None:
        """Record what one answer said of one leased job, and give the lease back."""
        now = time.time()
        results = merge_results(job.results, update.results, job.number_results, fresh_urls=recheck)
        changes = {"results": results, "cost": total_cost(results), "intent": None,
                   "progress": update.progress if update.progress is not None else job.progress}
        complete = len(results) >= job.number_results
        # A re-check asks even when results are known: their URLs failed, getTaskDetails may have fresh ones.
        if update.not_found and (recheck or not results):
            update = self._ask_details(job, client, update)
            results = merge_results(job.results, update.results, job.number_results, fresh_urls=True)
            changes.update(results=results, cost=total_cost(results))
            complete = len(results) >= job.number_results
        prefix = "rechecked_" if recheck else ""
        if recheck and update.not_found:
            # Gone everywhere: say so, rather than fetch the known (failed) URLs once more.
            self.store.release(job, "rechecked_failed", error=_gone_error(), finished_at=now, **changes)
            return
        if complete or (update.error and results):
            # Partial results are kept: the delivered videos are downloaded even if another failed.
            error = None if complete else {**update.error, "partial": True}
            self.store.release(job, prefix + "delivered" if recheck else "delivered", error=error,
                               strikes=0, next_at=now, **changes)
        elif update.malformed or update.not_found:
            strikes = job.strikes + 1
            if strikes >= MAX_STRIKES or recheck:
                error = ({"code": "malformedAnswer", "message": update.malformed} if update.malformed
                         else _gone_error())
                self.store.release(job, prefix + "failed", error=error, finished_at=now, **changes)
            else:
                self.store.release(job, "update", strikes=strikes, next_at=now + self.config.poll_min, **changes)
        elif update.error:
            self.store.release(job, prefix + "failed", error=update.error, finished_at=now, **changes)
        elif recheck:
            self.store.release(job, "rechecked_running", submitted_at=now, error=None, finished_at=None,
                               next_at=now + self.config.poll_min, **changes)
        elif self._timed_out(job, now):
            self.store.release(job, "timed_out", finished_at=now, error=self._timeout_error(), **changes)
        else:
            age = now - (job.submitted_at or job.created_at)
            self.store.release(job, "update", error=None, strikes=0,
                               next_at=now + poll_interval(age, self.config.poll_min, self.config.poll_max),
                               **changes)

    def _ask_details(self, job: Job, client: RunwareClient, update: TaskUpdate) -> TaskUpdate:
        """getResponse no longer knows the task: getTaskDetails may still have its results."""
        try:
            details = client.task_details(job.task_uuid)
        except ApiError:
            return update
        return details if details.results else update

    # -- download -------------------------------------------------------------------------------------

    def _download(self, task_uuid: str, client: RunwareClient) -> None:
        job = self.store.get(task_uuid)
        lease = self.config.download_deadline + sum(client.timeout) + 5.0
        job = self.store.lease(job, self.owner, lease) if job and job.status == js.DOWNLOADING else None
        if job is None:
            return
        fmt = str(job.task.get("outputFormat") or "MP4").upper()
        results = [dict(r) for r in job.results]
        for index, result in enumerate(results):
            if result.get("file"):
                continue
            dest = local_path(self.media_dir, job.task_uuid, index, fmt)
            try:
                client.download(result.get("videoURL", ""), dest, max_bytes=self.config.max_video_bytes,
                                deadline_seconds=self.config.download_deadline)
            except DownloadError as exc:
                self._download_failed(job, results, index, exc)
                return
            result["file"] = dest.name
            result.pop("download_error", None)
            poster = make_poster(dest)
            if poster is not None:
                result["poster"] = poster.name
            # Each result may take a whole download deadline: the lease is renewed with every write,
            # or it could run out mid-job and another engine fetch the same videos.
            job = self.store.lease(job, self.owner, lease, "fetched", results=results)
            if job is None:
                return
        self.store.release(job, "partial" if job.error else "downloaded", finished_at=time.time(), next_at=None)
        if self.config.after_download:
            self.config.after_download()

    def _download_failed(self, job: Job, results: list[dict], index: int, exc: DownloadError) -> None:
        result = results[index]
        result["download_error"] = str(exc)
        result["download_attempts"] = result.get("download_attempts", 0) + 1
        if exc.permanent or result["download_attempts"] >= MAX_DOWNLOAD_ATTEMPTS:
            self.store.release(job, "download_failed", results=results, finished_at=time.time(), error={
                "code": "downloadFailed", "message": f"{exc} Re-check to ask Runware for the video again."})
        else:
            self.store.release(job, "fetched", results=results,
                               next_at=time.time() + _backoff(result["download_attempts"]))

    # -- intents --------------------------------------------------------------------------------------

    def _intent(self, task_uuid: str, client: RunwareClient) -> None:
        job = self.store.get(task_uuid)
        if job is None or not job.intent:
            return
        job = self.store.lease(job, self.owner, self._call_lease(client))
        if job is None:
            return
        if job.intent == "abandon" and job.status != js.SUBMITTING:
            # Accepted meanwhile (a resend's answer came back): it runs at Runware, so it is followed.
            self.store.release(job, intent=None)
        elif job.intent == "abandon":
            self._abandon(job, client)
        else:
            self._recheck(job, client)

    def _recheck(self, job: Job, client: RunwareClient) -> None:
        try:
            update = client.poll([job.task_uuid])[job.task_uuid]
        except ApiError as exc:
            self.store.release(job, error={"code": "recheckFailed", "message": str(exc)}, intent=None)
            return
        self._apply(job, update, client, recheck=True)

    def _abandon(self, job: Job, client: RunwareClient) -> None:
        has = self._runware_has(job, client)
        now = time.time()
        if has:
            self.store.release(job, "accepted", submitted_at=now, error=None, intent=None, next_at=now)
        else:
            self.store.release(job, "abandon", intent=None, finished_at=now, error=abandoned_note(has))


def _gone_error() -> dict:
    return {"code": "resultGone", "message": "Runware no longer knows this task, or its results have expired "
                                             "(result URLs live for their ttl). Re-check to ask again."}


def abandoned_note(runware_said_no: bool | None) -> dict:
    if runware_said_no is False:
        return {"code": "abandoned", "message": "Stopped: Runware said it does not have this job."}
    return {"code": "abandoned", "message": "Stopped before Runware confirmed it. Runware could not be asked, so "
                                            "it may still have the job (and charge for it)."}


def merge_results(known: list[dict], new: list[dict], limit: int, *, fresh_urls: bool = False) -> list[dict]:
    """Known results plus new ones by videoUUID, at most `limit` (extra results are not trusted).
    With `fresh_urls` (a re-check), a known result takes the new URL and forgets its failed downloads."""
    merged = [dict(r) for r in known]
    for item in new:
        twin = next((r for r in merged if r.get("videoUUID") == item.get("videoUUID")), None)
        if twin is None and len(merged) < limit:
            merged.append(dict(item))
        elif twin is not None and fresh_urls and not twin.get("file"):
            twin.update(item)
            twin.pop("download_error", None)
            twin.pop("download_attempts", None)
    return merged


def total_cost(results: list[dict]) -> float | None:
    costs = [r["cost"] for r in results if r.get("cost") is not None]
    return round(sum(costs), 4) if costs else None
