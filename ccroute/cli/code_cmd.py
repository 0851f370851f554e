"""`ccroute code [--profile NAME] [--statusline] [CLAUDE ARGS]...`: run Claude Code through the
daemon (the Typer command; what it does is `ccroute.cli.code_run.run_code`).

ccroute takes `--profile NAME` and `--statusline` for itself; every other argument goes to
Claude Code verbatim (`ccroute code -p "hi" --output-format json`, `ccroute code --help`);
ccroute's exit status is Claude Code's.
"""

from __future__ import annotations

import typer

from ccroute.cli.code_run import run_code

_PASS_THROUGH = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    "help_option_names": [],
}


def code(ctx: typer.Context) -> None:
    """Run Claude Code through ccroute; `--profile NAME` picks a routing profile, `--statusline`
    shows ccroute's status line, every other argument goes to `claude` unchanged."""
    raise typer.Exit(run_code(ctx.args))


def register(app: typer.Typer) -> None:
    """Register `code` on the root app."""
    app.command(context_settings=_PASS_THROUGH, add_help_option=False)(code)
