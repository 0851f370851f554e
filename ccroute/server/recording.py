"""One `RequestRecord` per finished `POST /v1/messages`, and the usage store's writer behind it.

Owns: `record_middleware` (the outermost middleware: it gives each `POST /v1/messages` its
`RequestFacts`, waits for the final answer — the error middleware's JSON included — and
hands the finished `RequestRecord` to the app's observers) and `install`, which gives the app
the catalogue prices (`USAGE.prices`, loaded off the event loop at startup and re-read every
`PRICE_REFRESH_INTERVAL` seconds, so a config reload or `ccroute models` is picked up) and the
usage store's writer thread (an observer that only enqueues; the queue is flushed at cleanup,
after the requests in flight have drained).

What the client saw decides the record: `status` is the HTTP status sent (a stream that failed
after it began is 200; a client that went away before any answer is 499, nginx's "client
closed request"), `error_type` the Anthropic error type of the error JSON or of the SSE
`error` event, latency and TTFT end when the answer was handed over (a non-streamed body
counts as its first content). A request refused as invalid (400) is recorded with "" as its
`requested_model` and `route`; requests the guards or the shutdown drain refuse before the
handler runs are not recorded.

Must not be imported by the other `ccroute.server` modules but `app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from ccroute.config import paths
from ccroute.server.drain import DRAIN
from ccroute.server.facts import FACTS, RequestFacts
from ccroute.server.guards import Handler
from ccroute.server.observers import OBSERVERS, notify
from ccroute.server.state import CONFIG
from ccroute.usage.cost import cost_usd
from ccroute.usage.prices import PriceBook
from ccroute.usage.record import RequestRecord
from ccroute.usage.writer import UsageWriter

log = logging.getLogger("ccroute.server")

#: Seconds between two looks at the catalogue cache files for changed prices.
PRICE_REFRESH_INTERVAL = 60.0

#: The status recorded when the client went away before any answer (nothing was sent).
CLIENT_GONE = 499


@web.middleware
async def record_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Note `POST /v1/messages` as it runs and report it to the observers once answered."""
    if request.method != "POST" or request.path != "/v1/messages":
        return await handler(request)
    facts = RequestFacts.now(bodies=request.app[CONFIG].log.bodies)
    request[FACTS] = facts
    try:
        response = await handler(request)
    except asyncio.CancelledError:
        if facts.request_id:
            notify(request.app, await _record(request, facts, None))
        raise
    if facts.request_id:  # reached the handler (not refused by the guards or the drain)
        notify(request.app, await _record(request, facts, response))
    return response


async def _record(
    request: web.Request, facts: RequestFacts, response: web.StreamResponse | None
) -> RequestRecord:
    done = time.monotonic()
    exchange = facts.exchanges[-1] if facts.exchanges else None
    outcome = exchange.outcome if exchange is not None else "error"
    error_type = facts.error_type
    if response is None:
        status, outcome = CLIENT_GONE, f"{CLIENT_GONE} client disconnected"
    else:
        status = response.status
        if status >= 400:
            error_type = _error_type(response)
            outcome = f"{status} {error_type}"
        elif facts.stream and not facts.ended and request.app[DRAIN].cut:
            error_type, outcome = "overloaded_error", "200 then cut off at shutdown"
    ttft = facts.first_content
    if response is not None and status < 400 and not facts.stream:
        ttft = done
    usage = facts.usage or {}
    tokens = {
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "cache_read_tokens": usage.get("cache_read_input_tokens"),
        "cache_creation_tokens": usage.get("cache_creation_input_tokens"),
    }
    usage_state = request.app.get(USAGE)
    info = (
        usage_state.prices.lookup(facts.provider, facts.upstream_model)
        if usage_state is not None and facts.provider and facts.upstream_model
        else None
    )
    request_body = response_body = None
    if facts.bodies:
        request_body = await request.read()  # already read by the handler: aiohttp keeps it
        response_body = b"".join(facts.sent) if facts.stream and facts.sent else _body_of(response)
    return RequestRecord(
        time=facts.arrived,
        request_id=facts.request_id,
        session_id=facts.session_id,
        requested_model=facts.requested_model,
        route=facts.route,
        reason=facts.reason,
        provider=facts.provider,
        upstream_model=facts.upstream_model,
        stream=facts.stream,
        status=status,
        outcome=outcome,
        error_type=error_type,
        attempts=len(facts.exchanges),
        latency_ms=(done - facts.started) * 1000,
        ttft_ms=None if ttft is None else (ttft - facts.started) * 1000,
        cost_usd=cost_usd(info, **tokens),
        request_body=request_body,
        response_body=response_body,
        **tokens,
    )


def _body_of(response: web.StreamResponse | None) -> bytes | None:
    body = response.body if isinstance(response, web.Response) else None
    return body if isinstance(body, bytes) else None


def _error_type(response: web.StreamResponse) -> str:
    """The `error.type` of an Anthropic error JSON answer ("api_error" if it has none)."""
    try:
        body = json.loads(_body_of(response) or b"")
        kind = body["error"]["type"]
    except (ValueError, KeyError, TypeError):
        return "api_error"
    return kind if isinstance(kind, str) else "api_error"


class Usage:
    """The app's catalogue prices and, once started, the usage store's writer thread."""

    def __init__(self) -> None:
        self.prices = PriceBook()
        self.writer: UsageWriter | None = None


#: Prices and writer (`install`); records carry no cost without it.
USAGE = web.AppKey("usage", Usage)


def install(app: web.Application, *, data_dir: Path | None = None) -> None:
    """Give `app` catalogue prices and the usage store's writer (see the module docstring).

    `data_dir` is where `usage.sqlite3` lives (default: `paths().data_dir`, read at startup).
    Recording follows the live config: `log.usage = false` stops rows being written and
    `log.usage_max_mb` / `log.bodies` apply from the next request.
    """
    usage = app[USAGE] = Usage()

    async def usage_store(app: web.Application) -> AsyncIterator[None]:
        directory = data_dir if data_dir is not None else paths().data_dir
        try:
            await asyncio.to_thread(usage.prices.refresh, app[CONFIG].providers)
        except Exception:  # no prices is no reason not to serve
            log.exception("reading the model catalogue's prices failed")
        writer = usage.writer = UsageWriter(directory, settings=lambda: app[CONFIG].log)
        writer.start()
        app[OBSERVERS].append(writer.submit)
        refresh = asyncio.ensure_future(_refresh_prices(app, usage.prices))
        yield
        refresh.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresh
        # The drain has finished every request, so the queue holds all there is to write.
        await asyncio.to_thread(writer.close)

    app.cleanup_ctx.append(usage_store)


async def _refresh_prices(app: web.Application, prices: PriceBook) -> None:
    while True:
        await asyncio.sleep(PRICE_REFRESH_INTERVAL)
        try:
            await asyncio.to_thread(prices.refresh, app[CONFIG].providers)
        except Exception:
            log.exception("re-reading the model catalogue's prices failed")
