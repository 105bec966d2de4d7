"""A tiny database adapter: the same calls on SQLite (one app process) and PostgreSQL (several).

    db = Database.open("sqlite:////abs/jobs.sqlite3")        # or "postgresql://user:pw@host:5432/db"
    db.query("SELECT * FROM jobs WHERE status = ?", ["queued"])  # -> list of dicts
    with db.transaction() as tx:
        row = tx.query_one("SELECT * FROM jobs WHERE status = ? LIMIT 1" + db.for_update_skip_locked(), ["queued"])

SQL is written with `?` placeholders and must be portable; schema types that mean the same on both:
TEXT, BIGINT (SQLite INTEGER is 64-bit, PostgreSQL INTEGER only 32-bit), DOUBLE PRECISION (time.time()
floats). Give computed columns an alias (`COUNT(*) AS n`): unaliased names differ between the two.

Each thread gets its own connection, in autocommit mode; `transaction()` groups statements. Connections
of threads that have ended are closed when the next one is opened (Streamlit runs every script run in
a new thread, so per-thread connections would otherwise pile up until garbage collection).

No Streamlit import here: lib/store.py and the benchmarks use this module outside the app.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

try:
    import psycopg
    from psycopg.rows import dict_row
except ImportError:  # SQLite-only installs still work; PostgreSQL URLs then say what is missing.
    psycopg = None

CONNECT_TIMEOUT = 10       # seconds; libpq's default is to wait forever for an unreachable host
SQLITE_BUSY_TIMEOUT = 30   # seconds a writer waits for another writer's lock before "database is locked"
# Any constant: executescript() takes this advisory lock so several processes starting at once run
# their migrations one after another (concurrent CREATE TABLE IF NOT EXISTS can fail on PostgreSQL).
_MIGRATION_LOCK = 0x52756E77  # "Runw"


class DatabaseError(Exception):
    """Base of the errors we translate; the driver's own exception is chained as __cause__."""


class IntegrityError(DatabaseError):
    """A constraint failed: unique (the row exists already), NOT NULL, CHECK or foreign key."""


class OperationalError(DatabaseError):
    """The database could not do it now: unreachable, restarted, locked for too long."""


@contextmanager
def _translated_errors():
    try:
        yield
    except sqlite3.IntegrityError as e:
        raise IntegrityError(str(e)) from e
    except sqlite3.OperationalError as e:
        raise OperationalError(str(e)) from e
    except Exception as e:
        if psycopg is not None and isinstance(e, psycopg.IntegrityError):
            raise IntegrityError(str(e)) from e
        if psycopg is not None and isinstance(e, psycopg.OperationalError):
            raise OperationalError(str(e)) from e
        raise


_QMARK_OR_PERCENT = re.compile(r"'[^']*'|\?|%")


def _to_psycopg(sql: str) -> str:
    """`?` -> `%s` outside string literals; every `%` -> `%%`, because psycopg reads `%` as the
    start of a placeholder even inside literals. ('it''s' is two literals side by side: still fine.)"""
    def swap(m):
        s = m.group(0)
        return "%s" if s == "?" else "%%" if s == "%" else s.replace("%", "%%")
    return _QMARK_OR_PERCENT.sub(swap, sql)


def _sqlite_dict_row(cursor, row):
    return {d[0]: v for d, v in zip(cursor.description, row)}


class _Runner:
    """query/query_one/execute on one connection; shared by Database (autocommit) and Transaction."""

    dialect: str

    def _run(self, sql, params, fetch):  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def query(self, sql: str, params=()) -> list[dict]:
        return self._run(sql, params, fetch=True)

    def query_one(self, sql: str, params=()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params=()) -> int:
        """Run one statement; returns the number of rows it changed (use query() for RETURNING)."""
        return self._run(sql, params, fetch=False)

    def for_update_skip_locked(self) -> str:
        """Append to a SELECT inside transaction(): on PostgreSQL, rows another transaction has
        locked are skipped, so workers each claim a different job. SQLite has no row locks; there
        transaction() is BEGIN IMMEDIATE, which lets one writer in at a time instead."""
        return " FOR UPDATE SKIP LOCKED" if self.dialect == "postgresql" else ""


def _execute_on(conn, dialect: str, sql: str, params, fetch: bool):
    params = list(params)
    with _translated_errors():
        if dialect == "postgresql":
            # Always pass a list, even empty: psycopg only converts `%%` back to `%` when given params.
            cur = conn.execute(_to_psycopg(sql), params)
            return cur.fetchall() if fetch else cur.rowcount
        cur = conn.execute(sql, params)
        try:
            return cur.fetchall() if fetch else cur.rowcount
        finally:
            cur.close()


