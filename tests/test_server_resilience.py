"""Fault tests: the proxy's attempt loop against fake OpenAI upstreams that fail on purpose.

Each test configures small timeouts, a recording `sleep` (so backoff delays are checked without
waiting for them) and, for the breaker, a hand-driven clock. The units (balancer, limits,
retry-after parsing) are tested directly at the end.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ccroute import server
from ccroute.config import Config, ProviderConfig, RouterConfig, ServerConfig
from ccroute.config.model import RefEntry
from ccroute.routing import RouteTarget
from ccroute.server.attempts import RESILIENCE, Resilience, retry_after_seconds
from ccroute.server.balance import Balancer
from ccroute.server.breaker import Breakers
from ccroute.server.limits import Limits, QueueFull
from tests.fakes.openai_upstream import FakeOpenAI, error_reply, text_reply
from tests.streamcheck import parse_sse

TOKEN = "local-test-token"
KEY = "sk-test-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Stack:
    client: TestClient[Any, Any]
    sleeps: list[float]
    clock: Clock
    res: Resilience
    fakes: dict[str, FakeOpenAI] = field(default_factory=dict)


def request_body(*, stream: bool = True, text: str = "say hi") -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
    }


@pytest.fixture
def stack(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, unused_tcp_port: int
) -> Callable[..., Awaitable[Stack]]:
    """`await stack({"a": fake_or_None, "b": ...}, fallbacks=[...], a={fields}, ...)`.

    The first provider answers `router.default` (model "model-<name>"); `fallbacks` are provider
    names for `[router.fallbacks] default`. A provider given as None has nothing listening.
    """

    async def start(
        fakes: dict[str, FakeOpenAI | None],
        *,
        fallbacks: tuple[str, ...] = (),
        targets: tuple[str, ...] | None = None,
        strategy: str = "priority",
        profiles: dict[str, RouterConfig] | None = None,
        **fields: dict[str, Any],
    ) -> Stack:
        providers: dict[str, ProviderConfig] = {}
        for name, fake in fakes.items():
            if fake is None:
                base_url = f"http://127.0.0.1:{unused_tcp_port}/v1"  # connection refused
            else:
                base_url = str((await aiohttp_server(fake.app)).make_url("/v1"))
            settings: dict[str, Any] = {"max_retries": 0, **fields.get(name, {})}
            providers[name] = ProviderConfig(
                name=name, wire="openai", base_url=base_url, **settings
            )
        first = next(iter(fakes))
        route = tuple(RefEntry(f"{n}/model-{n}") for n in (targets or (first,)))
        router = RouterConfig(
            default=route[0].ref,
            routes=MappingProxyType({"default": route}),
            strategy=strategy,
            fallbacks=MappingProxyType(
                {"default": tuple(RefEntry(f"{n}/model-{n}") for n in fallbacks)}
            ),
        )
        config = Config(
            server=ServerConfig(),
            providers=MappingProxyType(providers),
            router=router,
            source=Path("config.toml"),
            profiles=MappingProxyType(profiles or {}),
        )
        app = server.create_app(config, token=TOKEN, key_lookup=lambda p: KEY)
        sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            await asyncio.sleep(0)

        clock = Clock()
        res = Resilience(
            breakers=Breakers(clock=clock),
            balancer=Balancer(clock=clock, rng=random.Random(7)),
            sleep=sleep,
            rng=random.Random(7),
        )
        app[RESILIENCE] = res
        client = await aiohttp_client(app)
        known = {n: f for n, f in fakes.items() if f is not None}
        return Stack(client=client, sleeps=sleeps, clock=clock, res=res, fakes=known)

    return start


async def post(stack: Stack, *, stream: bool = True, **headers: str) -> Any:
    return await stack.client.post(
        "/v1/messages?beta=true", json=request_body(stream=stream), headers={**AUTH, **headers}
    )


async def streamed_text(resp: Any) -> str:
    assert resp.status == 200
    events = parse_sse(await resp.read())
    assert events[-1]["type"] == "message_stop"
    return "".join(
        e["delta"]["text"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )


def fake(*replies: Any) -> FakeOpenAI:
    return FakeOpenAI(list(replies), api_key=KEY)


# -- retries ----------------------------------------------------------------------------------


async def test_429_with_retry_after_is_retried_after_that_delay(stack: Any) -> None:
    a = fake(error_reply(429, "slow down", headers={"retry-after": "3"}), text_reply("second try"))
    s = await stack({"a": a}, a={"max_retries": 2})
    assert await streamed_text(await post(s)) == "second try"
    assert len(a.chat_requests) == 2
    assert s.sleeps == [3.0]  # retry-after beats the 0.5-0.75 s first backoff


async def test_500_is_retried_with_backoff_then_succeeds(stack: Any) -> None:
    a = fake(error_reply(500, "boom", error_type="server_error"), text_reply("recovered"))
    s = await stack({"a": a}, a={"max_retries": 2})
    assert await streamed_text(await post(s)) == "recovered"
    assert len(a.chat_requests) == 2
    [delay] = s.sleeps
    assert 0.5 <= delay <= 0.75


async def test_529_after_all_retries_falls_back_to_the_second_provider(stack: Any) -> None:
    overloaded = error_reply(529, "Overloaded", error_type="overloaded_error")
    a = fake(overloaded, overloaded, overloaded)
    b = fake(text_reply("from b"))
    s = await stack({"a": a, "b": b}, fallbacks=("b",), a={"max_retries": 2})
    assert await streamed_text(await post(s)) == "from b"
    assert len(a.chat_requests) == 3
    assert b.chat_requests[0].json["model"] == "model-b"
    first, second = s.sleeps
    assert 0.5 <= first <= 0.75
    assert 1.0 <= second <= 1.5  # exponential


async def test_a_retry_after_beyond_the_budget_is_not_waited_for(stack: Any) -> None:
    a = fake(error_reply(429, "slow down", headers={"retry-after": "100"}))
    s = await stack({"a": a}, a={"max_retries": 2, "retry_budget": 30})
    resp = await post(s)
    assert resp.status == 429
    assert resp.headers["retry-after"] == "100"
    assert (await resp.json())["error"]["type"] == "rate_limit_error"
    assert s.sleeps == []
    assert len(a.chat_requests) == 1


async def test_a_400_is_final_no_retry_no_fallback(stack: Any) -> None:
    a = fake(error_reply(400, "bad field", param="messages"))
    b = fake()
    s = await stack({"a": a, "b": b}, fallbacks=("b",), a={"max_retries": 2})
    resp = await post(s)
    assert resp.status == 400
    assert len(a.chat_requests) == 1
    assert b.chat_requests == []


async def test_context_overflow_falls_back_without_retrying_the_same_model(stack: Any) -> None:
    a = fake(
        error_reply(
            400,
            "This model's maximum context length is 1000 tokens. However, you requested 5000 "
            "tokens.",
            code="context_length_exceeded",
        )
    )
    b = fake(text_reply("bigger model"))
    s = await stack({"a": a, "b": b}, fallbacks=("b",), a={"max_retries": 2})
    assert await streamed_text(await post(s)) == "bigger model"
    assert len(a.chat_requests) == 1
    assert s.sleeps == []


# -- timeouts and connection errors -------------------------------------------------------------


async def test_timeout_before_the_first_byte_falls_back(stack: Any) -> None:
    a = fake(text_reply("too late", delay=2.0))
    b = fake(text_reply("on time"))
    s = await stack({"a": a, "b": b}, fallbacks=("b",), a={"first_byte_timeout": 0.2})
    assert await streamed_text(await post(s)) == "on time"
    assert len(a.chat_requests) == 1


async def test_a_stall_mid_stream_ends_with_one_error_event_and_no_fallback(stack: Any) -> None:
    # The response headers arrive at once; then the upstream goes silent past idle_timeout.
    a = fake(text_reply("Hello there, a long answer", chunk_size=5, chunk_delay=1.0))
    b = fake(text_reply("must not be used"))
    s = await stack({"a": a, "b": b}, fallbacks=("b",), a={"idle_timeout": 0.3})
    resp = await post(s)
    assert resp.status == 200
    events = parse_sse(await resp.read())
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1
    assert events[-1] == errors[0]
    assert errors[0]["error"]["type"] == "overloaded_error"
    assert b.chat_requests == []


async def test_connection_refused_falls_back(stack: Any) -> None:
    b = fake(text_reply("b is up"))
    s = await stack({"a": None, "b": b}, fallbacks=("b",), a={"max_retries": 2})
    assert await streamed_text(await post(s)) == "b is up"
    assert s.sleeps == []  # a connection error moves on at once


async def test_connection_refused_with_no_fallback_is_a_529(stack: Any) -> None:
    s = await stack({"a": None})
    resp = await post(s)
    assert resp.status == 529
    error = (await resp.json())["error"]
    assert error["type"] == "overloaded_error"
    assert "Could not reach provider 'a'" in error["message"]


# -- circuit breaker --------------------------------------------------------------------------


async def test_breaker_opens_after_n_failures_then_half_opens_after_cooldown(stack: Any) -> None:
    boom = error_reply(500, "boom", error_type="server_error")
    a = fake(boom, boom, text_reply("a is back"), text_reply("a again"))
    b = fake(*(text_reply(f"b #{i}") for i in range(3)))
    s = await stack(
        {"a": a, "b": b}, fallbacks=("b",), a={"breaker_failures": 2, "breaker_cooldown": 30}
    )
    assert await streamed_text(await post(s)) == "b #0"
    assert await streamed_text(await post(s)) == "b #1"
    assert s.res.breakers.snapshot()["a"].state == "open"
    # /health (and so `ccroute status`) names the provider whose breaker is open.
    health = await (await s.client.get("/health")).json()
    assert health["breakers"] == {"a": "open"}
    # Open: a is skipped without being called.
    assert await streamed_text(await post(s)) == "b #2"
    assert len(a.chat_requests) == 2
    # After the cooldown one probe goes through; its success closes the breaker.
    s.clock.now += 31
    assert await streamed_text(await post(s)) == "a is back"
    assert s.res.breakers.snapshot()["a"].state == "closed"
    assert (await (await s.client.get("/health")).json())["breakers"] == {}
    assert await streamed_text(await post(s)) == "a again"
    assert len(a.chat_requests) == 4


async def test_a_failed_probe_reopens_the_breaker(stack: Any) -> None:
    boom = error_reply(503, "down", error_type="server_error")
    a = fake(boom, boom)
    b = fake(text_reply("b 1"), text_reply("b 2"), text_reply("b 3"))
    s = await stack({"a": a, "b": b}, fallbacks=("b",), a={"breaker_failures": 1})
    assert await streamed_text(await post(s)) == "b 1"
    s.clock.now += 31
    assert await streamed_text(await post(s)) == "b 2"  # the probe failed
    assert len(a.chat_requests) == 2
    assert await streamed_text(await post(s)) == "b 3"  # open again: skipped
    assert len(a.chat_requests) == 2


async def test_every_breaker_open_is_a_529_without_calling_anyone(stack: Any) -> None:
    a = fake(error_reply(500, "boom", error_type="server_error"))
    s = await stack({"a": a}, a={"breaker_failures": 1})
    assert (await post(s)).status == 500
    resp = await post(s)
    assert resp.status == 529
    assert "circuit breaker open" in (await resp.json())["error"]["message"]
    assert resp.headers["retry-after"] == "30"
    assert len(a.chat_requests) == 1


# -- concurrency cap --------------------------------------------------------------------------


async def test_a_full_queue_is_a_429_naming_the_provider(stack: Any) -> None:
    a = fake(text_reply("one", delay=0.5), text_reply("two"))
    s = await stack({"a": a}, a={"max_concurrency": 1, "max_queue": 1})
    first = asyncio.create_task(post(s))
    while s.res.limits.in_flight(s.client.app[server.CONFIG].providers["a"]) == 0:
        await asyncio.sleep(0.01)
    second = asyncio.create_task(post(s))
    provider = s.client.app[server.CONFIG].providers["a"]
    while s.res.limits.queued(provider) == 0:
        await asyncio.sleep(0.01)
    third = await post(s)
    assert third.status == 429
    assert third.headers["retry-after"] == "5"
    error = (await third.json())["error"]
    assert error["type"] == "rate_limit_error"
    assert error["message"].startswith("ccroute: provider a has 1 requests in flight and 1 queued")
    # The queued request waited for the slot and was served.
    assert await streamed_text(await first) == "one"
    assert await streamed_text(await second) == "two"
    assert len(a.chat_requests) == 2


# -- selection --------------------------------------------------------------------------------


async def test_round_robin_alternates_between_the_targets(stack: Any) -> None:
    a = fake(text_reply("a1"), text_reply("a2"))
    b = fake(text_reply("b1"), text_reply("b2"))
    s = await stack({"a": a, "b": b}, targets=("a", "b"), strategy="round-robin")
    texts = [await streamed_text(await post(s)) for _ in range(4)]
    assert texts == ["a1", "b1", "a2", "b2"]


async def test_a_session_sticks_to_its_target(stack: Any) -> None:
    a = fake(text_reply("a1"), text_reply("a2"), text_reply("a3"))
    b = fake(text_reply("b1"))
    s = await stack({"a": a, "b": b}, targets=("a", "b"), strategy="round-robin")
    sid = {"X-Claude-Code-Session-Id": "session-1"}
    assert await streamed_text(await post(s, **sid)) == "a1"
    assert await streamed_text(await post(s)) == "b1"  # another client moves the ring
    assert await streamed_text(await post(s, **sid)) == "a2"
    assert await streamed_text(await post(s, **sid)) == "a3"


def _targets(*names: str, weights: tuple[int, ...] = ()) -> list[RouteTarget]:
    return [
        RouteTarget(
            ProviderConfig(name=n, wire="openai", base_url="http://x/v1"),
            f"m-{n}",
            weights[i] if weights else 1,
        )
        for i, n in enumerate(names)
    ]


def test_priority_takes_the_first_available_target() -> None:
    a, b, c = _targets("a", "b", "c")
    order = Balancer().order(
        [a, b, c], "priority", available=lambda t: t is not a, in_flight=lambda t: 0
    )
    assert order == [b, a, c]


def test_least_busy_takes_the_target_with_fewest_in_flight() -> None:
    a, b, c = _targets("a", "b", "c")
    busy = {"a": 3, "b": 1, "c": 2}
    order = Balancer().order(
        [a, b, c],
        "least-busy",
        available=lambda t: True,
        in_flight=lambda t: busy[t.provider.name],
    )
    assert order[0] is b


def test_weighted_follows_the_weights() -> None:
    a, b = _targets("a", "b", weights=(3, 1))
    balancer = Balancer(rng=random.Random(1))
    picks = [
        balancer.order([a, b], "weighted", available=lambda t: True, in_flight=lambda t: 0)[0]
        for _ in range(4000)
    ]
    share = picks.count(a) / len(picks)
    assert 0.70 < share < 0.80


def test_sticky_choice_expires_after_its_ttl_and_yields_to_an_open_breaker() -> None:
    a, b = _targets("a", "b")
    clock = Clock()
    balancer = Balancer(clock=clock, sticky_ttl=60)

    def pick(available: Callable[[RouteTarget], bool] = lambda t: True) -> RouteTarget:
        order = balancer.order(
            [a, b], "round-robin", available=available, in_flight=lambda t: 0, session_id="s"
        )
        return order[0]

    assert pick() is a
    assert pick() is a
    assert pick(lambda t: t is not a) is b  # a's breaker opened: the session moves
    assert pick() is b  # and stays there
    clock.now += 61
    assert pick() is a  # expired: the round-robin ring chooses again (its third turn: a)


# -- units ------------------------------------------------------------------------------------


async def test_limits_hand_the_slot_to_the_next_waiter_in_order() -> None:
    provider = ProviderConfig(
        name="p", wire="openai", base_url="http://x/v1", max_concurrency=1, max_queue=2
    )
    limits = Limits()
    order: list[str] = []
    gate = asyncio.Event()

    async def use(name: str) -> None:
        async with limits.slot(provider):
            order.append(name)
            await gate.wait()

    tasks = [asyncio.create_task(use(n)) for n in ("first", "second", "third")]
    while limits.queued(provider) < 2:
        await asyncio.sleep(0)
    with pytest.raises(QueueFull):
        async with limits.slot(provider):
            pass
    gate.set()
    await asyncio.gather(*tasks)
    assert order == ["first", "second", "third"]
    assert limits.in_flight(provider) == 0


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    provider = ProviderConfig(
        name="p", wire="openai", base_url="http://x/v1", max_concurrency=1, max_queue=1
    )
    limits = Limits()
    gate = asyncio.Event()

    async def hold() -> None:
        async with limits.slot(provider):
            await gate.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(hold())
    while limits.queued(provider) == 0:
        await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limits.queued(provider) == 0
    gate.set()
    await holder
    assert limits.in_flight(provider) == 0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("2", 2.0), ("1.5", 1.5), ("-3", 0.0), ("soon", None), (None, None), ("", None)],
)
def test_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value) == seconds


def test_retry_after_as_an_http_date() -> None:
    assert retry_after_seconds("Sun, 06 Nov 1994 08:49:37 GMT", now=784111767.0) == 10.0


def test_resilience_fields_are_validated() -> None:
    import tomllib

    from ccroute.config.schema import _build

    doc = tomllib.loads(
        """
        [providers.x]
        wire = "openai"
        base_url = "http://localhost:1/v1"
        connect_timeout = 0.5
        total_timeout = 0
        max_concurrency = 4
        breaker_cooldown = 0
        """
    )
    config, problems = _build(doc, Path("c.toml"))
    assert config.providers["x"].connect_timeout == 0.5
    assert config.providers["x"].total_timeout == 0.0
    assert config.providers["x"].max_concurrency == 4
    assert config.providers["x"].max_retries == 2  # the default
    [problem] = problems
    assert "providers.x.breaker_cooldown must be a positive number of seconds" in problem


async def test_the_request_log_line_lists_every_attempt(
    stack: Any, caplog: pytest.LogCaptureFixture
) -> None:
    a = fake(error_reply(503, "down", error_type="server_error"))
    b = fake(text_reply("from b"))
    s = await stack({"a": a, "b": b}, fallbacks=("b",))
    with caplog.at_level("INFO", logger="ccroute.server"):
        assert await streamed_text(await post(s)) == "from b"
    messages = [r.getMessage() for r in caplog.records]
    [line] = [m for m in messages if "route=" in m]
    assert " route=b/model-b reason=default stream=True status=200 " in line
    trail = line.split(" | ")[0]
    assert trail.endswith("attempts: a/model-a: 529 overloaded_error; b/model-b: ok")


async def test_the_profile_header_routes_by_that_profile(stack: Any) -> None:
    a = fake(text_reply("default route"))
    b = fake(text_reply("cheap profile"))
    s = await stack({"a": a, "b": b}, profiles={"cheap": RouterConfig(default="b/model-b")})
    assert await streamed_text(await post(s, **{"X-Ccroute-Profile": "cheap"})) == "cheap profile"
    assert await streamed_text(await post(s)) == "default route"
    assert b.chat_requests[0].json["model"] == "model-b"
