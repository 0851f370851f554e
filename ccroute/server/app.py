"""The proxy application: its factory, small endpoints, and the serving loop.

Owns: `create_app` (routes, middlewares, the single long-lived upstream `ClientSession` in a
`cleanup_ctx`), `/health`, `/ccroute/shutdown`, and `run`, which binds the socket and serves
until shutdown. `/v1/messages/count_tokens` is `count_tokens.handle_count_tokens`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from ccroute import __version__
from ccroute.config import Config
from ccroute.errors import DaemonError
from ccroute.keys import require_key
from ccroute.server import metrics, recording
from ccroute.server.attempts import RESILIENCE, Resilience
from ccroute.server.count_tokens import COUNT_TOKENS_MEMORY, CountTokensMemory, handle_count_tokens
from ccroute.server.drain import DRAIN, Drain, drain, drain_middleware, remember_response
from ccroute.server.guards import error_middleware, guard_middleware
from ccroute.server.lifecycle import (
    CONFIG_STATUS,
    ConfigLoader,
    ConfigStatus,
    IdleCheck,
    handle_reload,
    reload_config,
    watch_config,
    watch_idle,
)
from ccroute.server.models import handle_get_model, handle_list_models
from ccroute.server.observers import OBSERVERS
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
from ccroute.server.upstream_proxy import ENV_PROXIES, EnvProxies

#: Anthropic's request size limit (protocol.md §2.5: larger requests get 413).
MAX_REQUEST_BYTES = 32 * 1024 * 1024


def create_app(
    config: Config,
    *,
    token: str,
    key_lookup: KeyLookup = require_key,
    started_at: float | None = None,
    config_status: ConfigStatus | None = None,
) -> web.Application:
    """Build the proxy application. Does no I/O; the upstream session opens on startup.

    Args:
        config: the loaded configuration (providers, routes, server address).
        token: the local auth token every request except `GET /health` must carry, as
            `Authorization: Bearer <token>` or `x-api-key: <token>`.
        key_lookup: `ProviderConfig -> key | None`, raising `MissingKeyError` (default:
            `ccroute.keys.require_key`: env var, then OS keyring).
        started_at: Unix time the daemon started, reported by `/health`.
        config_status: how `config` was loaded and how to load it again (hot reload); the
            default cannot reload.

    Routes: `POST /v1/messages` (query string such as `?beta=true` ignored),
    `POST /v1/messages/count_tokens`, `GET /v1/models` and `GET /v1/models/{model_id}` (the
    configured routes in Anthropic's model shape; ids may contain slashes), `GET /health`,
    `POST /ccroute/shutdown`, `POST /ccroute/reload`, `GET /metrics` (Prometheus, `metrics`).
    """
    app = web.Application(
        middlewares=[
            recording.record_middleware,
            error_middleware,
            guard_middleware,
            drain_middleware,
        ],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[CONFIG] = config
    app[TOKEN] = token
    app[KEYS] = KeyCache(key_lookup)
    app[SHUTDOWN] = asyncio.Event()
    app[STARTED_AT] = started_at if started_at is not None else time.time()
    app[COUNT_TOKENS_MEMORY] = CountTokensMemory()
    app[RESILIENCE] = Resilience()
    app[CONFIG_STATUS] = config_status or ConfigStatus()
    app[DRAIN] = Drain()
    app[OBSERVERS] = []
    app[ENV_PROXIES] = EnvProxies()
    recording.install(app)  # per-request records; the usage store's writer runs from startup
    metrics.install(app)  # GET /metrics and its request observer
    app.on_response_prepare.append(remember_response)
    app.cleanup_ctx.append(_upstream_session)
    app.router.add_post("/v1/messages", handle_messages)
    app.router.add_post("/v1/messages/count_tokens", handle_count_tokens)
    app.router.add_get("/v1/models", handle_list_models)
    app.router.add_get("/v1/models/{model_id:.+}", handle_get_model)
    app.router.add_get("/health", handle_health)
    app.router.add_post("/ccroute/shutdown", handle_shutdown)
    app.router.add_post("/ccroute/reload", handle_reload)
    return app


async def _upstream_session(app: web.Application) -> Any:
    # One pooled session for the daemon's life. No total timeout (streams can run for many
    # minutes); a connect timeout and a read-idle timeout catch dead providers.
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=600)
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
    # trust_env stays off: the environment's proxies come from `upstream_proxy.EnvProxies`,
    # looked up once per upstream instead of on every request.
    session = aiohttp.ClientSession(timeout=timeout, connector=connector, auto_decompress=True)
    app[SESSION] = session
    yield
    await session.close()


async def handle_health(request: web.Request) -> web.Response:
    """`GET /health` (no token needed): `{"status": "ok" | "stopping", "pid", "version",
    "started_at", "config_loaded_at", "config_error", "breakers"}`; times are Unix seconds,
    `config_error` is the last rejected reload's reason (file, key, fix) or null, `breakers`
    maps each provider whose circuit breaker is not closed to its state ("open", "half-open")."""
    status = request.app[CONFIG_STATUS]
    breakers = request.app[RESILIENCE].breakers.snapshot()
    return web.json_response(
        {
            "status": "stopping" if request.app[DRAIN].draining else "ok",
            "pid": os.getpid(),
            "version": __version__,
            "started_at": request.app[STARTED_AT],
            "config_loaded_at": status.loaded_at,
            "config_error": status.error,
            "breakers": {
                name: state.state for name, state in breakers.items() if state.state != "closed"
            },
        }
    )


async def handle_shutdown(request: web.Request) -> web.Response:
    """`POST /ccroute/shutdown`: ask the daemon to stop gracefully (token required); from now
    on new `/v1/messages` requests get 529 (`drain`)."""
    request.app[DRAIN].draining = True
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
    install_signals: Callable[[asyncio.Event, Callable[[], None]], None],
    load_config: ConfigLoader | None = None,
    config_source: Path | None = None,
    is_idle: IdleCheck | None = None,
) -> None:
    """Serve the proxy on `host:port` until the app's shutdown event is set.

    Client disconnects cancel their handler (and so the upstream request). On shutdown the
    socket stays open while in-flight requests get `grace` seconds to finish; new requests get
    529 meanwhile, and streams still running at the deadline are cut with an `error` event
    (`drain.drain`). `on_listening` runs once the socket is bound, `on_stopping` once the
    requests in flight are done (until then `/health` answers `"status": "stopping"`).
    `install_signals(shutdown_event, reload)` wires OS signals.

    With `load_config`, the config is hot-reloaded when `config_source` changes, on
    `POST /ccroute/reload` and on the `reload` callback (SIGHUP). With `is_idle`, the daemon
    stops itself once `is_idle(config)` says no session needs it (auto-started daemons).

    Raises:
        DaemonError: the address cannot be bound (e.g. the port is taken).
    """
    status = ConfigStatus(load=load_config, source=config_source)
    app = create_app(config, token=token, started_at=started_at, config_status=status)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise DaemonError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Another program is using "
            "the port; choose another with 'ccroute config set server.port <port>' or --port."
        ) from None
    tasks: set[asyncio.Task[Any]] = set()

    def spawn(coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    install_signals(app[SHUTDOWN], lambda: spawn(reload_config(app, "SIGHUP")))
    if load_config is not None and config_source is not None:
        spawn(watch_config(app))
    if is_idle is not None:
        spawn(watch_idle(app, is_idle))
    on_listening()
    try:
        await app[SHUTDOWN].wait()
        await asyncio.sleep(0.05)  # let the shutdown request's own response go out
    finally:
        for task in list(tasks):
            task.cancel()
        await drain(app, grace)
        on_stopping()
        await runner.cleanup()
