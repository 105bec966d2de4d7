"""One polling step, and the submit that precedes it.

`Tracker.tick()` is what the page's polling fragment calls: it sends queued jobs when the budgets
allow, resends submits that never got an answer (same taskUUID: safe), polls every processing job in
ONE getResponse request, and copies finished videos into the media folder. It never sleeps to wait
for a job; a call inside it may wait for the client's retries or for the shared request budget.

Every status change is a compare-and-set in the store, so when two sessions act on one job, the
first change wins and the second is a no-op: a job Runware accepted is never overwritten as failed.

A tracker works on the jobs of one API URL and one key (`key_id`, a short hash, never the key), so a
session that pasted its own key never spends it on another session's jobs.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .client import RunwareClient
from .errors import ApiError, DownloadError
from .media import local_path
from .store import IN_FLIGHT, PENDING, Job, JobStore

log = logging.getLogger("studio.tracker")

# A submit still unanswered after this long (at least; see Tracker.resubmit_after) is sent again under
# the same taskUUID. One whose last attempt ended in a failure is sent again at the next tick: it
# cannot still be under way.
RESUBMIT_AFTER = 20.0
# Transient download failures before a job is marked failed (it can be re-checked).
MAX_DOWNLOAD_ATTEMPTS = 5
# Dispatch decisions (count in flight, then claim) must not interleave across sessions.
_dispatch_lock = threading.Lock()
# When each (API URL, key) was last polled by any session of the process: open tabs share one poll.
_last_poll: dict[tuple[str, str], float] = {}
_poll_lock = threading.Lock()


def key_id(api_key: str) -> str:
    """A stable, non-reversible label for a key, to tell whose jobs are whose."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def next_interval(pending: list[Job], now: float, low: float, high: float) -> float | None:
    """Poll quickly while the newest job is young, backing off as it ages; None when idle.

    A few steps rather than a smooth curve: the page re-arms its timer only when the step changes."""
    if not pending:
        return None
    youngest_age = min(now - (j.submitted_at or j.created_at) for j in pending)
    step = low if youngest_age < 15 else 3.0 if youngest_age < 60 else 6.0 if youngest_age < 180 else high
    return min(high, max(low, step))


@dataclass
class TickReport:
    requests: int = 0
    finished: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    problem: str | None = None  # an API/network failure worth telling the user about


