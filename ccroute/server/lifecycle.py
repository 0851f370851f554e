"""The running daemon's configuration reloads and its idle auto-stop.

Owns: `ConfigStatus` (where the config comes from, when it was loaded, why the last reload was
rejected), `reload_config` (load, validate, swap `app[CONFIG]` in one assignment), the file
watch (`watch_config`: mtime + size polled every `WATCH_INTERVAL` seconds — portable, no extra
dependency), `POST /ccroute/reload`, and `watch_idle`, which sets the shutdown event when the
daemon's `is_idle(config)` check says no session needs it any more.

A request reads `app[CONFIG]` once when it starts (`proxy.handle_messages`), so a reload never
changes the config of a request in flight. A config that does not load is rejected: the old one
stays, and the reason (the `ConfigError` message: file, key, fix) goes to the log and to
`/health` as `config_error` until a later load succeeds.

Must not import other `ccroute.server` modules except `state` (the app imports this one).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from ccroute.config import Config
from ccroute.errors import ConfigError
from ccroute.server.state import CONFIG, SHUTDOWN

log = logging.getLogger("ccroute.server")

#: Seconds between two looks at config.toml's mtime and size.
WATCH_INTERVAL = 1.0
#: Seconds between two idle checks of an auto-started daemon.
IDLE_INTERVAL = 2.0

ConfigLoader = Callable[[], Config]


def _signature(source: Path | None) -> tuple[int, int] | None:
    """(mtime in ns, size in bytes) of the file, or None when it does not exist."""
    if source is None:
        return None
    try:
        st = source.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass
class ConfigStatus:
    """Where the daemon's config comes from and how the last load went.

    Attributes:
        load: reads and validates the config (raises `ConfigError`); None = reload disabled.
        source: the file `load` reads, watched for changes; None = nothing to watch.
        loaded_at: Unix time (seconds) the current config was loaded.
        error: the last rejected load's `ConfigError` message, or None after a good load.
        seen: the file's (mtime_ns, size) at the last look, to notice the next change.
    """

    load: ConfigLoader | None = None
    source: Path | None = None
    loaded_at: float = field(default_factory=time.time)
    error: str | None = None
    seen: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.seen = _signature(self.source)


CONFIG_STATUS = web.AppKey("config_status", ConfigStatus)


def _swap_config(app: web.Application, config: Config) -> None:
    # aiohttp warns (DeprecationWarning) when a started application's state changes; replacing
    # the one config object is exactly what a reload means, and requests read it once.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app[CONFIG] = config


async def reload_config(app: web.Application, why: str) -> bool:
    """Load the config again and, if it is valid, make it the app's; whether it was taken.

    `why` says what triggered the reload (for the log): "file changed", "SIGHUP", "request".
    A rejected config leaves `app[CONFIG]` as it was and records the reason in the status.
    """
    status = app[CONFIG_STATUS]
    if status.load is None:
        return False
    status.seen = _signature(status.source)
    try:
        config = await asyncio.to_thread(status.load)
    except ConfigError as exc:
        status.error = exc.message
        log.error("config reload (%s) rejected; keeping the previous config: %s", why, exc.message)
        return False
    old = app[CONFIG]
    _swap_config(app, config)
    status.error = None
    status.loaded_at = time.time()
    if config.server != old.server:
        log.warning("server.host/port changed: they apply after 'ccroute restart'")
    log.info("config reloaded (%s)", why)
    return True


async def watch_config(app: web.Application, interval: float = WATCH_INTERVAL) -> None:
    """Reload whenever the config file's mtime or size changes; runs until cancelled."""
    status = app[CONFIG_STATUS]
    while True:
        await asyncio.sleep(interval)
        if status.load is not None and _signature(status.source) != status.seen:
            await reload_config(app, "file changed")


async def handle_reload(request: web.Request) -> web.Response:
    """`POST /ccroute/reload` (token required): reload now.

    Answers 200 `{"reloaded": true, "config_loaded_at": ...}`, or 422
    `{"reloaded": false, "config_error": "<file: key: fix>", "config_loaded_at": ...}` when the
    file was rejected (the previous config stays).
    """
    taken = await reload_config(request.app, "request")
    status = request.app[CONFIG_STATUS]
    body = {
        "reloaded": taken,
        "config_error": status.error,
        "config_loaded_at": status.loaded_at,
    }
    return web.json_response(body, status=200 if taken else 422)


IdleCheck = Callable[[Config], bool]


async def watch_idle(
    app: web.Application, is_idle: IdleCheck, interval: float = IDLE_INTERVAL
) -> None:
    """Every `interval` seconds ask `is_idle(current config)` (in a thread: it reads files);
    when it says True, set the shutdown event. Runs until cancelled or the daemon stops."""
    while not app[SHUTDOWN].is_set():
        await asyncio.sleep(interval)
        if await asyncio.to_thread(is_idle, app[CONFIG]):
            log.info("no ccroute code session is running any more: stopping")
            app[SHUTDOWN].set()
            return
