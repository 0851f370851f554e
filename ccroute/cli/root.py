"""The ccroute command line (Typer): the root `app` every command is registered on.

Owns: the root Typer app, `--version`, and `_CcrouteGroup`, the place where a `CcrouteError`
raised by a command becomes an `error: ...` line on stderr and its exit code (`ccroute.cli`'s
`report_error`). One module per command group registers its commands on `app` here. The
entry point (`ccroute.cli.main`) runs the hottest commands without building this app.

Must not: do protocol work itself (that is `ccroute.translate`), or import aiohttp at module
level (the CLI must start fast; the server is imported only by `serve`).
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from ccroute import __version__
from ccroute.cli import (
    code_cmd,
    completions_cmd,
    config_cmds,
    daemon_cmds,
    doctor_cmd,
    env_cmd,
    import_cmd,
    init_cmd,
    keys_cmds,
    logs_cmd,
    models_cmds,
    providers_cmds,
    route_cmds,
    statusline_cmd,
    usage_cmd,
)
from ccroute.cli.fastpath import report_error
from ccroute.errors import CcrouteError


class _CcrouteGroup(TyperGroup):
    """The root command group: the one place a `CcrouteError` becomes a message and exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CcrouteError as exc:
            raise typer.Exit(report_error(exc)) from None


app = typer.Typer(
    cls=_CcrouteGroup,
    name="ccroute",
    help="Run Claude Code on any model through a local Anthropic-API proxy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ccroute {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Run Claude Code on any model through a local Anthropic-API proxy."""


app.add_typer(config_cmds.app, name="config")
app.add_typer(keys_cmds.app, name="keys")
app.add_typer(providers_cmds.app, name="providers")
app.add_typer(models_cmds.app, name="models")
app.add_typer(route_cmds.app, name="route")
app.add_typer(completions_cmd.app, name="completions")
app.add_typer(import_cmd.app, name="import")
app.add_typer(doctor_cmd.app, name="doctor")
app.add_typer(init_cmd.app, name="init")
usage_cmd.register(app)
logs_cmd.register(app)
env_cmd.register(app)
statusline_cmd.register(app)
daemon_cmds.register(app)
code_cmd.register(app)