class Tracker:
    def __init__(self, store: JobStore, client: RunwareClient, *, key: str, media_dir: Path,
                 max_in_flight: int = 10, job_timeout: float = 600.0, max_video_bytes: int = 500 * 2**20,
                 scope_url: str | None = None, min_poll_gap: float = 0.0, resubmit_after: float | None = None):
        self.store = store
        self.client = client
        # The label jobs are filed under: the API URL, or a stable name for the demo simulator,
        # whose port changes from run to run.
        self.api_url = scope_url or client.api_url
        self.key_id = key_id(key)
        self.media_dir = Path(media_dir)
        self.max_in_flight = max_in_flight
        self.job_timeout = job_timeout
        self.max_video_bytes = max_video_bytes
        # Skip the poll when another session polled the same jobs this recently: it stored the
        # answer, which this session reads from the store. Keeps N open tabs at one poll per beat.
        self.min_poll_gap = min_poll_gap
        # Never resend while another session's submit of the same job may still be under way.
        self.resubmit_after = (max(RESUBMIT_AFTER, client.worst_case_seconds())
                               if resubmit_after is None else resubmit_after)

    def _mine(self) -> dict:
        """The store filter for this tracker's jobs: its API URL and its key."""
        return {"api_url": self.api_url, "key_id": self.key_id}

    def in_flight(self) -> int:
        return self.store.count(statuses=IN_FLIGHT, **self._mine())

    # -- submit -------------------------------------------------------------------------------------

    def submit(self, task: dict, workspace: str) -> Job:
        """Record the job (before anything is sent), then send it if the budgets allow."""
        self.store.add(task, workspace=workspace, status="queued", **self._mine())
        report = TickReport()
        self.dispatch(report)
        return self.store.get(task["taskUUID"])

    def dispatch(self, report: TickReport) -> None:
        """Send queued jobs while fewer than max_in_flight are in flight and the rate budget allows."""
        while not report.problem:  # after one failure this tick, the rest would only wait too
            with _dispatch_lock:
                limiter = self.client.limiter
                if limiter and limiter.used() >= limiter.per_minute:
                    return
                if self.store.count(statuses=IN_FLIGHT, **self._mine()) >= self.max_in_flight:
                    return
                queued = self.store.jobs(statuses=["queued"], **self._mine())
                if not queued:
                    return
                job = queued[-1]  # oldest first
                if not self.store.claim(job.task_uuid, "queued", "submitting"):
                    continue
            self._send(job, report)

    def _send(self, job: Job, report: TickReport) -> None:
        sent_before = job.attempts > 0
        self.store.update(job.task_uuid, attempts=job.attempts + 1)
        report.requests += 1
        try:
            self.client.submit(job.task)
        except ApiError as exc:
            if exc.retryable:
                # Runware may or may not have it: stay "submitting" and resend the same taskUUID later.
                report.problem = str(exc)
                self.store.claim(job.task_uuid, "submitting", "submitting",
                                 error={"code": "notConfirmed", "message": str(exc)})
                return
            if sent_before and self._runware_has(job, report):
                self._accepted(job, report)
                return
            error = exc.errors[0] if exc.errors else {"code": f"http{exc.status}", "message": str(exc)}
            if self.store.claim(job.task_uuid, "submitting", "error", error=error, finished_at=time.time()):
                report.finished.append(job.task_uuid)
            return
        self._accepted(job, report)

    def _accepted(self, job: Job, report: TickReport) -> None:
        if self.store.claim(job.task_uuid, "submitting", "processing", submitted_at=time.time(), error=None):
            report.changed.append(job.task_uuid)

    def _runware_has(self, job: Job, report: TickReport) -> bool:
        """Whether an earlier attempt reached Runware after all: ask before calling the job failed."""
        report.requests += 1
        try:
            update = self.client.poll([job.task_uuid])[job.task_uuid]
        except ApiError:
            return True  # cannot tell: keep it pending rather than lose a job that may be running
        return update.status != "error"

    # -- the polling step ---------------------------------------------------------------------------

    def tick(self) -> TickReport:
        report = TickReport()
        now = time.time()
        for job in self.store.jobs(statuses=["submitting"], **self._mine()):
            if report.problem:
                break
            if job.error or now - job.updated_at > self.resubmit_after:
                self._send(job, report)
        processing = self.store.jobs(statuses=["processing"], **self._mine())
        if processing:
            self._poll(processing, report)
        # After the poll, so capacity freed by jobs that just finished is used in this same tick.
        self.dispatch(report)
        return report

    def _poll(self, jobs: list[Job], report: TickReport) -> None:
        waiting = [j for j in jobs if len(j.results) < j.number_results]
        updates = {}
        if waiting and self._poll_due():
            report.requests += 1
            try:
                updates = self.client.poll([j.task_uuid for j in waiting])
            except ApiError as exc:
                report.problem = str(exc)
                return
        now = time.time()
        for job in jobs:
            update = updates.get(job.task_uuid)
            if update and update.status == "error":
                self._finish(job, report, "error", error=update.error)
                continue
            results = list(job.results)
            for item in update.results if update else []:
                if not any(r.get("videoUUID") == item.get("videoUUID") for r in results):
                    results.append(item)
            if results != job.results:
                costs = [r["cost"] for r in results if r.get("cost") is not None]
                self.store.update(job.task_uuid, results=results, cost=round(sum(costs), 4) if costs else None)
                job.results = results
                report.changed.append(job.task_uuid)
            if len(results) >= job.number_results:
                self._download(job, report)
            elif now - (job.submitted_at or job.created_at) > self.job_timeout:
                self._finish(job, report, "timeout", error={
                    "code": "studioTimeout",
                    "message": f"Still processing after {self.job_timeout:.0f} s. Re-check to keep waiting."})

    def _poll_due(self) -> bool:
        scope, now = (self.api_url, self.key_id), time.monotonic()
        with _poll_lock:
            if now - _last_poll.get(scope, float("-inf")) < self.min_poll_gap:
                return False
            _last_poll[scope] = now
            return True

    def _download(self, job: Job, report: TickReport) -> None:
        fmt = job.task.get("outputFormat", "MP4")
        results = [dict(r) for r in job.results]
        for index, result in enumerate(results):
            if result.get("file"):
                continue
            dest = local_path(self.media_dir, job.task_uuid, index, fmt)
            report.requests += 1
            try:
                self.client.download(result.get("videoURL", ""), dest, max_bytes=self.max_video_bytes)
                result["file"] = dest.name
                result.pop("download_error", None)
            except DownloadError as exc:
                result["download_error"] = str(exc)
                result["download_attempts"] = result.get("download_attempts", 0) + 1
                if exc.permanent or result["download_attempts"] >= MAX_DOWNLOAD_ATTEMPTS:
                    self.store.update(job.task_uuid, results=results)
                    self._finish(job, report, "error", error={"code": "downloadFailed", "message": str(exc)})
                    return
        self.store.update(job.task_uuid, results=results)
        if all(r.get("file") for r in results):
            self._finish(job, report, "success")

    def _finish(self, job: Job, report: TickReport, status: str, error: dict | None = None) -> None:
        # Only from "processing": another session may have finished (or re-checked) it meanwhile.
        if self.store.claim(job.task_uuid, "processing", status, error=error, finished_at=time.time()):
            report.finished.append(job.task_uuid)
            log.debug("job %s -> %s", job.task_uuid, status)

    # -- user actions --------------------------------------------------------------------------------

    def owns(self, job: Job) -> bool:
        """Whether this tracker (its API URL and key) is the one that can poll the job."""
        return job.api_url == self.api_url and job.key_id == self.key_id

    def can_recheck(self, job: Job) -> bool:
        """A timed-out job, or one whose download failed, that this tracker can poll again."""
        retryable = job.status == "timeout" or (job.status == "error"
                                                and (job.error or {}).get("code") == "downloadFailed")
        return retryable and bool(job.submitted_at) and self.owns(job)

    def pending(self, workspace: str | None = None) -> list[Job]:
        """Jobs still to be sent or finished that this tracker will handle."""
        return self.store.jobs(statuses=PENDING, workspace=workspace, **self._mine())

    def recheck(self, task_uuid: str) -> bool:
        """Put a timed-out job, or one whose download failed, back to polling. Never resubmits."""
        job = self.store.get(task_uuid)
        if job is None or not self.can_recheck(job):
            return False
        results = [{k: v for k, v in r.items() if k not in ("download_error", "download_attempts")}
                   for r in job.results]
        # submitted_at restarts so the job gets a full job_timeout of waiting again.
        return self.store.claim(task_uuid, job.status, "processing", error=None, finished_at=None,
                                results=results, submitted_at=time.time())