class Transaction(_Runner):
    def __init__(self, db: "Database", conn):
        self._db, self._conn, self.dialect = db, conn, db.dialect

    def _run(self, sql, params, fetch):
        # No reconnect in here: after a lost connection the transaction is gone, so the error must
        # reach the caller (the `with` block then ends without committing anything).
        return _execute_on(self._conn, self.dialect, sql, params, fetch)


class Database(_Runner):
    def __init__(self, url: str):
        scheme, sep, rest = url.partition("://")
        driver = scheme.split("+", 1)[0].lower()  # "postgresql+psycopg" -> "postgresql"
        if not sep or driver not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("database URL must start with sqlite:/// or postgresql://")
        self.url = url  # may hold a password: never logged, never in repr
        self._local = threading.local()
        # Each thread's connection and its "in use" lock, held while a statement or transaction runs.
        self._open_conns: dict[threading.Thread, tuple[object, threading.Lock]] = {}
        self._lock = threading.Lock()
        self._closed = False
        if driver == "sqlite":
            self.dialect = "sqlite"
            # SQLAlchemy's spelling: sqlite:///relative/path, sqlite:////absolute/path.
            path = rest[1:] if rest.startswith("/") else rest
            if not path or path == ":memory:" or path.startswith("file:"):
                # Every thread has its own connection, so each would see its own empty database.
                raise ValueError("sqlite URL needs a file path (in-memory databases are per connection)")
            self._path = Path(path)
            self._path.parent.mkdir(parents=True, exist_ok=True)
        else:
            if psycopg is None:
                raise ImportError("PostgreSQL needs psycopg 3: pip install 'psycopg[binary]'")
            self.dialect = "postgresql"
            self._conninfo = "postgresql://" + rest  # libpq knows neither "+psycopg" nor our aliases
            parts = urlsplit(self._conninfo)
            self._where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"

    @classmethod
    def open(cls, url: str) -> "Database":
        return cls(url)

    def __repr__(self):
        # Never the URL itself: it may hold a password.
        where = self._path if self.dialect == "sqlite" else self._where
        return f"<Database {self.dialect} {where}>"

    # -- connections ---------------------------------------------------------------------------------

    def _connect(self):
        if self.dialect == "sqlite":
            # isolation_level=None: autocommit, and transaction() says BEGIN IMMEDIATE itself.
            # check_same_thread=False only so close() and _conn() can close the connections of threads
            # that are idle or gone; each connection is still used by one thread.
            conn = sqlite3.connect(self._path, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None,
                                   check_same_thread=False)
            _wal_mode(conn)                             # readers don't block the writer
            conn.execute("PRAGMA synchronous=NORMAL")   # safe with WAL, much faster commits
            conn.row_factory = _sqlite_dict_row
            return conn
        with _translated_errors():
            kwargs = {} if "connect_timeout" in self._conninfo else {"connect_timeout": CONNECT_TIMEOUT}
            return psycopg.connect(self._conninfo, autocommit=True, row_factory=dict_row, **kwargs)

    def _conn(self, fresh: bool = False):
        """This thread's connection (a new one if `fresh`)."""
        if self._closed:
            raise DatabaseError("database is closed")
        conn = getattr(self._local, "conn", None)
        if conn is not None and not fresh:
            return conn
        if conn is not None:
            _close_quietly(conn)
        conn = self._connect()
        busy = threading.Lock()
        me = threading.current_thread()
        with self._lock:
            # Close what threads that have ended left behind.
            for thread in [t for t in self._open_conns if not t.is_alive()]:
                _close_quietly(self._open_conns.pop(thread)[0])
            self._open_conns[me] = (conn, busy)
        self._local.conn, self._local.busy = conn, busy
        return conn

    @contextmanager
    def _in_use(self, conn):
        """Hold this thread's connection while it runs something: close() leaves a busy connection to
        its own thread, which closes it here once done if the database was closed meanwhile."""
        busy = getattr(self._local, "busy", None)
        if busy is None or getattr(self._local, "conn", None) is not conn:
            raise DatabaseError("database is closed")  # close() came between _conn() and here
        with busy:
            try:
                yield
            finally:
                if self._closed:
                    _close_quietly(conn)

    def _lost(self, conn, error: Exception) -> bool:
        """Did the server close this connection (restart, pg_terminate_backend, idle timeout)?"""
        return (self.dialect == "postgresql" and isinstance(error.__cause__, psycopg.OperationalError)
                and conn.closed)

    def _run(self, sql, params, fetch):
        if getattr(self._local, "tx", None) is not None:
            # Inside this thread's transaction(): same connection, so it is part of it; no retry.
            return _execute_on(self._local.tx._conn, self.dialect, sql, params, fetch)
        conn = self._conn()
        try:
            with self._in_use(conn):
                return _execute_on(conn, self.dialect, sql, params, fetch)
        except OperationalError as e:
            if not self._lost(conn, e):
                raise
        # Reconnect once. A connection the server closed while idle (restart, pg_terminate_backend)
        # never ran the statement, so running it again is safe. Only if the server died while
        # running it can it have happened already; then a repeated compare-and-set reports 0 rows
        # and a repeated INSERT an IntegrityError: rare, and on the side of doing nothing twice.
        conn = self._conn(fresh=True)
        with self._in_use(conn):
            return _execute_on(conn, self.dialect, sql, params, fetch)

    @contextmanager
    def transaction(self):
        """One transaction on this thread's connection: commits when the block ends, rolls back if
        it raises. Also db.query()/execute() in the block belong to it. Not nestable.

        PostgreSQL: after an error inside the block (say IntegrityError) the transaction is aborted
        and later statements in it fail; SQLite would carry on. Portable code lets the error end
        the block, or avoids it with INSERT ... ON CONFLICT DO NOTHING."""
        if getattr(self._local, "tx", None) is not None:
            raise DatabaseError("transaction() is already open on this thread")
        conn = self._conn()
        try:
            with self._in_use(conn):
                finish = self._begin(conn)
        except OperationalError as e:
            if not self._lost(conn, e):
                raise
            conn = self._conn(fresh=True)  # nothing has run yet: safe to begin again
            with self._in_use(conn):
                finish = self._begin(conn)
        with self._in_use(conn):
            self._local.tx = Transaction(self, conn)
            try:
                yield self._local.tx
            except BaseException as e:
                self._local.tx = None
                finish(e)
                raise
            self._local.tx = None
            with _translated_errors():
                finish(None)

    def _begin(self, conn):
        """Start a transaction; returns finish(error): commit if error is None, else roll back."""
        with _translated_errors():
            if self.dialect == "sqlite":
                conn.execute("BEGIN IMMEDIATE")  # takes the write lock now: waits for other writers

                def finish(error):
                    if error is None:
                        conn.execute("COMMIT")
                    elif conn.in_transaction:  # SQLite ends the transaction itself on some errors
                        conn.execute("ROLLBACK")
                return finish
            pg_tx = conn.transaction()
            pg_tx.__enter__()  # sends BEGIN

            def finish(error):
                # psycopg's own exit: commits, or rolls back (quietly, if the connection is gone).
                if error is None:
                    pg_tx.__exit__(None, None, None)
                else:
                    pg_tx.__exit__(type(error), error, error.__traceback__)
            return finish

    def executescript(self, sql: str) -> None:
        """Several `;`-separated statements without parameters, e.g. migrations. On PostgreSQL
        they run as one transaction under an advisory lock (so no CREATE INDEX CONCURRENTLY);
        SQLite runs them one by one."""
        if getattr(self._local, "tx", None) is not None:
            raise DatabaseError("executescript() inside transaction() is not supported")
        if self.dialect == "sqlite":
            conn = self._conn()
            with _translated_errors(), self._in_use(conn):
                conn.executescript(sql)
            return
        with self.transaction() as tx:
            with _translated_errors():
                tx._conn.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                tx._conn.execute(sql)  # no params: psycopg sends it as one simple query, `;` allowed

    def close(self) -> None:
        """Stop handing out connections and close them: this thread's, those of threads that have
        ended, and those of other threads that are idle. A connection another thread is using right
        now is left to that thread, which closes it when its statement or transaction is over:
        closing a SQLite connection under a running statement crashes the process (seen when a
        stopped runtime's balance check was still committing)."""
        self._closed = True
        me = threading.current_thread()
        with self._lock:
            for thread, (conn, busy) in self._open_conns.items():
                if thread is me or not thread.is_alive():
                    _close_quietly(conn)
                elif busy.acquire(blocking=False):
                    try:
                        _close_quietly(conn)
                    finally:
                        busy.release()
            self._open_conns.clear()
        self._local = threading.local()


def _wal_mode(conn) -> None:
    """WAL is stored in the file, so only a new database needs switching; but switching fails at
    once with "database is locked" (the busy timeout does not apply) while another connection is
    doing the same, as when several workers open a new database together: retry then."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise OperationalError(str(e)) from e
            time.sleep(0.05)


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:  # already broken or closed: nothing left to release
        pass
