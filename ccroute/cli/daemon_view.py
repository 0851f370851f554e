"""`ccroute status [--json]` and `ccroute start [--port N] [--json]` without Typer (both run on
the fast path; the Typer commands call the same functions).

Owns: reading the daemon's record and `/health` and the status reports (exit codes: 0 running,
3 not running — `DaemonNotRunningError`, whose message says how to start it); starting the
daemon with a spinner on terminals, its report, and the warning when the default route's
provider has no key.

Must not import at module level: typer, rich, aiohttp (`ccroute status` must answer in well
under 120 ms).
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING

from ccroute import daemon
from ccroute.cli.progress import working
from ccroute.config import load_config, paths
from ccroute.errors import DaemonNotRunningError

if TYPE_CHECKING:
    from ccroute.config import Config


def start_daemon(*, port: int | None, as_json: bool) -> int:
    """Start the daemon in the background (no-op if it runs); print where; return 0.

    JSON shape: `{"running": true, "pid", "url"}`. A missing key for the default route's
    provider is a warning on stderr, not an error.

    Raises:
        DaemonError: it could not start (port taken, crashed at start; the message says why).
        ConfigError: config.toml is invalid.
    """
    config = load_config()
    with working("Starting the ccroute daemon…", quiet=as_json):
        info = daemon.start(config, port=port)
    if as_json:
        print(json.dumps({"running": True, "pid": info.pid, "url": info.url}))
    else:
        print(f"ccroute daemon running at {info.url} (pid {info.pid})")
    _warn_missing_key(config)
    return 0


def _warn_missing_key(config: Config) -> None:
    from ccroute.keys import get_key
    from ccroute.routing import resolve

    provider = resolve(config.router.default, config).provider
    if provider.api_key_env and get_key(provider) is None:
        print(
            f"warning: no key for provider '{provider.name}': requests will fail until you run "
            f"'ccroute keys set {provider.name}' or set {provider.api_key_env} (then "
            "'ccroute restart').",
            file=sys.stderr,
        )


def show_status(*, as_json: bool) -> int:
    """Print the daemon's state; return the exit code.

    JSON shape: `{"running": false, "config_file"}` when stopped (exit 3), else `{"running":
    true, "pid", "host", "port", "url", "version", "started_at", "uptime_seconds",
    "config_file", "config_loaded_at", "config_error", "auto_started", "breakers"}` (times in
    Unix seconds, `breakers` maps a provider whose circuit breaker is not closed to its state).

    Raises:
        DaemonNotRunningError: no daemon answers (text mode; JSON mode prints and returns 3).
    """
    config_file = paths().config_file
    try:
        info = daemon.status()
    except DaemonNotRunningError as exc:
        if as_json:
            print(json.dumps({"running": False, "config_file": str(config_file)}))
            return exc.exit_code
        raise
    uptime = max(0.0, time.time() - info.started_at)
    health = daemon.probe(info) or {}
    config_error = health.get("config_error")
    loaded_at = health.get("config_loaded_at")
    breakers = health.get("breakers") or {}
    if as_json:
        report = {
            "running": True,
            "pid": info.pid,
            "host": info.host,
            "port": info.port,
            "url": info.url,
            "version": info.version,
            "started_at": info.started_at,
            "uptime_seconds": round(uptime, 1),
            "config_file": str(config_file),
            "config_loaded_at": loaded_at,
            "config_error": config_error,
            "auto_started": info.auto_started,
            "breakers": breakers,
        }
        print(json.dumps(report))
        return 0
    started_by = "ccroute code (stops after the last session)" if info.auto_started else "start"
    lines = [
        "ccroute daemon running",
        f"  pid:     {info.pid}",
        f"  url:     {info.url}",
        f"  uptime:  {format_uptime(uptime)}",
        f"  version: {info.version}",
        f"  started: by {started_by}",
        f"  config:  {config_file}",
    ]
    if isinstance(loaded_at, int | float):
        lines.append(f"  loaded:  {format_uptime(max(0.0, time.time() - loaded_at))} ago")
    if config_error:
        lines.append(f"  config rejected, previous one kept: {config_error}")
    lines += [
        f"  provider {name}: circuit breaker {state} (failing; requests skip it)"
        for name, state in sorted(breakers.items())
    ]
    print("\n".join(lines))
    return 0


def format_uptime(seconds: float) -> str:
    """`42s`, `3m 5s`, `2h 0m 7s` or `1d 4h 10m`."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"
