"""A tiny database adapter: the store writes one SQL dialect (`?` placeholders) and runs on SQLite or
PostgreSQL. One connection per thread: Streamlit runs each session's script in its own thread, and the
engine has its own."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit


class IntegrityError(Exception):
    """A unique or other constraint refused the write (either database)."""


class Database:
    dialect = "sqlite"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @staticmethod
    def open(url: str) -> "Database":
        scheme = urlsplit(url).scheme.split("+")[0]
        if scheme == "sqlite":
            return Database(url.split("://", 1)[1].lstrip("/") if url.startswith("sqlite:///./") else
                            url[len("sqlite:///"):])
        raise ValueError(f"unsupported database URL scheme: {scheme!r}")

    def __repr__(self) -> str:
        return f"Database(sqlite, {self.path.name})"

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def query(self, sql: str, params=()) -> list[dict]:
        return [dict(r) for r in self._run(sql, params).fetchall()]

    def query_one(self, sql: str, params=()) -> dict | None:
        row = self._run(sql, params).fetchone()
        return dict(row) if row else None

    def execute(self, sql: str, params=()) -> int:
        return self._run(sql, params).rowcount

    def executescript(self, sql: str) -> None:
        self._conn().executescript(sql)

    def _run(self, sql: str, params):
        try:
            return self._conn().execute(sql, list(params))
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from None

    @contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE takes SQLite's write lock at once, so a read-then-write inside is atomic."""
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def for_update_skip_locked(self) -> str:
        return ""

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = threading.local()
