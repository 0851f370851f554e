"""`ccroute usage [--by day|model|provider|session] [--since 7d] [--json | --csv]`.

Owns: the command's options and output — totals from the usage store (`ccroute.usage.query`)
as a rich table, JSON or CSV. It reads the store in the data directory directly (the daemon
need not run; reading while it writes is fine).

`--json` prints one object:
`{"by": "day", "since": <unix seconds or null>, "groups": [TOTALS, ...], "total": TOTALS}`
where TOTALS is `{"key", "requests", "errors", "input_tokens", "output_tokens",
"cache_read_tokens", "cache_creation_tokens", "cost_usd", "priced_requests",
"avg_latency_ms", "avg_ttft_ms", "first", "last"}`: `key` is the local day (YYYY-MM-DD), the
`provider/model` that answered, the provider or the Claude Code session id ("-" = none;
"total" in `total`); `cost_usd` is USD over the `priced_requests` whose model has a catalogue
price, null when none has; averages are milliseconds (null without values); `first` / `last`
the earliest / latest arrival in unix seconds. `--csv` prints the groups with the same
columns (the key column named after `--by`).

Must not import at module level: rich, sqlite3-using modules, or the server (the CLI starts
fast).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ccroute.usage.query import Totals

TABLE_WIDTH = 200
"""Columns of the table when stdout is not a terminal (so piped rows are not folded)."""

_BY_HELP = "Group by: day (local), model (provider/model that answered), provider or session."
_SINCE_HELP = "Only requests since: a span (30m, 24h, 7d, 2w) or a local date (2026-11-01)."


def usage(
    by: Annotated[str, typer.Option("--by", "-b", help=_BY_HELP)] = "day",
    since: Annotated[str | None, typer.Option("--since", "-s", help=_SINCE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the totals as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the groups as CSV.")] = False,
) -> None:
    """Show requests, tokens and cost per day, model, provider or session."""
    from ccroute.config import paths
    from ccroute.usage import query

    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv", param_hint="--json/--csv")
    if by not in query.GROUPS:
        raise typer.BadParameter(f"choose one of {', '.join(query.GROUPS)}", param_hint="--by")
    start = None
    if since is not None:
        try:
            start = query.parse_since(since, now=time.time())
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--since") from None
    groups, total = query.totals(paths().data_dir, by=by, since=start)
    if as_json:
        body = {
            "by": by,
            "since": start,
            "groups": [g.to_json() for g in groups],
            "total": total.to_json(),
        }
        typer.echo(json.dumps(body, indent=2))
    elif as_csv:
        _print_csv(by, groups)
    elif not groups:
        when = f" since {since}" if since else ""
        typer.echo(
            f"No requests recorded{when}. Requests made through ccroute ('ccroute code') are "
            "recorded here as they finish; recording is on unless 'log.usage' is false "
            "('ccroute config set log.usage true')."
        )
    else:
        _print_table(by, groups, total)


def _print_csv(by: str, groups: list[Totals]) -> None:
    import csv
    import sys

    if not groups:
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    fields = list(groups[0].to_json())
    writer.writerow([by, *fields[1:]])
    for group in groups:
        writer.writerow(["" if v is None else v for v in group.to_json().values()])


def count(value: int) -> str:
    """A token or request count with thousands separators."""
    return f"{value:,}"


def money(value: float | None) -> str:
    """USD for people: `$0.0123`, `$12.34`; "—" when unknown."""
    if value is None:
        return "—"
    if 0 < value < 0.0001:
        return "<$0.0001"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def millis(value: float | None) -> str:
    """A duration: `850 ms`, `1.2 s`; "—" when unknown."""
    if value is None:
        return "—"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"


def _cells(group: Totals) -> list[str]:
    cost = money(group.cost_usd)
    if group.cost_usd is not None and group.priced_requests < group.requests:
        cost += "*"
    return [
        group.key,
        count(group.requests),
        count(group.errors),
        count(group.input_tokens),
        count(group.output_tokens),
        count(group.cache_read_tokens),
        count(group.cache_creation_tokens),
        cost,
        millis(group.avg_latency_ms),
        millis(group.avg_ttft_ms),
    ]


def _print_table(by: str, groups: list[Totals], total: Totals) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = TABLE_WIDTH
    notes = ["cost in USD from the catalogue's prices ('ccroute models' fetches them)"]
    if total.priced_requests < total.requests:
        unpriced = total.requests - total.priced_requests
        notes.append(f"{unpriced} request(s) unpriced ('*': some, '—': all)")
    table = Table(
        by,
        "requests",
        "errors",
        "input",
        "output",
        "cache read",
        "cache write",
        "cost",
        "avg latency",
        "avg TTFT",
        caption="; ".join(notes),
        caption_justify="left",
        show_footer=len(groups) > 1,
    )
    for column, footer in zip(table.columns, _cells(total), strict=True):
        column.footer = Text(footer)
    for column in table.columns[1:]:
        column.justify = "right"
    table.columns[0].no_wrap = True
    for group in groups:
        style = "red" if group.errors else None
        cells = [Text(cell) for cell in _cells(group)]  # Text: keys are not rich markup
        if style:
            cells[2].stylize(style)
        table.add_row(*cells)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Register `usage` on the root app."""
    app.command()(usage)
