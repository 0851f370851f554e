"""`ccroute logs [-n 20] [-f] [--json]`: the latest requests from the usage store, live.

Owns: printing recent rows (`ccroute.usage.query.recent`), one line per request — arrival
time, session (first 8 characters), the model Claude Code asked for → the provider/model that
answered, the route, the status coloured by outcome (green: answered; yellow: refused with a
4xx, e.g. a rate limit; red: a 5xx or a stream ended by an error event), latency, tokens in /
out and cost — and `-f`, which polls the store every `POLL_SECONDS` for new rows (following a
rotation) until Ctrl-C. Colour only on a terminal and never with `NO_COLOR` (rich decides).

`--json` prints JSON Lines: one object per request, the fields of
`ccroute.usage.query.LoggedRequest.to_json()` (`time` in unix seconds, `latency_ms`,
`ttft_ms`, token counts, `cost_usd` in USD or null, `status`, `error_type`, ...).

Must not import at module level: rich, sqlite3-using modules, or the server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from ccroute.cli.usage_cmd import count, millis, money

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from ccroute.usage.query import LoggedRequest

#: Seconds between two looks for new rows with `-f`.
POLL_SECONDS = 1.0

#: How `-f` waits between polls (tests replace it).
sleep: Callable[[float], None] = time.sleep


def logs(
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="How many to show.")] = 20,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new requests until Ctrl-C.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per request (JSON Lines).")
    ] = False,
) -> None:
    """Show the latest requests: model asked → model that answered, status, time, tokens, cost."""
    from ccroute.config import paths
    from ccroute.usage import query

    directory = paths().data_dir
    rows, cursor = query.recent(directory, limit=lines)
    console = None if as_json else _console()
    show = _printer(console)
    if not rows and not follow and console is not None:
        console.print(
            "No requests recorded yet. Requests made through ccroute ('ccroute code') appear "
            "here as they finish; 'ccroute logs -f' waits for them.",
            markup=False,
        )
    for row in rows:
        show(row)
    if not follow:
        return
    try:
        while True:
            sleep(POLL_SECONDS)
            fresh, cursor = query.follow(directory, cursor)
            for row in fresh:
                show(row)
    except KeyboardInterrupt:
        return


def _console() -> Console:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 200
    return console


def _printer(console: Console | None) -> Callable[[LoggedRequest], None]:
    if console is None:

        def show_json(row: LoggedRequest) -> None:
            typer.echo(json.dumps(row.to_json()))

        return show_json

    def show_line(row: LoggedRequest) -> None:
        console.print(line(row), soft_wrap=True)

    return show_line


def status_style(row: LoggedRequest) -> str:
    """ "green" (answered), "yellow" (a 4xx, the client leaving included) or "red" (a 5xx, or
    a stream that ended with an `error` event)."""
    if row.status >= 500 or (row.status < 400 and row.error_type is not None):
        return "red"
    if row.status >= 400:
        return "yellow"
    return "green"


def line(row: LoggedRequest) -> Text:
    """One request as a line of text (the status styled by `status_style`)."""
    from rich.text import Text

    when = datetime.fromtimestamp(row.time).strftime("%Y-%m-%d %H:%M:%S")
    answered = f"{row.provider}/{row.upstream_model}" if row.provider else "-"
    status = str(row.status) + (f" {row.error_type}" if row.error_type else "")
    tokens = (
        f"in {count(row.input_tokens)} out {count(row.output_tokens)}"
        if row.input_tokens is not None and row.output_tokens is not None
        else "tokens —"
    )
    text = Text(f"{when}  {(row.session_id or '-')[:8]:<8}  ")
    text.append(f"{row.requested_model or '-'} → {answered}  [{row.route or '-'}]  ")
    text.append(status, style=status_style(row))
    text.append(f"  {millis(row.latency_ms)}  {tokens}  {money(row.cost_usd)}")
    return text


def register(app: typer.Typer) -> None:
    """Register `logs` on the root app."""
    app.command()(logs)
