"""The usage store's writer thread: records in through a queue, batched into SQLite.

Owns: `UsageWriter`. `submit` is the daemon's observer: it only puts the record on a
`queue.SimpleQueue` (never blocks, never raises), so a slow, locked or broken disk cannot
delay a response. One thread takes what has queued up and writes it as one transaction
(`UsageStore.write`). A failure is logged once per kind of problem (and again once it clears);
records that could not be written stay queued and are retried every `RETRY_SECONDS`, up to
`MAX_PENDING` of them (the oldest are dropped beyond that). `close` writes what is queued and
stops the thread.

Must not import aiohttp, typer, rich or keyring.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ccroute.config import LogConfig
from ccroute.usage.record import RequestRecord
from ccroute.usage.schema import NewerSchemaError
from ccroute.usage.store import UsageStore

log = logging.getLogger("ccroute.usage")

#: Records written per transaction at most.
BATCH = 500
#: Seconds between two tries to write records a failure left queued.
RETRY_SECONDS = 5.0
#: Records kept for a retry at most while the store cannot be written.
MAX_PENDING = 10_000

_MB = 1024 * 1024


class _Store(Protocol):
    max_bytes: int

    def write(self, records: list[RequestRecord], *, bodies: bool = False) -> None: ...
    def close(self) -> None: ...


class _Flush:
    """A queue marker: set once everything queued before it was written (or failed)."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class UsageWriter:
    """Writes submitted records to the usage store from its own thread.

    Args:
        directory: where the store's files live (`Paths.data_dir`).
        settings: the live `[log]` settings (read for every record and batch: `usage`,
            `bodies`, `usage_max_mb`).
        store: builds the store (tests pass a slow or failing one).
    """

    def __init__(
        self,
        directory: Path,
        *,
        settings: Callable[[], LogConfig],
        store: Callable[[Path, int], _Store] | None = None,
    ) -> None:
        self._settings = settings
        self._directory = directory
        self._make_store = store or (lambda d, cap: UsageStore(d, max_bytes=cap))
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ccroute-usage", daemon=True)
        self._pending: list[RequestRecord] = []
        self._problem: str | None = None

    def submit(self, record: RequestRecord) -> None:
        """Queue `record` for writing when `log.usage` is on; returns at once."""
        if self._settings().usage:
            self._queue.put(record)

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record submitted so far was written or failed; False on timeout."""
        marker = _Flush()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the thread (waits up to `timeout` seconds)."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        store: _Store | None = None
        try:
            while True:
                try:
                    item = self._queue.get(timeout=RETRY_SECONDS if self._pending else None)
                except queue.Empty:
                    store = self._write(store)
                    continue
                stop, markers = self._take(item)
                store = self._write(store)
                for marker in markers:
                    marker.done.set()
                if stop:
                    return
        finally:
            if store is not None:
                store.close()

    def _take(self, item: object) -> tuple[bool, list[_Flush]]:
        """Move `item` and whatever else is queued now into `_pending` (up to `BATCH`)."""
        markers: list[_Flush] = []
        stop = False
        taken = 0
        while True:
            if item is _STOP:
                stop = True
            elif isinstance(item, _Flush):
                markers.append(item)
            elif isinstance(item, RequestRecord):
                self._pending.append(item)
                taken += 1
            if stop or taken >= BATCH:
                break
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        if len(self._pending) > MAX_PENDING:
            dropped = len(self._pending) - MAX_PENDING
            del self._pending[:dropped]
            self._report(f"dropped {dropped} usage record(s): the store could not be written")
        return stop, markers

    def _write(self, store: _Store | None) -> _Store | None:
        if not self._pending:
            return store
        settings = self._settings()
        try:
            if store is None:
                store = self._make_store(self._directory, settings.usage_max_mb * _MB)
            store.max_bytes = settings.usage_max_mb * _MB
            store.write(self._pending, bodies=settings.bodies)
        except (sqlite3.Error, OSError, NewerSchemaError) as exc:
            if store is not None:
                with contextlib.suppress(sqlite3.Error, OSError):
                    store.close()
            self._report(
                f"cannot write the usage store in {self._directory} ({exc}); requests are "
                f"served as usual, and ccroute retries every {RETRY_SECONDS:.0f}s"
            )
            return None
        self._pending = []
        if self._problem is not None:
            log.info("usage store writable again")
            self._problem = None
        return store

    def _report(self, problem: str) -> None:
        """Log `problem` unless the same one was logged last (log once, not per batch)."""
        if problem != self._problem:
            log.warning("%s", problem)
            self._problem = problem
