"""`ccroute doctor [--offline] [--json]`: run `ccroute.doctor`'s checks and print them.

Owns: the command's options, the table (rich, imported only to print it; rich honours
`NO_COLOR`), the `--json` list of `{"check", "status", "detail", "fix"}` objects, and the exit
status: 0 when no check failed, 1 otherwise. The checks themselves are `ccroute.doctor`'s.

Must not import at module level: aiohttp, rich (both are slow to import), keyring.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import typer

from ccroute.cli.progress import working
from ccroute.doctor import FAIL, NETWORK_TIMEOUT, OK, WARN, Check, run_checks

EXIT_FAILED = 1
"""Exit status when at least one check failed."""

_STYLE = {OK: "green", WARN: "yellow", FAIL: "red"}

app = typer.Typer(
    help="Check that Claude Code, keys, providers, routes and the daemon are ready, with fixes."
)


@app.callback(invoke_without_command=True)
def doctor(
    offline: bool = typer.Option(
        False, "--offline", help="Do not contact providers: no key or clock check, cached models."
    ),
    as_json: bool = typer.Option(
        False, "--json", help='Print a JSON list of {"check", "status", "detail", "fix"}.'
    ),
    timeout: float = typer.Option(
        NETWORK_TIMEOUT,
        "--timeout",
        metavar="SECONDS",
        min=0.1,
        help="How long each provider gets to answer.",
    ),
) -> None:
    """Check everything `ccroute code` needs; exit 1 when a check fails."""
    with working("Checking…", quiet=as_json):
        found = run_checks(offline=offline, timeout=timeout)
    if as_json:
        typer.echo(json.dumps([c.to_json() for c in found], indent=2))
    else:
        _print_table(found)
    if any(c.status == FAIL for c in found):
        raise typer.Exit(EXIT_FAILED)


def _print_table(found: Sequence[Check]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table("check", "status", "detail")
    table.add_column("fix", overflow="fold")  # a fix command must stay whole to be copied
    for c in found:
        status = Text(c.status, style=_STYLE.get(c.status, ""))
        table.add_row(Text(c.check), status, Text(c.detail), Text(c.fix))
    console = Console(highlight=False, soft_wrap=True)
    console.print(table)
    counts = {s: sum(c.status == s for c in found) for s in (OK, WARN, FAIL)}
    console.print(f"{counts[OK]} ok, {counts[WARN]} warn, {counts[FAIL]} fail", markup=False)
