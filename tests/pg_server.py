"""A throwaway PostgreSQL server for tests, and fixtures that run a test on SQLite and PostgreSQL.

Register the fixtures with `pytest_plugins = ["pg_server"]` (in tests/conftest.py or a test module;
registering twice is harmless, the session server still starts once). Import by this bare name, as
the tests do with browser_support: tests/ is on sys.path, it is not a package.

    def test_x(db_url): ...     # runs twice: a fresh SQLite file, then a fresh PostgreSQL database
    def test_y(pg_url): ...     # PostgreSQL only: a fresh database, dropped afterwards
    def test_z(pg_server): ...  # the session's server: .admin_url, .port, .restart(), .create_database()

Uses Debian's `postgresql` package (tests/run.sh installs it), never a cluster the package may
have started on 5432: our own data directory in /tmp, our own free loopback port, trust auth.
Without the binaries, PostgreSQL cases are skipped; with $CI set they fail instead, so CI cannot
go green without running them.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

START_TIMEOUT = 60  # seconds; a cold start on a busy 2-core machine takes ~1-3 s


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has a server."""
    found = glob.glob("/usr/lib/postgresql/*/bin/postgres")
    if not found:
        return None
    return Path(max(found, key=lambda p: float(Path(p).parts[-3]))).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """initdb + pg_ctl in a temp directory. As root, runs them as the `postgres` OS user, since
    initdb and postgres refuse to run as root."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="pgtest-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = 0
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT, cwd=self.dir)
        if check and result.returncode:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}{log}")
        return result

    def start(self) -> "PgServer":
        if not self.data.exists():
            # --no-sync and the fsync/full_page_writes settings below: speed over durability, a
            # test database dies with the test run anyway.
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C", "--no-sync")
        for attempt in range(3):  # the free port can be taken between choosing and binding it
            self.port = self.port if attempt == 0 and self.port else _free_port()
            options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
                       "-c shared_buffers=32MB")
            started = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                                "-w", "-t", str(START_TIMEOUT), "start", check=False)
            if started.returncode == 0:
                return self
        raise RuntimeError(f"PostgreSQL did not start:\n{started.stdout}{started.stderr}\n"
                           f"{self.log.read_text() if self.log.exists() else ''}")

    def stop(self) -> None:
        # fast: disconnects clients and shuts down cleanly, without waiting for them.
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def restart(self) -> None:
        """Stop and start on the same port: every open connection is closed by the server."""
        self.stop()
        self.start()

    def create_database(self) -> str:
        import psycopg
        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            # FILE_COPY: copying the tiny template directory beats WAL-logging it block by block.
            conn.execute(f"CREATE DATABASE {name} STRATEGY = FILE_COPY")
        return name

    def drop_database(self, name: str) -> None:
        import psycopg
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            # FORCE: a connection left open by a test (or one of its threads) must not block this.
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _missing(reason: str):
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping; tests/run.sh installs it)",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server():
    bin_dir = find_bin_dir()
    if bin_dir is None:
        _missing("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin "
                 "(apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed (pip install -r requirements.txt)")
    server = PgServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty PostgreSQL database for this test (~0.1-0.3 s to create)."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database URL, once per dialect; db_url.startswith("sqlite") tells which."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"  # absolute path: four slashes
    else:
        # Looked up lazily, so a SQLite-only run (-k sqlite) never starts a server.
        yield request.getfixturevalue("pg_url")
