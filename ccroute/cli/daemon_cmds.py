"""`ccroute start | stop | restart | status | reload | serve`: the daemon's commands.

Owns: argument parsing and output for the daemon's life cycle; the work is in `ccroute.daemon`.
Must not import aiohttp (only `serve` loads the server, through `ccroute.daemon_serve.serve`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ccroute import daemon
from ccroute.cli.daemon_view import show_status, start_daemon
from ccroute.cli.progress import working
from ccroute.config import load_config
from ccroute.errors import ConfigError

PortOption = Annotated[
    int | None,
    typer.Option("--port", help="Port to listen on (default: server.port from the config, 3456)."),
]


JsonOption = Annotated[
    bool, typer.Option("--json", help='Print {"running", "pid", "url"} as JSON.')
]


def start(port: PortOption = None, as_json: JsonOption = False) -> None:
    """Start the proxy daemon in the background (no-op if it is already running)."""
    start_daemon(port=port, as_json=as_json)


def stop(as_json: JsonOption = False) -> None:
    """Stop the daemon, letting in-flight requests finish."""
    with working("Stopping the ccroute daemon…", quiet=as_json):
        info = daemon.stop()
    if as_json:
        stopped = {"pid": info.pid, "url": info.url} if info is not None else {}
        typer.echo(json.dumps({"running": False, **stopped}))
    elif info is None:
        typer.echo("ccroute daemon is not running")
    else:
        typer.echo(f"ccroute daemon stopped (pid {info.pid})")


def restart(port: PortOption = None, as_json: JsonOption = False) -> None:
    """Stop the daemon if it runs, then start it again (picks up config and key changes)."""
    with working("Stopping the ccroute daemon…", quiet=as_json):
        daemon.stop()
    start(port, as_json)


def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show whether the daemon runs: pid, URL, uptime, version, config file. Exit 3 if not."""
    code = show_status(as_json=as_json)
    if code:
        raise typer.Exit(code)


def reload(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print the daemon\'s answer {"reloaded", "config_error", ...} as JSON.'
        ),
    ] = False,
) -> None:
    """Make the running daemon reload config.toml now (it also reloads on its own when the file
    changes). Exit 2 if the file is invalid (the daemon keeps its previous config)."""
    answer = daemon.reload()
    if as_json:
        typer.echo(json.dumps(answer))
        if not answer.get("reloaded"):
            raise typer.Exit(ConfigError.exit_code)
        return
    if answer.get("reloaded"):
        typer.echo("ccroute daemon reloaded its config")
        return
    raise ConfigError(
        f"The daemon kept its previous config: {answer.get('config_error') or 'unknown reason'}"
    )


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
