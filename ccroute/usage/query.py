"""Reading the usage store: totals for `ccroute usage`, recent rows for `ccroute logs`.

Owns: opening both generations (`usage.sqlite3` and `usage.1.sqlite3`) read-only, side by
side, while the daemon may be writing (WAL readers never block it); `totals` (grouped sums),
`recent` and `follow` (rows in the order they were written, across a rotation), and
`parse_since`. A store that does not exist yet reads as empty.

Errors: `UsageReadError` (a `CcrouteError`, naming the file and the fix) when a file is not
a readable database.

Must not import aiohttp, typer, rich or keyring.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ccroute.errors import CcrouteError
from ccroute.usage.store import store_files

GROUPS: dict[str, str] = {
    "day": "date(time, 'unixepoch', 'localtime')",
    "model": "COALESCE(provider || '/' || upstream_model, '-')",
    "provider": "COALESCE(provider, '-')",
    "session": "COALESCE(session_id, '-')",
}
"""`--by` choices and the SQL key each groups on (days in local time; "-" = none)."""

#: A request counts as an error when the client saw one: an HTTP error status (but 499, the
#: client leaving before the answer) or a stream ended by an `error` event.
_IS_ERROR = "((status >= 400 AND status != 499) OR error_type IS NOT NULL)"

_READ_COLUMNS = (
    "id, time, request_id, session_id, requested_model, route, reason, provider, "
    "upstream_model, stream, status, outcome, error_type, attempts, latency_ms, ttft_ms, "
    "input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd"
)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class UsageReadError(CcrouteError):
    """A usage store file cannot be read."""


@dataclass(frozen=True, slots=True)
class Totals:
    """One group's sums (`key` = the day, model, provider or session; "total" for all).

    Tokens are sums of the known counts; `cost_usd` sums the priced requests (None when none
    was priced), `priced_requests` says how many were; averages in milliseconds (None without
    values); `first` / `last` are the earliest / latest arrival, unix seconds.
    """

    key: str
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    cost_usd: float | None
    priced_requests: int
    avg_latency_ms: float | None
    avg_ttft_ms: float | None
    first: float | None
    last: float | None

    def to_json(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One stored row (a `RequestRecord` without bodies); `id` is its rowid in its file."""

    id: int
    time: float
    request_id: str
    session_id: str | None
    requested_model: str
    route: str
    reason: str
    provider: str | None
    upstream_model: str | None
    stream: bool
    status: int
    outcome: str
    error_type: str | None
    attempts: int
    latency_ms: float
    ttft_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_creation_tokens: int | None
    cost_usd: float | None

    def to_json(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (without the file-local `id`)."""
        data = asdict(self)
        del data["id"]
        return data


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where `follow` stopped: the current file's generation id and its last row id."""

    generation: str | None = None
    last_id: int = 0


def parse_since(text: str, *, now: float) -> float:
    """Unix seconds from `--since`: a span back from `now` (`90s`, `30m`, `24h`, `7d`, `2w`),
    a local date (`2026-11-01`, from its midnight) or a local ISO date-time.

    Raises:
        ValueError: none of those, with the accepted forms in the message.
    """
    value = text.strip()
    span = re.fullmatch(r"(\d+)\s*([smhdw])", value.lower())
    if span:
        return now - int(span.group(1)) * _UNITS[span.group(2)]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time span or date: use e.g. 24h, 7d, 2w or 2026-11-01"
        ) from None
    return moment.timestamp()  # a naive date-time is local time


class _Reader:
    """Both generations attached to one in-memory connection, as schemas `cur` and `prev`."""

    def __init__(self, directory: Path) -> None:
        self.conn = sqlite3.connect(":memory:", timeout=5.0, uri=True)
        self.present: list[str] = []
        try:
            current, previous = store_files(directory)
            for alias, path in (("cur", current), ("prev", previous)):
                if path.exists():
                    self._attach(alias, path)
            self.conn.execute("PRAGMA query_only = 1")
        except BaseException:
            self.conn.close()
            raise

    def _attach(self, alias: str, path: Path) -> None:
        # mode=rw: never create the file (it may be mid-rotation); read-only use is enforced
        # by query_only, which keeps WAL readers working without a writable -shm question.
        try:
            self.conn.execute(
                f"ATTACH DATABASE ? AS {alias}", (path.absolute().as_uri() + "?mode=rw",)
            )
            row = self.conn.execute(
                f"SELECT count(*) FROM {alias}.sqlite_master WHERE name = 'requests'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise UsageReadError(
                f"The usage store {path} cannot be read ({exc}). The daemon moves a damaged "
                f"store aside on its next write; or delete {path} to start afresh."
            ) from None
        if row[0]:
            self.present.append(alias)

    def union(self, columns: str) -> str:
        """A sub-select of `columns` over every present generation."""
        return " UNION ALL ".join(f"SELECT {columns} FROM {a}.requests" for a in self.present)

    def generation(self, alias: str) -> str | None:
        if alias not in self.present:
            return None
        try:
            row = self.conn.execute(
                f"SELECT value FROM {alias}.meta WHERE key = 'generation'"
            ).fetchone()
        except sqlite3.OperationalError:  # a version-1 file: no meta table yet
            return ""
        return str(row[0]) if row else ""

    def rows(self, alias: str, *, after: int = 0, last: int | None = None) -> list[LoggedRequest]:
        """Rows of one generation with id > `after` (oldest first); only the `last` newest
        when given."""
        if alias not in self.present:
            return []
        sql = f"SELECT {_READ_COLUMNS} FROM {alias}.requests WHERE id > ?"
        if last is not None:
            sql = f"SELECT * FROM ({sql} ORDER BY id DESC LIMIT {int(last)}) ORDER BY id"
        else:
            sql += " ORDER BY id"
        return [_logged(row) for row in self.conn.execute(sql, (after,))]


