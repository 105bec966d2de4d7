"""Reading Runware's answers without trusting them. Every field of every item is checked: a malformed
item touches only its own task (TaskUpdate.malformed says why), an answer malformed as a whole fails
that request (a retryable ApiError), and nothing odd ever raises anything else.

Every string kept from an answer first goes through `redact` (the caller's: the engine passes its KeyRing's),
so an API or proxy that echoes a key back never gets it stored, shown or exported."""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Callable

from .errors import ApiError

# Runware's codes for "no task with this taskUUID" (the simulator's, and the documented 404 kind).
NOT_FOUND_CODES = {"taskNotFound", "notFound", "taskUUIDNotFound"}
_FAILED = {"error", "failed"}
_TEXT_LIMIT = 1000
_URL_LIMIT = 4096
_SEED_MAX = 2**63 - 1
Redact = Callable[[str], str]


def _as_is(text: str) -> str:
    return text


@dataclass
class TaskUpdate:
    """What one answer says about one task."""
    task_uuid: str
    status: str = "processing"  # "processing", "success" (some results) or "error"
    results: list[dict] = field(default_factory=list)
    error: dict | None = None
    progress: int | None = None
    malformed: str | None = None  # why an item for this task could not be used

    @property
    def not_found(self) -> bool:
        return bool(self.error) and self.error.get("code") in NOT_FOUND_CODES


def new_uuid() -> str:
    return str(uuid.uuid4())


def _text(value, limit: int = _TEXT_LIMIT, redact: Redact = _as_is) -> str | None:
    if not isinstance(value, str):
        return None
    value = redact(value)  # before cutting: a cut could leave most of a key behind
    return value if len(value) <= limit else value[:limit] + "…"


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def clean_error(item, redact: Redact = _as_is) -> dict:
    """A Runware error item reduced to plain, bounded strings and numbers (it is shown to people)."""
    if not isinstance(item, dict):
        return {"code": "unknown", "message": _text(str(item), 200, redact) or ""}
    out = {}
    for key in ("code", "message", "parameter", "taskUUID", "taskType", "documentation", "type", "status"):
        text = _text(item.get(key), redact=redact)
        if text is not None:
            out[key] = text
    for key in ("min", "max"):
        number = _number(item.get(key))
        if number is not None:
            out[key] = number
    allowed = item.get("allowedValues")
    if isinstance(allowed, list):
        out["allowedValues"] = [redact(v) if isinstance(v, str) else v for v in allowed[:50]
                                if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    out.setdefault("code", "unknown")
    out.setdefault("message", "")
    return out


def error_items(body: dict, redact: Redact = _as_is) -> list[dict]:
    errors = body.get("errors")
    return [clean_error(e, redact) for e in errors] if isinstance(errors, list) else []


def _data_items(body: dict) -> list:
    data = body.get("data", [])
    if data is None:
        return []
    if not isinstance(data, list):
        raise ApiError("Runware's answer was malformed (its data is not a list).", retryable=True)
    return data


def _result(item: dict, redact: Redact = _as_is) -> tuple[dict | None, str | None]:
    """One delivered video from an item, or why it cannot be used."""
    url = item.get("videoURL")
    if not isinstance(url, str) or len(url) > _URL_LIMIT or not url.startswith(("https://", "http://")):
        return None, "its video URL is not a web address"
    video_uuid = item.get("videoUUID")
    if video_uuid is not None and not (isinstance(video_uuid, str) and 0 < len(video_uuid) <= 100):
        return None, "its videoUUID is not a short string"
    # A URL cannot be redacted and still work: one that carries a key is not kept at all.
    if redact(url) != url or (video_uuid and redact(video_uuid) != video_uuid):
        return None, "it carries an API key"
    result = {"videoURL": url, "videoUUID": video_uuid or url}
    seed = item.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not -_SEED_MAX <= seed <= _SEED_MAX:
            return None, "its seed is not a whole number"
        result["seed"] = seed
    if "cost" in item and item["cost"] is not None:
        cost = _number(item["cost"])
        if cost is None or cost < 0:
            return None, "its cost is not a number"
        result["cost"] = cost
    return result, None


def task_updates(body: dict, task_uuids: list[str], redact: Redact = _as_is) -> dict[str, TaskUpdate]:
    """A getResponse answer as one TaskUpdate per asked task; items for other tasks are ignored."""
    updates = {u: TaskUpdate(u) for u in task_uuids}
    for item in _data_items(body):
        update = updates.get(item.get("taskUUID")) if isinstance(item, dict) else None
        if update is None:
            continue
        status = item.get("status")
        status = status.lower() if isinstance(status, str) else ""
        if "videoURL" in item:
            result, problem = _result(item, redact)
            if problem:
                update.malformed = f"A result from Runware could not be used: {problem}."
            elif not any(r["videoUUID"] == result["videoUUID"] for r in update.results):
                update.results.append(result)
        elif status in _FAILED:
            update.error = clean_error(item, redact)
        progress = item.get("progress")
        if isinstance(progress, int) and not isinstance(progress, bool) and 0 <= progress <= 100:
            update.progress = progress
    for err in error_items(body, redact):
        update = updates.get(err.get("taskUUID"))
        if update is not None:
            update.error = err
    for update in updates.values():
        update.status = "error" if update.error else "success" if update.results else "processing"
    return updates


def task_details(body: dict, task_uuid: str, redact: Redact = _as_is) -> TaskUpdate:
    """getTaskDetails: the task's results if Runware still has them. Its items look like getResponse
    items (or carry them under `response`), so both shapes are read."""
    items, errors = [], list(body.get("errors") or []) if isinstance(body.get("errors"), list) else []
    for item in _data_items(body):
        if not isinstance(item, dict):
            continue
        response = item.get("response")
        if isinstance(response, dict):  # {"data": [...], "errors": [...]}, as getResponse would answer
            items += [r for r in response.get("data") or [] if isinstance(r, dict)]
            errors += [e for e in response.get("errors") or [] if isinstance(e, dict)]
        elif isinstance(response, list):
            items += [r for r in response if isinstance(r, dict)]
        else:
            items.append(item)
    flat = {"data": [{**i, "taskUUID": i.get("taskUUID", task_uuid)} for i in items],
            "errors": [{**e, "taskUUID": e.get("taskUUID", task_uuid)} for e in errors]}
    return task_updates(flat, [task_uuid], redact)[task_uuid]


def account_summary(body: dict) -> dict:
    """Only what the studio shows of an account: its balance (never organization, team or keys)."""
    for item in _data_items(body):
        if isinstance(item, dict):
            balance = _number(item.get("balance"))
            if balance is None and isinstance(item.get("organization"), dict):
                balance = _number(item["organization"].get("balance"))
            return {"balance": balance}
    return {"balance": None}


def dry_run_cost(body: dict) -> float | None:
    for item in _data_items(body):
        if isinstance(item, dict) and _number(item.get("cost")) is not None:
            return _number(item["cost"])
    return None
