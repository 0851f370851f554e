"""The proxy: an aiohttp application that speaks the Anthropic Messages API to Claude Code.

Owns: HTTP handling — the local-token and Host/Origin guards, the one error middleware that
turns every failure into Anthropic error JSON (protocol.md §2.5), the single long-lived
upstream `ClientSession`, and the loop that feeds upstream bytes through the pure translator
and writes Anthropic SSE out (design.md §3). It is the only module that awaits on the network.

Must not: translate protocol itself (that is `ccroute.translate`), choose routes (that is
`ccroute.routing`), read keys other than through the injected lookup, or print.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiohttp
from aiohttp import web

from ccroute import __version__
from ccroute.config import Config, ProviderConfig
from ccroute.errors import (
    CcrouteError,
    DaemonError,
    MissingKeyError,
    TranslationError,
    UpstreamError,
)
from ccroute.keys import require_key
from ccroute.routing import resolve
from ccroute.translate import sse
from ccroute.translate.messages import (
    MessagesRequest,
    error_body,
    error_type_for_status,
    validate_request,
)
from ccroute.translate.tokens import estimate_input_tokens
from ccroute.wires import Wire, wire_for

log = logging.getLogger("ccroute.server")

KeyLookup = Callable[[ProviderConfig], "str | None"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Anthropic's request size limit (protocol.md §2.5: larger requests get 413).
MAX_REQUEST_BYTES = 32 * 1024 * 1024
#: Seconds of upstream silence after which the client gets an SSE `ping` (protocol.md §6.3).
PING_INTERVAL = 10.0
#: Seconds a resolved key is reused before it is looked up again (keyring look-ups are slow).
KEY_TTL = 30.0

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
_JSON = "application/json"


class KeyCache:
    """Resolves provider keys through `lookup` off the event loop, caching them for `ttl` seconds.

    `lookup` raises `MissingKeyError` when a needed key is absent; that is not cached, so a key
    set with `ccroute keys set` is picked up by the next request.
    """

    def __init__(self, lookup: KeyLookup, ttl: float = KEY_TTL) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._cache: dict[tuple[str, str | None], tuple[str | None, float]] = {}

    async def get(self, provider: ProviderConfig) -> str | None:
        """The provider's key, or None for a keyless provider. Raises `MissingKeyError`."""
        slot = (provider.name, provider.api_key_env)
        now = time.monotonic()
        hit = self._cache.get(slot)
        if hit is not None and now - hit[1] < self._ttl:
            return hit[0]
        key = await asyncio.to_thread(self._lookup, provider)
        self._cache[slot] = (key, now)
        return key


CONFIG = web.AppKey("config", Config)
TOKEN = web.AppKey("token", str)
KEYS = web.AppKey("keys", KeyCache)
SESSION = web.AppKey("session", aiohttp.ClientSession)
SHUTDOWN = web.AppKey("shutdown", asyncio.Event)
STARTED_AT = web.AppKey("started_at", float)


def create_app(
    config: Config,
    *,
    token: str,
    key_lookup: KeyLookup = require_key,
    started_at: float | None = None,
) -> web.Application:
    """Build the proxy application. Does no I/O; the upstream session opens on startup.

    Args:
        config: the loaded configuration (providers, routes, server address).
        token: the local auth token every request except `GET /health` must carry, as
            `Authorization: Bearer <token>` or `x-api-key: <token>`.
        key_lookup: `ProviderConfig -> key | None`, raising `MissingKeyError` (default:
            `ccroute.keys.require_key`: env var, then OS keyring).
        started_at: Unix time the daemon started, reported by `/health`.

    Routes: `POST /v1/messages` (query string such as `?beta=true` ignored),
    `POST /v1/messages/count_tokens`, `GET /health`, `POST /ccroute/shutdown`.
    """
    app = web.Application(
        middlewares=[_error_middleware, _guard_middleware], client_max_size=MAX_REQUEST_BYTES
    )
    app[CONFIG] = config
    app[TOKEN] = token
    app[KEYS] = KeyCache(key_lookup)
    app[SHUTDOWN] = asyncio.Event()
    app[STARTED_AT] = started_at if started_at is not None else time.time()
    app.cleanup_ctx.append(_upstream_session)
    app.router.add_post("/v1/messages", handle_messages)
    app.router.add_post("/v1/messages/count_tokens", handle_count_tokens)
    app.router.add_get("/health", handle_health)
    app.router.add_post("/ccroute/shutdown", handle_shutdown)
    return app


