"""Daily spend caps for a deployment with a server key (a hosted demo spends the operator's money).

Every job is stored with its *estimated* cost (the model's list price for its duration, resolution and
number of results) when it is submitted. Today's spend (UTC) is then, over the jobs on the server's key:
the actual `cost` Runware reported when known, else the estimate; a job never sent (cancelled, or refused
before Runware took it) counts nothing. Queued and running jobs count their estimate, so a burst of
submits cannot slip under the cap before any is billed. A job without a known price counts $0, and the
refusal message says how many of those there are.

The check and the insert are one transaction (`JobStore.add(admit=...)`), and on PostgreSQL the check
takes an advisory lock first, so two replicas cannot both pass the cap with the last dollar.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from . import jobstate as js

# Every spend check of the deployment takes this lock (PostgreSQL); SQLite's BEGIN IMMEDIATE already
# lets one writer in at a time.
_LOCK_NAME = "studio-spend-cap"

_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*s\b")
_SHORT_SIDE = re.compile(r"\b(\d{3,4})p\b")
_PAIR = re.compile(r"\b(\d{3,4})x(\d{3,4})\b")


class SpendCapExceeded(Exception):
    """Submitting this job would pass a daily cap; the message gives the numbers."""


@dataclass(frozen=True)
class Spend:
    total: float
    unpriced: int  # jobs counted as $0 because no price is known for them


def day_start(now: float) -> float:
    """00:00 UTC of the day `now` falls in (caps reset then, whatever the server's time zone)."""
    moment = datetime.fromtimestamp(now, timezone.utc)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


# -- the estimate ------------------------------------------------------------------------------------

def _short_side(model, task: dict) -> int | None:
    if task.get("width") and task.get("height"):
        return min(int(task["width"]), int(task["height"]))
    size = model.resolution_size(task["resolution"]) if task.get("resolution") and model else None
    return min(size) if size else None


def _audio_on(model, task: dict) -> bool:
    """The model's audio switch as the task sets it (list prices differ with audio)."""
    if not model or not model.audio:
        return False
    value = task
    for part in model.audio.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return bool(value)


def _matches(configuration: str, task: dict, side: int | None, audio: bool) -> bool:
    """Whether a listed price configuration ("1080p, 5 s, with audio") describes this job."""
    text = configuration.lower()
    sides = [int(n) for n in _SHORT_SIDE.findall(text)] + ([2160] if "4k" in text else [])
    pairs = [(int(a), int(b)) for a, b in _PAIR.findall(text)]
    if pairs and (task.get("width"), task.get("height")) not in pairs:
        return False
    if sides and side not in sides:
        return False
    if "video input" in text and not (task.get("inputs") or {}).get("video"):
        return False
    with_audio = "with audio" in text or re.search(r"\baudio,", text) is not None
    return with_audio == audio


def estimate(model, task: dict) -> float | None:
    """The list price in USD of running `task`, or None when the catalog knows no price for it.

    A listed configuration that matches the job's resolution, length and audio gives the price; one
    of another length is scaled to the job's (list prices are per clip, often per second). Of several
    matches the dearest wins, so a cap errs on the side of refusing. Otherwise the model's per-second
    price."""
    if model is None:
        return None
    duration = float(task.get("duration") or model.default_duration or 0)
    results = int(task.get("numberResults") or 1)
    side, audio = _short_side(model, task), _audio_on(model, task)
    exact, scaled = [], []
    for entry in model.prices:
        config, usd = str(entry.get("configuration", "")), entry.get("usd")
        seconds = _SECONDS.search(config.lower())
        if usd is None or not seconds or not _matches(config, task, side, audio):
            continue
        seconds = float(seconds.group(1))
        (exact if seconds == duration else scaled).append(float(usd) if seconds == duration
                                                          else float(usd) / seconds * duration)
    if exact or scaled:
        per_result = max(exact or scaled)
    elif model.price_per_second_usd is not None:
        per_result = model.price_per_second_usd * duration
    else:
        return None
    return round(per_result * results, 4)


# -- today's spend and the check ---------------------------------------------------------------------

# What a job counts: never sent -> nothing; otherwise the billed cost, else the estimate.
_COUNTED = (f"CASE WHEN status = '{js.CANCELLED}' OR (status = '{js.ERROR}' AND submitted_at IS NULL) "
            "THEN 0 ELSE COALESCE(cost, estimated_cost, 0) END")
_UNPRICED = (f"CASE WHEN status <> '{js.CANCELLED}' AND cost IS NULL AND estimated_cost IS NULL "
             "THEN 1 ELSE 0 END")


def spent(runner, key_id: str, since: float, workspace: str | None = None) -> Spend:
    """Spend on one key since `since` (of one workspace, if given). `runner` is a Database or an open
    Transaction (the check must read inside the transaction that inserts)."""
    query = (f"SELECT COALESCE(SUM({_COUNTED}), 0) AS total, COALESCE(SUM({_UNPRICED}), 0) AS unpriced "
             "FROM jobs WHERE key_id = ? AND created_at >= ?")
    args = [key_id, since]
    if workspace is not None:
        query, args = query + " AND workspace = ?", args + [workspace]
    row = runner.query_one(query, args)
    return Spend(float(row["total"]), int(row["unpriced"]))


def _refusal(spend: Spend, job_cost: float | None, cap: float, whose: str) -> str:
    this = "this job $0.00 (no list price known)" if job_cost is None else f"this job ${job_cost:.2f}"
    text = f"{whose} spend ${spend.total:.2f} + {this} would pass the daily cap of ${cap:.2f}"
    if spend.unpriced:
        text += f" ({spend.unpriced} of today's jobs have no known price and count as $0)"
    return text + ". The cap resets at 00:00 UTC."


@dataclass(frozen=True)
class Caps:
    daily: float = 0.0      # 0: off
    workspace: float = 0.0  # 0: off

    @property
    def on(self) -> bool:
        return self.daily > 0 or self.workspace > 0

    def admit(self, *, key_id: str, workspace: str, cost: float | None, now: float):
        """A check for JobStore.add(admit=...): run inside the insert's transaction, it raises
        SpendCapExceeded when the job would take today's spend past a cap."""
        def check(tx) -> None:
            if tx.dialect == "postgresql":
                tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [_LOCK_NAME])
            since, extra = day_start(now), cost or 0.0
            for cap, ws, whose in ((self.daily, None, "Today's"),
                                   (self.workspace, workspace, "This workspace's")):
                if cap <= 0:
                    continue
                spend = spent(tx, key_id, since, ws)
                # A little slack for float sums: $5.00 of $5.00 is at the cap, not past it.
                if spend.total + extra > cap + 1e-9:
                    raise SpendCapExceeded(_refusal(spend, cost, cap, whose))
        return check
