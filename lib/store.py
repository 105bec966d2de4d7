"""The durable job store, shared by every session and every engine (SQLite file or PostgreSQL).

A job's row is written *before* anything is sent. Every write is conditional on the revision the
writer read (compare-and-set), and status changes go through the table in `jobstate`, so a slow
writer can never overwrite what another recorded. Before the engine acts on a job over the network it
takes a *lease* (owner + expiry): nobody else acts on a job whose lease is live, and a crashed owner's
lease simply runs out.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from . import jobstate
from .db import Database, IntegrityError
from .jobstate import IN_FLIGHT, PENDING
from .migrations import migrate

# Columns kept as JSON text, by field name.
_JSON = {"task": "task_json", "results": "results_json", "error": "error_json", "tags": "tags_json"}
_UNSET = object()
MAX_NOTE = 2000
MAX_TAGS, MAX_TAG = 20, 40


class DuplicateSubmit(Exception):
    """The same request was just submitted in this workspace (a double click, or a second tab)."""

    def __init__(self, job: "Job"):
        self.job = job
        super().__init__("already submitted")


class BadAnnotation(ValueError):
    """A rating, note or tag the store does not keep (said in words a user can act on)."""


@dataclass(frozen=True)
class Sweep:
    """A named group of jobs queued together from one set of varied parameters."""
    sweep_id: str
    workspace: str
    name: str
    created_at: float
    spec: dict

    @classmethod
    def from_row(cls, row: dict) -> "Sweep":
        return cls(row["sweep_id"], row["workspace"], row["name"], row["created_at"],
                   json.loads(row["spec_json"] or "{}"))


def clean_tags(tags) -> list[str]:
    """Tags as kept: trimmed, lower-case, unique, in the order given."""
    out: list[str] = []
    for tag in tags or ():
        tag = " ".join(str(tag).split()).lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise BadAnnotation(f"A tag is at most {MAX_TAG} characters.")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise BadAnnotation(f"A job takes at most {MAX_TAGS} tags.")
    return out


@dataclass
class Job:
    task_uuid: str
    workspace: str
    api_url: str
    key_id: str
    status: str
    created_at: float
    updated_at: float
    model: str
    prompt: str
    task: dict
    submitted_at: float | None = None
    finished_at: float | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    number_results: int = 1
    results: list[dict] = field(default_factory=list)
    error: dict | None = None
    cost: float | None = None
    attempts: int = 0
    revision: int = 0
    lease_owner: str | None = None
    lease_until: float | None = None
    next_at: float | None = None
    intent: str | None = None
    progress: int | None = None
    strikes: int = 0
    request_hash: str | None = None
    wake_at: float | None = None
    polled_at: float | None = None
    estimated_cost: float | None = None
    sweep_id: str | None = None
    favourite: bool = False
    rating: int | None = None
    note: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.status in PENDING

    @property
    def scope(self) -> tuple[str, str]:
        return self.api_url, self.key_id

    @classmethod
    def from_row(cls, row: dict) -> "Job":
        d = dict(row)
        for name, column in _JSON.items():
            raw = d.pop(column, None)
            d[name] = json.loads(raw) if raw else ([] if name in ("results", "tags") else None)
        d["favourite"] = bool(d.get("favourite"))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def _columns(changes: dict) -> dict:
    out = {}
    for name, value in changes.items():
        column = _JSON.get(name, name)
        out[column] = json.dumps(value) if name in _JSON and value is not None else value
    return out


class JobStore:
    def __init__(self, db: Database | str | Path):
        """A store on a Database, or on the SQLite file at a path."""
        if not isinstance(db, Database):
            db = Database(f"sqlite:///{Path(db).resolve()}")
        self.db = db
        migrate(self.db)

    @classmethod
    def open(cls, url: str) -> "JobStore":
        return cls(Database.open(url))

    def close(self) -> None:
        self.db.close()

    # -- writes --------------------------------------------------------------------------------------

    def add(self, task: dict, *, workspace: str, api_url: str, key_id: str, request_hash: str | None = None,
            dedupe_seconds: float = 0.0, estimated_cost: float | None = None, admit=None,
            sweep_id: str | None = None) -> Job:
        """Record a job before it is sent (status "queued"). The task holds no API key (auth travels in
        a header); `key_id` tells which key the job belongs to. With a `request_hash`, the same request
        in the same workspace within `dedupe_seconds` raises DuplicateSubmit instead. `admit(tx)`, if
        given, runs in the same transaction before the insert and may raise to refuse the job (a spend
        cap: checking and inserting together is what keeps two replicas from both passing it)."""
        now = time.time()
        with self.db.transaction() as tx:
            if request_hash and dedupe_seconds > 0:
                twin = tx.query_one("SELECT * FROM jobs WHERE workspace = ? AND request_hash = ? AND created_at > ?",
                                    [workspace, request_hash, now - dedupe_seconds])
                if twin:
                    raise DuplicateSubmit(Job.from_row(twin))
            if admit is not None:
                admit(tx)
            _insert(tx, task, now, workspace=workspace, api_url=api_url, key_id=key_id, request_hash=request_hash,
                    estimated_cost=estimated_cost, sweep_id=sweep_id)
        return self.get(task["taskUUID"])

    def add_sweep(self, name: str, tasks: list[dict], *, workspace: str, api_url: str, key_id: str,
                  spec: dict | None = None, costs: list[float | None] | None = None, admit=None,
                  request_hashes: list[str | None] | None = None, dedupe_seconds: float = 0.0
                  ) -> tuple[Sweep, list[Job]]:
        """Record a sweep and all its jobs in one transaction: all are queued or none (`admit(tx)` sees
        the whole sweep's cost). Like `add`, a sweep holding a request this workspace submitted within
        `dedupe_seconds` (a double click on the sweep's button) raises DuplicateSubmit."""
        now = time.time()
        sweep = Sweep(str(uuid.uuid4()), workspace, name.strip()[:120] or "Sweep", now, spec or {})
        costs = costs or [None] * len(tasks)
        hashes = request_hashes or [None] * len(tasks)
        with self.db.transaction() as tx:
            known = [h for h in hashes if h]
            if known and dedupe_seconds > 0:
                twin = tx.query_one(f"SELECT * FROM jobs WHERE workspace = ? AND created_at > ? AND request_hash IN "
                                    f"({', '.join('?' * len(known))}) LIMIT 1", [workspace, now - dedupe_seconds, *known])
                if twin:
                    raise DuplicateSubmit(Job.from_row(twin))
            if admit is not None:
                admit(tx)
            tx.execute("INSERT INTO sweeps (sweep_id, workspace, name, created_at, spec_json) VALUES (?, ?, ?, ?, ?)",
                       [sweep.sweep_id, workspace, sweep.name, now, json.dumps(sweep.spec)])
            for i, (task, cost, digest) in enumerate(zip(tasks, costs, hashes)):
                # Apart by a microsecond each, so "newest first" keeps the grid's order.
                _insert(tx, task, now + i * 1e-6, workspace=workspace, api_url=api_url, key_id=key_id,
                        request_hash=digest, estimated_cost=cost, sweep_id=sweep.sweep_id)
        return sweep, [self.get(t["taskUUID"]) for t in tasks]

    def annotate(self, task_uuid: str, workspace: str, *, favourite: bool | None = None, rating=_UNSET,
                 note: str | None = None, tags=None) -> bool:
        """The user's own marks on a job. Only these columns are written, so no engine write is lost
        and none of them is: the revision (the engine's compare-and-set token) is left alone, and
        updated_at moves so every page's view of the history refreshes."""
        changes: dict = {}
        if favourite is not None:
            changes["favourite"] = 1 if favourite else 0
        if rating is not _UNSET:
            if rating is not None and (isinstance(rating, bool) or rating not in range(1, 6)):
                raise BadAnnotation("A rating is a whole number from 1 to 5.")
            changes["rating"] = rating
        if note is not None:
            if len(note) > MAX_NOTE:
                raise BadAnnotation(f"A note is at most {MAX_NOTE} characters.")
            changes["note"] = note
        if tags is not None:
            changes["tags_json"] = json.dumps(clean_tags(tags))
        if not changes:
            return False
        changes["updated_at"] = time.time()
        sets = ", ".join(f"{column} = ?" for column in changes)
        return self.db.execute(f"UPDATE jobs SET {sets} WHERE task_uuid = ? AND workspace = ?",
                               [*changes.values(), task_uuid, workspace]) == 1

    def write(self, job: Job, event: str = "note", **changes) -> Job | None:
        """Apply `event` (see jobstate) and `changes` if the job is still at the revision `job` was read
        at. The updated Job, or None when someone else changed it first (re-read and decide again)."""
        status = jobstate.target(event, job.status)
        values = _columns({**changes, "status": status, "updated_at": time.time()})
        sets = ", ".join(f"{k} = ?" for k in values)
        row = self.db.query_one(
            f"UPDATE jobs SET {sets}, revision = revision + 1 WHERE task_uuid = ? AND revision = ? RETURNING *",
            [*values.values(), job.task_uuid, job.revision])
        return Job.from_row(row) if row else None

    def lease(self, job: Job, owner: str, seconds: float, event: str = "note", **changes) -> Job | None:
        """Take the job for `seconds` (and apply `event`), if it is unchanged since read and nobody
        else holds a live lease on it."""
        status = jobstate.target(event, job.status)
        now = time.time()
        values = _columns({**changes, "status": status, "updated_at": now, "lease_owner": owner,
                           "lease_until": now + seconds})
        sets = ", ".join(f"{k} = ?" for k in values)
        row = self.db.query_one(
            f"UPDATE jobs SET {sets}, revision = revision + 1 WHERE task_uuid = ? AND revision = ? "
            "AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?) RETURNING *",
            [*values.values(), job.task_uuid, job.revision, now, owner])
        return Job.from_row(row) if row else None

    def release(self, job: Job, event: str = "note", **changes) -> Job | None:
        """Write the outcome of a leased action and give the lease back, in one conditional write."""
        return self.write(job, event, lease_owner=None, lease_until=None, **changes)

    def claim_next_queued(self, api_url: str, key_id: str, *, max_in_flight: int, owner: str,
                          seconds: float) -> Job | None:
        """The oldest queued job of a key, moved to "submitting" under a lease, if fewer than
        `max_in_flight` of that key's jobs are in flight. Counting and claiming are one transaction, so
        the budget holds across sessions and processes."""
        with self.db.transaction() as tx:
            if self.db.dialect == "postgresql":
                tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [key_id])
            in_flight = tx.query_one(f"SELECT COUNT(*) AS n FROM jobs WHERE key_id = ? AND status IN "
                                     f"({', '.join('?' * len(IN_FLIGHT))})", [key_id, *IN_FLIGHT])["n"]
            if in_flight >= max_in_flight:
                return None
            row = tx.query_one("SELECT * FROM jobs WHERE api_url = ? AND key_id = ? AND status = ? "
                               "ORDER BY created_at LIMIT 1" + self.db.for_update_skip_locked(),
                               [api_url, key_id, jobstate.QUEUED])
            if not row:
                return None
            return self.lease(Job.from_row(row), owner, seconds, "send")

    def lease_due(self, api_url: str, key_id: str, status: str, *, owner: str, seconds: float,
                  limit: int = 200, horizon: float = 0.0) -> list[Job]:
        """Lease every job of a scope in `status` whose next action is due within `horizon` seconds and
        whose lease is free, in one statement (row locks skip what another process is taking at the same
        moment). A large horizon takes them all: one poll then covers every job of the key."""
        now = time.time()
        due = ("SELECT task_uuid FROM jobs WHERE api_url = ? AND key_id = ? AND status = ? "
               "AND (next_at IS NULL OR next_at <= ? OR wake_at > COALESCE(polled_at, 0)) "
               "AND (lease_until IS NULL OR lease_until < ?) "
               f"ORDER BY created_at LIMIT {int(limit)}" + self.db.for_update_skip_locked())
        # polled_at is stamped before the request goes out: a webhook that arrives while it is under
        # way is later than it, so the task is polled once more.
        rows = self.db.query(
            "UPDATE jobs SET lease_owner = ?, lease_until = ?, polled_at = ?, revision = revision + 1 "
            f"WHERE task_uuid IN ({due}) AND (lease_until IS NULL OR lease_until < ?) RETURNING *",
            [owner, now + seconds, now, api_url, key_id, status, now + horizon, now, now])
        return [Job.from_row(r) for r in rows]

    def due(self, api_url: str, key_id: str) -> list[dict]:
        """The unfinished jobs of a scope, lean (no task, no results): what the engine looks at each beat.
        A job a webhook asked about since its last poll counts as due now."""
        return self.db.query(
            "SELECT task_uuid, status, lease_until, revision, CASE WHEN wake_at > COALESCE(polled_at, 0) "
            "THEN 0 ELSE next_at END AS next_at FROM jobs WHERE api_url = ? AND key_id = ? "
            f"AND status IN ({', '.join('?' * len(PENDING))}) ORDER BY created_at", [api_url, key_id, *PENDING])

    def wake(self, task_uuids: list[str]) -> int:
        """A webhook said these tasks have news: poll them now. A hint, not a state change (it takes no
        revision, so it never spoils an engine's conditional write); unknown tasks change nothing."""
        if not task_uuids:
            return 0
        return self.db.execute(f"UPDATE jobs SET wake_at = ? WHERE status = ? AND task_uuid IN "
                               f"({', '.join('?' * len(task_uuids))})",
                               [time.time(), jobstate.PROCESSING, *task_uuids])

    def setting(self, name: str, make) -> str:
        """A value kept in the database, made once by whichever process asks first (e.g. the webhook
        token, so every replica agrees on it)."""
        self.db.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                        [name, make()])
        return self.db.query_one("SELECT value FROM meta WHERE name = ?", [name])["value"]

    def typical_seconds(self, model: str, sample: int = 20) -> float | None:
        """The median time from acceptance to finish of a model's recent successful jobs, or None."""
        rows = self.db.query("SELECT finished_at - submitted_at AS took FROM jobs WHERE model = ? AND status = ? "
                             "AND submitted_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY finished_at DESC "
                             f"LIMIT {int(sample)}", [model, jobstate.SUCCESS])
        took = sorted(r["took"] for r in rows if r["took"] is not None and r["took"] >= 0)
        return took[len(took) // 2] if took else None

    def delete(self, task_uuid: str, workspace: str | None = None) -> bool:
        query, args = "DELETE FROM jobs WHERE task_uuid = ?", [task_uuid]
        if workspace is not None:
            query, args = query + " AND workspace = ?", args + [workspace]
        return self.db.execute(query, args) == 1

    # -- reads ---------------------------------------------------------------------------------------

    def sweep(self, sweep_id: str, workspace: str) -> Sweep | None:
        row = self.db.query_one("SELECT * FROM sweeps WHERE sweep_id = ? AND workspace = ?", [sweep_id, workspace])
        return Sweep.from_row(row) if row else None

    def sweeps(self, workspace: str) -> list[Sweep]:
        """A workspace's sweeps, newest first."""
        rows = self.db.query("SELECT * FROM sweeps WHERE workspace = ? ORDER BY created_at DESC", [workspace])
        return [Sweep.from_row(r) for r in rows]

    def sweep_jobs(self, sweep_id: str, workspace: str) -> list[Job]:
        """A sweep's jobs in the order they were queued."""
        rows = self.db.query("SELECT * FROM jobs WHERE sweep_id = ? AND workspace = ? ORDER BY created_at",
                             [sweep_id, workspace])
        return [Job.from_row(r) for r in rows]

    def get(self, task_uuid: str, workspace: str | None = None) -> Job | None:
        query, args = "SELECT * FROM jobs WHERE task_uuid = ?", [task_uuid]
        if workspace is not None:
            query, args = query + " AND workspace = ?", args + [workspace]
        row = self.db.query_one(query, args)
        return Job.from_row(row) if row else None

    def jobs(self, *, statuses=None, workspace: str | None = None, api_url: str | None = None,
             key_id: str | None = None, limit: int | None = None, oldest_first: bool = False) -> list[Job]:
        where, args = _where(statuses, workspace, api_url, key_id)
        query = f"SELECT * FROM jobs{where} ORDER BY created_at {'ASC' if oldest_first else 'DESC'}"
        if limit:
            query += f" LIMIT {int(limit)}"
        return [Job.from_row(r) for r in self.db.query(query, args)]

    def count(self, *, statuses=None, workspace: str | None = None, api_url: str | None = None,
              key_id: str | None = None) -> int:
        where, args = _where(statuses, workspace, api_url, key_id)
        return self.db.query_one(f"SELECT COUNT(*) AS n FROM jobs{where}", args)["n"]

    def with_intent(self) -> list[dict]:
        """Jobs a page asked something of (re-check, abandon), lean."""
        return self.db.query("SELECT task_uuid, api_url, key_id, intent, lease_until FROM jobs WHERE intent IS NOT NULL")

    def active_scopes(self) -> list[tuple[str, str]]:
        """(API URL, key) pairs that have unfinished jobs: what the engine has to look after."""
        rows = self.db.query(f"SELECT DISTINCT api_url, key_id FROM jobs WHERE status IN "
                             f"({', '.join('?' * len(PENDING))})", list(PENDING))
        return [(r["api_url"], r["key_id"]) for r in rows]

    def has_workspace(self, workspace: str) -> bool:
        """Whether any job was ever filed in this workspace."""
        return self.db.query_one("SELECT 1 AS x FROM jobs WHERE workspace = ? LIMIT 1", [workspace]) is not None

    def finished_media(self) -> list[dict]:
        """Finished jobs that may hold local video copies, oldest first, lean (no task): what the media
        folder cap looks through."""
        rows = self.db.query("SELECT task_uuid, results_json FROM jobs WHERE status IN "
                             f"({', '.join('?' * len(jobstate.FINISHED))}) AND results_json LIKE ? "
                             "ORDER BY COALESCE(finished_at, created_at), created_at",
                             [*jobstate.FINISHED, '%"file"%'])
        return [{"task_uuid": r["task_uuid"], "results": json.loads(r["results_json"] or "[]")} for r in rows]

    def frame(self, workspace: str | None = None) -> pd.DataFrame:
        """Every job of a workspace as a DataFrame, newest first (the history table's source). The
        task itself is left out: it can carry megabytes of inline frame images."""
        where, args = _where(None, workspace, None, None)
        columns = ("task_uuid, workspace, api_url, key_id, status, created_at, updated_at, submitted_at, "
                   "finished_at, model, prompt, duration, width, height, number_results, results_json, "
                   "error_json, cost, attempts, progress, sweep_id, favourite, rating, note, tags_json")
        rows = self.db.query(f"SELECT {columns} FROM jobs{where} ORDER BY created_at DESC", args)
        return pd.DataFrame(rows, columns=[c.strip() for c in columns.split(",")])

    def version(self, workspace: str | None = None) -> tuple:
        """Changes whenever any job of the workspace changes: cheap to ask on every rerun."""
        where, args = _where(None, workspace, None, None)
        row = self.db.query_one(f"SELECT COUNT(*) AS n, MAX(updated_at) AS t, SUM(revision) AS r FROM jobs{where}",
                                args)
        return row["n"], row["t"], row["r"]


def _insert(tx, task: dict, now: float, *, workspace: str, api_url: str, key_id: str,
            request_hash: str | None, estimated_cost: float | None, sweep_id: str | None) -> None:
    row = _columns({
        "task_uuid": task["taskUUID"], "workspace": workspace, "api_url": api_url, "key_id": key_id,
        "status": jobstate.QUEUED, "created_at": now, "updated_at": now, "model": task["model"],
        "prompt": task.get("positivePrompt", ""), "duration": task.get("duration"),
        "width": task.get("width"), "height": task.get("height"),
        "number_results": task.get("numberResults", 1), "task": task, "request_hash": request_hash,
        "estimated_cost": estimated_cost, "sweep_id": sweep_id})
    tx.execute(f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


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


__all__ = ["BadAnnotation", "DuplicateSubmit", "IntegrityError", "Job", "JobStore", "Sweep", "clean_tags"]
