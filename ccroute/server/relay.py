"""Relaying an upstream SSE stream to Claude Code through a pure `StreamTranslator`.

Owns: the loop of design.md §3 — upstream bytes → `SSEDecoder` → translator → `sse.encode` →
client — plus idle `ping`s (protocol.md §6.3, also while the upstream has not answered yet), one
`error` event when the stream fails after it started (§2.5), and noticing a client that went
away (its upstream request is dropped with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from ccroute.jsoncodec import loads
from ccroute.server.exchange import Exchange
from ccroute.server.facts import FACTS, RequestFacts
from ccroute.translate import sse
from ccroute.translate.messages import StreamEvent, error_body

log = logging.getLogger("ccroute.server")


class _Translator(Protocol):
    """The streaming half of the translator contract (design.md §3)."""

    def feed(self, chunk: dict[str, Any]) -> list[StreamEvent]: ...
    def finish(self) -> list[StreamEvent]: ...


#: Seconds of upstream silence after which the client gets an SSE `ping` (protocol.md §6.3).
PING_INTERVAL = 10.0


class _ClientGone(Exception):
    """Claude Code closed the connection (Esc, exit); the upstream request is dropped with it."""


class _SSEWriter:
    """Writes encoded SSE frames, remembers when it last wrote (for the ping loop) and notes
    what the client saw in the request's `facts` (usage, first content, error event)."""

    def __init__(self, response: web.StreamResponse, facts: RequestFacts) -> None:
        self.response = response
        self.facts = facts
        self.last_write = time.monotonic()

    async def write(self, frame: bytes) -> None:
        """Write one frame; raises `_ClientGone` if the client has disconnected."""
        self.last_write = time.monotonic()
        sent = self.facts.sent
        if sent is not None:
            sent.append(frame)
        try:
            await self.response.write(frame)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            raise _ClientGone from None

    async def write_events(self, events: list[StreamEvent]) -> None:
        """Write Anthropic events as one frame group (one write per upstream chunk)."""
        self.facts.saw_events(events)
        await self.write(b"".join(map(sse.encode, events)))

    async def write_error(self, error_type: str, message: str) -> None:
        """End the stream with one `event: error` frame (protocol.md §2.4), if anyone listens."""
        self.facts.saw_error({"type": error_type})
        with contextlib.suppress(_ClientGone):
            await self.write(sse.encode(error_body(error_type, message)))

    async def ping_while_idle(self, interval: float) -> None:
        """Send `event: ping` whenever nothing was written for `interval` seconds (§6.3)."""
        with contextlib.suppress(_ClientGone):
            while True:
                await asyncio.sleep(interval - (time.monotonic() - self.last_write))
                if time.monotonic() - self.last_write >= interval - 0.01:
                    await self.write(sse.PING)


async def relay_stream(
    request: web.Request,
    post: Awaitable[aiohttp.ClientResponse],
    exchange: Exchange,
) -> web.StreamResponse:
    """Send the upstream request `post` and relay its stream to Claude Code as Anthropic SSE.

    Liveness (protocol.md §6.3): if the upstream has not answered with headers after
    `PING_INTERVAL` seconds, the SSE response is opened (200) and `ping`s start, so the client
    hears from us at least every `PING_INTERVAL` seconds however long the upstream thinks.
    Before that point an upstream failure raises (`UpstreamError`, `aiohttp.ClientError`,
    `TimeoutError`) for the error middleware to answer with its HTTP status (so a 429 keeps its
    `retry-after`); after it, a failure is one `error` event — `overloaded_error` for a
    transient one (429, 5xx, unreachable), which Claude Code retries (§2.5), else the mapped type.
    """
    pending: asyncio.Future[aiohttp.ClientResponse] = asyncio.ensure_future(post)
    writer: _SSEWriter | None = None
    pinger: asyncio.Task[None] | None = None
    try:
        done, _ = await asyncio.wait({pending}, timeout=PING_INTERVAL)
        if not done:
            writer = await _open(request, exchange)
            pinger = asyncio.create_task(writer.ping_while_idle(PING_INTERVAL))
        try:
            upstream = await pending
        except (aiohttp.ClientError, TimeoutError) as exc:
            if writer is None:
                raise
            await _fail(writer, exchange, 529, "overloaded_error", _unreachable_message(exc))
            return writer.response
        async with upstream:
            if upstream.status >= 400:
                err = exchange.upstream_error(
                    upstream.status, await upstream.read(), upstream.headers
                )
                if writer is None:
                    raise err
                await _fail(writer, exchange, err.status, err.error_type, err.message)
                return writer.response
            if writer is None:
                writer = await _open(request, exchange)
                pinger = asyncio.create_task(writer.ping_while_idle(PING_INTERVAL))
            if exchange.wire.passthrough:
                await _pipe(upstream, exchange, writer)
            else:
                await _relay(upstream, exchange, writer)
            return writer.response
    finally:
        if not pending.done():
            pending.cancel()
        if pinger is not None:
            pinger.cancel()
        if writer is not None:
            with contextlib.suppress(ConnectionResetError, aiohttp.ClientConnectionResetError):
                await writer.response.write_eof()


async def _open(request: web.Request, exchange: Exchange) -> _SSEWriter:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "request-id": exchange.message_id,
        }
    )
    await response.prepare(request)
    exchange.outcome = "200"
    return _SSEWriter(response, request[FACTS])


def _unreachable_message(exc: BaseException) -> str:
    reason = type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
    return f"Could not reach the provider: {reason}"


