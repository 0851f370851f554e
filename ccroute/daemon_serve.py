"""The daemon process itself: `ccroute serve` in the foreground.

Owns: running the proxy until it is told to stop — logging set-up (rotating file or stderr),
writing `daemon.json` once listening and removing it when done, the OS signal handlers
(SIGINT/SIGTERM/SIGBREAK stop, SIGHUP reloads the config), and wiring hot reload and, for an
auto-started daemon, the idle auto-stop into `ccroute.server.run`. The state files and the
client side of the life cycle (start, stop, status, reload) are `ccroute.daemon`'s.

Must not import: typer or rich, or aiohttp at module level (only `_serve_blocking` loads the
server).
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import signal
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from ccroute import __version__
from ccroute.atomicfile import ensure_private_dir
from ccroute.config import Config, Paths, load_config, paths, write_atomic
from ccroute.daemon import (
    SHUTDOWN_GRACE,
    DaemonInfo,
    _remove_state,
    _state_file,
    is_idle,
    read_token,
    status,
)
from ccroute.errors import DaemonError, DaemonNotRunningError
from ccroute.logformat import RedactSecrets, formatter, remember_secret

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

log = logging.getLogger("ccroute.daemon")


def serve(
    config: Config,
    *,
    port: int | None = None,
    log_file: Path | None = None,
    p: Paths | None = None,
    auto_started: bool = False,
) -> None:
    """Run the proxy in the foreground until SIGINT/SIGTERM or `POST /ccroute/shutdown`
    (or, when `auto_started`, until no `ccroute code` session is alive — see `is_idle`).

    Writes `daemon.json` once listening and removes it on exit. Logs go to `log_file`
    (rotating, 1 MiB x 3) or stderr. The config is reloaded when its file changes, on SIGHUP
    and on `POST /ccroute/reload`.

    Raises:
        DaemonError: another daemon is already running, or the address is taken.
    """
    p = p or paths()
    with contextlib.suppress(DaemonNotRunningError):
        running = status(p)
        raise DaemonError(
            f"A ccroute daemon is already running (pid {running.pid}, {running.url})."
        )
    _setup_logging(log_file, config.log.format)
    token = read_token(p, create=True)
    _remember_secrets(config, token)
    host = config.server.host
    bind_port = port if port is not None else config.server.port
    _serve_blocking(config, token=token, host=host, port=bind_port, p=p, auto=auto_started)


def _setup_logging(log_file: Path | None, log_format: str = "text") -> None:
    """Send the `ccroute` loggers (and aiohttp's and asyncio's warnings) to `log_file`
    (rotating, 1 MiB x 3) or stderr, as text lines or JSON objects (`log_format`, the config's
    `log.format`), secrets masked either way (`ccroute.logformat.RedactSecrets`).

    Set once at start: a reload that changes `log.format` takes effect at the next start."""
    handler: logging.Handler
    if log_file is not None:
        ensure_private_dir(log_file.parent)
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=1 << 20, backupCount=3, encoding="utf-8"
        )
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RedactSecrets())
    # Facts no log line shows, each costing work on every record (the logging HOWTO's
    # "Optimization" section): the caller's frame, thread, process and multiprocessing names.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger("ccroute")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # aiohttp's and asyncio's own errors (tracebacks that may quote URLs) go to the same
    # file, masked, instead of the unfiltered stderr fallback.
    for name in ("aiohttp", "asyncio"):
        library = logging.getLogger(name)
        library.handlers[:] = [handler]
        library.setLevel(logging.WARNING)
        library.propagate = False


def _remember_secrets(config: Config, token: str) -> None:
    """Teach the log filter the local token and the provider keys set in the environment
    (keyring keys are added as the server looks them up)."""
    remember_secret(token)
    for provider in config.providers.values():
        if provider.api_key_env:
            remember_secret(os.environ.get(provider.api_key_env))


def _serve_blocking(
    config: Config, *, token: str, host: str, port: int, p: Paths, auto: bool
) -> None:
    import asyncio

    from ccroute.server import run

    started_at = time.time()

    def listening() -> None:
        info = DaemonInfo(os.getpid(), host, port, __version__, started_at, auto)
        write_atomic(_state_file(p), json.dumps(asdict(info)).encode(), mode=0o600)
        log.info("ccroute %s listening on %s (pid %d)", __version__, info.url, info.pid)

    def stopping() -> None:
        log.info("stopping")
        _remove_state(p, os.getpid())

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(
            run(
                config,
                token=token,
                host=host,
                port=port,
                started_at=started_at,
                grace=SHUTDOWN_GRACE,
                on_listening=listening,
                on_stopping=stopping,
                install_signals=_install_signal_handlers,
                load_config=lambda: load_config(p),
                config_source=p.config_file,
                is_idle=(lambda current: is_idle(current, p)) if auto else None,
            )
        )


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (Linux and macOS; it has no Windows build),
    else None: asyncio's default loop. uvloop cuts the CPU the event loop spends on each
    proxied request (benchmarks/ measures both). `CCROUTE_EVENT_LOOP=asyncio` opts out."""
    if os.environ.get("CCROUTE_EVENT_LOOP", "").strip().lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _install_signal_handlers(stop_event: asyncio.Event, reload_now: Callable[[], None]) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    hangup = getattr(signal, "SIGHUP", None)  # POSIX only
    if hangup is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(hangup, reload_now)
    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, stop_event.set)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop_event.set))
