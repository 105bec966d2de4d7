"""The store's schema, as numbered migrations. The version lives in the database (`meta` table), so a
studio.sqlite3 made by any earlier version opens and keeps its whole history.

Version 1 is the schema of the first release (no `meta` table): a database that has a `jobs` table and
no version is at 1. Column types are written so both SQLite and PostgreSQL take them (DOUBLE PRECISION
has REAL affinity in SQLite).
"""
from __future__ import annotations

from .db import Database

V1 = """
CREATE TABLE IF NOT EXISTS jobs (
    task_uuid      TEXT PRIMARY KEY,
    workspace      TEXT NOT NULL,
    api_url        TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     DOUBLE PRECISION NOT NULL,
    updated_at     DOUBLE PRECISION NOT NULL,
    submitted_at   DOUBLE PRECISION,
    finished_at    DOUBLE PRECISION,
    model          TEXT NOT NULL,
    prompt         TEXT NOT NULL,
    duration       DOUBLE PRECISION,
    width          INTEGER,
    height         INTEGER,
    number_results INTEGER NOT NULL DEFAULT 1,
    task_json      TEXT NOT NULL,
    results_json   TEXT NOT NULL DEFAULT '[]',
    error_json     TEXT,
    cost           DOUBLE PRECISION,
    attempts       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
CREATE INDEX IF NOT EXISTS jobs_workspace_created ON jobs (workspace, created_at);
"""

# Leases, conditional writes (revision), the engine's pacing and the intents pages leave for it.
V2 = """
ALTER TABLE jobs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN next_at DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN intent TEXT;
ALTER TABLE jobs ADD COLUMN progress INTEGER;
ALTER TABLE jobs ADD COLUMN strikes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN request_hash TEXT;
CREATE INDEX IF NOT EXISTS jobs_scope_status ON jobs (api_url, key_id, status);
CREATE INDEX IF NOT EXISTS jobs_workspace_hash ON jobs (workspace, request_hash);
"""

# Webhooks: when one said "poll this task now", and when the task was last polled.
V3 = """
ALTER TABLE jobs ADD COLUMN wake_at DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN polled_at DOUBLE PRECISION;
"""

# The request budget shared by every process on the database (one row per HTTP request in the window),
# and each job's estimated cost (spend caps count queued and running jobs before Runware bills them).
V4 = """
CREATE TABLE IF NOT EXISTS request_slots (
    id          TEXT PRIMARY KEY,
    scope       TEXT NOT NULL,
    at          DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS request_slots_scope_at ON request_slots (scope, at);
ALTER TABLE jobs ADD COLUMN estimated_cost DOUBLE PRECISION;
"""

# Experimenting (issue 14): sweeps (named groups of jobs queued together), the user's annotations of a
# job (favourite, 1-5 rating, note, tags), which are theirs alone and never the engine's to write.
V5 = """
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id    TEXT PRIMARY KEY,
    workspace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    spec_json   TEXT
);
CREATE INDEX IF NOT EXISTS sweeps_workspace_created ON sweeps (workspace, created_at);
ALTER TABLE jobs ADD COLUMN sweep_id TEXT;
ALTER TABLE jobs ADD COLUMN favourite INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN rating INTEGER;
ALTER TABLE jobs ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]';
CREATE INDEX IF NOT EXISTS jobs_sweep ON jobs (sweep_id)
"""

# History and the Gallery at 100,000 jobs: store.version() (asked on every rerun) and the filters' choices
# read these indexes instead of every row.
V6 = """
CREATE INDEX IF NOT EXISTS jobs_workspace_updated ON jobs (workspace, updated_at, revision);
CREATE INDEX IF NOT EXISTS jobs_workspace_status_created ON jobs (workspace, status, created_at);
CREATE INDEX IF NOT EXISTS jobs_workspace_model ON jobs (workspace, model);
CREATE INDEX IF NOT EXISTS jobs_workspace_tags ON jobs (workspace, tags_json);
CREATE INDEX IF NOT EXISTS jobs_workspace_favourite ON jobs (workspace, favourite, created_at)
"""

MIGRATIONS = [(1, V1), (2, V2), (3, V3), (4, V4), (5, V5), (6, V6)]
LATEST = MIGRATIONS[-1][0]

_META = "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"


def _has_table(db: Database, name: str) -> bool:
    return bool(db.query_one(
        "SELECT 1 AS x FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()"
        if db.dialect == "postgresql" else "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?",
        [name]))


def version(db: Database) -> int:
    row = db.query_one("SELECT value FROM meta WHERE name = 'schema_version'") if _has_table(db, "meta") else None
    if row:
        return int(row["value"])
    return 1 if _has_table(db, "jobs") else 0


def migrate(db: Database) -> int:
    """Bring the schema to LATEST; safe to run from several processes at once (one transaction)."""
    with db.transaction() as tx:
        if db.dialect == "postgresql":
            # Concurrent CREATE TABLE IF NOT EXISTS races on PostgreSQL: one migrator at a time.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext('studio-migrations'))")
        tx.execute(_META)
        current = version(tx)
        for number, script in MIGRATIONS:
            if number > current:
                for statement in filter(str.strip, script.split(";")):
                    tx.execute(statement)
        if current != LATEST:
            tx.execute("DELETE FROM meta WHERE name = 'schema_version'")
            tx.execute("INSERT INTO meta (name, value) VALUES ('schema_version', ?)", [str(LATEST)])
    return LATEST
