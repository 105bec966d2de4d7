"""lib/db.py on both databases: most tests take `db_url` and run once on SQLite, once on PostgreSQL."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lib.db import Database, DatabaseError, IntegrityError

# Registers pg_server/pg_url/db_url; harmless if tests/conftest.py registers them too.
pytest_plugins = ["pg_server"]

# A schema both accept unchanged. BIGINT rather than INTEGER: 32-bit on PostgreSQL. DOUBLE PRECISION
# keeps time.time() exact (PostgreSQL REAL is only 4 bytes).
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    task_uuid   TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    size_bytes  BIGINT,
    prompt      TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created_at);
"""


@pytest.fixture
def db(db_url):
    db = Database.open(db_url)
    db.executescript(SCHEMA)
    yield db
    db.close()


def add(db, uuid, status="queued", **extra):
    row = {"task_uuid": uuid, "status": status, "created_at": time.time(), **extra}
    db.execute(f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def test_query_execute_and_placeholders(db, db_url):
    assert db.dialect == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    now = time.time()
    db.execute("INSERT INTO jobs (task_uuid, status, created_at, size_bytes, prompt) VALUES (?, ?, ?, ?, ?)",
               ["a", "queued", now, 2**40, "what? 100% sure"])
    add(db, "b", attempts=3)

    row = db.query_one("SELECT * FROM jobs WHERE task_uuid = ?", ["a"])
    assert row == {"task_uuid": "a", "status": "queued", "created_at": now, "attempts": 0,
                   "size_bytes": 2**40, "prompt": "what? 100% sure"}  # floats and 64-bit ints exact
    assert db.query_one("SELECT * FROM jobs WHERE task_uuid = ?", ["nope"]) is None
    assert [r["task_uuid"] for r in db.query("SELECT task_uuid FROM jobs WHERE status = ? AND attempts > ? "
                                             "ORDER BY task_uuid", ["queued", -1])] == ["a", "b"]
    assert db.query_one("SELECT COUNT(*) AS n FROM jobs")["n"] == 2  # alias: bare names differ

    assert db.execute("UPDATE jobs SET status = ? WHERE status = ?", ["running", "queued"]) == 2
    assert db.execute("UPDATE jobs SET status = ? WHERE task_uuid = ? AND status = ?",
                      ["done", "a", "queued"]) == 0  # compare-and-set lost: rowcount tells
    assert db.execute("DELETE FROM jobs WHERE task_uuid = ?", ["b"]) == 1

    # `?` and `%` inside string literals stay literal; also without parameters.
    assert db.query_one("SELECT 'a?b' AS q, '50%' AS pct, ? AS p", ["x"]) == {"q": "a?b", "pct": "50%", "p": "x"}
    assert db.query_one("SELECT '50%' AS pct")["pct"] == "50%"
    # LIKE: SQLite has no escape character unless told (PostgreSQL's default is backslash), and
    # SQLite's LIKE ignores ASCII case where PostgreSQL's does not; say ESCAPE, match exact case.
    assert db.query("SELECT task_uuid FROM jobs WHERE prompt LIKE ? ESCAPE '\\'", ["%100\\%%"]) == [{"task_uuid": "a"}]


def test_transaction_commits_or_rolls_back(db):
    with db.transaction() as tx:
        add(tx, "a")
        assert tx.query_one("SELECT status FROM jobs WHERE task_uuid = ?", ["a"]) == {"status": "queued"}
        assert db.query_one("SELECT 1 AS one FROM jobs")  # db.* on this thread is in the transaction too
    assert db.query_one("SELECT status FROM jobs WHERE task_uuid = ?", ["a"]) == {"status": "queued"}

    with pytest.raises(RuntimeError, match="boom"):
        with db.transaction() as tx:
            tx.execute("UPDATE jobs SET status = ? WHERE task_uuid = ?", ["running", "a"])
            add(tx, "b")
            raise RuntimeError("boom")
    assert db.query("SELECT task_uuid, status FROM jobs") == [{"task_uuid": "a", "status": "queued"}]

    with pytest.raises(DatabaseError, match="already open"):
        with db.transaction():
            with db.transaction():
                pass
    add(db, "c")  # the connection is usable after all that
    assert db.query_one("SELECT COUNT(*) AS n FROM jobs")["n"] == 2


def test_unique_violation_is_our_integrity_error(db):
    add(db, "a")
    with pytest.raises(IntegrityError):
        add(db, "a")
    with pytest.raises(IntegrityError):  # NOT NULL too
        db.execute("INSERT INTO jobs (task_uuid, status, created_at) VALUES (?, ?, ?)", ["z", None, 1.0])
    # A violation inside a transaction ends it, rolled back, on both databases.
    with pytest.raises(IntegrityError):
        with db.transaction() as tx:
            add(tx, "b")
            add(tx, "a")
    assert db.query("SELECT task_uuid FROM jobs") == [{"task_uuid": "a"}]
    # "Insert unless it exists", portable and without an exception:
    sql = "INSERT INTO jobs (task_uuid, status, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    assert db.execute(sql, ["a", "queued", 1.0]) == 0
    assert db.execute(sql, ["b", "queued", 1.0]) == 1


def test_returning(db):
    add(db, "a")
    add(db, "b", status="done")
    rows = db.query("UPDATE jobs SET status = ?, attempts = attempts + 1 WHERE status = ? "
                    "RETURNING task_uuid, attempts", ["running", "queued"])
    assert rows == [{"task_uuid": "a", "attempts": 1}]
    with db.transaction() as tx:
        assert tx.query_one("INSERT INTO jobs (task_uuid, status, created_at) VALUES (?, ?, ?) "
                            "RETURNING task_uuid", ["c", "queued", 1.0]) == {"task_uuid": "c"}
    assert db.query("DELETE FROM jobs WHERE status = ? RETURNING task_uuid", ["nothing"]) == []


def test_executescript_is_safe_to_run_from_several_processes_at_once(db_url):
    # Several app processes start together and all run the migrations: none may fail. (Without
    # the advisory lock, PostgreSQL's CREATE TABLE IF NOT EXISTS can hit a unique violation.)
    dbs = [Database.open(db_url) for _ in range(4)]
    errors = []
    start = threading.Barrier(len(dbs))

    def migrate(d):
        start.wait()
        try:
            d.executescript(SCHEMA.replace("jobs", "jobs2"))
        except Exception as e:  # collected, so the assertion shows it
            errors.append(e)

    threads = [threading.Thread(target=migrate, args=(d,)) for d in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert dbs[0].query("SELECT task_uuid FROM jobs2") == []
    for d in dbs:
        d.close()


def test_each_thread_has_its_own_connection(db):
    # A TEMP table lives in one connection: visible again from the same thread, not from another.
    db.execute("CREATE TEMP TABLE mine (x BIGINT)")
    seen = {}

    def look():
        seen["other"] = db.query_one("SELECT COUNT(*) AS n FROM jobs")["n"]  # the database is shared
        try:
            db.query("SELECT * FROM mine")
            seen["temp"] = True
        except Exception:
            seen["temp"] = False

    t = threading.Thread(target=look)
    t.start()
    t.join()
    assert seen == {"other": 0, "temp": False}
    assert db.query("SELECT * FROM mine") == []


def test_claims_never_collide(db, db_url):
    """Two workers claiming "the oldest queued job" at the same moment get different jobs: on
    PostgreSQL because the row the first one locked is skipped, on SQLite because BEGIN IMMEDIATE
    makes the second wait until the first has committed."""
    for i in range(3):
        add(db, f"job{i}")
    claim = ("SELECT task_uuid FROM jobs WHERE status = ? ORDER BY created_at LIMIT 1"
             + db.for_update_skip_locked())
    first_claimed, release = threading.Event(), threading.Event()
    got = {}

    def first_worker():
        with db.transaction() as tx:
            got["first"] = tx.query_one(claim, ["queued"])["task_uuid"]
            first_claimed.set()
            release.wait(10)  # hold the row lock / write lock while the second worker tries
            tx.execute("UPDATE jobs SET status = ? WHERE task_uuid = ?", ["running", got["first"]])
            got["first_commits"] = time.monotonic()  # just before COMMIT (after it, a race)

    t = threading.Thread(target=first_worker)
    t.start()
    assert first_claimed.wait(10)
    if db.dialect == "postgresql":
        with db.transaction() as tx:  # does not wait: the locked row is skipped
            got["second"] = tx.query_one(claim, ["queued"])["task_uuid"]
        release.set()
    else:
        threading.Timer(0.3, release.set).start()
        with db.transaction() as tx:  # waits here until the first worker commits
            got["second_began"] = time.monotonic()
            got["second"] = tx.query_one(claim, ["queued"])["task_uuid"]
        assert got["second_began"] > got["first_commits"]
    t.join()
    assert got["first"] == "job0" and got["second"] == "job1"


def test_skip_locked_sql_is_postgresql_only(db):
    assert db.for_update_skip_locked() == (" FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else "")


def wait_until(condition, timeout=10.0):
    """Server-side effects (a backend exiting) are asynchronous: poll instead of sleeping a guess."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def terminate(admin, pid):
    admin.query("SELECT pg_terminate_backend(?)", [pid])
    wait_until(lambda: not admin.query("SELECT 1 AS one FROM pg_stat_activity WHERE pid = ?", [pid]))


def test_reconnects_after_the_server_closed_the_connection(pg_url):
    db, admin = Database.open(pg_url), Database.open(pg_url)
    pid = db.query_one("SELECT pg_backend_pid() AS pid")["pid"]
    terminate(admin, pid)
    assert db.query_one("SELECT pg_backend_pid() AS pid")["pid"] != pid  # not an error: reconnected

    pid = db.query_one("SELECT pg_backend_pid() AS pid")["pid"]
    terminate(admin, pid)
    with db.transaction() as tx:  # BEGIN on a dead connection: reconnects too
        assert tx.query_one("SELECT pg_backend_pid() AS pid")["pid"] != pid

    # Inside a transaction there is no silent retry: the work so far is lost, so the caller hears.
    with pytest.raises(DatabaseError):
        with db.transaction() as tx:
            terminate(admin, tx.query_one("SELECT pg_backend_pid() AS p")["p"])
            tx.query("SELECT 1 AS one")
    assert db.query_one("SELECT 1 AS one") == {"one": 1}
    db.close()
    admin.close()


def test_reconnects_after_a_server_restart(pg_server, pg_url):
    db = Database.open(pg_url)
    db.executescript(SCHEMA)
    add(db, "a")
    pg_server.restart()
    assert db.query("SELECT task_uuid FROM jobs") == [{"task_uuid": "a"}]
    db.close()


def test_connections_of_ended_threads_are_closed(pg_url):
    # Streamlit runs every script run in a new thread: connections must not pile up on the server.
    db = Database.open(pg_url)
    for _ in range(5):
        t = threading.Thread(target=db.query, args=("SELECT 1 AS one",))
        t.start()
        t.join()
    count = "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
    # This thread's, and at most the last ended thread's (closed on the next open). Backends of
    # closed connections take a moment to exit, hence the wait.
    wait_until(lambda: db.query_one(count)["n"] <= 2)
    db.close()


def open_files_under(folder: Path) -> list[str]:
    """The files of `folder` this process holds open (Linux)."""
    fds = Path("/proc/self/fd")
    links = []
    for fd in fds.iterdir():
        try:
            links.append(os.readlink(fd))
        except OSError:
            continue  # closed meanwhile
    return [link for link in links if link.startswith(str(folder))]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_close_closes_the_connection_of_an_idle_live_thread(tmp_path):
    # Like an engine pool thread: it queried once and now waits for work. Its connection must be
    # closed by close(), not left to the garbage collector (off here, as it may not run for a while).
    db = Database.open(f"sqlite:///{tmp_path}/idle.sqlite3")
    used, done = threading.Event(), threading.Event()

    def idle_worker():
        db.query("SELECT 1 AS one")
        used.set()
        done.wait(30)

    worker = threading.Thread(target=idle_worker)
    gc.disable()
    try:
        worker.start()
        used.wait(30)
        assert open_files_under(tmp_path)
        db.close()
        assert open_files_under(tmp_path) == []
    finally:
        gc.enable()
        done.set()
        worker.join()


def test_urls_and_repr_never_show_the_password(tmp_path, monkeypatch):
    for url in ("postgresql://app:s3cret@db.example:5433/jobs", "postgresql+psycopg://app:s3cret@db.example:5433/jobs",
                "postgres://app:s3cret@db.example:5433/jobs"):
        db = Database.open(url)  # connects lazily, so no server is needed here
        assert db.dialect == "postgresql"
        assert repr(db) == "<Database postgresql db.example:5433/jobs>"
        assert "s3cret" not in repr(db) and "s3cret" not in str(db)

    monkeypatch.chdir(tmp_path)
    rel = Database.open("sqlite:///data/rel.sqlite3")  # three slashes: relative to the working directory
    rel.execute("CREATE TABLE t (x BIGINT)")
    assert (tmp_path / "data" / "rel.sqlite3").exists()
    rel.close()
    with pytest.raises(ValueError):
        Database.open("sqlite:///:memory:")  # each thread would get its own empty database
    with pytest.raises(ValueError):
        Database.open("mysql://x@y/z")


def test_connect_error_does_not_show_the_password(pg_server):
    db = Database.open(f"postgresql://postgres:s3cret@127.0.0.1:{pg_server.port}/no_such_db?connect_timeout=5")
    with pytest.raises(DatabaseError) as e:
        db.query("SELECT 1 AS one")
    assert "s3cret" not in str(e.value) and "s3cret" not in str(e.value.__cause__)


CLOSE_WHILE_COMMITTING = """
import sys, tempfile, threading, time
from lib.db import Database

for _ in range(30):
    db = Database.open(f"sqlite:///{tempfile.mkdtemp()}/race.sqlite3")
    db.execute("CREATE TABLE t (a BIGINT)")
    stop = threading.Event()

    def write():
        while not stop.is_set():
            try:
                with db.transaction() as tx:
                    tx.execute("INSERT INTO t VALUES (1)")
            except Exception:
                return  # refused after close(): expected

    writers = [threading.Thread(target=write) for _ in range(3)]
    for w in writers:
        w.start()
    time.sleep(0.01)
    db.close()  # as Runtime.stop() does while a balance check may still be committing
    stop.set()
    for w in writers:
        w.join()
print("survived")
"""


def test_close_while_other_threads_commit_does_not_crash_the_process(tmp_path):
    # Reported: CI died with a segmentation fault when a stopped runtime closed the database under a
    # commit on another thread. Run in a child process, so a crash fails this test, not the whole run.
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", CLOSE_WHILE_COMMITTING], cwd=root, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(root), "TMPDIR": str(tmp_path),
                                                       "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "survived"
