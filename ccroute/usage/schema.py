"""The usage store's SQLite schema and its migrations.

Owns: the tables, the version kept in `PRAGMA user_version`, and `migrate`, which brings a
database at any older version up to `SCHEMA_VERSION` by running `MIGRATIONS` in order, each in
its own transaction (a crash mid-way leaves the last complete version).

Tables (version 2):
- `requests`: one row per finished `POST /v1/messages`, the columns of `RequestRecord` but the
  bodies (`id` is SQLite's rowid, increasing in insertion order; `stream` is 0/1; times are
  unix seconds, durations milliseconds, cost USD).
- `bodies`: `request` (= `requests.id`), `request_body`, `response_body` (BLOBs); rows only
  when `log.bodies` is true.
- `meta`: `key`, `value`; `generation` is a random id given to each new database file, so
  `ccroute logs -f` notices a rotation.

Must not import aiohttp, typer, rich or keyring.
"""

from __future__ import annotations

import sqlite3
import uuid

_V1 = """
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    request_id TEXT NOT NULL,
    session_id TEXT,
    requested_model TEXT NOT NULL,
    route TEXT NOT NULL,
    reason TEXT NOT NULL,
    provider TEXT,
    upstream_model TEXT,
    stream INTEGER NOT NULL,
    status INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    error_type TEXT,
    attempts INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    ttft_ms REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cache_read_tokens INTEGER,
    cache_creation_tokens INTEGER,
    cost_usd REAL
);
CREATE INDEX requests_time ON requests (time);
"""

_V2 = """
CREATE TABLE bodies (
    request INTEGER PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    request_body BLOB,
    response_body BLOB
);
CREATE INDEX requests_session ON requests (session_id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('generation', '{generation}');
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
"""Migration `i` (0-based) takes a database from version `i` to `i + 1`."""

SCHEMA_VERSION = len(MIGRATIONS)

#: The columns of `requests` written from a `RequestRecord` (all but `id`), in order.
COLUMNS: tuple[str, ...] = (
    "time",
    "request_id",
    "session_id",
    "requested_model",
    "route",
    "reason",
    "provider",
    "upstream_model",
    "stream",
    "status",
    "outcome",
    "error_type",
    "attempts",
    "latency_ms",
    "ttft_ms",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "cost_usd",
)


class NewerSchemaError(Exception):
    """The database was written by a newer ccroute (its `user_version` is above ours)."""


def version(conn: sqlite3.Connection) -> int:
    """The database's schema version (`PRAGMA user_version`; 0 = empty)."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Run the migrations `conn`'s database lacks; returns the version it is now at.

    Raises:
        NewerSchemaError: the database is at a version this ccroute does not know.
        sqlite3.Error: the database cannot be read or written.
    """
    current = version(conn)
    if current > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"schema version {current} is newer than this ccroute's {SCHEMA_VERSION}"
        )
    for target in range(current + 1, SCHEMA_VERSION + 1):
        script = MIGRATIONS[target - 1].replace("{generation}", uuid.uuid4().hex)
        # executescript commits first; the BEGIN makes each migration all-or-nothing.
        try:
            conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {target};\nCOMMIT;")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.rollback()
            raise
    return SCHEMA_VERSION
