"""Per-request records through the real app: what each finished `POST /v1/messages` reports to
the observers and writes to the usage store (fake OpenAI and Anthropic upstreams)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ccroute.catalogue import cache
from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.sources import listings_for
from ccroute.config import Config, LogConfig, ProviderConfig, RouterConfig, ServerConfig, paths
from ccroute.logcontext import REQUEST_ID
from ccroute.server import create_app, recording
from ccroute.server.observers import OBSERVERS
from ccroute.usage import query
from ccroute.usage.record import RequestRecord
from ccroute.usage.store import FILE_NAME, UsageStore
from tests.fakes import anthropic_upstream as anth
from tests.fakes import openai_upstream as oai
from tests.streamcheck import parse_sse

TOKEN = "local-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Claude-Code-Session-Id": "sess-42"}
MODEL = "vendor/model-a"
PRICES = {"input_price": 3.0, "output_price": 15.0, "cache_read_price": 0.3}

ServerFactory = Callable[..., Awaitable[TestServer]]
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


class Proxy:
    def __init__(self, client: TestClient[Any, Any], app: web.Application) -> None:
        self.client = client
        self.app = app
        self.records: list[RequestRecord] = []
        app[OBSERVERS].append(self.records.append)

    async def post(self, body: dict[str, Any]) -> Any:
        return await self.client.post("/v1/messages?beta=true", json=body, headers=AUTH)

    async def record(self, count: int = 1) -> RequestRecord:
        """The `count`-th record, once the middleware has reported it (it does so just after
        the response went out, so the client can finish reading first)."""
        for _ in range(500):
            if len(self.records) >= count:
                return self.records[count - 1]
            await asyncio.sleep(0.01)
        raise AssertionError(f"only {len(self.records)} record(s) reported")

    def stored(self) -> list[query.LoggedRequest]:
        writer = self.app[recording.USAGE].writer
        assert writer is not None and writer.flush(10)
        return query.recent(paths().data_dir, limit=100)[0]


def provider(base_url: str, wire: str = "openai") -> ProviderConfig:
    return ProviderConfig(
        name="up", wire=wire, base_url=base_url, api_key_env="UP_KEY", max_retries=0
    )


@pytest.fixture
def proxy(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory
) -> Callable[..., Awaitable[Proxy]]:
    """`await proxy(fake, wire=..., log=LogConfig(...), priced=True)`."""

    async def start(
        fake: Any, *, wire: str = "openai", log: LogConfig | None = None, priced: bool = True
    ) -> Proxy:
        upstream = await aiohttp_server(fake.app)
        base = str(upstream.make_url("/v1" if wire == "openai" else "/anthropic"))
        up = provider(base, wire)
        if priced:
            url = listings_for(up)[0].url
            cache.save("up", url, [ModelInfo(provider="up", id=MODEL, **PRICES)])  # type: ignore[arg-type]
        config = Config(
            server=ServerConfig(),
            providers={"up": up},
            router=RouterConfig(default=f"up/{MODEL}"),
            source=Path("config.toml"),
            log=log or LogConfig(),
        )
        app = create_app(config, token=TOKEN, key_lookup=lambda p: "sk-up")
        return Proxy(await aiohttp_client(app), app)

    return start


def request_body(*, stream: bool, text: str = "say hi") -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1000,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }


OPENAI_USAGE = {
    "prompt_tokens": 1200,
    "completion_tokens": 50,
    "total_tokens": 1250,
    "prompt_tokens_details": {"cached_tokens": 200},
}
EXPECTED_COST = (1000 * 3.0 + 50 * 15.0 + 200 * 0.3) / 1e6


async def test_a_non_streamed_request_gives_one_record_with_tokens_route_and_cost(
    proxy: Any,
) -> None:
    fake = oai.FakeOpenAI([oai.text_reply("hello", usage=OPENAI_USAGE)])
    p = await proxy(fake)
    resp = await p.post(request_body(stream=False))
    assert resp.status == 200
    message = await resp.json()
    rec = await p.record()
    assert rec.request_id == message["id"] == resp.headers["request-id"]
    assert (rec.requested_model, rec.route, rec.provider, rec.upstream_model) == (
        "claude-sonnet-4-5",
        "default",
        "up",
        MODEL,
    )
    assert rec.session_id == "sess-42"
    assert rec.reason
    assert (rec.stream, rec.status, rec.outcome, rec.error_type, rec.attempts) == (
        False,
        200,
        "200",
        None,
        1,
    )
    assert (rec.input_tokens, rec.output_tokens, rec.cache_read_tokens) == (1000, 50, 200)
    assert rec.cache_creation_tokens == 0
    assert rec.cost_usd == pytest.approx(EXPECTED_COST)
    assert rec.ttft_ms is not None and 0 < rec.ttft_ms <= rec.latency_ms
    assert rec.request_body is None and rec.response_body is None
    [row] = p.stored()
    assert row.request_id == rec.request_id and row.cost_usd == pytest.approx(EXPECTED_COST)


async def test_a_streamed_request_records_the_usage_the_client_saw_and_its_ttft(
    proxy: Any,
) -> None:
    fake = oai.FakeOpenAI([oai.text_reply("hello there, streaming", usage=OPENAI_USAGE)])
    p = await proxy(fake)
    resp = await p.post(request_body(stream=True))
    events = parse_sse(await resp.read())
    rec = await p.record()
    final = [e for e in events if e["type"] == "message_delta"][-1]["usage"]
    assert (rec.input_tokens, rec.output_tokens) == (final["input_tokens"], final["output_tokens"])
    assert (rec.input_tokens, rec.output_tokens, rec.cache_read_tokens) == (1000, 50, 200)
    assert (rec.stream, rec.status, rec.error_type) == (True, 200, None)
    assert rec.ttft_ms is not None and 0 < rec.ttft_ms <= rec.latency_ms
    assert rec.cost_usd == pytest.approx(EXPECTED_COST)
    assert [r.request_id for r in p.stored()] == [rec.request_id]


async def test_an_unpriced_model_costs_none_not_zero(proxy: Any) -> None:
    p = await proxy(oai.FakeOpenAI([oai.text_reply("hi", usage=OPENAI_USAGE)]), priced=False)
    await (await p.post(request_body(stream=True))).read()
    rec = await p.record()
    assert rec.input_tokens == 1000
    assert rec.cost_usd is None
    assert p.stored()[0].cost_usd is None


@pytest.mark.parametrize(("status", "error_type"), [(429, "rate_limit_error"), (500, "api_error")])
@pytest.mark.parametrize("stream", [False, True])
async def test_an_upstream_error_is_recorded_with_the_status_and_type_the_client_got(
    proxy: Any, status: int, error_type: str, stream: bool
) -> None:
    fake = oai.FakeOpenAI([oai.error_reply(status, "upstream says no", error_type="x")])
    p = await proxy(fake)
    resp = await p.post(request_body(stream=stream))
    body = await resp.json()
    rec = await p.record()
    assert resp.status == rec.status == status
    assert rec.error_type == body["error"]["type"] == error_type
    assert rec.outcome == f"{status} {error_type}"
    assert rec.ttft_ms is None and rec.cost_usd is None and rec.output_tokens is None
    assert (rec.provider, rec.upstream_model, rec.attempts) == ("up", MODEL, 1)
    assert p.stored()[0].error_type == error_type


async def test_a_stream_broken_after_it_began_is_a_200_with_the_error_event_type(
    proxy: Any,
) -> None:
    fake = oai.FakeOpenAI([oai.text_reply("a long answer " * 20, chunk_size=5, cut_after=3)])
    p = await proxy(fake)
    resp = await p.post(request_body(stream=True))
    events = parse_sse(await resp.read())
    assert events[-1]["type"] == "error"
    rec = await p.record()
    assert (rec.status, rec.error_type) == (200, events[-1]["error"]["type"])
    assert rec.ttft_ms is not None


async def test_a_passthrough_stream_gets_its_usage_from_the_relayed_events(proxy: Any) -> None:
    usage = {
        "input_tokens": 900,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 3000,
        "output_tokens": 77,
    }
    fake = anth.FakeAnthropic([anth.text_reply("Hi from Anthropic", usage=usage)])
    p = await proxy(fake, wire="anthropic")
    resp = await p.post(request_body(stream=True))
    events = parse_sse(await resp.read())
    assert events[-1]["type"] == "message_stop"
    rec = await p.record()
    assert (rec.input_tokens, rec.output_tokens) == (900, 77)
    assert (rec.cache_read_tokens, rec.cache_creation_tokens) == (3000, 100)
    assert rec.ttft_ms is not None and rec.ttft_ms <= rec.latency_ms
    assert rec.cost_usd == pytest.approx((900 * 3 + 77 * 15 + 3000 * 0.3 + 100 * 3) / 1e6)


async def test_a_passthrough_non_stream_gets_the_message_usage(proxy: Any) -> None:
    usage = {"input_tokens": 12, "output_tokens": 3, "cache_read_input_tokens": 0}
    p = await proxy(anth.FakeAnthropic([anth.text_reply("ok", usage=usage)]), wire="anthropic")
    assert (await p.post(request_body(stream=False))).status == 200
    rec = await p.record()
    assert (rec.input_tokens, rec.output_tokens, rec.cache_read_tokens) == (12, 3, 0)


async def test_a_passthrough_error_event_mid_stream_is_recorded(proxy: Any) -> None:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_up",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 1},
        },
    }
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    p = await proxy(anth.FakeAnthropic([anth.sse_reply([start, error])]), wire="anthropic")
    await (await p.post(request_body(stream=True))).read()
    rec = await p.record()
    assert (rec.status, rec.error_type, rec.input_tokens) == (200, "overloaded_error", 5)


async def test_an_invalid_request_is_recorded_as_a_400_with_no_route(proxy: Any) -> None:
    p = await proxy(oai.FakeOpenAI([]))
    body = request_body(stream=True)
    del body["messages"]
    resp = await p.post(body)
    assert resp.status == 400
    rec = await p.record()
    assert rec.request_id == resp.headers.get("request-id", rec.request_id)
    assert (rec.status, rec.error_type) == (400, "invalid_request_error")
    assert (rec.route, rec.provider, rec.upstream_model, rec.attempts) == ("", None, None, 0)


async def test_a_missing_key_is_recorded_against_the_provider_with_no_upstream_call(
    aiohttp_client: ClientFactory,
) -> None:
    config = Config(
        server=ServerConfig(),
        providers={"up": provider("http://127.0.0.1:9/v1")},
        router=RouterConfig(default=f"up/{MODEL}"),
        source=Path("config.toml"),
    )
    app = create_app(config, token=TOKEN)  # the real key lookup: UP_KEY is not set
    p = Proxy(await aiohttp_client(app), app)
    resp = await p.post(request_body(stream=True))
    assert resp.status == 403
    rec = await p.record()
    assert (rec.status, rec.error_type, rec.provider, rec.attempts) == (
        403,
        "permission_error",
        "up",
        0,
    )


async def test_usage_off_writes_no_rows_but_observers_still_hear(proxy: Any) -> None:
    fake = oai.FakeOpenAI([oai.text_reply("hi")])
    p = await proxy(fake, log=LogConfig(usage=False))
    await (await p.post(request_body(stream=True))).read()
    await p.record()
    assert p.stored() == []


async def test_bodies_are_recorded_only_when_log_bodies_is_on(proxy: Any) -> None:
    fake = oai.FakeOpenAI([oai.text_reply("secret code"), oai.text_reply("plain")])
    p = await proxy(fake, log=LogConfig(bodies=True))
    body = request_body(stream=True, text="my private prompt")
    raw = await (await p.post(body)).read()
    rec = await p.record()
    assert rec.request_body is not None and b"my private prompt" in rec.request_body
    assert rec.response_body == raw
    p.stored()
    conn = sqlite3.connect(paths().data_dir / FILE_NAME)
    try:
        [(stored_request, stored_response)] = conn.execute(
            "SELECT request_body, response_body FROM bodies"
        ).fetchall()
    finally:
        conn.close()
    assert json.loads(stored_request)["messages"][0]["content"] == "my private prompt"
    assert stored_response == raw


async def test_default_config_stores_no_bodies(proxy: Any) -> None:
    p = await proxy(oai.FakeOpenAI([oai.text_reply("secret code")]))
    await (await p.post(request_body(stream=True, text="my private prompt"))).read()
    assert (await p.record()).request_body is None
    p.stored()
    data = (paths().data_dir / FILE_NAME).read_bytes()
    assert b"my private prompt" not in data


async def test_a_stuck_store_never_delays_the_response(
    proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    entered = threading.Event()
    real_write = UsageStore.write

    def stuck_write(self: UsageStore, *args: Any, **kwargs: Any) -> None:
        entered.set()
        release.wait(20)
        real_write(self, *args, **kwargs)

    monkeypatch.setattr(UsageStore, "write", stuck_write)
    fake = oai.FakeOpenAI([oai.text_reply("one"), oai.text_reply("two")])
    p = await proxy(fake)
    try:
        await (await p.post(request_body(stream=True))).read()
        await p.record(1)
        assert await asyncio.to_thread(entered.wait, 10)  # the writer is stuck in its write
        resp = await p.post(request_body(stream=False))  # ... and the next answer still comes
        assert (await resp.json())["content"][0]["text"] == "two"
        await p.record(2)
        assert query.recent(paths().data_dir)[0] == []
    finally:
        release.set()
    assert [r.request_id for r in p.stored()] == [r.request_id for r in p.records]


async def test_a_corrupt_store_does_not_break_requests(proxy: Any) -> None:
    data_dir = paths().data_dir
    data_dir.mkdir(parents=True)
    (data_dir / FILE_NAME).write_bytes(b"not sqlite at all " * 100)
    p = await proxy(oai.FakeOpenAI([oai.text_reply("fine")]))
    resp = await p.post(request_body(stream=False))
    assert resp.status == 200
    rec = await p.record()
    assert [r.request_id for r in p.stored()] == [rec.request_id]
    assert len(list(data_dir.glob(FILE_NAME + ".corrupt-*"))) == 1


async def test_log_lines_of_a_request_carry_its_request_id(
    proxy: Any, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str, str | None]] = []

    class Capture(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            seen.append((record.getMessage(), REQUEST_ID.get()))
            return True

    capture = Capture()
    logger = logging.getLogger("ccroute.server")
    logger.addFilter(capture)
    try:
        with caplog.at_level(logging.INFO, logger="ccroute.server"):
            p = await proxy(oai.FakeOpenAI([oai.text_reply("hi")]))
            await (await p.post(request_body(stream=True))).read()
            rec = await p.record()
    finally:
        logger.removeFilter(capture)
    summary = [rid for message, rid in seen if "routed by" in message]
    assert summary == [rec.request_id]
    assert REQUEST_ID.get() is None


# -- the real serving loop: shutdown flushes the queue; cut and abandoned requests ---------------


@pytest.fixture
def up_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UP_KEY", "sk-up")


async def serve_until_done(
    aiohttp_server: ServerFactory,
    fake: oai.FakeOpenAI,
    client_side: Callable[[str], Awaitable[None]],
    *,
    grace: float,
) -> list[query.LoggedRequest]:
    """Run `server.run` against `fake`, run `client_side(url)`, shut down; the stored rows.
    (The provider's key comes from `UP_KEY`: the `up_key` fixture.)"""
    import socket

    import aiohttp

    upstream = await aiohttp_server(fake.app)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = Config(
        server=ServerConfig(),
        providers={"up": provider(str(upstream.make_url("/v1")))},
        router=RouterConfig(default=f"up/{MODEL}"),
        source=Path("config.toml"),
    )
    listening = asyncio.Event()
    task = asyncio.create_task(server_run(config, port, grace, listening.set))
    await asyncio.wait_for(listening.wait(), timeout=10)
    url = f"http://127.0.0.1:{port}"
    try:
        await client_side(url)
    finally:
        with contextlib.suppress(aiohttp.ClientError):  # already asked to stop
            async with (
                aiohttp.ClientSession() as http,
                http.post(f"{url}/ccroute/shutdown", headers=AUTH),
            ):
                pass
        await asyncio.wait_for(task, timeout=20)
    # no flush here: the stopped daemon must already have written everything
    return query.recent(paths().data_dir, limit=100)[0]


def server_run(config: Config, port: int, grace: float, on_listening: Callable[[], None]) -> Any:
    from ccroute.server import run

    return run(
        config,
        token=TOKEN,
        host="127.0.0.1",
        port=port,
        started_at=0.0,
        grace=grace,
        on_listening=on_listening,
        on_stopping=lambda: None,
        install_signals=lambda _stop, _reload: None,
    )


async def test_records_queued_at_shutdown_are_written_before_the_daemon_exits(
    aiohttp_server: ServerFactory, up_key: None
) -> None:
    import aiohttp

    fake = oai.FakeOpenAI([oai.text_reply(f"answer {n}") for n in range(5)])

    async def five_requests(url: str) -> None:
        async with aiohttp.ClientSession() as http:
            for _ in range(5):
                async with http.post(
                    f"{url}/v1/messages", json=request_body(stream=True), headers=AUTH
                ) as resp:
                    await resp.read()

    stored = await serve_until_done(aiohttp_server, fake, five_requests, grace=5.0)
    assert len(stored) == 5
    assert all(r.status == 200 and r.output_tokens for r in stored)


async def test_a_stream_cut_at_shutdown_is_recorded_with_the_error_the_client_saw(
    aiohttp_server: ServerFactory, up_key: None
) -> None:
    import aiohttp

    fake = oai.FakeOpenAI([oai.text_reply("x" * 400, chunk_size=2, chunk_delay=0.05)])
    seen: list[dict[str, Any]] = []

    async def cut_stream(url: str) -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{url}/v1/messages", json=request_body(stream=True), headers=AUTH) as resp,
        ):
            head = await resp.content.readuntil(b"\n\n")
            async with http.post(f"{url}/ccroute/shutdown", headers=AUTH):
                pass
            seen.extend(parse_sse(head + await resp.read()))

    [row] = await serve_until_done(aiohttp_server, fake, cut_stream, grace=0.3)
    assert seen[-1]["type"] == "error"
    assert (row.status, row.error_type) == (200, seen[-1]["error"]["type"])
    assert row.outcome == "200 then cut off at shutdown"


async def test_a_client_that_leaves_before_the_answer_is_recorded_as_499(
    aiohttp_server: ServerFactory, up_key: None
) -> None:
    import aiohttp

    fake = oai.FakeOpenAI([oai.text_reply("too late", delay=5.0)])

    async def leave_early(url: str) -> None:
        async with aiohttp.ClientSession() as http:
            pending = asyncio.ensure_future(
                http.post(f"{url}/v1/messages", json=request_body(stream=False), headers=AUTH)
            )
            while not fake.chat_requests:
                await asyncio.sleep(0.01)
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        for _ in range(500):  # the server notices the closed connection
            if query.recent(paths().data_dir)[0]:
                break
            await asyncio.sleep(0.01)

    [row] = await serve_until_done(aiohttp_server, fake, leave_early, grace=1.0)
    assert (row.status, row.outcome, row.error_type) == (499, "499 client disconnected", None)
    assert row.ttft_ms is None and row.provider == "up"
