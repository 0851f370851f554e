"""The usage store end to end: `ccroute code -p` through the real daemon, then `ccroute usage`
and `ccroute logs` show the request with the model that answered, its tokens and its cost."""

from __future__ import annotations

import json

import pytest

from ccroute.catalogue import cache
from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.sources import listings_for
from ccroute.config import Paths, load_config
from tests.e2e.conftest import E2E, MODEL
from tests.fakes.openai_upstream import text_reply

pytestmark = pytest.mark.e2e

INPUT_PRICE, OUTPUT_PRICE = 2.0, 10.0  # USD per million tokens


def seed_prices(e2e: E2E) -> None:
    """Put the upstream model's prices in the catalogue cache, as `ccroute models` would."""
    home = e2e.ccroute_home
    p = Paths(home / "config" / "config.toml", home / "state", home / "logs", home / "data")
    provider = load_config(p).providers["openrouter"]
    info = ModelInfo(
        provider="openrouter", id=MODEL, input_price=INPUT_PRICE, output_price=OUTPUT_PRICE
    )
    cache.save("openrouter", listings_for(provider)[0].url, [info], p=p)


def test_usage_and_logs_show_the_request_claude_code_made(e2e: E2E, upstream: str) -> None:
    usage = {"prompt_tokens": 1234, "completion_tokens": 42, "total_tokens": 1276}
    e2e.fake.set_script([text_reply("Hi from the fake upstream!", usage=usage)])
    e2e.configure(upstream)
    seed_prices(e2e)

    run = e2e.code("say hi")
    assert run.returncode == 0, e2e.report("ccroute code failed")
    assert len(e2e.fake.chat_requests) == 1, e2e.report("expected one upstream request")
    e2e.ccroute("stop", timeout=20)  # a stopping daemon writes what it has queued

    totals = json.loads(e2e.must("usage", "--json", "--by", "model").stdout)
    [group] = totals["groups"]
    assert group["key"] == f"openrouter/{MODEL}"
    assert (group["requests"], group["errors"]) == (1, 0)
    assert (group["input_tokens"], group["output_tokens"]) == (1234, 42)
    expected_cost = (1234 * INPUT_PRICE + 42 * OUTPUT_PRICE) / 1e6
    assert group["cost_usd"] == pytest.approx(expected_cost), e2e.report("wrong cost")

    [line] = e2e.must("logs", "--json").stdout.splitlines()
    row = json.loads(line)
    assert row["requested_model"].startswith("claude-"), row
    assert (row["provider"], row["upstream_model"], row["route"]) == (
        "openrouter",
        MODEL,
        "default",
    )
    assert (row["status"], row["stream"], row["error_type"]) == (200, True, None)
    assert (row["input_tokens"], row["output_tokens"]) == (1234, 42)
    assert row["session_id"], "Claude Code sends its session id"
    assert row["ttft_ms"] is not None and row["ttft_ms"] <= row["latency_ms"]

    table = e2e.must("usage").stdout
    assert "1,234" in table and "$0.0029" in table
