"""Relaying an upstream SSE stream to Claude Code through a pure `StreamTranslator`.

Owns: the loop of design.md §3 — upstream bytes → `SSEDecoder` → translator → `sse.encode` →
client — plus idle `ping`s (protocol.md §6.3), one `error` event when the stream fails after it
started (§2.5), and noticing a client that went away (its upstream request is dropped with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from ccroute.translate import sse
from ccroute.translate.messages import MessagesRequest, StreamEvent, error_body
from ccroute.translate.tokens import estimate_input_tokens
from ccroute.wires import Wire

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
    """Writes encoded SSE frames and remembers when it last wrote (for the ping loop)."""

    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response
        self.last_write = time.monotonic()

    async def write(self, frame: bytes) -> None:
        """Write one frame; raises `_ClientGone` if the client has disconnected."""
        self.last_write = time.monotonic()
        try:
            await self.response.write(frame)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            raise _ClientGone from None

    async def write_error(self, error_type: str, message: str) -> None:
        """End the stream with one `event: error` frame (protocol.md §2.4), if anyone listens."""
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
    upstream: aiohttp.ClientResponse,
    wire: Wire,
    req: MessagesRequest,
    message_id: str,
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "request-id": message_id,
        }
    )
    await response.prepare(request)
    writer = _SSEWriter(response)
    translator = wire.translator.StreamTranslator(
        message_id=message_id, model=req["model"], input_tokens_estimate=estimate_input_tokens(req)
    )
    pinger = asyncio.create_task(writer.ping_while_idle(PING_INTERVAL))
    try:
        if await _pump(upstream, translator, writer):
            await writer.write(b"".join(map(sse.encode, translator.finish())))
    except _ClientGone:
        log.info("%s client disconnected; upstream request dropped", message_id)
        return response
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("%s upstream stream failed: %s", message_id, type(exc).__name__)
        await writer.write_error("overloaded_error", f"The provider's stream broke off: {exc!s}")
    except Exception:
        log.exception("%s stream translation failed", message_id)
        await writer.write_error("api_error", "Internal error in ccroute; see the daemon log.")
    finally:
        pinger.cancel()
    with contextlib.suppress(ConnectionResetError, aiohttp.ClientConnectionResetError):
        await response.write_eof()
    return response


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
        chunk = json.loads(data)
    except ValueError:
        await writer.write_error("api_error", "The provider sent a stream chunk that is not JSON.")
        return False
    events = translator.feed(chunk)
    if not events:
        return True
    # One write per upstream chunk, however many events it implies.
    await writer.write(b"".join(map(sse.encode, events)))
    return events[-1]["type"] != "error"
