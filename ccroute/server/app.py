"""The proxy application: its factory, small endpoints, and the serving loop.

Owns: `create_app` (routes, middlewares, the single long-lived upstream `ClientSession` in a
`cleanup_ctx`), `/health`, `/ccroute/shutdown`, and `run`, which binds the socket and serves
until shutdown. `/v1/messages/count_tokens` is `count_tokens.handle_count_tokens`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from ccroute import __version__
from ccroute.config import Config
from ccroute.errors import DaemonError
from ccroute.keys import require_key
from ccroute.server.count_tokens import COUNT_TOKENS_MEMORY, CountTokensMemory, handle_count_tokens
from ccroute.server.guards import error_middleware, guard_middleware
from ccroute.server.models import handle_get_model, handle_list_models
from ccroute.server.proxy import handle_messages
from ccroute.server.state import (
    CONFIG,
    KEYS,
    SESSION,
    SHUTDOWN,
    STARTED_AT,
    TOKEN,
    KeyCache,
    KeyLookup,
)

#: Anthropic's request size limit (protocol.md §2.5: larger requests get 413).
MAX_REQUEST_BYTES = 32 * 1024 * 1024


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
    `POST /v1/messages/count_tokens`, `GET /v1/models` and `GET /v1/models/{model_id}` (the
    configured routes in Anthropic's model shape; ids may contain slashes), `GET /health`,
    `POST /ccroute/shutdown`.
    """
    app = web.Application(
        middlewares=[error_middleware, guard_middleware], client_max_size=MAX_REQUEST_BYTES
    )
    app[CONFIG] = config
    app[TOKEN] = token
    app[KEYS] = KeyCache(key_lookup)
    app[SHUTDOWN] = asyncio.Event()
    app[STARTED_AT] = started_at if started_at is not None else time.time()
    app[COUNT_TOKENS_MEMORY] = CountTokensMemory()
    app.cleanup_ctx.append(_upstream_session)
    app.router.add_post("/v1/messages", handle_messages)
    app.router.add_post("/v1/messages/count_tokens", handle_count_tokens)
    app.router.add_get("/v1/models", handle_list_models)
    app.router.add_get("/v1/models/{model_id:.+}", handle_get_model)
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
