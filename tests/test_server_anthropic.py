"""The real proxy app in front of an Anthropic-format upstream (`wire = "anthropic"`): what goes
up (model, key header, betas policy) and what comes back (bytes as sent, errors as sent)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ccroute.config import Config, ProviderConfig, RouterConfig, ServerConfig
from ccroute.server import create_app
from tests.fakes.anthropic_upstream import (
    FakeAnthropic,
    encode_event,
    error_reply,
    openai_error_reply,
    sse_reply,
    text_reply,
)
from tests.streamcheck import assert_well_formed, parse_sse

TOKEN = "local-token"
KEY = "sk-upstream"
BETAS = "claude-code-20250219,context-management-2025-06-27,effort-2025-11-24"
CLAUDE_HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": BETAS,
}
FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"

ServerFactory = Callable[..., Awaitable[TestServer]]
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


def claude_code_body(name: str = "print_say_hi_opus_default") -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())["body"]
    return body


@pytest.fixture
def proxy(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory
) -> Callable[..., Awaitable[TestClient[Any, Any]]]:
    """`await proxy(fake, **provider_fields)`: a ccroute client routed to `fake`."""

    async def start(fake: FakeAnthropic, **fields: Any) -> TestClient[Any, Any]:
        server = await aiohttp_server(fake.app)
        provider = ProviderConfig(
            name="up",
            wire="anthropic",
            base_url=str(server.make_url("/anthropic")),
            api_key_env="UP_KEY",
            # One upstream call per request unless a test asks for retries (those are
            # tested in test_server_resilience.py).
            **{"max_retries": 0, **fields},
        )
        config = Config(
            server=ServerConfig(),
            providers={"up": provider},
            router=RouterConfig(default="up/upstream-model"),
            source=Path("config.toml"),
        )
        return await aiohttp_client(create_app(config, token=TOKEN, key_lookup=lambda p: KEY))

    return start


async def post(client: TestClient[Any, Any], body: dict[str, Any]) -> Any:
    return await client.post("/v1/messages?beta=true", json=body, headers=CLAUDE_HEADERS)


async def test_a_stream_is_relayed_byte_for_byte_and_the_request_goes_up_nearly_as_is(
    proxy: Any,
) -> None:
    reply = text_reply("Hi! Ça va ?", thinking="Greet back.", signature="EqQBsig", chunk_size=3)
    fake = FakeAnthropic([reply], api_key=KEY)
    client = await proxy(fake)
    body = claude_code_body()
    resp = await post(client, body)
    raw = await resp.read()
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    [sent] = fake.message_requests
    events = parse_sse(raw)
    assert_well_formed(events)
    upstream_id = events[0]["message"]["id"]
    expected = b"".join(encode_event(e) for e in reply.stream_events(sent.json, upstream_id))
    assert raw == expected
    assert sent.path == "/anthropic/v1/messages"
    assert sent.header("x-api-key") == KEY
    assert sent.header("authorization") is None
    assert sent.header("anthropic-beta") == BETAS
    assert sent.header("anthropic-version") == "2023-06-01"
    assert sent.json["model"] == "upstream-model"
    for key in ("system", "tools", "messages", "thinking", "context_management", "output_config"):
        assert sent.json[key] == body[key], key
    assert fake.problems == []


async def test_a_non_stream_message_is_returned_as_the_provider_sent_it(proxy: Any) -> None:
    fake = FakeAnthropic([text_reply("plain answer")], api_key=KEY)
    client = await proxy(fake)
    resp = await post(client, {**claude_code_body(), "stream": False})
    assert resp.status == 200
    message = await resp.json()
    assert message["content"] == [{"type": "text", "text": "plain answer"}]
    assert message["id"].startswith("msg_01")
    assert message["model"] == "upstream-model"
    assert fake.message_requests[0].json["stream"] is False


async def test_bearer_auth_and_strip_satisfy_a_strict_compatible_provider(proxy: Any) -> None:
    fake = FakeAnthropic([text_reply("ok")], api_key=KEY, auth="bearer", strict=True)
    client = await proxy(fake, auth="bearer", betas="strip", max_tokens=8192)
    resp = await post(client, claude_code_body("write_tool_turn2_tool_result"))
    assert resp.status == 200, await resp.text()
    assert_well_formed(parse_sse(await resp.read()))
    [sent] = fake.message_requests
    assert sent.header("authorization") == f"Bearer {KEY}"
    assert sent.header("x-api-key") is None
    assert sent.header("anthropic-beta") is None
    assert sent.json["max_tokens"] == 8192


async def test_keeping_betas_towards_a_strict_provider_surfaces_its_400_unchanged(
    proxy: Any,
) -> None:
    fake = FakeAnthropic([text_reply("never")], api_key=KEY, strict=True)
    client = await proxy(fake)
    resp = await post(client, claude_code_body())
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error == {
        "type": "invalid_request_error",
        "message": "context_management: Extra inputs are not permitted",
    }


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize(
    ("status", "error_type", "message"),
    [
        (429, "rate_limit_error", "Number of request tokens has exceeded your rate limit"),
        (529, "overloaded_error", "Overloaded"),
        (400, "invalid_request_error", "messages.1.content.0: Invalid `signature` in `thinking`"),
        (400, "invalid_request_error", "prompt is too long: 213021 tokens > 200000 maximum"),
    ],
)
async def test_anthropic_errors_reach_claude_code_unchanged(
    proxy: Any, stream: bool, status: int, error_type: str, message: str
) -> None:
    extra = {"retry-after": "7"} if status == 429 else {}
    fake = FakeAnthropic([error_reply(status, error_type, message, headers=extra)], api_key=KEY)
    client = await proxy(fake)
    resp = await post(client, {**claude_code_body(), "stream": stream})
    assert resp.status == status
    assert (await resp.json())["error"] == {"type": error_type, "message": message}
    if status == 429:
        assert resp.headers["retry-after"] == "7"


async def test_a_compatible_providers_openai_shaped_overload_becomes_a_529(proxy: Any) -> None:
    fake = FakeAnthropic(
        [openai_error_reply(503, "Server is busy", error_type="server_error")], api_key=KEY
    )
    client = await proxy(fake)
    resp = await post(client, claude_code_body())
    assert resp.status == 529
    assert (await resp.json())["error"] == {"type": "overloaded_error", "message": "Server is busy"}


async def test_an_error_body_in_a_200_answer_is_an_error_with_its_types_status(
    proxy: Any,
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake = FakeAnthropic([error_reply(200, "overloaded_error", "Overloaded")], api_key=KEY)
    client = await proxy(fake)
    resp = await post(client, {**claude_code_body(), "stream": False})
    assert resp.status == 529
    assert await resp.json() == overloaded


async def test_a_stream_that_ends_before_message_stop_gets_one_error_event(proxy: Any) -> None:
    # The connection closes cleanly, but the upstream never sent message_stop: Claude Code must
    # hear that the answer is incomplete, as with a broken connection (protocol.md §2.5).
    reply = text_reply("Partial answ", chunk_size=4)
    fake = FakeAnthropic(api_key=KEY)
    client = await proxy(fake)
    body = claude_code_body()
    events_up = [e for e in reply.stream_events(body, "msg_up1") if not _is_stop(e)]
    fake.set_script([sse_reply(events_up)])
    raw = await (await post(client, body)).read()
    expected = b"".join(encode_event(e) for e in events_up)
    assert raw.startswith(expected)  # every upstream byte, unchanged
    tail = parse_sse(raw[len(expected) :])
    assert [e["type"] for e in tail] == ["error"]
    assert tail[0]["error"]["type"] == "overloaded_error"


def _is_stop(event: Any) -> bool:
    return isinstance(event, dict) and event.get("type") == "message_stop"
