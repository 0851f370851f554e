"""The usage store on disk: writing, migrating, rotating, recovering; the writer thread; cost."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ccroute.catalogue.model import ModelInfo
from ccroute.config import LogConfig
from ccroute.usage import query, schema
from ccroute.usage.cost import cost_usd
from ccroute.usage.record import RequestRecord
from ccroute.usage.store import FILE_NAME, PREVIOUS_FILE_NAME, UsageStore
from ccroute.usage.writer import UsageWriter

NOW = 1_795_000_000.0


def record(n: int = 0, **fields: object) -> RequestRecord:
    base = RequestRecord(
        time=NOW + n,
        request_id=f"msg_{n:04d}",
        session_id="sess-1",
        requested_model="claude-sonnet-4-5",
        route="default",
        reason="no other route applied",
        provider="openrouter",
        upstream_model="vendor/model-a",
        stream=True,
        status=200,
        outcome="200",
        attempts=1,
        latency_ms=120.0,
        ttft_ms=40.0,
        input_tokens=100,
        output_tokens=20,
        cache_read_tokens=10,
        cache_creation_tokens=0,
        cost_usd=0.001,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def rows(directory: Path) -> list[query.LoggedRequest]:
    found, _ = query.recent(directory, limit=100_000)
    return found


def test_written_records_read_back_with_every_field(tmp_path: Path) -> None:
    store = UsageStore(tmp_path, max_bytes=64 << 20)
    first = record(1, error_type="overloaded_error", status=200, outcome="200 then error")
    second = record(2, session_id=None, ttft_ms=None, cost_usd=None, input_tokens=None)
    store.write([first, second])
    store.close()
    [a, b] = rows(tmp_path)
    assert a.to_json() == {
        k: v for k, v in _json(first).items() if k not in ("request_body", "response_body")
    }
    assert b.session_id is None and b.ttft_ms is None and b.cost_usd is None
    assert b.input_tokens is None and b.stream is True


def _json(rec: RequestRecord) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(rec)


def test_store_file_is_in_wal_mode_and_at_the_latest_schema(tmp_path: Path) -> None:
    UsageStore(tmp_path, max_bytes=1 << 30).write([record()])
    conn = sqlite3.connect(tmp_path / FILE_NAME)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert schema.version(conn) == schema.SCHEMA_VERSION == 2
    finally:
        conn.close()


def test_a_version_1_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    conn = sqlite3.connect(path)
    conn.executescript(schema.MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    columns = ", ".join(schema.COLUMNS)
    values = (NOW, "msg_old", None, "m", "default", "r", "p", "u", 0, 200, "200", None, 1, 5.0)
    values = (*values, None, 1, 2, None, None, None)
    conn.execute(
        f"INSERT INTO requests ({columns}) VALUES ({', '.join('?' * len(schema.COLUMNS))})",
        values,
    )
    conn.commit()
    conn.close()
    # a version-1 file is readable before the daemon migrates it
    assert [r.request_id for r in rows(tmp_path)] == ["msg_old"]

    store = UsageStore(tmp_path, max_bytes=1 << 30)
    store.write([record(1, request_body=b"q", response_body=b"a")], bodies=True)
    store.close()
    conn = sqlite3.connect(path)
    try:
        assert schema.version(conn) == 2
        assert conn.execute("SELECT count(*) FROM bodies").fetchone()[0] == 1
        generation = conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0]
    finally:
        conn.close()
    assert len(generation) == 32
    assert [r.request_id for r in rows(tmp_path)] == ["msg_old", "msg_0001"]


def test_a_database_from_a_newer_ccroute_is_left_alone(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / FILE_NAME)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(schema.NewerSchemaError):
        UsageStore(tmp_path, max_bytes=1 << 30).write([record()])
    assert (tmp_path / FILE_NAME).exists()


def test_bodies_are_stored_only_with_the_flag(tmp_path: Path) -> None:
    store = UsageStore(tmp_path, max_bytes=1 << 30)
    with_bodies = record(1, request_body=b'{"model":"x"}', response_body=b"event: ping\n\n")
    store.write([with_bodies], bodies=False)
    store.write([replace(with_bodies, request_id="msg_b")], bodies=True)
    store.close()
    conn = sqlite3.connect(tmp_path / FILE_NAME)
    try:
        stored = conn.execute(
            "SELECT r.request_id, b.request_body, b.response_body "
            "FROM bodies b JOIN requests r ON r.id = b.request"
        ).fetchall()
    finally:
        conn.close()
    assert stored == [("msg_b", b'{"model":"x"}', b"event: ping\n\n")]


def test_passing_the_size_cap_rotates_and_queries_read_both_generations(
    tmp_path: Path,
) -> None:
    store = UsageStore(tmp_path, max_bytes=48 * 1024)
    n = 0
    while not (tmp_path / PREVIOUS_FILE_NAME).exists():
        store.write([record(n + i, reason="x" * 200) for i in range(20)])
        n += 20
        assert n < 5000, "the store never rotated"
    rotated_at = n
    store.write([record(n + i) for i in range(3)])
    store.close()
    assert store.size() < 48 * 1024
    found = rows(tmp_path)
    assert [r.request_id for r in found] == [f"msg_{i:04d}" for i in range(rotated_at + 3)]
    total = query.totals(tmp_path, by="day")[1]
    assert total.requests == rotated_at + 3

    # the next rotation drops the oldest generation
    first_generation = generation(tmp_path / PREVIOUS_FILE_NAME)
    store = UsageStore(tmp_path, max_bytes=48 * 1024)
    while generation(tmp_path / PREVIOUS_FILE_NAME) == first_generation:
        store.write([record(10_000 + n, reason="y" * 200) for _ in range(20)])
    store.close()
    ids = {r.request_id for r in rows(tmp_path)}
    assert "msg_0000" not in ids
    assert f"msg_{rotated_at:04d}" in ids  # first row of the generation that was current


def generation(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])
    finally:
        conn.close()


def test_a_corrupt_file_is_moved_aside_and_a_new_store_started(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"this is not a database, just junk bytes " * 200)
    store = UsageStore(tmp_path, max_bytes=1 << 30)
    with caplog.at_level(logging.ERROR, logger="ccroute.usage"):
        store.write([record(1)])
    store.close()
    [aside] = list(tmp_path.glob(FILE_NAME + ".corrupt-*"))
    assert aside.read_bytes().startswith(b"this is not a database")
    assert str(aside) in caplog.text
    assert [r.request_id for r in rows(tmp_path)] == ["msg_0001"]


def test_reading_a_corrupt_file_names_it(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"junk" * 1000)
    with pytest.raises(query.UsageReadError, match=str(tmp_path / FILE_NAME)):
        query.totals(tmp_path)


def test_an_empty_data_dir_reads_as_no_requests(tmp_path: Path) -> None:
    assert query.totals(tmp_path / "missing") == ([], query.totals(tmp_path)[1])
    assert query.totals(tmp_path)[1].requests == 0
    assert query.recent(tmp_path) == ([], query.Cursor(None, 0))
    assert not (tmp_path / FILE_NAME).exists()


def test_follow_picks_up_new_rows_and_survives_a_rotation(tmp_path: Path) -> None:
    store = UsageStore(tmp_path, max_bytes=1 << 30)
    store.write([record(1), record(2)])
    shown, cursor = query.recent(tmp_path, limit=1)
    assert [r.request_id for r in shown] == ["msg_0002"]
    assert query.follow(tmp_path, cursor) == ([], cursor)
    store.write([record(3)])
    new, cursor = query.follow(tmp_path, cursor)
    assert [r.request_id for r in new] == ["msg_0003"]
    store.write([record(4)])
    store.rotate()
    store.write([record(5)])
    new, cursor = query.follow(tmp_path, cursor)
    assert [r.request_id for r in new] == ["msg_0004", "msg_0005"]
    store.write([record(6)])
    store.close()
    assert [r.request_id for r in query.follow(tmp_path, cursor)[0]] == ["msg_0006"]


def test_parse_since_accepts_spans_and_local_dates() -> None:
    assert query.parse_since("24h", now=NOW) == NOW - 86400
    assert query.parse_since("7d", now=NOW) == NOW - 7 * 86400
    assert query.parse_since("30m", now=NOW) == NOW - 1800
    midnight = time.mktime((2026, 11, 1, 0, 0, 0, 0, 0, -1))
    assert query.parse_since("2026-11-01", now=NOW) == midnight
    with pytest.raises(ValueError, match="24h, 7d"):
        query.parse_since("yesterday", now=NOW)


# -- the writer thread -------------------------------------------------------------------------


def settings(**fields: object) -> LogConfig:
    return LogConfig(**fields)  # type: ignore[arg-type]


def test_writer_batches_submitted_records_and_flushes_them_on_close(tmp_path: Path) -> None:
    writer = UsageWriter(tmp_path, settings=settings)
    writer.start()
    for n in range(50):
        writer.submit(record(n))
    writer.close()
    assert len(rows(tmp_path)) == 50


def test_writer_drops_nothing_when_usage_is_off_it_simply_records_nothing(tmp_path: Path) -> None:
    writer = UsageWriter(tmp_path, settings=lambda: settings(usage=False))
    writer.start()
    writer.submit(record(1))
    writer.close()
    assert not (tmp_path / FILE_NAME).exists()


def test_a_locked_store_is_logged_once_and_its_records_written_once_it_frees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("ccroute.usage.store.BUSY_TIMEOUT_MS", 20)
    UsageStore(tmp_path, max_bytes=1 << 30).write([record(0)])
    locker = sqlite3.connect(tmp_path / FILE_NAME, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    writer = UsageWriter(tmp_path, settings=settings)
    writer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="ccroute.usage"):
            writer.submit(record(1))
            assert writer.flush(10)
            writer.submit(record(2))
            assert writer.flush(10)
        assert [r.request_id for r in rows(tmp_path)] == ["msg_0000"]
        warnings = [r for r in caplog.records if "cannot write the usage store" in r.message]
        assert len(warnings) == 1
        assert "locked" in warnings[0].message
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert writer.flush(10)
    writer.close()
    assert [r.request_id for r in rows(tmp_path)] == ["msg_0000", "msg_0001", "msg_0002"]


def test_submit_returns_while_the_store_is_stuck(tmp_path: Path) -> None:
    release = threading.Event()
    written: list[str] = []

    class StuckStore:
        max_bytes = 0

        def write(self, records: list[RequestRecord], *, bodies: bool = False) -> None:
            assert release.wait(10)
            written.extend(r.request_id for r in records)

        def close(self) -> None:
            pass

    writer = UsageWriter(tmp_path, settings=settings, store=lambda d, cap: StuckStore())
    writer.start()
    writer.submit(record(1))
    for n in range(2, 200):
        writer.submit(record(n))  # returns although the first write has not
    assert written == []
    release.set()
    writer.close()
    assert written == [f"msg_{n:04d}" for n in range(1, 200)]


# -- cost --------------------------------------------------------------------------------------


def prices(**fields: float | None) -> ModelInfo:
    return ModelInfo(provider="p", id="m", **fields)  # type: ignore[arg-type]


def test_cost_adds_input_output_and_cache_prices_per_million_tokens() -> None:
    info = prices(input_price=3.0, output_price=15.0, cache_read_price=0.3, cache_write_price=3.75)
    cost = cost_usd(
        info,
        input_tokens=1000,
        output_tokens=200,
        cache_read_tokens=10_000,
        cache_creation_tokens=2000,
    )
    assert cost == pytest.approx((1000 * 3 + 200 * 15 + 10_000 * 0.3 + 2000 * 3.75) / 1e6)


def test_cache_tokens_without_a_cache_price_cost_as_input() -> None:
    info = prices(input_price=2.0, output_price=8.0)
    cost = cost_usd(info, input_tokens=100, output_tokens=10, cache_read_tokens=50)
    assert cost == pytest.approx((150 * 2 + 10 * 8) / 1e6)


def test_free_models_cost_zero_but_unknown_prices_or_tokens_cost_none() -> None:
    assert cost_usd(prices(input_price=0.0, output_price=0.0), input_tokens=5, output_tokens=5) == 0
    assert cost_usd(prices(input_price=1.0), input_tokens=5, output_tokens=5) is None
    assert cost_usd(None, input_tokens=5, output_tokens=5) is None
    assert (
        cost_usd(prices(input_price=1.0, output_price=1.0), input_tokens=None, output_tokens=5)
        is None
    )


# -- prices from the catalogue cache -----------------------------------------------------------


def test_price_book_reads_the_cache_and_picks_up_a_refetched_list() -> None:
    import os

    from ccroute.catalogue import cache
    from ccroute.catalogue.sources import listings_for
    from ccroute.config import ProviderConfig
    from ccroute.usage.prices import PriceBook

    provider = ProviderConfig(
        name="or", wire="openai", base_url="https://openrouter.ai/api/v1", api_key_env=None
    )
    url = listings_for(provider)[0].url
    book = PriceBook()
    book.refresh({"or": provider})
    assert book.lookup("or", "vendor/m") is None  # nothing cached yet: no price, no network

    cache.save("or", url, [ModelInfo(provider="or", id="vendor/m", input_price=1.0)])
    book.refresh({"or": provider})
    found = book.lookup("or", "vendor/m:free")  # matched as `ccroute models` matches routes
    assert found is not None and found.input_price == 1.0

    cache.save("or", url, [ModelInfo(provider="or", id="vendor/m", input_price=2.0)])
    path = cache.cache_path("or")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    book.refresh({"or": provider})
    assert book.lookup("or", "vendor/m") == ModelInfo(provider="or", id="vendor/m", input_price=2.0)

    book.refresh({})  # provider removed from the config
    assert book.lookup("or", "vendor/m") is None
