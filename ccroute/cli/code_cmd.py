"""`ccroute code [CLAUDE ARGS]...`: run Claude Code through the daemon.

Owns: the command that ensures the daemon runs and hands the terminal to `claude`. Every
argument after `code` goes to Claude Code verbatim (`ccroute code -p "hi" --output-format json`,
`ccroute code --help`); ccroute's exit status is Claude Code's.
"""

from __future__ import annotations

import os

import typer

from ccroute import daemon, launcher
from ccroute.config import load_config

_PASS_THROUGH = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    "help_option_names": [],
}


def code(ctx: typer.Context) -> None:
    """Run Claude Code through ccroute; all arguments go to `claude` unchanged."""
    config = load_config()
    binary = launcher.find_claude()
    info = daemon.ensure_running(config)
    env = launcher.claude_env(info.url, daemon.read_token(), os.environ)
    raise typer.Exit(launcher.run_claude(binary, list(ctx.args), env))


def register(app: typer.Typer) -> None:
    """Register `code` on the root app."""
    app.command(context_settings=_PASS_THROUGH, add_help_option=False)(code)
