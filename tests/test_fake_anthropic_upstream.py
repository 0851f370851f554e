"""The fake Anthropic upstream speaks the real wire format (tests/fakes/anthropic_upstream.py).

The official `anthropic` SDK talks to the fake directly (no ccroute in between): if the SDK can
stream and parse its answers, the fake is wire-accurate enough for the tests that rely on it.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anthropic
import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.fakes.anthropic_upstream import (
    FakeAnthropic,
    error_reply,
    openai_error_reply,
    sse_reply,
    text_reply,
    tool_use_reply,
)
from tests.streamcheck import assert_well_formed, parse_sse

KEY = "sk-ant-fake-key"
ServerFactory = Callable[..., Awaitable[TestServer]]
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
BODY = {
    "model": "claude-sonnet-5",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.fixture
async def sdk(
    aiohttp_server: ServerFactory,
) -> AsyncIterator[Callable[[FakeAnthropic], Awaitable[anthropic.AsyncAnthropic]]]:
    clients: list[anthropic.AsyncAnthropic] = []

    async def connect(fake: FakeAnthropic) -> anthropic.AsyncAnthropic:
        server = await aiohttp_server(fake.app)
        client = anthropic.AsyncAnthropic(
            base_url=str(server.make_url("")).rstrip("/"), api_key=KEY, max_retries=0
        )
        clients.append(client)
        return client

    yield connect
    for client in clients:
        await client.close()


async def test_the_sdk_streams_a_thinking_and_tool_answer_equal_to_the_non_stream_one(
    sdk: Any,
) -> None:
    reply = tool_use_reply(
        [("Write", {"file_path": "/tmp/a.txt", "content": "héllo\n"}), ("Bash", {"command": "ls"})],
        text_before="Writing.",
        thinking="Two calls are needed.",
        signature="EqQBCkYIBxgCKkB",
    )
    # The installed SDK sends its api_key as `Authorization: Bearer`.
    fake = FakeAnthropic([reply, reply], api_key=KEY, auth="bearer")
    client = await sdk(fake)
    async with client.messages.stream(**BODY) as stream:
        streamed = (await stream.get_final_message()).model_dump()
    created = (await client.messages.create(**BODY)).model_dump()
    assert streamed["id"].startswith("msg_01") and created["id"].startswith("msg_01")
    streamed["id"] = created["id"] = "msg"
    assert streamed == created
    assert [block["type"] for block in created["content"]] == [
        "thinking",
        "text",
        "tool_use",
        "tool_use",
    ]
    assert created["content"][0]["signature"] == "EqQBCkYIBxgCKkB"
    assert created["content"][2]["input"] == {"file_path": "/tmp/a.txt", "content": "héllo\n"}
    assert created["content"][3]["id"] == reply.tool_uses[1].id
    assert created["stop_reason"] == "tool_use"
    assert fake.problems == []


async def test_streams_are_well_formed_anthropic_sse_with_a_ping(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory
) -> None:
    fake = FakeAnthropic([text_reply("Hello there, world", chunk_size=5)])
    client = await aiohttp_client(await aiohttp_server(fake.app))
    resp = await client.post("/anthropic/v1/messages", json={**BODY, "stream": True})
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    events = parse_sse(await resp.read())
    assert_well_formed(events)
    assert [e["type"] for e in events[:2]] == ["message_start", "ping"]
    texts = [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"]
    assert texts == ["Hello", " ther", "e, wo", "rld"]
    assert fake.message_requests[0].path == "/anthropic/v1/messages"


@pytest.mark.parametrize(
    ("auth", "good", "bad"),
    [
        ("x-api-key", {"x-api-key": KEY}, {"Authorization": f"Bearer {KEY}"}),
        ("bearer", {"Authorization": f"Bearer {KEY}"}, {"x-api-key": KEY}),
    ],
)
async def test_the_key_must_come_in_the_configured_header(
    aiohttp_server: ServerFactory,
    aiohttp_client: ClientFactory,
    auth: Any,
    good: dict[str, str],
    bad: dict[str, str],
) -> None:
    fake = FakeAnthropic([text_reply("ok")], api_key=KEY, auth=auth)
    client = await aiohttp_client(await aiohttp_server(fake.app))
    refused = await client.post("/v1/messages", json=BODY, headers=bad)
    assert refused.status == 401
    assert (await refused.json())["error"]["type"] == "authentication_error"
    accepted = await client.post("/v1/messages", json=BODY, headers=good)
    assert accepted.status == 200
    assert (await accepted.json())["content"] == [{"type": "text", "text": "ok"}]


async def test_error_replies_reach_the_sdk_with_status_type_and_retry_after(sdk: Any) -> None:
    fake = FakeAnthropic(
        [
            error_reply(429, "rate_limit_error", "slow down", headers={"retry-after": "3"}),
            error_reply(529, "overloaded_error", "Overloaded"),
        ]
    )
    client = await sdk(fake)
    with pytest.raises(anthropic.RateLimitError) as limited:
        await client.messages.create(**BODY)
    assert limited.value.response.headers["retry-after"] == "3"
    assert limited.value.body["error"]["message"] == "slow down"  # type: ignore[index]
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        await client.messages.create(**BODY)
    assert overloaded.value.status_code == 529


async def test_a_midstream_error_event_reaches_the_sdk(sdk: Any) -> None:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_01x",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        },
    }
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    client = await sdk(FakeAnthropic([sse_reply([start, error])]))
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client.messages.stream(**BODY) as stream:
            await stream.get_final_message()
    assert caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


async def test_count_tokens_answers_or_is_missing(sdk: Any) -> None:
    fake = FakeAnthropic(input_tokens=77)
    counted = await (await sdk(fake)).messages.count_tokens(
        model="claude-sonnet-5", messages=[{"role": "user", "content": "hi"}]
    )
    assert counted.input_tokens == 77
    assert fake.count_tokens_requests[0].json["model"] == "claude-sonnet-5"
    missing = await sdk(FakeAnthropic(count_tokens=False))
    with pytest.raises(anthropic.NotFoundError):
        await missing.messages.count_tokens(model="m", messages=[{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"context_management": {"edits": []}}, "context_management"),
        ({"output_config": {"effort": "high", "format": {}}}, "output_config.format"),
        (
            {"tools": [{"name": "T", "input_schema": {"type": "object"}, "strict": True}]},
            "tools.0.strict",
        ),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools.0.type"),
        ({"metadata": {"user_id": '{"device_id":"x"}'}}, "metadata.user_id"),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]},
            "messages.1.role",
        ),
    ],
)
async def test_a_strict_provider_rejects_what_only_anthropic_accepts(
    aiohttp_server: ServerFactory,
    aiohttp_client: ClientFactory,
    extra: dict[str, Any],
    named: str,
) -> None:
    fake = FakeAnthropic([text_reply("ok")], strict=True)
    client = await aiohttp_client(await aiohttp_server(fake.app))
    resp = await client.post("/v1/messages", json={**BODY, **extra})
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(named)
    core = await client.post(
        "/v1/messages",
        json={**BODY, "output_config": {"effort": "high"}, "metadata": {"user_id": "ab_1-2"}},
    )
    assert core.status == 200


async def test_openai_shaped_errors_are_served_as_compatible_providers_send_them(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory
) -> None:
    fake = FakeAnthropic([openai_error_reply(400, "bad thing")])
    client = await aiohttp_client(await aiohttp_server(fake.app))
    resp = await client.post("/v1/messages", json=BODY)
    assert resp.status == 400
    assert await resp.json() == {
        "error": {
            "message": "bad thing",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


async def test_an_exhausted_script_is_a_recorded_problem(sdk: Any) -> None:
    fake = FakeAnthropic([])
    with pytest.raises(anthropic.InternalServerError):
        await (await sdk(fake)).messages.create(**BODY)
    assert fake.problems == ["script exhausted at request #1"]


def test_serve_in_thread_yields_a_base_url_without_v1() -> None:
    fake = FakeAnthropic([text_reply("threaded")])
    with fake.serve_in_thread() as base_url:
        assert not base_url.endswith("/v1")
        req = urllib.request.Request(
            base_url + "/v1/messages",
            data=json.dumps(BODY).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as answer:
            message = json.loads(answer.read())
    assert message["content"] == [{"type": "text", "text": "threaded"}]
