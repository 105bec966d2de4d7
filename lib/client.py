"""The Runware REST client: one request path, one retry layer, typed errors.

Every POST goes through `_post`: auth header, (connect, read) timeouts, one request-budget slot per
HTTP attempt, one attempt count and one total deadline per call, and every failure turned into
ApiError. Retrying a POST is safe here: a submit resent under the same taskUUID is answered
`conflictTaskUUID` (counted as accepted), and getResponse only reads. Nothing a server sends is
trusted: answers are parsed by `lib.answers`, which checks every field.
"""
from __future__ import annotations

import json
import logging
import random
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import requests

from . import answers, logs
from .answers import TaskUpdate
from .budget import RateLimiter
from .errors import ApiError
from . import netfetch
from .netfetch import ResponseTooLarge, looks_like_video, read_limited  # noqa: F401 (re-exported)

log = logging.getLogger("studio.client")

RETRY_STATUSES = (429, 500, 502, 503, 504)
# Retry-After is honoured, but only up to this and never past the call's deadline.
MAX_RETRY_AFTER = 10.0
# API answers are small JSON; a larger body is a broken or hostile server.
MAX_ANSWER_BYTES = 8 * 2**20
# What a refusal at submit means for the user, by HTTP status (the job ends: asking again cannot help).
KEY_PROBLEMS = {
    401: ("keyRefused", "The API key was refused by Runware."),
    402: ("balanceTooLow", "The Runware balance is too low for this job."),
    403: ("modelNotAllowed", "This API key may not use this model."),
}


class _Retry(Exception):
    def __init__(self, error: ApiError, wait: float | None = None):
        self.error, self.wait = error, wait


