"""`ccroute start | stop | restart | status | reload | serve`: the daemon's commands.

Owns: argument parsing and output for the daemon's life cycle; the work is in `ccroute.daemon`.
Must not import aiohttp (only `serve` loads the server, through `ccroute.daemon_serve.serve`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from ccroute import daemon
from ccroute.config import load_config, paths
from ccroute.errors import ConfigError, DaemonNotRunningError

PortOption = Annotated[
    int | None,
    typer.Option("--port", help="Port to listen on (default: server.port from the config, 3456)."),
]


def _warn_missing_key() -> None:
    from ccroute.keys import get_key
    from ccroute.routing import resolve

    config = load_config()
    provider = resolve(config.router.default, config).provider
    if provider.api_key_env and get_key(provider) is None:
        typer.echo(
            f"warning: no key for provider '{provider.name}': requests will fail until you run "
            f"'ccroute keys set {provider.name}' or set {provider.api_key_env} (then "
            "'ccroute restart').",
            err=True,
        )


def start(port: PortOption = None) -> None:
    """Start the proxy daemon in the background (no-op if it is already running)."""
    info = daemon.start(load_config(), port=port)
    typer.echo(f"ccroute daemon running at {info.url} (pid {info.pid})")
    _warn_missing_key()


def stop() -> None:
    """Stop the daemon, letting in-flight requests finish."""
    info = daemon.stop()
    if info is None:
        typer.echo("ccroute daemon is not running")
    else:
        typer.echo(f"ccroute daemon stopped (pid {info.pid})")


def restart(port: PortOption = None) -> None:
    """Stop the daemon if it runs, then start it again (picks up config and key changes)."""
    daemon.stop()
    start(port)


def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show whether the daemon runs: pid, URL, uptime, version, config file. Exit 3 if not."""
    config_file = paths().config_file
    try:
        info = daemon.status()
    except DaemonNotRunningError as exc:
        if as_json:
            typer.echo(json.dumps({"running": False, "config_file": str(config_file)}))
            raise typer.Exit(exc.exit_code) from None
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
        typer.echo(json.dumps(report))
        return
    started_by = "ccroute code (stops after the last session)" if info.auto_started else "start"
    typer.echo(
        f"ccroute daemon running\n"
        f"  pid:     {info.pid}\n"
        f"  url:     {info.url}\n"
        f"  uptime:  {_format_uptime(uptime)}\n"
        f"  version: {info.version}\n"
        f"  started: by {started_by}\n"
        f"  config:  {config_file}"
    )
    if isinstance(loaded_at, (int, float)):
        typer.echo(f"  loaded:  {_format_uptime(max(0.0, time.time() - loaded_at))} ago")
    if config_error:
        typer.echo(f"  config rejected, previous one kept: {config_error}")
    for name, state in sorted(breakers.items()):
        typer.echo(f"  provider {name}: circuit breaker {state} (failing; requests skip it)")


def reload() -> None:
    """Make the running daemon reload config.toml now (it also reloads on its own when the file
    changes). Exit 2 if the file is invalid (the daemon keeps its previous config)."""
    answer = daemon.reload()
    if answer.get("reloaded"):
        typer.echo("ccroute daemon reloaded its config")
        return
    raise ConfigError(
        f"The daemon kept its previous config: {answer.get('config_error') or 'unknown reason'}"
    )


def _format_uptime(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def serve(
    port: PortOption = None,
    log_file: Annotated[
        Path | None,
        typer.Option("--log-file", help="Write logs here (rotating) instead of stderr."),
    ] = None,
    auto_started: Annotated[
        bool,
        typer.Option("--auto-started", hidden=True, help="Stop when no ccroute code session runs."),
    ] = False,
) -> None:
    """Run the proxy in the foreground (for debugging and service managers)."""
    from ccroute.daemon_serve import serve as serve_foreground

    serve_foreground(load_config(), port=port, log_file=log_file, auto_started=auto_started)


def register(app: typer.Typer) -> None:
    """Register the daemon commands on the root app."""
    app.command()(start)
    app.command()(stop)
    app.command()(restart)
    app.command()(status)
    app.command()(reload)
    app.command()(serve)
