"""`ccroute code [--profile NAME] [CLAUDE ARGS]...`: run Claude Code through the daemon.

Owns: the command that records this launch as a session (`ccroute.sessions`), ensures the daemon
runs (a daemon it has to start stops by itself after the last session ends), finds the project's
`.ccroute.toml`, and hands the terminal to `claude`. ccroute takes `--profile NAME` for itself;
every other argument goes to Claude Code verbatim (`ccroute code -p "hi" --output-format json`,
`ccroute code --help`); ccroute's exit status is Claude Code's.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ccroute import daemon, launcher, sessions
from ccroute.config import load_config
from ccroute.errors import ConfigError

_PASS_THROUGH = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    "help_option_names": [],
}


def code(ctx: typer.Context) -> None:
    """Run Claude Code through ccroute; `--profile NAME` picks a routing profile, every other
    argument goes to `claude` unchanged."""
    profile, args = launcher.take_profile(ctx.args)
    config = load_config()
    if profile is not None and profile not in config.profiles:
        names = ", ".join(sorted(config.profiles)) or "none are configured"
        raise ConfigError(
            f"There is no profile {profile!r} ({names}). Add one with "
            f"'ccroute config set profiles.{profile}.router.default PROVIDER/MODEL'."
        )
    binary = launcher.find_claude()
    project = launcher.find_project_file(Path.cwd())
    # The session is on record before the daemon starts, so an auto-started daemon never sees
    # a moment without it.
    sessions.record()
    try:
        info = daemon.ensure_running(config)
        headers = launcher.routing_headers(profile, project)
        env = launcher.claude_env(info.url, daemon.read_token(), os.environ, headers)
        code = launcher.run_claude(
            binary, args, env, on_start=lambda pid: sessions.record(claude_pid=pid)
        )
    finally:
        sessions.forget()
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Register `code` on the root app."""
    app.command(context_settings=_PASS_THROUGH, add_help_option=False)(code)
