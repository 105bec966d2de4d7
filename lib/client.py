"""The Runware REST client: one request path, typed errors, retries that are safe to make.

Every POST goes through `_post`, which adds auth and (connect, read) timeouts, draws from the shared
request budget, and turns every failure into ApiError. Retrying a POST is safe here: a submit resent
under the same taskUUID is answered `conflictTaskUUID` (counted as accepted), and getResponse only reads.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .budget import WINDOW_SECONDS, RateLimiter
from .errors import ApiError, DownloadError

log = logging.getLogger("studio.client")

RETRY_STATUSES = (429, 500, 502, 503, 504)
# Retry-After is honoured, but a server asking for an hour must not freeze a page for an hour.
MAX_RETRY_AFTER = 30.0
_FAILED = {"error", "failed"}


class _BudgetedRetry(Retry):
    """urllib3's Retry, with two additions: a retry draws from the request budget like any request,
    and Retry-After is honoured only up to MAX_RETRY_AFTER."""

    limiter: RateLimiter | None = None

    def new(self, **kw):
        retry = super().new(**kw)
        retry.limiter = self.limiter
        return retry

    def get_retry_after(self, response):
        after = super().get_retry_after(response)
        return None if after is None else min(after, MAX_RETRY_AFTER)

    def sleep(self, response=None):
        super().sleep(response)
        if self.limiter:
            # Blocks until a slot frees; the slot then counts from now, when the retry goes out.
            self.limiter.release(self.limiter.acquire(max_wait=WINDOW_SECONDS))


@dataclass
class TaskUpdate:
    """What one poll says about one task."""
    task_uuid: str
    status: str  # "processing", "success" or "error"
    results: list[dict] = field(default_factory=list)
    error: dict | None = None


def looks_like_video(head: bytes) -> bool:
    """MP4/MOV carry an 'ftyp' box first; WEBM starts with the EBML magic."""
    return head[4:8] == b"ftyp" or head.startswith(b"\x1a\x45\xdf\xa3")


class RunwareClient:
    def __init__(self, api_key: str, api_url: str, *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 limiter: RateLimiter | None = None, retries: int = 4, backoff: float = 0.5,
                 budget_wait: float = 5.0):
        if not api_key:
            raise ValueError("an API key is required")
        self._api_key = api_key
        self.api_url = api_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.limiter = limiter
        self.retries = retries
        self.backoff = backoff
        self.budget_wait = budget_wait
        retry = _BudgetedRetry(
            total=retries, connect=retries, read=retries, status=retries, other=0,
            backoff_factor=backoff, backoff_jitter=backoff, backoff_max=20,
            status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"POST", "GET"}),
            respect_retry_after_header=True, raise_on_status=False,
        )
        retry.limiter = limiter
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=retry, pool_maxsize=16))
        self.session.mount("https://", HTTPAdapter(max_retries=retry, pool_maxsize=16))
        self.session.headers["User-Agent"] = "runware-video-studio"

    def __repr__(self) -> str:
        return f"RunwareClient(api_url={self.api_url!r})"

    def worst_case_seconds(self) -> float:
        """About the longest one call can take with every attempt timing out: how long a submit may
        still be under way, so nobody resends it while it is."""
        connect, read = self.timeout
        return (self.retries + 1) * (connect + read + MAX_RETRY_AFTER)

    # -- the one request path -------------------------------------------------------------------

    def _post(self, tasks: list[dict], *, extra_headers: dict | None = None) -> dict:
        """POST an array of tasks; the parsed body of a 2xx answer, else ApiError."""
        slot = self.limiter.acquire(self.budget_wait) if self.limiter else None
        if self.limiter and slot is None:
            raise ApiError("The studio's request budget for this minute is used up; it will retry shortly.",
                           retryable=True)
        try:
            return self._post_within_budget(tasks, extra_headers)
        finally:
            if self.limiter:
                self.limiter.release(slot)

    def _post_within_budget(self, tasks: list[dict], extra_headers: dict | None) -> dict:
        headers = {"Authorization": f"Bearer {self._api_key}", "Content-Type": "application/json",
                   **(extra_headers or {})}
        kinds = sorted({t.get("taskType", "?") for t in tasks})
        label = f"POST {self.api_url} {','.join(kinds)} x{len(tasks)}"
        # urllib3's Retry covers connection errors, timeouts and 429/5xx statuses. A body cut short,
        # or one that is not JSON under a good status, comes after it: only those retry here.
        for attempt in range(self.retries + 1):
            started = time.monotonic()
            try:
                resp = self.session.post(self.api_url, data=json.dumps(tasks), headers=headers,
                                         timeout=self.timeout)
                body = resp.json()
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
                failure = ApiError(f"Runware's answer was cut short ({type(exc).__name__}).", retryable=True)
            except requests.exceptions.JSONDecodeError:
                # Under a good status the body was garbled on the way: try again. Under an error
                # status it is some proxy's page: a 5xx was retried by urllib3 already, and a 4xx
                # (a wrong URL, a proxy refusing) will not change by asking again.
                good = resp.status_code < 400
                failure = ApiError(f"Runware answered HTTP {resp.status_code} with a body that is not JSON.",
                                   status=resp.status_code, retryable=good or resp.status_code in RETRY_STATUSES)
                if not good:
                    break
            except requests.exceptions.InvalidHeader:
                failure = ApiError("The API key contains characters that cannot be sent; check the key.")
                break
            except requests.exceptions.RequestException as exc:
                failure = ApiError(f"Could not reach Runware ({type(exc).__name__}).", retryable=True)
                break  # retried by urllib3 already
            except UnicodeError:  # http.client encodes headers as latin-1; the message would hold the key
                failure = ApiError("The API key contains characters that cannot be sent; check the key.")
                break
            else:
                log.debug("%s -> %s in %.2fs", label, resp.status_code, time.monotonic() - started)
                return self._check(resp.status_code, body)
            log.debug("%s failed (attempt %d): %s", label, attempt + 1, failure)
            if attempt < self.retries:
                time.sleep(min(self.backoff * 2 ** attempt, 10))
        log.debug("%s gave up: %s", label, failure)
        raise failure

    @staticmethod
    def _check(status: int, body) -> dict:
        if not isinstance(body, dict):
            # Under a good status the body was garbled on the way; asking again is safe.
            raise ApiError(f"Runware answered HTTP {status} with an unexpected body.", status=status,
                           retryable=status < 300 or status in RETRY_STATUSES)
        errors = body.get("errors") or []
        if 200 <= status < 300:
            return body
        message = errors[0].get("message", "") if errors and isinstance(errors[0], dict) else ""
        raise ApiError(f"Runware answered HTTP {status}: {message or 'no message'}", status=status,
                       errors=[e for e in errors if isinstance(e, dict)], retryable=status in RETRY_STATUSES)

    # -- operations --------------------------------------------------------------------------------

    def submit(self, task: dict) -> None:
        """Send one task. Returns when Runware has it (a repeat of a known taskUUID counts)."""
        try:
            body = self._post([task])
        except ApiError as exc:
            if any(e.get("code") == "conflictTaskUUID" for e in exc.errors):
                log.debug("submit %s: already known (conflictTaskUUID), counted as accepted", task["taskUUID"])
                return
            raise
        for err in body.get("errors") or []:
            if err.get("code") == "conflictTaskUUID":
                continue
            raise ApiError(f"Runware refused the task: {err.get('message', '')}", status=400, errors=[err])

    def dry_run_cost(self, task: dict) -> float | None:
        """Validate a task and learn its cost without running it (X-Runware-Dry-Run)."""
        body = self._post([{**task, "includeCost": True}], extra_headers={"X-Runware-Dry-Run": "1"})
        for item in body.get("data") or []:
            if item.get("cost") is not None:
                return float(item["cost"])
        return None

    def poll(self, task_uuids: list[str]) -> dict[str, TaskUpdate]:
        """One HTTP request for any number of tasks; an update for every one of them."""
        if not task_uuids:
            return {}
        try:
            body = self._post([{"taskType": "getResponse", "taskUUID": u} for u in task_uuids])
        except ApiError as exc:
            # A 400 that speaks only of particular tasks is an answer about those tasks.
            if exc.status == 400 and exc.errors and all(e.get("taskUUID") for e in exc.errors):
                body = {"data": [], "errors": exc.errors}
            else:
                raise
        updates = {u: TaskUpdate(u, "processing") for u in task_uuids}
        for item in body.get("data") or []:
            update = updates.get(item.get("taskUUID")) if isinstance(item, dict) else None
            if update is None:
                continue
            status = str(item.get("status", "")).lower()
            if item.get("videoURL"):
                video_uuid = item.get("videoUUID")
                if not video_uuid or not any(r.get("videoUUID") == video_uuid for r in update.results):
                    update.results.append({k: item.get(k) for k in ("videoUUID", "videoURL", "seed", "cost")
                                           if item.get(k) is not None})
            elif status in _FAILED:
                update.status, update.error = "error", item
        for err in body.get("errors") or []:
            update = updates.get(err.get("taskUUID")) if isinstance(err, dict) else None
            if update is not None:
                update.status, update.error = "error", err
        for update in updates.values():
            if update.status != "error" and update.results:
                update.status = "success"  # per result; the caller compares with numberResults
        return updates

    def download(self, url: str, dest: Path, *, max_bytes: int) -> Path:
        """Stream a result video to `dest`, whole or not at all."""
        if not str(url).startswith(("http://", "https://")):
            raise DownloadError("Runware reported a result without a video URL.", permanent=True)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-", suffix=dest.suffix)
        try:
            with os.fdopen(fd, "wb") as out:
                self._stream_to(url, out, max_bytes)
            with open(tmp, "rb") as f:
                if not looks_like_video(f.read(12)):
                    raise DownloadError("The result URL did not return a video.", permanent=True)
            os.replace(tmp, dest)
            log.debug("downloaded %s -> %s (%d bytes)", url, dest.name, dest.stat().st_size)
            return dest
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _stream_to(self, url: str, out, max_bytes: int) -> None:
        try:
            with self.session.get(url, stream=True, timeout=self.timeout) as resp:
                if resp.status_code in (403, 404, 410):
                    raise DownloadError(f"The video is no longer available (HTTP {resp.status_code}); "
                                        "its URL may have expired.", permanent=True)
                if resp.status_code != 200:
                    raise DownloadError(f"Downloading the video failed (HTTP {resp.status_code}).", permanent=False)
                length = int(resp.headers.get("Content-Length") or 0)
                if length > max_bytes:
                    raise DownloadError(f"The video is larger than the {max_bytes // 2**20} MB limit.", permanent=True)
                written = 0
                for chunk in resp.iter_content(chunk_size=1 << 16):
                    written += len(chunk)
                    if written > max_bytes:
                        raise DownloadError(f"The video is larger than the {max_bytes // 2**20} MB limit.",
                                            permanent=True)
                    out.write(chunk)
                if length and written != length:
                    raise DownloadError("The download was cut short.", permanent=False)
        except requests.exceptions.RequestException as exc:
            raise DownloadError(f"The download was interrupted ({type(exc).__name__}).", permanent=False) from None
