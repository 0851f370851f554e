"""`GET /metrics`: the token guard, valid exposition text, and every series moving as it should.

Records are built by hand and handed to `observers.notify`, as the server does at the end of
each request; the last test drives real requests through the proxy to a fake OpenAI upstream
(counted through the server's own record middleware and `notify`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from ccroute import __version__, server
from ccroute.config import Config, ProviderConfig, RouterConfig, ServerConfig
from ccroute.server.attempts import RESILIENCE
from ccroute.server.observers import notify
from ccroute.usage.record import RequestRecord
from tests.fakes.openai_upstream import FakeOpenAI, text_reply

TOKEN = "local-test-token"
KEY = "sk-or-test-key-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]

RECORD = RequestRecord(
    time=1_800_000_000.0,
    request_id="msg_01metrics",
    session_id="session-1",
    requested_model="claude-sonnet-4-5",
    route="default",
    reason="default route",
    provider="openrouter",
    upstream_model="test/model-a",
    stream=True,
    status=200,
    outcome="200",
    attempts=1,
    latency_ms=1500.0,
    ttft_ms=300.0,
    input_tokens=120,
    output_tokens=45,
    cache_read_tokens=1000,
    cache_creation_tokens=0,
    cost_usd=0.0125,
)


def make_config(base_url: str = "http://127.0.0.1:9/v1") -> Config:
    providers = {
        "openrouter": ProviderConfig(
            name="openrouter",
            wire="openai",
            base_url=base_url,
            api_key_env="OPENROUTER_API_KEY",
            max_retries=0,
            breaker_failures=2,
        ),
        "local": ProviderConfig(name="local", wire="openai", base_url=base_url, max_retries=0),
    }
    return Config(
        server=ServerConfig(),
        providers=providers,
        router=RouterConfig(default="openrouter/test/model-a"),
        source=Path("config.toml"),
    )


def make_app(config: Config | None = None) -> web.Application:
    # create_app wires /metrics itself (metrics.install), as the daemon runs it.
    return server.create_app(config or make_config(), token=TOKEN, key_lookup=lambda p: KEY)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition `text`, keyed by (sample name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


async def scrape(client: TestClient[Any, Any]) -> str:
    resp = await client.get("/metrics", headers=AUTH)
    assert resp.status == 200
    return await resp.text()


@pytest.fixture
async def client(aiohttp_client: ClientFactory) -> TestClient[Any, Any]:
    return await aiohttp_client(make_app())


REQUEST_LABELS = {
    "provider": "openrouter",
    "model": "test/model-a",
    "route": "default",
    "status": "200",
    "error_type": "",
}
PM = {"provider": "openrouter", "model": "test/model-a"}


async def test_metrics_without_the_token_get_the_guards_401(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/metrics")
    assert resp.status == 401
    body = await resp.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "authentication_error"
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status == 401


async def test_metrics_accept_the_token_as_x_api_key(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/metrics", headers={"x-api-key": TOKEN})
    assert resp.status == 200


async def test_metrics_from_a_web_page_are_refused(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/metrics", headers={**AUTH, "Origin": "https://evil.example"})
    assert resp.status == 403
    assert (await resp.json())["error"]["type"] == "permission_error"


async def test_exposition_is_prometheus_text_with_the_fresh_daemon_series(
    client: TestClient[Any, Any],
) -> None:
    resp = await client.get("/metrics", headers=AUTH)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = await resp.text()
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert families["ccroute_requests"] == "counter"
    assert families["ccroute_request_duration_seconds"] == "histogram"
    assert families["ccroute_time_to_first_token_seconds"] == "histogram"
    assert families["ccroute_in_flight_requests"] == "gauge"
    assert families["ccroute_breaker_state"] == "gauge"
    assert value(text, "ccroute_daemon_info", version=__version__) == 1
    assert value(text, "ccroute_in_flight_requests") == 0
    assert not any(name.endswith("_created") for name, _ in samples(text))


async def test_openmetrics_is_served_when_the_scraper_asks_for_it(
    client: TestClient[Any, Any],
) -> None:
    resp = await client.get(
        "/metrics", headers={**AUTH, "Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
    assert (await resp.text()).rstrip().endswith("# EOF")


async def test_a_finished_request_moves_every_request_series(
    client: TestClient[Any, Any],
) -> None:
    notify(client.app, RECORD)
    notify(client.app, RECORD)
    text = await scrape(client)
    assert value(text, "ccroute_requests_total", **REQUEST_LABELS) == 2
    assert value(text, "ccroute_tokens_total", **PM, kind="input") == 240
    assert value(text, "ccroute_tokens_total", **PM, kind="output") == 90
    assert value(text, "ccroute_tokens_total", **PM, kind="cache_read") == 2000
    assert value(text, "ccroute_tokens_total", **PM, kind="cache_creation") is None
    assert value(text, "ccroute_cost_usd_total", **PM) == pytest.approx(0.025)
    assert value(text, "ccroute_upstream_attempts_total", route="default") == 2


async def test_histograms_observe_seconds_in_their_buckets(client: TestClient[Any, Any]) -> None:
    notify(client.app, RECORD)
    notify(client.app, dataclasses.replace(RECORD, latency_ms=45_000.0, ttft_ms=None))
    text = await scrape(client)
    duration = "ccroute_request_duration_seconds"
    assert value(text, f"{duration}_count", **PM) == 2
    assert value(text, f"{duration}_sum", **PM) == pytest.approx(46.5)
    assert value(text, f"{duration}_bucket", **PM, le="2.5") == 1
    assert value(text, f"{duration}_bucket", **PM, le="30.0") == 1
    assert value(text, f"{duration}_bucket", **PM, le="60.0") == 2
    ttft = "ccroute_time_to_first_token_seconds"
    assert value(text, f"{ttft}_count", **PM) == 1  # no content sent: not observed
    assert value(text, f"{ttft}_sum", **PM) == pytest.approx(0.3)
    assert value(text, f"{ttft}_bucket", **PM, le="0.25") == 0
    assert value(text, f"{ttft}_bucket", **PM, le="0.5") == 1


async def test_a_failed_request_is_counted_under_its_status_and_error_type(
    client: TestClient[Any, Any],
) -> None:
    failed = dataclasses.replace(
        RECORD,
        status=529,
        outcome="529 overloaded_error",
        error_type="overloaded_error",
        attempts=3,
        ttft_ms=None,
        input_tokens=None,
        output_tokens=None,
        cache_read_tokens=None,
        cache_creation_tokens=None,
        cost_usd=None,
    )
    notify(client.app, failed)
    text = await scrape(client)
    labels = {**REQUEST_LABELS, "status": "529", "error_type": "overloaded_error"}
    assert value(text, "ccroute_requests_total", **labels) == 1
    assert value(text, "ccroute_requests_total", **REQUEST_LABELS) is None
    assert value(text, "ccroute_upstream_attempts_total", route="default") == 3
    assert value(text, "ccroute_cost_usd_total", **PM) is None
    assert value(text, "ccroute_tokens_total", **PM, kind="input") is None


async def test_a_request_no_provider_was_tried_for_has_empty_provider_labels(
    client: TestClient[Any, Any],
) -> None:
    refused = dataclasses.replace(
        RECORD, provider=None, upstream_model=None, status=400, attempts=0
    )
    notify(client.app, dataclasses.replace(refused, error_type="invalid_request_error"))
    text = await scrape(client)
    labels = {"provider": "", "model": "", "route": "default", "status": "400"}
    assert value(text, "ccroute_requests_total", **labels, error_type="invalid_request_error") == 1


async def test_no_series_carries_a_session_or_request_id(client: TestClient[Any, Any]) -> None:
    notify(client.app, RECORD)
    text = await scrape(client)
    assert RECORD.request_id not in text
    assert "session-1" not in text


async def test_breaker_gauge_shows_a_tripped_breaker(client: TestClient[Any, Any]) -> None:
    app = client.app
    before = await scrape(client)
    assert value(before, "ccroute_breaker_state", provider="openrouter", state="closed") == 1
    assert value(before, "ccroute_breaker_state", provider="openrouter", state="open") == 0
    openrouter = app[server.CONFIG].providers["openrouter"]
    for _ in range(openrouter.breaker_failures):
        app[RESILIENCE].breakers.failure(openrouter)
    text = await scrape(client)
    assert value(text, "ccroute_breaker_state", provider="openrouter", state="open") == 1
    assert value(text, "ccroute_breaker_state", provider="openrouter", state="closed") == 0
    assert value(text, "ccroute_breaker_state", provider="openrouter", state="half-open") == 0
    assert value(text, "ccroute_breaker_state", provider="local", state="closed") == 1


async def test_two_apps_count_apart(aiohttp_client: ClientFactory) -> None:
    first = await aiohttp_client(make_app())
    second = await aiohttp_client(make_app())
    notify(first.app, RECORD)
    assert value(await scrape(first), "ccroute_requests_total", **REQUEST_LABELS) == 1
    assert value(await scrape(second), "ccroute_requests_total", **REQUEST_LABELS) is None


async def test_requests_through_the_proxy_are_counted(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory
) -> None:
    fake = FakeOpenAI(
        [
            text_reply("Hello!", usage={"prompt_tokens": 11, "completion_tokens": 7}),
            text_reply("Again!", usage={"prompt_tokens": 13, "completion_tokens": 5}),
        ],
        api_key=KEY,
    )
    upstream = await aiohttp_server(fake.app)
    client = await aiohttp_client(make_app(make_config(str(upstream.make_url("/v1")))))
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "say hi"}],
    }
    for stream in (True, False):
        resp = await client.post("/v1/messages", json={**body, "stream": stream}, headers=AUTH)
        assert resp.status == 200
        await resp.read()
    assert fake.problems == []
    text = await scrape(client)
    assert value(text, "ccroute_requests_total", **REQUEST_LABELS) == 2
    assert value(text, "ccroute_tokens_total", **PM, kind="input") == 24
    assert value(text, "ccroute_tokens_total", **PM, kind="output") == 12
    assert value(text, "ccroute_request_duration_seconds_count", **PM) == 2
    assert value(text, "ccroute_time_to_first_token_seconds_count", **PM) == 2
    assert value(text, "ccroute_upstream_attempts_total", route="default") == 2
    assert value(text, "ccroute_in_flight_requests") == 0
