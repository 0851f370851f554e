"""`ccroute env [--shell sh|fish|powershell]`: variables that send plain `claude` to the daemon.

Owns: starting the daemon if it is not running (a lasting one, as `ccroute start` does) and
printing, for `eval "$(ccroute env)"` (sh),
`ccroute env --shell fish | source` or `ccroute env --shell powershell | Invoke-Expression`,
the variables `ccroute code` sets (`launcher.claude_env`, so the two never drift apart), with
every value quoted for that shell.

Must not import aiohttp or rich; the daemon's work stays in `ccroute.daemon`.
"""

from __future__ import annotations

import shlex
from enum import StrEnum
from typing import Annotated

import typer

from ccroute import daemon, launcher
from ccroute.config import load_config


class EnvShell(StrEnum):
    """Syntaxes `ccroute env` can print."""

    sh = "sh"
    fish = "fish"
    powershell = "powershell"


def _fish_quote(value: str) -> str:
    # Inside fish single quotes only backslash and the single quote itself are special.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell_quote(value: str) -> str:
    # PowerShell single-quoted strings are literal; a quote is written twice.
    return "'" + value.replace("'", "''") + "'"


def format_exports(variables: dict[str, str], shell: EnvShell) -> str:
    """`variables` as assignment lines for `shell`, one per variable, in the given order.

    sh: `export NAME=<shlex.quote(value)>`; fish: `set -gx NAME '<value>'`; powershell:
    `$env:NAME = '<value>'`. Returns text ending in a newline (empty for no variables).
    """
    lines = []
    for name, value in variables.items():
        if shell is EnvShell.sh:
            lines.append(f"export {name}={shlex.quote(value)}")
        elif shell is EnvShell.fish:
            lines.append(f"set -gx {name} {_fish_quote(value)}")
        else:
            lines.append(f"$env:{name} = {_powershell_quote(value)}")
    return "".join(line + "\n" for line in lines)


def claude_variables(base_url: str, token: str) -> dict[str, str]:
    """Only the variables `launcher.claude_env` adds for a daemon at `base_url` with `token`."""
    return launcher.claude_env(base_url, token, {})


ShellOption = Annotated[
    EnvShell,
    typer.Option("--shell", help="Syntax to print: sh (bash, zsh, ...), fish or powershell."),
]


def env(shell: ShellOption = EnvShell.sh) -> None:
    """Print the environment that makes plain `claude` use ccroute (starting the daemon if
    needed): `eval "$(ccroute env)"`."""
    # Not `daemon.ensure_running`: an auto-started daemon stops when no `ccroute code` session
    # is alive, and the plain `claude` processes this environment serves are not sessions.
    info = daemon.start(load_config())
    variables = claude_variables(info.url, daemon.read_token())
    typer.echo(format_exports(variables, shell), nl=False)


def register(app: typer.Typer) -> None:
    """Register `env` on the root app."""
    app.command()(env)
