"""Graceful shutdown of the serving loop (`server.run`): streams in flight finish within the grace
period, new requests meanwhile get 529 `overloaded_error`, and a stream that outlasts the grace
period is cut with one SSE `error` event instead of just stopping."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from ccroute import server
from tests.fakes.openai_upstream import FakeOpenAI, text_reply
from tests.streamcheck import assert_well_formed, parse_sse
from tests.test_server import KEY, TOKEN, anthropic_request, make_config

ServerFactory = Callable[..., Awaitable[TestServer]]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    url: str
    stopped: list[str]
    task: asyncio.Task[None]


@pytest.fixture
async def serve(
    aiohttp_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[[FakeOpenAI, float], Awaitable[Running]]]:
    """Run the real serving loop on a free port against `fake`, with `grace` seconds."""
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    tasks: list[asyncio.Task[None]] = []

    async def start(fake: FakeOpenAI, grace: float) -> Running:
        upstream = await aiohttp_server(fake.app)
        port = free_port()
        listening = asyncio.Event()
        stopped: list[str] = []
        task = asyncio.create_task(
            server.run(
                make_config(str(upstream.make_url("/v1"))),
                token=TOKEN,
                host="127.0.0.1",
                port=port,
                started_at=0.0,
                grace=grace,
                on_listening=listening.set,
                on_stopping=lambda: stopped.append("stopping"),
                install_signals=lambda _stop, _reload: None,
            )
        )
        tasks.append(task)
        await asyncio.wait_for(listening.wait(), timeout=10)
        return Running(f"http://127.0.0.1:{port}", stopped, task)

    yield start
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _read_first_event(resp: aiohttp.ClientResponse) -> bytes:
    head = b""
    while b"\n\n" not in head:
        head += await resp.content.readany()
    return head


async def test_stream_in_flight_when_stop_is_requested_completes(serve: Any) -> None:
    fake = FakeOpenAI(
        [text_reply("one two three four five six seven", chunk_size=4, chunk_delay=0.05)],
        api_key=KEY,
    )
    running = await serve(fake, 10.0)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{running.url}/v1/messages", json=anthropic_request(), headers=AUTH) as resp,
    ):
        assert resp.status == 200
        head = await _read_first_event(resp)
        async with http.post(f"{running.url}/ccroute/shutdown", headers=AUTH) as stop:
            assert stop.status == 200
        rest = await resp.read()
    events = parse_sse(head + rest)
    assert_well_formed(events)
    assert events[-1]["type"] == "message_stop"
    text = "".join(
        e["delta"]["text"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )
    assert text == "one two three four five six seven"
    await asyncio.wait_for(running.task, timeout=10)
    assert running.stopped == ["stopping"]


async def test_new_request_while_draining_gets_529_overloaded(serve: Any) -> None:
    fake = FakeOpenAI(
        [text_reply("a slow answer that keeps the daemon draining", chunk_delay=0.1)], api_key=KEY
    )
    running = await serve(fake, 10.0)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{running.url}/v1/messages", json=anthropic_request(), headers=AUTH) as resp,
    ):
        await _read_first_event(resp)
        async with http.post(f"{running.url}/ccroute/shutdown", headers=AUTH):
            pass
        async with http.get(f"{running.url}/health") as health:
            assert (await health.json())["status"] == "stopping"
        async with http.post(
            f"{running.url}/v1/messages", json=anthropic_request(), headers=AUTH
        ) as late:
            assert late.status == 529
            body = await late.json()
        assert running.stopped == []  # daemon.json stays until the drain is over
        await resp.read()
    assert body["type"] == "error"
    assert body["error"]["type"] == "overloaded_error"
    assert "shutting down" in body["error"]["message"]
    assert len(fake.chat_requests) == 1  # the late request never reached the provider
    await asyncio.wait_for(running.task, timeout=10)


async def test_stream_that_outlasts_the_grace_period_is_cut_with_an_error_event(
    serve: Any,
) -> None:
    # ~10 s of stream at this pace: far longer than the grace period
    fake = FakeOpenAI([text_reply("x" * 400, chunk_size=2, chunk_delay=0.05)], api_key=KEY)
    running = await serve(fake, 0.3)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{running.url}/v1/messages", json=anthropic_request(), headers=AUTH) as resp,
    ):
        head = await _read_first_event(resp)
        async with http.post(f"{running.url}/ccroute/shutdown", headers=AUTH):
            pass
        rest = await resp.read()
    events = parse_sse(head + rest)
    assert events[0]["type"] == "message_start"
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["type"] == "overloaded_error"
    assert "shut down" in events[-1]["error"]["message"]
    assert not any(e["type"] == "message_stop" for e in events)
    await asyncio.wait_for(running.task, timeout=10)


async def test_health_reports_config_fields(serve: Any) -> None:
    running = await serve(FakeOpenAI(api_key=KEY), 1.0)
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/health") as resp:
        body = json.loads(await resp.read())
    assert body["status"] == "ok"
    assert body["config_error"] is None
    assert isinstance(body["config_loaded_at"], float)


async def test_request_not_answered_by_the_deadline_gets_529(serve: Any) -> None:
    fake = FakeOpenAI([text_reply("too late", delay=5.0)], api_key=KEY)
    running = await serve(fake, 0.3)
    async with aiohttp.ClientSession() as http:
        pending = asyncio.ensure_future(
            http.post(
                f"{running.url}/v1/messages", json=anthropic_request(stream=False), headers=AUTH
            )
        )
        while not fake.chat_requests:
            await asyncio.sleep(0.01)
        async with http.post(f"{running.url}/ccroute/shutdown", headers=AUTH):
            pass
        resp = await pending
        assert resp.status == 529
        body = await resp.json()
        resp.release()
    assert body["error"]["type"] == "overloaded_error"
    await asyncio.wait_for(running.task, timeout=10)