async def _fail(
    writer: _SSEWriter, exchange: Exchange, status: int, error_type: str, message: str
) -> None:
    """End an already-open stream with one `error` event; transient failures become
    `overloaded_error`, which Claude Code retries when it arrives before any content (§2.5)."""
    if status == 429 or status >= 500:
        message = f"{message} (upstream {status} {error_type})"
        error_type = "overloaded_error"
    exchange.outcome = f"200 then error {error_type}"
    await writer.write_error(error_type, message)


async def _relay(upstream: aiohttp.ClientResponse, exchange: Exchange, writer: _SSEWriter) -> None:
    translator = exchange.new_stream_translator()
    try:
        if await _pump(upstream, translator, writer):
            await writer.write_events(translator.finish())
        else:
            exchange.outcome = "200 then error event"
    except _ClientGone:
        exchange.outcome = "200 client disconnected"
        log.info("%s client disconnected; upstream request dropped", exchange.message_id)
    except (aiohttp.ClientError, TimeoutError) as exc:
        exchange.outcome = f"200 then upstream broke ({type(exc).__name__})"
        log.warning("%s upstream stream failed: %s", exchange.message_id, type(exc).__name__)
        await writer.write_error("overloaded_error", _broke_off_message(exc))
    except Exception:
        exchange.outcome = "200 then internal error"
        log.exception("%s stream translation failed", exchange.message_id)
        await writer.write_error("api_error", "Internal error in ccroute; see the daemon log.")


async def _pipe(upstream: aiohttp.ClientResponse, exchange: Exchange, writer: _SSEWriter) -> None:
    """Relay an upstream that already speaks Anthropic SSE, byte for byte (no re-encoding).

    Bytes are forwarded up to the last complete event in hand, so every write ends on an event
    boundary: pings and a final `error` event never land inside an upstream event. The event
    names are read on the side: a stream that ends without `message_stop` or `error` (the
    connection closed cleanly, but early) gets one `error` event, as a broken one does (§2.5).
    """
    pending = b""
    names = sse.SSEDecoder()
    ended = False
    try:
        async for data in upstream.content.iter_any():
            pending += data
            cut = _last_boundary(pending)
            if cut:
                events = names.feed(pending[:cut])
                ended = _ends(events, ended)
                writer.facts.saw_sse(events)
                await writer.write(pending[:cut])
                pending = pending[cut:]
        if pending.strip():
            tail = pending + b"\n\n"  # the upstream's last event lacked its blank line
            events = names.feed(tail)
            ended = _ends(events, ended)
            writer.facts.saw_sse(events)
            await writer.write(tail)
        if not ended:
            exchange.outcome = "200 then upstream ended early"
            await writer.write_error(
                "overloaded_error", "The provider's stream ended before its message_stop event."
            )
    except _ClientGone:
        exchange.outcome = "200 client disconnected"
        log.info("%s client disconnected; upstream request dropped", exchange.message_id)
    except (aiohttp.ClientError, TimeoutError) as exc:
        exchange.outcome = f"200 then upstream broke ({type(exc).__name__})"
        log.warning("%s upstream stream failed: %s", exchange.message_id, type(exc).__name__)
        await writer.write_error("overloaded_error", _broke_off_message(exc))


_LAST_EVENTS = ("message_stop", "error")


def _ends(events: list[sse.SSEEvent], ended: bool) -> bool:
    """Whether the stream has reached its last event (`message_stop` or `error`), by its
    `event:` name or, for an upstream that omits the name, its data's `type`."""
    return ended or any(_event_type(event) in _LAST_EVENTS for event in events)


def _event_type(event: sse.SSEEvent) -> str | None:
    if event.event is not None:
        return event.event
    try:
        data = loads(event.data)
    except ValueError:
        return None
    return data.get("type") if isinstance(data, dict) else None


_BOUNDARIES = (b"\r\n\r\n", b"\n\n", b"\r\r")


def _last_boundary(data: bytes) -> int:
    """The offset just after the last blank line (an SSE event's end) in `data`; 0 if none."""
    return max((i + len(b) for b in _BOUNDARIES if (i := data.rfind(b)) >= 0), default=0)


def _broke_off_message(exc: BaseException) -> str:
    """Why the upstream stream ended early, in words (no library internals or their numbers)."""
    if isinstance(exc, TimeoutError):
        why = "the provider sent nothing for too long"
    elif isinstance(exc, aiohttp.ClientPayloadError):
        why = "the provider closed the connection before the stream ended"
    else:
        why = f"the connection to the provider failed ({type(exc).__name__})"
    return f"The provider's stream broke off: {why}."


async def _pump(
    upstream: aiohttp.ClientResponse, translator: _Translator, writer: _SSEWriter
) -> bool:
    """Feed upstream SSE through `translator`, writing events out as they come.

    Returns False when the translator already ended the stream with an `error` event (so no
    `finish()`), True when the upstream finished (`[DONE]` or end of body).
    """
    decoder = sse.SSEDecoder()
    async for data in upstream.content.iter_any():
        for event in decoder.feed(data):
            if event.data == "[DONE]":
                return True
            if not await _translate_chunk(event.data, translator, writer):
                return False
    for event in decoder.close():
        if event.data != "[DONE]" and not await _translate_chunk(event.data, translator, writer):
            return False
    return True


async def _translate_chunk(data: str, translator: _Translator, writer: _SSEWriter) -> bool:
    if not data:
        return True
    try:
        chunk = loads(data)
    except ValueError:
        await writer.write_error("api_error", "The provider sent a stream chunk that is not JSON.")
        return False
    events = translator.feed(chunk)
    if not events:
        return True
    # One write per upstream chunk, however many events it implies.
    await writer.write_events(events)
    return events[-1]["type"] != "error"
