"""Graceful shutdown of the proxy: finish what is in flight, refuse what is new, cut the rest.

Owns: `Drain` (the `/v1/messages*` requests in flight and whether the daemon is draining), the
`drain_middleware` that tracks them, and `drain`, which `server.app.run` awaits once shutdown is
requested. While draining, the socket stays open and a new request gets 529 `overloaded_error`
(protocol.md §2.5), which Claude Code retries with its own backoff (claude-code.md) — by then
against a restarted daemon, or it reports the failure. A request still running when the grace
period ends is cut: a stream that already started gets one SSE `error` event (`overloaded_error`)
and ends; one that had not started gets the 529 answer.

Must not import other `ccroute.server` modules except `state` and `guards` (the app imports
this one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from ccroute.server.guards import Handler, error_response
from ccroute.translate import sse
from ccroute.translate.events import error_body

log = logging.getLogger("ccroute.server")

#: The message of the 529 a request gets while the daemon shuts down.
SHUTTING_DOWN = "ccroute is shutting down; retry in a moment."
#: The message of the `error` event that ends a stream cut at the end of the grace period.
CUT_OFF = "ccroute shut down before this response finished; retry the request."

_RESPONSE = web.RequestKey("ccroute_drain_response", web.StreamResponse)


class Drain:
    """The requests in flight on `/v1/messages*` and the shutdown phase.

    `draining` turns true when shutdown starts (new requests then get 529); `cut` turns true
    when the grace period is over and the remaining requests are being cancelled.
    """

    def __init__(self) -> None:
        self.draining = False
        self.cut = False
        self._inflight: dict[int, web.Request] = {}  # id(request) → request
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def inflight(self) -> int:
        """How many tracked requests are running."""
        return len(self._inflight)

    def _enter(self, request: web.Request) -> None:
        self._inflight[id(request)] = request
        self._idle.clear()

    def _leave(self, request: web.Request) -> None:
        self._inflight.pop(id(request), None)
        if not self._inflight:
            self._idle.set()


DRAIN = web.AppKey("drain", Drain)


def _tracked(request: web.Request) -> bool:
    return request.method == "POST" and request.path.startswith("/v1/messages")


@web.middleware
async def drain_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse `/v1/messages*` with 529 while draining; otherwise track the request until done."""
    if not _tracked(request):
        return await handler(request)
    state = request.app[DRAIN]
    if state.draining:
        return error_response(529, "overloaded_error", SHUTTING_DOWN)
    state._enter(request)
    try:
        return await handler(request)
    except asyncio.CancelledError:
        if not state.cut:
            raise  # the client went away: nothing to answer
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        started = _started(request)
        # A started stream already got its error event (see `drain`) and was ended by its
        # handler; one that had not started is answered now.
        return started or error_response(529, "overloaded_error", SHUTTING_DOWN)
    finally:
        state._leave(request)


def _started(request: web.Request) -> web.StreamResponse | None:
    response: web.StreamResponse | None = request.get(_RESPONSE)
    return response if response is not None and response.prepared else None


async def _cut(request: web.Request) -> None:
    """Write the `error` event on a started stream and cancel the request's handler.

    The event's bytes reach the transport before the cancellation is delivered (both happen
    in this step of the loop), so nothing the handler writes later can precede it; the
    handler's own clean-up then ends the response.
    """
    started = _started(request)
    write = started.write(sse.encode(error_body("overloaded_error", CUT_OFF))) if started else None
    request.task.cancel()
    if write is not None:
        with contextlib.suppress(ConnectionError, RuntimeError):  # the client is gone too
            await write


async def remember_response(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook: keep the response a tracked request started, for `_cut_off`."""
    if _tracked(request):
        request[_RESPONSE] = response


async def drain(app: web.Application, grace: float) -> None:
    """Stop taking requests, wait up to `grace` seconds for those in flight, then cut the rest.

    Returns once every tracked request has ended (cut requests end at once: their handlers are
    cancelled and answer as `drain_middleware` says).
    """
    state = app[DRAIN]
    state.draining = True
    if state.inflight:
        log.info("waiting up to %.0fs for %d request(s) in flight", grace, state.inflight)
    try:
        await asyncio.wait_for(state._idle.wait(), timeout=grace)
        return
    except TimeoutError:
        pass
    state.cut = True
    log.warning("grace period over: cutting %d request(s) still in flight", state.inflight)
    await asyncio.gather(*(_cut(request) for request in list(state._inflight.values())))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(state._idle.wait(), timeout=5)
