"""The request budget shared by every process on one database: one row per request in the window, in
the `request_slots` table. Taking a slot counts and inserts in one transaction (SQLite's write lock, or
an advisory lock per scope on PostgreSQL), so two replicas can never both take the last slot.

Same rule and interface as budget.RateLimiter: at most `per_minute` requests in any sliding window,
measured from the end of each request (release stamps the slot again)."""
from __future__ import annotations

import time
import uuid

from .budget import WINDOW_SECONDS
from .db import Database

_POLL = 0.05  # how often a waiting acquire looks again (another process may free a slot any time)


class SharedRateLimiter:
    def __init__(self, db: Database, scope: str, per_minute: int, window: float = WINDOW_SECONDS):
        self.db = db
        self.scope = scope
        self.per_minute = per_minute
        self.window = window  # a shorter window lets tests check the same rule in seconds

    def __repr__(self) -> str:
        return f"SharedRateLimiter({self.per_minute}/{self.window:g}s)"

    def _take(self) -> tuple[float, str | None]:
        now = time.time()
        with self.db.transaction() as tx:
            if self.db.dialect == "postgresql":
                tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))", ["budget:" + self.scope])
            tx.execute("DELETE FROM request_slots WHERE scope = ? AND at <= ?", [self.scope, now - self.window])
            row = tx.query_one("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM request_slots WHERE scope = ?",
                               [self.scope])
            if row["n"] >= self.per_minute:
                return max(_POLL, self.window - (now - row["oldest"])), None
            slot = uuid.uuid4().hex
            tx.execute("INSERT INTO request_slots (id, scope, at) VALUES (?, ?, ?)", [slot, self.scope, now])
            return 0.0, slot

    def try_acquire(self) -> float:
        """Take one slot and return 0, or take nothing and return the seconds until one may free."""
        return self._take()[0]

    def acquire(self, max_wait: float) -> str | None:
        """Wait up to `max_wait` seconds for a slot; the slot (pass it to `release`), or None."""
        deadline = time.monotonic() + max_wait
        while True:
            wait, slot = self._take()
            if slot is not None:
                return slot
            if time.monotonic() + min(wait, _POLL) > deadline:
                return None
            time.sleep(min(wait, _POLL, max(0.0, deadline - time.monotonic())))

    def release(self, slot: str | None) -> None:
        """The slot's request is done: its window runs from now."""
        if slot is not None:
            now = time.time()
            self.db.execute("UPDATE request_slots SET at = ? WHERE id = ? AND at < ?", [now, slot, now])

    def used(self) -> int:
        return self.db.query_one("SELECT COUNT(*) AS n FROM request_slots WHERE scope = ? AND at > ?",
                                 [self.scope, time.time() - self.window])["n"]
