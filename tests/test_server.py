"""Integration tests: the real proxy app against a fake OpenAI-compatible upstream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ccroute import server
from ccroute.config import Config, ProviderConfig, RouterConfig, ServerConfig
from ccroute.keys import require_key
from ccroute.server import relay
from tests.fakes.openai_upstream import (
    FakeOpenAI,
    error_reply,
    sse_reply,
    text_reply,
    tool_calls_reply,
)
from tests.streamcheck import assert_well_formed, parse_sse

TOKEN = "local-test-token"
KEY = "sk-or-test-key-1234"
FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]


def make_config(base_url: str, *, api_key_env: str | None = "OPENROUTER_API_KEY") -> Config:
    provider = ProviderConfig(
        name="openrouter",
        wire="openai",
        base_url=base_url,
        api_key_env=api_key_env,
        max_tokens=32000,
        max_retries=0,  # one upstream call per request; retries: test_server_resilience.py
    )
    local = ProviderConfig(name="local", wire="openai", base_url=base_url, max_retries=0)
    return Config(
        server=ServerConfig(),
        providers={"openrouter": provider, "local": local},
        router=RouterConfig(default="openrouter/test/model-a"),
        source=Path("config.toml"),
    )


def anthropic_request(text: str = "say hi", *, stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-opus-4-8",
        "max_tokens": 64000,
        "stream": stream,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
        **extra,
    }


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def proxy(
    aiohttp_server: ServerFactory,
    aiohttp_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[FakeOpenAI], Awaitable[TestClient[Any, Any]]]:
    """Start `fake` as the upstream and return a client of the proxy pointed at it."""
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)

    async def start(fake: FakeOpenAI) -> TestClient[Any, Any]:
        upstream = await aiohttp_server(fake.app)
        app = server.create_app(
            make_config(str(upstream.make_url("/v1"))), token=TOKEN, key_lookup=require_key
        )
        return await aiohttp_client(app)

    return start


async def post_messages(client: TestClient[Any, Any], body: dict[str, Any], **kwargs: Any) -> Any:
    return await client.post("/v1/messages?beta=true", json=body, headers=AUTH, **kwargs)


async def test_streamed_text_reaches_client_as_well_formed_anthropic_sse(proxy: Any) -> None:
    fake = FakeOpenAI([text_reply("Hello from the fake upstream!")], api_key=KEY)
    client = await proxy(fake)
    resp = await post_messages(client, anthropic_request())
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    events = parse_sse(await resp.read())
    assert_well_formed(events)
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == "Hello from the fake upstream!"
    assert events[0]["message"]["model"] == "claude-opus-4-8"
    final = [e for e in events if e["type"] == "message_delta"][-1]
    assert final["delta"]["stop_reason"] == "end_turn"
    assert final["usage"]["output_tokens"] > 0


async def test_upstream_receives_routed_model_key_and_usage_request(proxy: Any) -> None:
    fake = FakeOpenAI([text_reply("ok")], api_key=KEY)
    client = await proxy(fake)
    await (await post_messages(client, anthropic_request())).read()
    assert fake.problems == []
    [sent] = fake.chat_requests
    assert sent.header("Authorization") == f"Bearer {KEY}"
    assert sent.json["model"] == "test/model-a"
    assert sent.json["stream"] is True
    assert sent.json["stream_options"] == {"include_usage": True}
    assert sent.json["max_tokens"] == 32000  # clamped from Claude Code's 64000


async def test_explicit_provider_model_reference_overrides_default_route(proxy: Any) -> None:
    fake = FakeOpenAI([text_reply("ok")], api_key=KEY)
    client = await proxy(fake)
    body = anthropic_request()
    body["model"] = "openrouter/deepseek/deepseek-chat"
    await (await post_messages(client, body)).read()
    assert fake.chat_requests[0].json["model"] == "deepseek/deepseek-chat"


async def test_non_streaming_request_returns_anthropic_message_json(proxy: Any) -> None:
    fake = FakeOpenAI([text_reply("plain answer")], api_key=KEY)
    client = await proxy(fake)
    resp = await post_messages(client, anthropic_request(stream=False))
    assert resp.status == 200
    message = await resp.json()
    assert message["type"] == "message"
    assert message["role"] == "assistant"
    assert message["id"].startswith("msg_")
    assert message["content"] == [{"type": "text", "text": "plain answer"}]
    assert message["stop_reason"] == "end_turn"
    assert fake.chat_requests[0].json.get("stream") in (False, None)


async def test_streamed_tool_call_becomes_tool_use_block_with_full_input(proxy: Any) -> None:
    args = {"file_path": "/tmp/x/hello.txt", "content": "hello from ccroute\n"}
    fake = FakeOpenAI([tool_calls_reply([("Write", args)], text_before="Writing.")], api_key=KEY)
    client = await proxy(fake)
    events = parse_sse(await (await post_messages(client, anthropic_request())).read())
    assert_well_formed(events)
    starts = [e for e in events if e["type"] == "content_block_start"]
    assert [s["content_block"]["type"] for s in starts] == ["text", "tool_use"]
    tool_index = starts[1]["index"]
    partial = "".join(
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["index"] == tool_index
    )
    assert json.loads(partial) == args
    assert starts[1]["content_block"]["name"] == "Write"
    final = [e for e in events if e["type"] == "message_delta"][-1]
    assert final["delta"]["stop_reason"] == "tool_use"


async def test_claude_code_fixture_body_is_translated_and_answered(proxy: Any) -> None:
    fixture = json.loads((FIXTURES / "print_say_hi_opus_default.json").read_text())
    fake = FakeOpenAI([text_reply("hi!")], api_key=KEY)
    client = await proxy(fake)
    events = parse_sse(await (await post_messages(client, fixture["body"])).read())
    assert_well_formed(events)
    sent = fake.chat_requests[0].json
    assert len(sent["tools"]) == len(fixture["body"]["tools"])
    system_text = " ".join(
        m["content"] if isinstance(m["content"], str) else json.dumps(m["content"])
        for m in sent["messages"]
        if m["role"] == "system"
    )
    assert "x-anthropic-billing-header" not in system_text
    # message_start carries a real input estimate, not 0 (protocol.md §2.4).
    assert events[0]["message"]["usage"]["input_tokens"] > 1000


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"x-api-key": "wrong"}, 401),
        ({"x-api-key": TOKEN}, 200),
        ({"Authorization": f"Bearer {TOKEN}"}, 200),
    ],
)
async def test_requests_need_the_local_token(
    proxy: Any, headers: dict[str, str], expected: int
) -> None:
    fake = FakeOpenAI([text_reply("ok")], api_key=KEY)
    client = await proxy(fake)
    resp = await client.post("/v1/messages", json=anthropic_request(stream=False), headers=headers)
    assert resp.status == expected
    if expected == 401:
        body = await resp.json()
        assert body["type"] == "error"
        assert body["error"]["type"] == "authentication_error"
        assert fake.chat_requests == []


async def test_browser_origin_is_refused_even_with_token(proxy: Any) -> None:
    client = await proxy(FakeOpenAI([text_reply("ok")], api_key=KEY))
    resp = await client.post(
        "/v1/messages",
        json=anthropic_request(),
        headers={**AUTH, "Origin": "https://evil.example"},
    )
    assert resp.status == 403
    assert (await resp.json())["error"]["type"] == "permission_error"


async def test_foreign_host_header_is_refused(proxy: Any) -> None:
    client = await proxy(FakeOpenAI([text_reply("ok")], api_key=KEY))
    resp = await client.get("/health", headers={"Host": "attacker.example:3456"})
    assert resp.status == 403


async def test_health_answers_without_token(proxy: Any) -> None:
    client = await proxy(FakeOpenAI())
    resp = await client.get("/health")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok"
    assert isinstance(body["pid"], int)


async def test_invalid_json_body_gets_invalid_request_error(proxy: Any) -> None:
    client = await proxy(FakeOpenAI())
    resp = await client.post("/v1/messages", data=b"{not json", headers=AUTH)
    assert resp.status == 400
    body = await resp.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert "JSON" in body["error"]["message"]


async def test_missing_messages_error_names_the_field(proxy: Any) -> None:
    client = await proxy(FakeOpenAI())
    resp = await post_messages(client, {"model": "claude-opus-4-8", "max_tokens": 10})
    assert resp.status == 400
    assert "messages" in (await resp.json())["error"]["message"]


async def test_unknown_path_gets_anthropic_not_found(proxy: Any) -> None:
    client = await proxy(FakeOpenAI())
    resp = await client.get("/v1/nope", headers=AUTH)
    assert resp.status == 404
    assert (await resp.json())["error"]["type"] == "not_found_error"


async def test_upstream_rate_limit_keeps_status_and_retry_after(proxy: Any) -> None:
    fake = FakeOpenAI(
        [
            error_reply(
                429,
                "Rate limit exceeded",
                error_type="rate_limit_exceeded",
                headers={"retry-after": "7"},
            )
        ],
        api_key=KEY,
    )
    client = await proxy(fake)
    resp = await post_messages(client, anthropic_request())
    assert resp.status == 429
    assert resp.headers["retry-after"] == "7"
    body = await resp.json()
    assert body["error"]["type"] == "rate_limit_error"


async def test_unreachable_upstream_becomes_retryable_overloaded_error(
    aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch, unused_tcp_port: int
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    app = server.create_app(
        make_config(f"http://127.0.0.1:{unused_tcp_port}/v1"), token=TOKEN, key_lookup=require_key
    )
    client = await aiohttp_client(app)
    resp = await post_messages(client, anthropic_request())
    assert resp.status == 529
    body = await resp.json()
    assert body["error"]["type"] == "overloaded_error"
    assert KEY not in json.dumps(body)


async def test_missing_provider_key_is_a_permission_error_naming_the_fix(
    aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 403, not 401: Claude Code retries a 401 for minutes as its own expired credential.
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    app = server.create_app(make_config("http://127.0.0.1:9/v1"), token=TOKEN)
    client = await aiohttp_client(app)
    resp = await post_messages(client, anthropic_request())
    assert resp.status == 403
    assert (await resp.json())["error"]["type"] == "permission_error"
    message = (await resp.json())["error"]["message"]
    assert "ccroute keys set openrouter" in message
    assert "OPENROUTER_API_KEY" in message


async def test_keyless_local_provider_sends_no_authorization(proxy: Any) -> None:
    fake = FakeOpenAI([text_reply("local ok")])
    client = await proxy(fake)
    body = anthropic_request(stream=False)
    body["model"] = "local/qwen3-coder"
    resp = await post_messages(client, body)
    assert resp.status == 200
    assert fake.chat_requests[0].header("Authorization") is None


async def test_stream_cut_mid_way_ends_with_one_error_event(proxy: Any) -> None:
    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "partial "}, "finish_reason": None}],
    }
    # chunk_delay: data still unread when the connection drops is lost (aiohttp raises the
    # payload error before returning buffered bytes), so the cut comes after the text was read.
    reply = sse_reply([chunk, chunk], done=False, truncate=True, chunk_delay=0.05)
    fake = FakeOpenAI([reply], api_key=KEY)
    client = await proxy(fake)
    events = parse_sse(await (await post_messages(client, anthropic_request())).read())
    assert events[0]["type"] == "message_start"
    assert events[-1]["type"] == "error"
    assert [e["type"] for e in events].count("error") == 1
    assert "message_stop" not in [e["type"] for e in events]
    message = events[-1]["error"]["message"]
    assert message == (
        "The provider's stream broke off: the provider closed the connection before the stream "
        "ended."
    )


async def test_idle_upstream_stream_gets_pings(proxy: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay, "PING_INTERVAL", 0.05)
    fake = FakeOpenAI([text_reply("slow text", chunk_size=3, chunk_delay=0.2)], api_key=KEY)
    client = await proxy(fake)
    events = parse_sse(await (await post_messages(client, anthropic_request())).read())
    assert "ping" in [e["type"] for e in events]
    assert_well_formed([e for e in events if e["type"] != "ping"])


async def test_upstream_slow_to_answer_gets_pings_before_message_start(
    proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Claude Code's idle watchdog counts bytes from the first one (§6.3): an upstream that takes
    # longer than PING_INTERVAL to send its headers must not leave the client in silence.
    monkeypatch.setattr(relay, "PING_INTERVAL", 0.05)
    fake = FakeOpenAI([text_reply("late but fine", delay=0.4)], api_key=KEY)
    client = await proxy(fake)
    resp = await post_messages(client, anthropic_request())
    assert resp.status == 200
    events = parse_sse(await resp.read())
    types = [e["type"] for e in events]
    assert types[: types.index("message_start")].count("ping") >= 3
    real = [e for e in events if e["type"] != "ping"]
    assert_well_formed(real)
    text = "".join(e["delta"]["text"] for e in real if e["type"] == "content_block_delta")
    assert text == "late but fine"


async def test_upstream_429_after_the_stream_opened_is_one_retryable_error_event(
    proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay, "PING_INTERVAL", 0.05)
    reply = error_reply(429, "Rate limit exceeded", headers={"Retry-After": "3"}, delay=0.3)
    fake = FakeOpenAI([reply], api_key=KEY)
    client = await proxy(fake)
    resp = await post_messages(client, anthropic_request())
    assert resp.status == 200  # the SSE response was already committed to keep the client alive
    events = parse_sse(await resp.read())
    assert {e["type"] for e in events} == {"ping", "error"}
    assert events[-1]["type"] == "error"
    # overloaded_error is what Claude Code retries when it arrives before any content (§2.5).
    assert events[-1]["error"]["type"] == "overloaded_error"
    assert "429" in events[-1]["error"]["message"]


async def test_upstream_429_before_the_ping_interval_keeps_its_status_and_retry_after(
    proxy: Any,
) -> None:
    reply = error_reply(429, "Rate limit exceeded", headers={"Retry-After": "3"})
    fake = FakeOpenAI([reply], api_key=KEY)
    client = await proxy(fake)
    resp = await post_messages(client, anthropic_request())
    assert resp.status == 429
    assert resp.headers["retry-after"] == "3"
    assert (await resp.json())["error"]["type"] == "rate_limit_error"


async def test_client_disconnect_cancels_the_upstream_request(
    aiohttp_server: ServerFactory,
    aiohttp_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    upstream_gone = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        chunk = {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": "tick "}, "finish_reason": None}],
        }
        try:
            for _ in range(600):
                await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
                await asyncio.sleep(0.05)
        except (ConnectionResetError, asyncio.CancelledError):
            upstream_gone.set()
            raise
        return resp

    upstream_app = web.Application()
    upstream_app.router.add_post("/v1/chat/completions", endless)
    upstream = await aiohttp_server(upstream_app)
    app = server.create_app(make_config(str(upstream.make_url("/v1"))), token=TOKEN)
    client = await aiohttp_client(app)
    resp = await post_messages(client, anthropic_request())
    await resp.content.readuntil(b"text_delta")
    resp.close()
    await asyncio.wait_for(upstream_gone.wait(), timeout=5)


async def test_shutdown_endpoint_requires_token_and_sets_the_stop_event(proxy: Any) -> None:
    client = await proxy(FakeOpenAI())
    assert (await client.post("/ccroute/shutdown")).status == 401
    assert not client.app[server.SHUTDOWN].is_set()
    assert (await client.post("/ccroute/shutdown", headers=AUTH)).status == 200
    assert client.app[server.SHUTDOWN].is_set()


async def test_count_tokens_estimates_a_claude_code_body_without_max_tokens(proxy: Any) -> None:
    fixture = json.loads((FIXTURES / "print_say_hi_opus_default.json").read_text())["body"]
    body = {k: v for k, v in fixture.items() if k not in ("max_tokens", "stream")}
    client = await proxy(FakeOpenAI())
    resp = await client.post("/v1/messages/count_tokens", json=body, headers=AUTH)
    assert resp.status == 200
    assert (await resp.json())["input_tokens"] > 1000


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"model": "m", "messages": [1]}, "messages.0"),
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages.0.content"),
        ({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [3]}, "tools.0"),
        ({"messages": []}, "model"),
    ],
)
async def test_malformed_count_tokens_body_is_a_400_naming_the_field(
    proxy: Any, body: dict[str, Any], path: str
) -> None:
    client = await proxy(FakeOpenAI())
    resp = await client.post("/v1/messages/count_tokens", json=body, headers=AUTH)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(path)


async def test_request_log_records_the_error_status_sent_to_the_client(
    proxy: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeOpenAI([error_reply(429, "slow down", headers={"retry-after": "1"})], api_key=KEY)
    client = await proxy(fake)
    with caplog.at_level("INFO", logger="ccroute.server"):
        assert (await post_messages(client, anthropic_request())).status == 429
    [line] = [r.getMessage() for r in caplog.records if "route=" in r.getMessage()]
    assert "status=429 rate_limit_error" in line
    assert KEY not in line


async def test_a_key_the_provider_rejects_is_a_403_naming_the_provider_and_the_fix(
    proxy: Any,
) -> None:
    fake = FakeOpenAI([error_reply(401, "Incorrect API key provided")], api_key=KEY)
    client = await proxy(fake)
    resp = await post_messages(client, anthropic_request())
    assert resp.status == 403
    error = (await resp.json())["error"]
    assert error["type"] == "permission_error"
    assert "Incorrect API key provided" in error["message"]
    assert "ccroute keys set openrouter" in error["message"]
