"""Filtered, paged reads of the job table for History and the Gallery, done in SQL.

With 100,000 jobs, reading every row into pandas to filter and page it costs seconds; the database
answers "how many match" and "rows 200-299 of those" in milliseconds with the right indexes. Each
function returns raw store rows (the columns of `JobStore.frame`), for `lib.history.shape`.

Text search is case-insensitive with LIKE on LOWER(...): on SQLite that folds ASCII letters only.
"""
from __future__ import annotations

from dataclasses import dataclass

import json

import pandas as pd

from . import jobstate
from .store import JobStore

# What History and the Gallery show of a job; never task_json (it can hold megabytes of inline images).
FRAME_COLUMNS = ("task_uuid", "workspace", "api_url", "key_id", "status", "created_at", "updated_at",
                 "submitted_at", "finished_at", "model", "prompt", "duration", "width", "height",
                 "number_results", "results_json", "error_json", "cost", "attempts", "progress", "sweep_id",
                 "favourite", "rating", "note", "tags_json")


@dataclass(frozen=True)
class JobFilter:
    """What to list. Empty fields do not filter. Hashable, so it can key a cache."""
    statuses: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    text: str = ""  # in the prompt, the task id or the note
    favourite: bool = False
    tags: tuple[str, ...] = ()  # jobs carrying every one of them
    sweeps: tuple[str, ...] = ()  # sweep ids
    min_rating: int | None = None
    videos_only: bool = False  # finished with at least one local video copy (the Gallery)


def _like_pattern(text: str) -> str:
    """`text` as a LIKE pattern (with ESCAPE '\\') that matches it literally, anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _tag_pattern(tag: str) -> str:
    """Matches one whole tag inside tags_json (a JSON list written by json.dumps, as the store keeps it)."""
    return _like_pattern(json.dumps(" ".join(tag.split()).lower()))


def _where(workspace: str, f: JobFilter) -> tuple[str, list]:
    clauses, args = ["workspace = ?"], [workspace]
    if f.statuses:
        clauses.append(f"status IN ({', '.join('?' * len(f.statuses))})")
        args += list(f.statuses)
    if f.models:
        clauses.append(f"model IN ({', '.join('?' * len(f.models))})")
        args += list(f.models)
    if f.text.strip():
        clauses.append("(LOWER(prompt) LIKE ? ESCAPE '\\' OR LOWER(task_uuid) LIKE ? ESCAPE '\\' "
                       "OR LOWER(note) LIKE ? ESCAPE '\\')")
        args += [_like_pattern(f.text.strip().lower())] * 3
    if f.favourite:
        clauses.append("favourite = 1")
    for tag in f.tags:
        clauses.append("tags_json LIKE ? ESCAPE '\\'")
        args.append(_tag_pattern(tag))
    if f.sweeps:
        clauses.append(f"sweep_id IN ({', '.join('?' * len(f.sweeps))})")
        args += list(f.sweeps)
    if f.min_rating:
        clauses.append("rating >= ?")
        args.append(int(f.min_rating))
    if f.videos_only:
        clauses.append("status = ? AND results_json LIKE ?")
        args += [jobstate.SUCCESS, '%"file"%']
    return " WHERE " + " AND ".join(clauses), args


def count(store: JobStore, workspace: str, f: JobFilter = JobFilter()) -> int:
    where, args = _where(workspace, f)
    return store.db.query_one(f"SELECT COUNT(*) AS n FROM jobs{where}", args)["n"]


def rows(store: JobStore, workspace: str, f: JobFilter = JobFilter(), *, offset: int = 0,
         limit: int | None = None) -> pd.DataFrame:
    """The matching jobs, newest first: `limit` of them from `offset` (every one with no limit)."""
    where, args = _where(workspace, f)
    query = f"SELECT {', '.join(FRAME_COLUMNS)} FROM jobs{where} ORDER BY created_at DESC, task_uuid"
    if limit is not None:
        query += f" LIMIT {int(limit)} OFFSET {max(0, int(offset))}"
    return pd.DataFrame(store.db.query(query, args), columns=list(FRAME_COLUMNS))


def distinct(store: JobStore, workspace: str, column: str) -> list[str]:
    """The values a column takes in a workspace, sorted (the choices of a filter)."""
    if column not in ("model", "status"):
        raise ValueError(f"not a filterable column: {column}")
    found = store.db.query(f"SELECT DISTINCT {column} AS v FROM jobs WHERE workspace = ?", [workspace])
    return sorted(r["v"] for r in found)


def tags(store: JobStore, workspace: str) -> list[str]:
    """Every tag used in a workspace, sorted. Jobs share few distinct tag lists: those are read, not every job."""
    found = store.db.query("SELECT DISTINCT tags_json AS t FROM jobs WHERE workspace = ? AND tags_json <> '[]'",
                           [workspace])
    return sorted({tag for r in found for tag in json.loads(r["t"] or "[]")})


def sweep_tasks(store: JobStore, workspace: str, sweep_id: str) -> list[dict]:
    """The tasks of a sweep's jobs, in the order they were queued (to queue them again)."""
    found = store.db.query("SELECT task_json FROM jobs WHERE workspace = ? AND sweep_id = ? ORDER BY created_at",
                           [workspace, sweep_id])
    return [json.loads(r["task_json"]) for r in found]


def pages(total: int, per_page: int) -> int:
    """How many pages `total` items fill (at least one, so a page number input always has a range)."""
    return max(1, -(-total // per_page))