class RunwareClient:
    def __init__(self, api_key: str, api_url: str, *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 limiter: RateLimiter | None = None, retries: int = 2, backoff: float = 0.5,
                 deadline: float = 45.0, budget_wait: float = 5.0, extra_headers: dict | None = None,
                 resolve: netfetch.Resolver | None = None, is_public=None):
        if not api_key:
            raise ValueError("an API key is required")
        self._api_key = api_key
        self.api_url = api_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.limiter = limiter
        self.retries = retries
        self.backoff = backoff
        self.deadline = deadline
        self.budget_wait = budget_wait
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "runware-video-studio"
        self.session.headers.update(extra_headers or {})
        # A Watchdog can end these connections at a call's deadline (see _attempt).
        self.session.mount("http://", netfetch.WatchedAdapter())
        self.session.mount("https://", netfetch.WatchedAdapter())
        # Result videos: from the API's own host, or from public addresses only (tests inject both).
        self.fetch_policy = netfetch.FetchPolicy(self.api_url, resolve=resolve, is_public=is_public)
        # What every string from the server goes through before anyone keeps it. By default this
        # client's own key; the engine sets its KeyRing's redact (every key the process holds).
        self.redact: answers.Redact = lambda text: logs.scrub(text, [self._api_key])

    def __repr__(self) -> str:
        return f"RunwareClient(api_url={self.api_url!r})"

    def worst_case_seconds(self) -> float:
        """The longest one call can last: its deadline, plus one connect and one read that started just
        before it. A submit may be under way that long, so nobody resends it sooner."""
        connect, read = self.timeout
        return self.deadline + connect + read

    def close(self) -> None:
        self.session.close()

    # -- the one request path -------------------------------------------------------------------

    def _post(self, tasks: list[dict], *, extra_headers: dict | None = None) -> dict:
        """POST an array of tasks; the parsed body of a 2xx answer, else ApiError."""
        headers = {"Authorization": f"Bearer {self._api_key}", "Content-Type": "application/json",
                   **(extra_headers or {})}
        kinds = ",".join(sorted({str(t.get("taskType", "?")) for t in tasks}))
        label = f"POST {self.api_url} {kinds} x{len(tasks)}"
        data = json.dumps(tasks)
        deadline = time.monotonic() + self.deadline
        for attempt in range(self.retries + 1):
            try:
                return self._attempt(data, headers, label, deadline)
            except _Retry as retry:
                failure, wait = retry.error, retry.wait
            log.debug("%s failed (attempt %d): %s", label, attempt + 1, failure)
            if wait is None:
                wait = self.backoff * 2 ** attempt * (1 + random.random() / 2)
            if attempt == self.retries or time.monotonic() + wait >= deadline:
                break
            time.sleep(wait)
        log.debug("%s gave up: %s", label, failure)
        raise failure

    def _attempt(self, data: str, headers: dict, label: str, deadline: float) -> dict:
        """One HTTP attempt under one budget slot. Returns the body, raises _Retry (worth another
        attempt) or ApiError (final)."""
        remaining = deadline - time.monotonic()
        slot = self.limiter.acquire(min(self.budget_wait, max(0.0, remaining))) if self.limiter else None
        if self.limiter and slot is None:
            raise ApiError("The studio's request budget for this minute is used up; it will retry shortly.",
                           retryable=True)
        started = time.monotonic()
        # Timeouts are per read: a server sending its status line a byte at a time would hold the call
        # for ever. The watchdog shuts the connection at the deadline, whatever is being read.
        watch = netfetch.Watchdog(deadline)
        try:
            connect, read = self.timeout
            try:
                with watch, self.session.post(self.api_url, data=data, headers=headers, stream=True,
                                              timeout=(connect, max(0.1, min(read, remaining)))) as resp:
                    raw = read_limited(resp, MAX_ANSWER_BYTES, deadline)
                    status, retry_after = resp.status_code, resp.headers.get("Retry-After")
            except Exception:
                if watch.fired:  # the failure is the shutdown's, not the server's
                    raise TimeoutError() from None
                raise
            if watch.fired:  # what was read may have been cut short by the shutdown
                raise TimeoutError()
        except ResponseTooLarge:
            raise _Retry(ApiError("Runware's answer was larger than any real answer.", retryable=True)) from None
        except TimeoutError:
            raise ApiError("Runware did not answer in time.", retryable=True) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            raise _Retry(ApiError(f"Runware's answer was cut short ({type(exc).__name__}).", retryable=True))
        except (requests.exceptions.InvalidHeader, UnicodeError):
            # http.client encodes headers as latin-1; the message would hold the key.
            raise ApiError("The API key contains characters that cannot be sent; check the key.") from None
        except requests.exceptions.RequestException as exc:
            raise _Retry(ApiError(f"Could not reach Runware ({type(exc).__name__}).", retryable=True)) from None
        finally:
            if self.limiter:
                self.limiter.release(slot)
        log.debug("%s -> %s in %.2fs", label, status, time.monotonic() - started)
        return self._check(status, raw, retry_after)

    def _check(self, status: int, raw: bytes, retry_after: str | None) -> dict:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            # Under a good status the body was garbled on the way: asking again is safe. Under an error
            # status it is some proxy's page: a 4xx (wrong URL, proxy refusing) will not change.
            error = ApiError(f"Runware answered HTTP {status} with a body that is not a JSON object.",
                             status=status, retryable=status < 300 or status in RETRY_STATUSES)
            if error.retryable:
                raise _Retry(error, _retry_after(retry_after) if status in RETRY_STATUSES else None)
            raise error
        errors = answers.error_items(body, self.redact)
        if 200 <= status < 300:
            return body
        message = errors[0].get("message", "") if errors else ""
        error = ApiError(f"Runware answered HTTP {status}: {message or 'no message'}", status=status,
                         errors=errors, retryable=status in RETRY_STATUSES)
        if error.retryable:
            raise _Retry(error, _retry_after(retry_after))
        raise error

    # -- operations --------------------------------------------------------------------------------

    def submit(self, task: dict, *, extra_headers: dict | None = None) -> None:
        """Send one task. Returns when Runware has it (a repeat of a known taskUUID counts)."""
        try:
            body = self._post([task], extra_headers=extra_headers)
        except ApiError as exc:
            if any(e.get("code") == "conflictTaskUUID" for e in exc.errors):
                log.debug("submit %s: already known (conflictTaskUUID), counted as accepted", task["taskUUID"])
                return
            raise
        for err in answers.error_items(body, self.redact):
            if err.get("code") != "conflictTaskUUID":
                raise ApiError(f"Runware refused the task: {err.get('message', '')}", status=400, errors=[err])

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
        return answers.task_updates(body, task_uuids, self.redact)

    def task_details(self, task_uuid: str) -> TaskUpdate:
        """getTaskDetails: what Runware still knows of a past task (for a re-check)."""
        try:
            body = self._post([{"taskType": "getTaskDetails", "taskUUID": task_uuid}])
        except ApiError as exc:
            if exc.status in (400, 404) and exc.errors:
                body = {"data": [], "errors": exc.errors}
            else:
                raise
        return answers.task_details(body, task_uuid, self.redact)

    def account(self) -> dict:
        """accountManagement getDetails: one cheap request that proves a key works; its balance."""
        body = self._post([{"taskType": "accountManagement", "operation": "getDetails",
                            "taskUUID": answers.new_uuid()}])
        return answers.account_summary(body)

    def download(self, url: str, dest: Path, *, max_bytes: int, deadline_seconds: float = 600.0) -> Path:
        """Stream a result video to `dest`, whole or not at all (DownloadError otherwise)."""
        return netfetch.download(url, dest, max_bytes=max_bytes, timeout=self.timeout,
                                 deadline_seconds=deadline_seconds, policy=self.fetch_policy)

    def dry_run_cost(self, task: dict) -> float | None:
        """Validate a task and learn its cost without running it (X-Runware-Dry-Run)."""
        body = self._post([{**task, "includeCost": True}], extra_headers={"X-Runware-Dry-Run": "1"})
        return answers.dry_run_cost(body)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), capped; None when absent or odd."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)
