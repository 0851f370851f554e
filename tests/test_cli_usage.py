"""`ccroute usage` and `ccroute logs` on a seeded usage store (CliRunner, local Typer app)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ccroute.cli import logs_cmd, usage_cmd
from ccroute.config import paths
from ccroute.usage.record import RequestRecord
from ccroute.usage.store import UsageStore

DAY1 = datetime(2026, 11, 1, 10, 0).timestamp()  # local times: days group in local time
DAY2 = datetime(2026, 11, 3, 23, 30).timestamp()


def rec(n: int, when: float, **fields: Any) -> RequestRecord:
    base = RequestRecord(
        time=when,
        request_id=f"msg_{n:03d}",
        session_id="sess-aaaaaaaaaaaa",
        requested_model="claude-sonnet-4-5",
        route="default",
        reason="default route",
        provider="openrouter",
        upstream_model="deepseek/deepseek-chat",
        stream=True,
        status=200,
        outcome="200",
        attempts=1,
        latency_ms=1000.0,
        ttft_ms=200.0,
        input_tokens=1000,
        output_tokens=100,
        cache_read_tokens=50,
        cache_creation_tokens=0,
        cost_usd=0.01,
    )
    return replace(base, **fields)


SEED = [
    rec(1, DAY1),
    rec(
        2,
        DAY1 + 60,
        status=429,
        error_type="rate_limit_error",
        input_tokens=None,
        output_tokens=None,
        cache_read_tokens=None,
        cost_usd=None,
        ttft_ms=None,
    ),
    rec(
        3,
        DAY2,
        provider="gemini",
        upstream_model="gemini-2.5-flash",
        session_id="sess-b",
        cost_usd=None,
        latency_ms=3000.0,
    ),
    rec(4, DAY2 + 60, error_type="overloaded_error", outcome="200 then error"),
]


@pytest.fixture
def seeded() -> list[RequestRecord]:
    store = UsageStore(paths().data_dir, max_bytes=1 << 30)
    store.write(SEED)
    store.close()
    return SEED


def cli() -> typer.Typer:
    app = typer.Typer()
    usage_cmd.register(app)
    logs_cmd.register(app)
    return app


def run(*args: str, **env: str) -> Any:
    result = CliRunner().invoke(cli(), list(args), env=env or None)
    return result


def usage_json(*args: str) -> dict[str, Any]:
    result = run("usage", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_usage_by_day_totals_each_local_day(seeded: object) -> None:
    data = usage_json()
    assert data["by"] == "day" and data["since"] is None
    [first, second] = data["groups"]
    assert (first["key"], second["key"]) == ("2026-11-01", "2026-11-03")
    assert first["requests"] == 2 and first["errors"] == 1
    assert first["input_tokens"] == 1000 and first["output_tokens"] == 100
    assert first["cost_usd"] == pytest.approx(0.01) and first["priced_requests"] == 1
    assert second["errors"] == 1  # the stream that ended with an error event
    assert second["avg_latency_ms"] == pytest.approx(2000.0)
    total = data["total"]
    assert total["key"] == "total" and total["requests"] == 4 and total["errors"] == 2
    assert total["input_tokens"] == 3000 and total["cache_read_tokens"] == 150
    assert total["cost_usd"] == pytest.approx(0.02)
    assert total["avg_ttft_ms"] == pytest.approx(200.0)


@pytest.mark.parametrize(
    ("by", "keys"),
    [
        ("model", ["openrouter/deepseek/deepseek-chat", "gemini/gemini-2.5-flash"]),
        ("provider", ["openrouter", "gemini"]),
        ("session", ["sess-aaaaaaaaaaaa", "sess-b"]),
    ],
)
def test_usage_groups_by_model_provider_or_session(
    seeded: object, by: str, keys: list[str]
) -> None:
    data = usage_json("--by", by)
    assert [g["key"] for g in data["groups"]] == keys  # most requests first
    assert [g["requests"] for g in data["groups"]] == [3, 1]


def test_usage_since_a_date_leaves_out_earlier_requests(seeded: object) -> None:
    data = usage_json("--since", "2026-11-02")
    assert [g["key"] for g in data["groups"]] == ["2026-11-03"]
    assert data["since"] == datetime(2026, 11, 2).timestamp()
    assert data["total"]["requests"] == 2


def test_usage_since_a_span_counts_back_from_now(seeded: object) -> None:
    store = UsageStore(paths().data_dir, max_bytes=1 << 30)
    store.write([rec(9, datetime.now().timestamp() - 60)])
    store.close()
    assert usage_json("--since", "1h")["total"]["requests"] == 1
    assert usage_json("--since", "3650d")["total"]["requests"] == 5


def test_usage_table_shows_days_totals_and_unknown_cost_as_a_dash(seeded: object) -> None:
    result = run("usage", "--by", "model")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "openrouter/deepseek/deepseek-chat" in out and "gemini/gemini-2.5-flash" in out
    assert "$0.0200" in out  # deepseek: two priced requests
    gemini_row = next(line for line in out.splitlines() if "gemini-2.5-flash" in line)
    assert "—" in gemini_row and "$" not in gemini_row
    assert "total" in out and "unpriced" in out
    assert "\x1b[" not in out  # not a terminal: no colour codes


def test_usage_csv_has_a_header_and_one_row_per_group(seeded: object) -> None:
    result = run("usage", "--csv", "--by", "provider")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["provider"] for r in rows] == ["openrouter", "gemini"]
    assert rows[0]["requests"] == "3" and rows[0]["input_tokens"] == "2000"
    assert rows[1]["cost_usd"] == ""  # unknown, not 0


def test_usage_on_an_empty_store_says_what_to_do() -> None:
    result = run("usage")
    assert result.exit_code == 0
    assert "No requests recorded" in result.stdout and "ccroute code" in result.stdout
    assert usage_json()["groups"] == []


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["--since", "yesterday"], "24h, 7d"),
        (["--by", "colour"], "day, model, provider, session"),
        (["--json", "--csv"], "one of --json and --csv"),
    ],
)
def test_usage_refuses_bad_options_with_the_fix(args: list[str], hint: str) -> None:
    result = run("usage", *args)
    assert result.exit_code == 2
    assert hint in result.output


def test_logs_shows_the_last_n_requests_oldest_first(seeded: object) -> None:
    result = run("logs", "-n", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "claude-sonnet-4-5 → gemini/gemini-2.5-flash" in lines[0]
    assert "[default]" in lines[0] and "3.0 s" in lines[0] and "in 1,000 out 100" in lines[0]
    assert "200 overloaded_error" in lines[1] and "$0.0100" in lines[1]
    assert lines[1].split()[2] == "sess-aaa"


def test_logs_json_prints_one_object_per_request(seeded: object) -> None:
    result = run("logs", "--json", "-n", "10")
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["request_id"] for o in objects] == ["msg_001", "msg_002", "msg_003", "msg_004"]
    assert objects[1]["status"] == 429 and objects[1]["error_type"] == "rate_limit_error"
    assert objects[1]["cost_usd"] is None and objects[0]["cost_usd"] == 0.01


def test_logs_colours_status_only_when_colour_is_allowed(seeded: object) -> None:
    coloured = run("logs", "-n", "1", FORCE_COLOR="1").stdout
    assert "\x1b[31m" in coloured  # red: a stream that ended with an error event
    plain = run("logs", "-n", "1", FORCE_COLOR="1", NO_COLOR="1").stdout
    assert "\x1b[3" not in plain


def test_logs_on_an_empty_store_says_so() -> None:
    result = run("logs")
    assert result.exit_code == 0 and "No requests recorded yet" in result.stdout


def test_logs_follow_prints_new_requests_across_a_rotation_until_ctrl_c(
    seeded: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = UsageStore(paths().data_dir, max_bytes=1 << 30)
    polls: list[float] = []

    def fake_sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 1:
            store.write([rec(5, DAY2 + 120)])
        elif len(polls) == 2:
            store.write([rec(6, DAY2 + 180)])
            store.rotate()
            store.write([rec(7, DAY2 + 240, status=500, error_type="api_error")])
        else:
            store.close()
            raise KeyboardInterrupt

    monkeypatch.setattr(logs_cmd, "sleep", fake_sleep)
    result = run("logs", "-f", "-n", "1", "--json")
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["request_id"] for line in result.stdout.splitlines()]
    assert ids == ["msg_004", "msg_005", "msg_006", "msg_007"]
    assert polls == [logs_cmd.POLL_SECONDS] * 3
