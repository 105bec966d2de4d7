"""The durable job store: one SQLite file in STUDIO_DATA_DIR, shared by every session.

A job's row is written *before* its submit is sent (status "submitting"), so a crash or a refresh
mid-submit loses nothing: on the next tick the same taskUUID is sent again, and Runware's
`conflictTaskUUID` answer tells us it already had it. Statuses:

  queued      waiting for room in the tasks-in-flight budget; not sent yet
  submitting  row written, submit under way or to be resent under the same taskUUID (`error`
              then holds why the last attempt failed)
  processing  Runware accepted it; being polled
  success     every result is fetched into the local media folder
  error       Runware or the download said no; `error` holds Runware's code and message
  timeout     still processing after the job timeout; can be re-checked
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

PENDING = ("queued", "submitting", "processing")
IN_FLIGHT = ("submitting", "processing")
FINISHED = ("success", "error", "timeout")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    task_uuid      TEXT PRIMARY KEY,
    workspace      TEXT NOT NULL,
    api_url        TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL,
    submitted_at   REAL,
    finished_at    REAL,
    model          TEXT NOT NULL,
    prompt         TEXT NOT NULL,
    duration       REAL,
    width          INTEGER,
    height         INTEGER,
    number_results INTEGER NOT NULL DEFAULT 1,
    task_json      TEXT NOT NULL,
    results_json   TEXT NOT NULL DEFAULT '[]',
    error_json     TEXT,
    cost           REAL,
    attempts       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
CREATE INDEX IF NOT EXISTS jobs_workspace_created ON jobs (workspace, created_at);
"""

COLUMNS = ["task_uuid", "workspace", "api_url", "key_id", "status", "created_at", "updated_at", "submitted_at",
           "finished_at", "model", "prompt", "duration", "width", "height", "number_results", "task_json",
           "results_json", "error_json", "cost", "attempts"]


@dataclass
class Job:
    task_uuid: str
    workspace: str
    api_url: str
    key_id: str
    status: str
    created_at: float
    updated_at: float
    submitted_at: float | None
    finished_at: float | None
    model: str
    prompt: str
    duration: float | None
    width: int | None
    height: int | None
    number_results: int
    task: dict
    results: list[dict] = field(default_factory=list)
    error: dict | None = None
    cost: float | None = None
    attempts: int = 0

    @property
    def pending(self) -> bool:
        return self.status in PENDING

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Job":
        d = dict(row)
        return cls(task=json.loads(d.pop("task_json")), results=json.loads(d.pop("results_json")),
                   error=json.loads(d.pop("error_json")) if d["error_json"] else None,
                   **{k: v for k, v in d.items() if k != "error_json"})


class JobStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _conn(self):
        # One connection per thread: Streamlit runs each session's script in its own thread.
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        yield db

    # -- writes --------------------------------------------------------------------------------------

    def add(self, task: dict, *, workspace: str, api_url: str, key_id: str, status: str = "queued") -> Job:
        """Record a job before it is sent. The task holds no API key (auth travels in a header);
        `key_id` is a short hash that tells which key the job belongs to."""
        now = time.time()
        row = {"task_uuid": task["taskUUID"], "workspace": workspace, "api_url": api_url, "key_id": key_id,
               "status": status,
               "created_at": now, "updated_at": now, "model": task["model"],
               "prompt": task.get("positivePrompt", ""), "duration": task.get("duration"),
               "width": task.get("width"), "height": task.get("height"),
               "number_results": task.get("numberResults", 1), "task_json": json.dumps(task)}
        with self._conn() as db:
            db.execute(f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                       list(row.values()))
        return self.get(task["taskUUID"])

    @staticmethod
    def _columns(changes: dict) -> dict:
        """Field names to columns: results and error are stored as JSON."""
        out = dict(changes)
        for name, column in (("results", "results_json"), ("error", "error_json")):
            if name in out:
                value = out.pop(name)
                out[column] = json.dumps(value) if value is not None else None
        out["updated_at"] = time.time()
        return out

    def update(self, task_uuid: str, **changes) -> None:
        changes = self._columns(changes)
        sets = ", ".join(f"{k} = ?" for k in changes)
        with self._conn() as db:
            db.execute(f"UPDATE jobs SET {sets} WHERE task_uuid = ?", [*changes.values(), task_uuid])

    def claim(self, task_uuid: str, from_status: str, to_status: str, **changes) -> bool:
        """Move a job between statuses only if no one else did first (compare-and-set)."""
        changes = self._columns({"status": to_status, **changes})
        sets = ", ".join(f"{k} = ?" for k in changes)
        with self._conn() as db:
            cur = db.execute(f"UPDATE jobs SET {sets} WHERE task_uuid = ? AND status = ?",
                             [*changes.values(), task_uuid, from_status])
            return cur.rowcount == 1

    def delete(self, task_uuid: str, workspace: str | None = None) -> bool:
        query, args = "DELETE FROM jobs WHERE task_uuid = ?", [task_uuid]
        if workspace is not None:
            query, args = query + " AND workspace = ?", args + [workspace]
        with self._conn() as db:
            return db.execute(query, args).rowcount == 1

    # -- reads ---------------------------------------------------------------------------------------

    def get(self, task_uuid: str, workspace: str | None = None) -> Job | None:
        query, args = "SELECT * FROM jobs WHERE task_uuid = ?", [task_uuid]
        if workspace is not None:
            query, args = query + " AND workspace = ?", args + [workspace]
        with self._conn() as db:
            row = db.execute(query, args).fetchone()
        return Job.from_row(row) if row else None

    def jobs(self, *, statuses=None, workspace: str | None = None, api_url: str | None = None,
             key_id: str | None = None, limit: int | None = None) -> list[Job]:
        where, args = self._where(statuses, workspace, api_url, key_id)
        query = f"SELECT * FROM jobs{where} ORDER BY created_at DESC"
        if limit:
            query += f" LIMIT {int(limit)}"
        with self._conn() as db:
            return [Job.from_row(r) for r in db.execute(query, args)]

    def count(self, *, statuses=None, workspace: str | None = None, api_url: str | None = None,
              key_id: str | None = None) -> int:
        where, args = self._where(statuses, workspace, api_url, key_id)
        with self._conn() as db:
            return db.execute(f"SELECT COUNT(*) FROM jobs{where}", args).fetchone()[0]

    def frame(self, workspace: str | None = None) -> pd.DataFrame:
        """Every job of a workspace as a DataFrame, newest first (the history table's source). The
        task itself is left out: it can carry megabytes of inline frame images."""
        where, args = self._where(None, workspace, None, None)
        columns = ", ".join(c for c in COLUMNS if c != "task_json")
        with self._conn() as db:
            return pd.read_sql_query(f"SELECT {columns} FROM jobs{where} ORDER BY created_at DESC", db, params=args)

    def version(self, workspace: str | None = None) -> tuple:
        """Changes whenever any job of the workspace changes: cheap to ask on every rerun."""
        where, args = self._where(None, workspace, None, None)
        with self._conn() as db:
            return tuple(db.execute(f"SELECT COUNT(*), MAX(updated_at) FROM jobs{where}", args).fetchone())

    @staticmethod
    def _where(statuses, workspace, api_url, key_id) -> tuple[str, list]:
        clauses, args = [], []
        if statuses:
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
            args += list(statuses)
        for column, value in (("workspace", workspace), ("api_url", api_url), ("key_id", key_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args
