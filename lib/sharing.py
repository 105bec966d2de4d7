"""Read-only share links to one job.

A share token is `<share id>.<mac>`: a random share id and an HMAC, under the runtime's secret, of the
task UUID and that id. It opens that one job, read-only, and nothing else: it is not a workspace token,
so it grants no delete, re-run or view of other jobs. Any replica sharing the secret checks it without
the database; revoking needs the database: revoked ids are kept in the `shares` table, which this module
creates itself on first use (CREATE TABLE IF NOT EXISTS: idempotent on SQLite and PostgreSQL).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
import weakref

from .db import IntegrityError

_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")
_UUID = re.compile(r"^[0-9a-fA-F-]{36}$")
_ready: "weakref.WeakSet" = weakref.WeakSet()  # databases whose shares table is known to exist

_TABLE = """CREATE TABLE IF NOT EXISTS shares (
    share_id   TEXT PRIMARY KEY,
    task_uuid  TEXT NOT NULL,
    workspace  TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    revoked_at DOUBLE PRECISION
)"""


def _table(db) -> None:
    if db in _ready:
        return
    try:
        db.execute(_TABLE, [])
    except IntegrityError:  # PostgreSQL: another process created it at the same moment
        pass
    _ready.add(db)


def _mac(secret: str, task_uuid: str, share_id: str) -> str:
    message = f"studio-share:{task_uuid}:{share_id}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def create(db, secret: str, job) -> str:
    """A new share token for `job` (recorded, so its owner can revoke it)."""
    _table(db)
    share_id = secrets.token_urlsafe(12)  # 16 characters
    db.execute("INSERT INTO shares (share_id, task_uuid, workspace, created_at) VALUES (?, ?, ?, ?)",
               [share_id, job.task_uuid, job.workspace, time.time()])
    return f"{share_id}.{_mac(secret, job.task_uuid, share_id)}"


def active(db, task_uuid: str, workspace: str) -> list[str]:
    """Share ids of a job that still work."""
    _table(db)
    rows = db.query("SELECT share_id FROM shares WHERE task_uuid = ? AND workspace = ? AND revoked_at IS NULL "
                    "ORDER BY created_at", [task_uuid, workspace])
    return [r["share_id"] for r in rows]


def revoke_all(db, task_uuid: str, workspace: str) -> int:
    """Revoke every link to a job, from its own workspace only; how many were revoked."""
    _table(db)
    return db.execute("UPDATE shares SET revoked_at = ? WHERE task_uuid = ? AND workspace = ? "
                      "AND revoked_at IS NULL", [time.time(), task_uuid, workspace])


def check(db, secret: str, task_uuid: str, token: str) -> bool:
    """Whether `token` opens `task_uuid`: signed for that job and not revoked."""
    share_id, dot, mac = (token or "").partition(".")
    if not dot or not _ID.match(share_id) or not _UUID.match(task_uuid or ""):
        return False
    if not hmac.compare_digest(mac, _mac(secret, task_uuid, share_id)):
        return False
    _table(db)
    row = db.query_one("SELECT revoked_at FROM shares WHERE share_id = ? AND task_uuid = ?", [share_id, task_uuid])
    return row is not None and row["revoked_at"] is None


def open_job(store, secret: str, task_uuid: str, token: str):
    """The job a share link opens, or None (a wrong, forged or revoked token; a deleted job)."""
    return store.get(task_uuid) if check(store.db, secret, task_uuid, token) else None