@contextlib.contextmanager
def _reading(directory: Path) -> Iterator[_Reader]:
    reader = _Reader(directory)
    try:
        yield reader
    except sqlite3.DatabaseError as exc:
        raise UsageReadError(
            f"The usage store in {directory} cannot be read ({exc}). The daemon moves a "
            "damaged store aside on its next write; or delete the usage*.sqlite3 files there."
        ) from None
    finally:
        reader.conn.close()


def totals(
    directory: Path, *, by: str = "day", since: float | None = None
) -> tuple[list[Totals], Totals]:
    """Sums per group and overall, for requests that arrived at or after `since`.

    Groups are ordered by day (oldest first) for `by="day"`, else by requests, most first.

    Raises:
        ValueError: `by` is not one of `GROUPS`.
        UsageReadError: a store file is not a readable database.
    """
    if by not in GROUPS:
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(GROUPS)}")
    with _reading(directory) as reader:
        if not reader.present:
            return [], _empty_total()
        rows_sql = reader.union(
            "time, session_id, provider, upstream_model, status, error_type, latency_ms, "
            "ttft_ms, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, "
            "cost_usd"
        )
        sums = (
            f"COUNT(*), COALESCE(SUM({_IS_ERROR}), 0), COALESCE(SUM(input_tokens), 0), "
            "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cache_read_tokens), 0), "
            "COALESCE(SUM(cache_creation_tokens), 0), SUM(cost_usd), COUNT(cost_usd), "
            "AVG(latency_ms), AVG(ttft_ms), MIN(time), MAX(time)"
        )
        where = "WHERE time >= ?" if since is not None else ""
        params: tuple[float, ...] = (since,) if since is not None else ()
        order = "key" if by == "day" else "COUNT(*) DESC, key"
        grouped = reader.conn.execute(
            f"SELECT {GROUPS[by]} AS key, {sums} FROM ({rows_sql}) {where} "
            f"GROUP BY key ORDER BY {order}",
            params,
        ).fetchall()
        overall = reader.conn.execute(
            f"SELECT 'total', {sums} FROM ({rows_sql}) {where}", params
        ).fetchone()
    return [_totals(row) for row in grouped], _totals(overall)


def recent(directory: Path, *, limit: int = 20) -> tuple[list[LoggedRequest], Cursor]:
    """The `limit` rows written last (oldest first), and the cursor for `follow`.

    Raises:
        UsageReadError: a store file is not a readable database.
    """
    with _reading(directory) as reader:
        rows = reader.rows("cur", last=limit) if limit > 0 else []
        cursor = _cursor(reader, rows)
        if len(rows) < limit:
            rows = reader.rows("prev", last=limit - len(rows)) + rows
    return rows, cursor


def follow(directory: Path, cursor: Cursor) -> tuple[list[LoggedRequest], Cursor]:
    """The rows written since `cursor` (oldest first) and the new cursor; a rotation since
    then is followed (the rest of the old file, then the new one).

    Raises:
        UsageReadError: a store file is not a readable database.
    """
    with _reading(directory) as reader:
        current = reader.generation("cur")
        if current is not None and current == cursor.generation:
            fresh = reader.rows("cur", after=cursor.last_id)
            rows = fresh
        else:
            rows = []
            if cursor.generation is not None and reader.generation("prev") == cursor.generation:
                rows = reader.rows("prev", after=cursor.last_id)
            fresh = reader.rows("cur")
            rows += fresh
        if current == cursor.generation and not fresh:
            return rows, cursor
        return rows, _cursor(reader, fresh)


def _cursor(reader: _Reader, rows: list[LoggedRequest]) -> Cursor:
    generation = reader.generation("cur")
    if rows:
        return Cursor(generation, rows[-1].id)
    if "cur" not in reader.present:
        return Cursor(generation, 0)
    row = reader.conn.execute("SELECT COALESCE(MAX(id), 0) FROM cur.requests").fetchone()
    return Cursor(generation, int(row[0]))


def _logged(row: tuple[Any, ...]) -> LoggedRequest:
    values = list(row)
    values[9] = bool(values[9])  # stream
    return LoggedRequest(*values)


def _totals(row: tuple[Any, ...]) -> Totals:
    key, requests, errors, tin, tout, tread, twrite, cost, priced, lat, ttft, first, last = row
    return Totals(
        key=str(key),
        requests=int(requests),
        errors=int(errors),
        input_tokens=int(tin),
        output_tokens=int(tout),
        cache_read_tokens=int(tread),
        cache_creation_tokens=int(twrite),
        cost_usd=None if cost is None else float(cost),
        priced_requests=int(priced),
        avg_latency_ms=None if lat is None else float(lat),
        avg_ttft_ms=None if ttft is None else float(ttft),
        first=first,
        last=last,
    )


def _empty_total() -> Totals:
    return Totals("total", 0, 0, 0, 0, 0, 0, None, 0, None, None, None, None)
