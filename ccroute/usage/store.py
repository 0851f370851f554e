"""The usage store on disk: `UsageStore` writes `RequestRecord`s to SQLite, bounded in size.

Owns: the files — `<data dir>/usage.sqlite3` (the current generation, WAL mode so
`ccroute usage` / `ccroute logs` read while the daemon writes) and `usage.1.sqlite3` (the
previous one) — opening and migrating them (`schema.migrate`), inserting batches, rotation
(once the current database passes `max_bytes`, it becomes `usage.1.sqlite3`, replacing
the older one, and a fresh file starts), and recovery: a file SQLite reports as corrupt (or not
a database) is renamed to `usage.sqlite3.corrupt-<UTC time>` and a new one created.

A `UsageStore` belongs to one thread (the writer's); errors other than corruption propagate
(`sqlite3.Error`, `OSError`) for the writer to log. Request and response bodies are written
only when `write(..., bodies=True)`.

Must not import aiohttp, typer, rich or keyring.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from ccroute.atomicfile import ensure_private_dir
from ccroute.usage import schema
from ccroute.usage.record import RequestRecord

log = logging.getLogger("ccroute.usage")

FILE_NAME = "usage.sqlite3"
"""The current generation's file name in the data directory."""
PREVIOUS_FILE_NAME = "usage.1.sqlite3"
"""The previous generation's file name (kept once, replaced at the next rotation)."""

#: Milliseconds a write waits for another connection's lock before failing.
BUSY_TIMEOUT_MS = 1000

#: Bytes the WAL file is cut back to after a checkpoint.
WAL_LIMIT_BYTES = 4 * 1024 * 1024

_SIDECARS = ("-wal", "-shm", "-journal")
_CORRUPT_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB


def store_files(directory: Path) -> tuple[Path, Path]:
    """(current, previous) generation files in `directory`."""
    return directory / FILE_NAME, directory / PREVIOUS_FILE_NAME


def is_corrupt(exc: sqlite3.Error) -> bool:
    """Whether SQLite says the file is damaged or not a database at all."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _CORRUPT_CODES
    text = str(exc)
    return "not a database" in text or "malformed" in text


def connect(path: Path) -> sqlite3.Connection:
    """A connection to `path` in WAL mode waiting `BUSY_TIMEOUT_MS` for locks (creates the
    file)."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


class UsageStore:
    """Appends records to the current generation, rotating past `max_bytes`."""

    def __init__(self, directory: Path, *, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.path, self.previous = store_files(directory)
        self._conn: sqlite3.Connection | None = None
        self._rotate_failed = False

    def write(self, records: Sequence[RequestRecord], *, bodies: bool = False) -> None:
        """Insert `records` in one transaction, then rotate if the file grew past the cap.

        A corrupt file is set aside and the batch written to a fresh one. Raises
        `sqlite3.Error` (e.g. "database is locked") or `OSError`, having written nothing; a
        rotation that fails after the insert is logged once and tried again next time.
        """
        if not records:
            return
        try:
            self._insert(records, bodies)
        except sqlite3.DatabaseError as exc:
            if not is_corrupt(exc):
                raise
            self._set_aside(exc)
            self._insert(records, bodies)
        if self.size() > self.max_bytes:
            try:
                self.rotate()
            except OSError as exc:  # the rows are in; rotation is tried after the next batch
                if not self._rotate_failed:
                    log.warning("cannot rotate the usage store %s yet: %s", self.path, exc)
                self._rotate_failed = True
            else:
                self._rotate_failed = False

    def size(self) -> int:
        """Bytes of the current generation's database (its pages, wherever they are: the
        file or its WAL, which is checkpointed back into the file as it grows)."""
        if self._conn is not None:
            pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
            page_size = self._conn.execute("PRAGMA page_size").fetchone()[0]
            return int(pages) * int(page_size)
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def rotate(self) -> None:
        """Make the current file the previous generation and start a new one.

        The file is checkpointed and switched out of WAL mode first (when no reader holds
        it), so the previous generation is one self-contained file. Raises `OSError` when
        the rename fails (a reader holds the file on Windows); the current file stays.
        """
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("PRAGMA journal_mode=DELETE")
            self.close()
        for suffix in _SIDECARS:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.previous.with_name(self.previous.name + suffix))
        os.replace(self.path, self.previous)
        for suffix in _SIDECARS:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path.with_name(self.path.name + suffix))
        log.info("usage store rotated: %s is now %s", self.path, self.previous.name)

    def close(self) -> None:
        """Close the connection (it reopens on the next write)."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            ensure_private_dir(self.directory)
            conn = connect(self.path)
            try:
                schema.migrate(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _insert(self, records: Sequence[RequestRecord], bodies: bool) -> None:
        conn = self._connection()
        columns = ", ".join(schema.COLUMNS)
        marks = ", ".join("?" * len(schema.COLUMNS))
        sql = f"INSERT INTO requests ({columns}) VALUES ({marks})"
        with conn:
            for record in records:
                cursor = conn.execute(sql, _row(record))
                if bodies and (record.request_body is not None or record.response_body is not None):
                    conn.execute(
                        "INSERT INTO bodies (request, request_body, response_body) "
                        "VALUES (?, ?, ?)",
                        (cursor.lastrowid, record.request_body, record.response_body),
                    )

    def _set_aside(self, exc: sqlite3.Error) -> None:
        self.close()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, aside)
        for suffix in _SIDECARS:
            with contextlib.suppress(FileNotFoundError):
                os.replace(
                    self.path.with_name(self.path.name + suffix),
                    aside.with_name(aside.name + suffix),
                )
        log.error(
            "usage store %s is damaged (%s): moved it to %s and started a new one",
            self.path,
            exc,
            aside,
        )


def _row(record: RequestRecord) -> tuple[object, ...]:
    return (
        record.time,
        record.request_id,
        record.session_id,
        record.requested_model,
        record.route,
        record.reason,
        record.provider,
        record.upstream_model,
        int(record.stream),
        record.status,
        record.outcome,
        record.error_type,
        record.attempts,
        record.latency_ms,
        record.ttft_ms,
        record.input_tokens,
        record.output_tokens,
        record.cache_read_tokens,
        record.cache_creation_tokens,
        record.cost_usd,
    )
