"""The benchmark harness's logic (no timing): the smoke verdict, the table's PASS/FAIL, the
profile summary, percentiles, and the fake upstream's OpenAI wire format."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks import measure, report
from benchmarks.fake_upstream import make_app
from benchmarks.profiling import summarise_raw


def test_smoke_fails_only_beyond_three_times_the_baseline() -> None:
    baseline = {"78kb_cpu_ms_per_request": 4.0, "rss_idle_mib": 50.0, "status_wall_ms": 100.0}
    ok = {"78kb_cpu_ms_per_request": 11.9, "rss_idle_mib": 149.0, "status_wall_ms": 900.0}
    assert report.smoke_failures(ok, baseline) == []  # wall-clock figures are not compared
    bad = dict(ok, **{"78kb_cpu_ms_per_request": 12.5})
    failures = report.smoke_failures(bad, baseline)
    assert len(failures) == 1 and "78 KB" in failures[0]


def test_smoke_floor_and_missing_figures() -> None:
    # A near-zero baseline is compared from its floor (0.02 ms per chunk), not from itself.
    baseline = {"stream_cpu_ms_per_chunk": 0.001, "rss_after_load_mib": 60.0}
    assert (
        report.smoke_failures({"stream_cpu_ms_per_chunk": 0.05, "rss_after_load_mib": 61}, baseline)
        == []
    )
    failures = report.smoke_failures({"stream_cpu_ms_per_chunk": 0.05}, baseline)
    assert failures and "RSS after the load" in failures[0]  # a missing figure fails


def test_table_gives_pass_and_fail_against_the_targets(tmp_path: Path) -> None:
    figures = {"78kb_rps": 450.0, "rss_idle_mib": 46.0, "tiny_added_p50_ms": 1.0}
    text = report.table(figures, {"repeats": 3, "load_requests": 10000})
    rows = {line[:42].strip(): line for line in text.splitlines()}
    assert rows["requests/s at saturation, 78 KB"].endswith("PASS")
    assert rows["RSS idle"].endswith("FAIL")
    assert rows["added latency p50, tiny body"].rstrip().endswith("ms")
    assert "n/a" in rows["ccroute status wall"]
    out = tmp_path / "r.json"
    report.write_json(out, dict(figures, x=math.nan), {"mode": "full"})
    assert json.loads(out.read_text())["figures"]["x"] is None
    assert math.isnan(report.read_figures(out)["x"])


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert measure.percentile(values, 0.5) == 50.0
    assert measure.percentile(values, 0.99) == 99.0
    assert measure.percentile([3.0], 0.99) == 3.0
    assert measure.median([1.0, math.nan, 3.0]) == 2.0


def test_profile_summary_leaves_out_waiting_and_start_up(tmp_path: Path) -> None:
    main = "<module> (ccroute/__main__.py:6);run (asyncio/runners.py:190)"
    loop = f"{main};BaseEventLoop._run_once (asyncio/base_events.py:1922)"
    raw = tmp_path / "profile-x.txt"
    raw.write_text(
        f"{loop};EpollSelector.select (selectors.py:468) 50\n"
        f"{main};_find_and_load (<frozen importlib._bootstrap>:1176) 30\n"
        f"{loop};handle (app.py:1);dumps (json/__init__.py:231) 15\n"
        f"{loop};handle (app.py:2);dumps (json/__init__.py:238) 5\n"
        f"_bootstrap (threading.py:1002);_write (store.py:9) 20\n"
    )
    text = summarise_raw(raw)
    assert "40 busy, 50 waiting in the event loop, 30 in start-up" in text
    assert "50.0%  dumps (json/__init__.py)" in text  # lines of one function add up
    assert "50.0%  handle (app.py)" in text
    assert "50.0%  _write (store.py)" in text


async def test_fake_upstream_speaks_openai_chat_completions(aiohttp_client):
    client = await aiohttp_client(make_app(50))
    resp = await client.post("/v1/chat/completions", json={"model": "m", "messages": []})
    body = await resp.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"]
    resp = await client.post(
        "/v1/chat/completions",
        json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "chunks=3"}]},
    )
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    frames = (await resp.read()).decode().split("\n\n")
    events = [f.removeprefix("data: ") for f in frames if f]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    texts = [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"]]
    assert texts == ["", "tok0 ", "tok1 ", "tok2 ", None]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


async def test_fake_upstream_spaces_chunks_when_asked(aiohttp_client):
    client = await aiohttp_client(make_app(50))
    resp = await client.post(
        "/v1/chat/completions",
        json={"stream": True, "messages": [{"role": "user", "content": "chunks=2 gap_ms=1"}]},
    )
    frames = [f for f in (await resp.read()).decode().split("\n\n") if f]
    assert len(frames) == 1 + 2 + 1 + 1 + 1  # role, 2 texts, finish, usage, [DONE]