async def _upstream_session(app: web.Application) -> Any:
    # One pooled session for the daemon's life. No total timeout (streams can run for many
    # minutes); a connect timeout and a read-idle timeout catch dead providers.
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=600)
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
    session = aiohttp.ClientSession(
        timeout=timeout, connector=connector, auto_decompress=True, trust_env=True
    )
    app[SESSION] = session
    yield
    await session.close()


# --- middlewares ---------------------------------------------------------------------------


def error_response(
    status: int, error_type: str, message: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    """An Anthropic-shaped error response: `{"type":"error","error":{"type","message"}}`."""
    return web.Response(
        status=status,
        body=json.dumps(error_body(error_type, message)).encode(),
        content_type=_JSON,
        headers=headers,
    )


@web.middleware
async def _error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Convert every failure before a response starts into Anthropic error JSON, once."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else ""
        message = message or f"{exc.reason}: {request.method} {request.path}"
        return error_response(exc.status, error_type_for_status(exc.status), message)
    except TranslationError as exc:
        return error_response(400, "invalid_request_error", exc.message)
    except MissingKeyError as exc:
        return error_response(401, "authentication_error", exc.message)
    except UpstreamError as exc:
        headers = {"retry-after": exc.retry_after} if exc.retry_after else None
        return error_response(exc.status, exc.error_type, exc.message, headers=headers)
    except CcrouteError as exc:
        return error_response(500, "api_error", exc.message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "api_error", "Internal error in ccroute; see the daemon log.")


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@web.middleware
async def _guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse browsers and DNS rebinding, then require the local token (not on `/health`)."""
    if "Origin" in request.headers:
        return error_response(
            403, "permission_error", "Requests from web pages are refused by ccroute."
        )
    allowed = _LOCAL_HOSTS | {request.app[CONFIG].server.host}
    if _host_name(request.host) not in allowed:
        return error_response(
            403, "permission_error", f"Host {request.host!r} is not allowed; use 127.0.0.1."
        )
    if request.path != "/health" and not _token_ok(request):
        return error_response(
            401,
            "authentication_error",
            "Missing or invalid ccroute token. Start Claude Code with 'ccroute code', or export "
            "the variables printed by 'ccroute status --json'.",
        )
    return await handler(request)


def _token_ok(request: web.Request) -> bool:
    expected = request.app[TOKEN].encode()
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    presented = value.strip() if scheme.lower() == "bearer" else ""
    presented = presented or request.headers.get("x-api-key", "")
    return bool(presented) and hmac.compare_digest(presented.encode(), expected)


# --- handlers ------------------------------------------------------------------------------


async def handle_health(request: web.Request) -> web.Response:
    """`GET /health`: `{"status":"ok","pid","version","started_at"}` (no token needed)."""
    return web.json_response(
        {
            "status": "ok",
            "pid": os.getpid(),
            "version": __version__,
            "started_at": request.app[STARTED_AT],
        }
    )


async def handle_shutdown(request: web.Request) -> web.Response:
    """`POST /ccroute/shutdown`: ask the daemon to stop gracefully (token required)."""
    request.app[SHUTDOWN].set()
    return web.json_response({"status": "stopping"})


async def _read_json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise TranslationError(f"Request body is not valid JSON: {exc}") from None


async def handle_count_tokens(request: web.Request) -> web.Response:
    """`POST /v1/messages/count_tokens` → `{"input_tokens": N}`, estimated offline (§2.6)."""
    body = await _read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise TranslationError("messages: required array of message objects")
    return web.json_response({"input_tokens": estimate_input_tokens(cast(MessagesRequest, body))})


async def handle_messages(request: web.Request) -> web.StreamResponse:
    """`POST /v1/messages`: route, translate, call the provider, translate back.

    Failures before the response starts become Anthropic error JSON (via the middleware);
    failures after a stream started become one SSE `error` event (protocol.md §2.5).
    """
    started = time.monotonic()
    req = validate_request(await _read_json(request))
    config = request.app[CONFIG]
    route = resolve(req["model"], config)
    wire = wire_for(route.provider.wire)
    key = await request.app[KEYS].get(route.provider)
    stream = bool(req.get("stream"))
    limits = wire.translator.ModelLimits(max_tokens=route.provider.max_tokens)
    upstream_body = wire.translator.build_request(
        req, upstream_model=route.model, limits=limits, stream=stream
    )
    headers = {
        **route.provider.headers,
        **wire.auth_headers(key),
        "Content-Type": _JSON,
        "Accept": "text/event-stream" if stream else _JSON,
    }
    url = wire.url(route.provider.base_url, route.model, stream)
    message_id = f"msg_{uuid.uuid4().hex[:24]}"
    status = "error"
    try:
        async with request.app[SESSION].post(
            url, data=json.dumps(upstream_body, separators=(",", ":")).encode(), headers=headers
        ) as upstream:
            if upstream.status >= 400:
                raise _upstream_error(wire, upstream.status, await upstream.read(), upstream)
            if stream:
                response = await _relay_stream(request, upstream, wire, req, message_id)
            else:
                response = await _relay_json(upstream, wire, req, message_id)
            status = str(response.status)
            return response
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _unreachable(route.provider, exc) from None
    finally:
        log.info(
            "%s model=%s route=%s/%s reason=%s stream=%s status=%s %.0fms",
            message_id,
            req["model"],
            route.provider.name,
            route.model,
            route.reason,
            stream,
            status,
            (time.monotonic() - started) * 1000,
        )


def _upstream_error(
    wire: Wire, status: int, body: bytes, upstream: aiohttp.ClientResponse
) -> UpstreamError:
    err: UpstreamError = wire.translator.parse_error(status, body)
    if err.retry_after is None and "retry-after" in upstream.headers:
        err.retry_after = upstream.headers["retry-after"]
    return err


def _unreachable(provider: ProviderConfig, exc: BaseException) -> UpstreamError:
    # Transient by nature: 529 makes Claude Code retry with its own backoff (claude-code.md).
    reason = type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
    return UpstreamError(
        529,
        "overloaded_error",
        f"Could not reach provider '{provider.name}' at {provider.base_url}: {reason}",
    )


async def _relay_json(
    upstream: aiohttp.ClientResponse, wire: Wire, req: MessagesRequest, message_id: str
) -> web.Response:
    raw = await upstream.read()
    try:
        body = json.loads(raw)
    except ValueError:
        raise UpstreamError(
            502, "api_error", "The provider returned a body that is not JSON."
        ) from None
    message = wire.translator.parse_response(body, message_id=message_id, model=req["model"])
    return web.Response(
        body=json.dumps(message, separators=(",", ":")).encode(), content_type=_JSON
    )


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


async def _relay_stream(
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
            for event in translator.finish():
                await writer.write(sse.encode(event))
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


async def _pump(upstream: aiohttp.ClientResponse, translator: Any, writer: _SSEWriter) -> bool:
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


async def _translate_chunk(data: str, translator: Any, writer: _SSEWriter) -> bool:
    if not data:
        return True
    try:
        chunk = json.loads(data)
    except ValueError:
        await writer.write_error("api_error", "The provider sent a stream chunk that is not JSON.")
        return False
    for event in translator.feed(chunk):
        await writer.write(sse.encode(event))
        if event["type"] == "error":
            return False
    return True


async def run(
    config: Config,
    *,
    token: str,
    host: str,
    port: int,
    started_at: float,
    grace: float,
    on_listening: Callable[[], None],
    on_stopping: Callable[[], None],
    install_signals: Callable[[asyncio.Event], None],
) -> None:
    """Serve the proxy on `host:port` until the app's shutdown event is set.

    Client disconnects cancel their handler (and so the upstream request); on shutdown,
    in-flight requests get `grace` seconds to finish. `on_listening` runs once the socket is
    bound, `on_stopping` before the graceful shutdown begins.

    Raises:
        DaemonError: the address cannot be bound (e.g. the port is taken).
    """
    app = create_app(config, token=token, started_at=started_at)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=grace)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise DaemonError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Another program is using "
            "the port; choose another with 'ccroute config set server.port <port>' or --port."
        ) from None
    install_signals(app[SHUTDOWN])
    on_listening()
    try:
        await app[SHUTDOWN].wait()
        await asyncio.sleep(0.05)  # let the shutdown request's own response go out
    finally:
        on_stopping()
        await runner.cleanup()
