"""`POST /v1/messages/count_tokens` (ccroute/server/count_tokens.py, protocol.md §2.6): forwarded
to a provider that has the endpoint, estimated offline otherwise — and remembered, so a provider
without the endpoint is asked once."""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ccroute.config import Config, ProviderConfig, RouterConfig, ServerConfig
from ccroute.errors import MissingKeyError
from ccroute.server import create_app
from ccroute.translate.messages import validate_request
from ccroute.translate.tokens import estimate_input_tokens
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI

TOKEN = "local-token"
KEY = "sk-upstream"
AUTH = {
    "Authorization": f"Bearer {TOKEN}",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219,token-counting-2024-11-01",
}
FIXTURE = Path(__file__).parent / "fixtures" / "claude_code" / "write_tool_turn2_tool_result.json"

ServerFactory = Callable[..., Awaitable[TestServer]]
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


def claude_code_count_body() -> dict[str, Any]:
    """Claude Code's captured request without the Messages-only fields (a count_tokens body)."""
    body = json.loads(FIXTURE.read_text())["body"]
    return {k: v for k, v in body.items() if k not in ("max_tokens", "stream", "metadata")}


def estimate(body: dict[str, Any]) -> int:
    return estimate_input_tokens(validate_request(body, count_tokens=True))


def config(base_url: str, *, wire: str = "anthropic", **fields: Any) -> Config:
    provider = ProviderConfig(
        name="up", wire=wire, base_url=base_url, api_key_env="UP_KEY", **fields
    )
    return Config(
        server=ServerConfig(),
        providers={"up": provider},
        router=RouterConfig(default="up/upstream-model"),
        source=Path("config.toml"),
    )


@pytest.fixture
def proxy(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory
) -> Callable[..., Awaitable[TestClient[Any, Any]]]:
    """`await proxy(fake_app_or_url, **provider_fields)`: a client of ccroute routed to it."""

    async def start(upstream: web.Application | str, **fields: Any) -> TestClient[Any, Any]:
        if isinstance(upstream, str):
            base_url = upstream
        else:
            base_url = str((await aiohttp_server(upstream)).make_url("")).rstrip("/")
        app = create_app(config(base_url, **fields), token=TOKEN, key_lookup=lambda p: KEY)
        return await aiohttp_client(app)

    return start


async def count(client: TestClient[Any, Any], body: dict[str, Any]) -> tuple[int, Any]:
    resp = await client.post("/v1/messages/count_tokens", json=body, headers=AUTH)
    return resp.status, await resp.json()


async def test_the_providers_count_is_returned_for_the_routed_model(proxy: Any) -> None:
    fake = FakeAnthropic(api_key=KEY, input_tokens=18321)
    client = await proxy(fake.app)
    body = claude_code_count_body()
    assert await count(client, body) == (200, {"input_tokens": 18321})
    [sent] = fake.count_tokens_requests
    assert sent.path == "/v1/messages/count_tokens"
    assert sent.json == {**body, "model": "upstream-model"}
    assert sent.header("x-api-key") == KEY
    assert sent.header("anthropic-version") == "2023-06-01"
    assert sent.header("anthropic-beta") == AUTH["anthropic-beta"]
    assert sent.header("authorization") is None  # Claude Code's local token stays local


async def test_a_strip_provider_gets_the_stripped_body_with_its_own_auth(proxy: Any) -> None:
    fake = FakeAnthropic(api_key=KEY, auth="bearer", input_tokens=5, strict=True)
    client = await proxy(fake.app, betas="strip", auth="bearer")
    body = claude_code_count_body()
    assert await count(client, body) == (200, {"input_tokens": 5})
    [sent] = fake.count_tokens_requests
    assert sent.header("anthropic-beta") is None
    assert sent.header("authorization") == f"Bearer {KEY}"
    assert "context_management" not in sent.json
    assert [m["role"] for m in sent.json["messages"]] == ["user", "assistant", "user"]


@pytest.mark.parametrize("status", [404, 405, 501])
async def test_a_provider_without_the_endpoint_is_estimated_and_asked_only_once(
    proxy: Any, status: int
) -> None:
    seen: list[str] = []

    async def missing(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response(
            {"type": "error", "error": {"type": "not_found_error", "message": "no"}},
            status=status,
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", missing)
    client = await proxy(app)
    body = claude_code_count_body()
    for _ in range(3):
        assert await count(client, body) == (200, {"input_tokens": estimate(body)})
    assert seen == ["/v1/messages/count_tokens"]


async def test_openrouters_skin_without_count_tokens_falls_back_to_the_estimate(
    proxy: Any,
) -> None:
    fake = FakeAnthropic(api_key=KEY, count_tokens=False)
    client = await proxy(fake.app)
    body = claude_code_count_body()
    assert await count(client, body) == (200, {"input_tokens": estimate(body)})
    assert await count(client, body) == (200, {"input_tokens": estimate(body)})
    assert len(fake.count_tokens_requests) == 1


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (500, {"type": "error", "error": {"type": "api_error", "message": "boom"}}),
        (429, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}),
        (200, {"tokens": 12}),
        (200, {"input_tokens": "12"}),
    ],
)
async def test_other_failures_are_estimated_and_tried_again_next_time(
    proxy: Any, status: int, answer: dict[str, Any]
) -> None:
    calls: list[int] = []

    async def failing(request: web.Request) -> web.Response:
        calls.append(1)
        return web.json_response(answer, status=status)

    app = web.Application()
    app.router.add_post("/v1/messages/count_tokens", failing)
    client = await proxy(app)
    body = claude_code_count_body()
    assert await count(client, body) == (200, {"input_tokens": estimate(body)})
    assert await count(client, body) == (200, {"input_tokens": estimate(body)})
    assert len(calls) == 2


async def test_an_unreachable_provider_is_estimated_and_not_retried_at_once(
    proxy: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    client = await proxy(f"http://127.0.0.1:{closed_port}")
    body = claude_code_count_body()
    with caplog.at_level("INFO", logger="ccroute.server"):
        for _ in range(2):
            assert await count(client, body) == (200, {"input_tokens": estimate(body)})
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1


async def test_a_wire_without_the_endpoint_is_estimated_without_calling_upstream(
    proxy: Any,
) -> None:
    fake = FakeOpenAI(api_key=KEY)
    client = await proxy(fake.app, wire="openai")
    body = claude_code_count_body()
    assert await count(client, body) == (200, {"input_tokens": estimate(body)})
    assert fake.requests == []


async def test_a_missing_key_gives_the_estimate(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory
) -> None:
    fake = FakeAnthropic(api_key=KEY)
    server = await aiohttp_server(fake.app)

    def no_key(provider: ProviderConfig) -> str:
        raise MissingKeyError("No key for provider 'up'.")

    base_url = str(server.make_url("")).rstrip("/")
    client = await aiohttp_client(create_app(config(base_url), token=TOKEN, key_lookup=no_key))
    body = claude_code_count_body()
    assert await count(client, body) == (200, {"input_tokens": estimate(body)})
    assert fake.requests == []


async def test_a_malformed_body_is_still_a_400(proxy: Any) -> None:
    fake = FakeAnthropic(api_key=KEY)
    client = await proxy(fake.app)
    status, answer = await count(client, {"model": "m", "messages": [{"role": "user"}]})
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"
    assert fake.requests == []
