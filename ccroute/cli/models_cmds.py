"""`ccroute models [SEARCH] [--provider P] [--json] [--refresh] [--offline]`: the catalogue.

Owns: the command's options and output — a table (or `--json`) of every configured provider's
models, notes on where each list came from ("cached 3 h ago; offline"), and the warnings for
the configured routes. Choosing cache or network is `ccroute.catalogue.collect`'s, fetching is
`ccroute.server.catalogue_fetch`'s, the warnings are `ccroute.catalogue.warnings`'.

Output: the table or JSON on stdout; notes, warnings and errors on stderr.
Exit status: 0 when every selected provider's list was shown (live or cached); 1 when some
provider had neither a reachable server nor a cache (the others are still shown); 2 for a bad
option or an unknown `--provider`.

Must not import at module level: aiohttp, rich, or the server (the CLI starts fast; they are
imported inside the command).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from ccroute.catalogue.collect import FetchResult, ProviderList, combine, plan
from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.warnings import RouteWarning, route_warnings
from ccroute.cli.progress import working
from ccroute.config import Config, ProviderConfig, load_config
from ccroute.errors import ConfigError

EXIT_UNAVAILABLE = 1
"""Exit status when a selected provider's list could be neither fetched nor read from cache."""

TABLE_WIDTH = 200
"""Columns of the table when stdout is not a terminal (so piped ids are not folded)."""

app = typer.Typer(
    no_args_is_help=False,
    # A group with no subcommands whose callback is the command: options may follow SEARCH
    # ("ccroute models qwen --json"), and the usage line shows no COMMAND placeholder.
    context_settings={"allow_interspersed_args": True},
    subcommand_metavar="",
)


@app.callback(invoke_without_command=True)
def models(
    search: Annotated[
        str | None,
        typer.Argument(help="Show only models whose id or name contains this (any case)."),
    ] = None,
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Only this configured provider.")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print {"providers", "models", "warnings"} as JSON instead of a table.'
        ),
    ] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Fetch every list now, even if the cache is fresh.")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Use only the cache; make no network requests.")
    ] = False,
) -> None:
    """List each configured provider's models: context, max output, USD per million tokens,
    and tool / reasoning / image support, then warnings for the configured routes.

    Lists are cached for 24 h (--refresh fetches now); when a provider cannot be reached its
    cached list is shown with its age. Exit status: 0 when every provider's list was shown, 1
    when some provider had neither a reachable server nor a cached list, 2 for bad options.
    """
    if refresh and offline:
        raise typer.BadParameter("--refresh fetches and --offline does not; give one of them.")
    config = load_config()
    selected = _select(config, provider)
    now = time.time()
    decided = plan(selected, now=now, refresh=refresh, offline=offline)
    if decided.fetch:
        with working("Fetching model lists…", quiet=as_json):
            fetched = _fetch(decided.fetch)
    else:
        fetched = {}
    lists = combine(selected, decided, fetched, now=now, offline=offline)
    shown = _matching([m for lst in lists for m in _sorted(lst.models)], search)
    warnings = _warnings(config, lists)
    if as_json:
        typer.echo(json.dumps(_as_json(lists, shown, warnings, now), indent=2))
    else:
        _print_table(shown, search)
    _report(lists, warnings, now)
    if any(lst.status == "unavailable" for lst in lists):
        raise typer.Exit(EXIT_UNAVAILABLE)


def _select(config: Config, name: str | None) -> list[ProviderConfig]:
    if name is None:
        return list(config.providers.values())
    try:
        return [config.providers[name]]
    except KeyError:
        raise ConfigError(
            f"Unknown provider {name!r}. Configured providers: {', '.join(config.providers)}. "
            f"Add one with 'ccroute config set providers.{name}.base_url URL'."
        ) from None


def _fetch(providers: Sequence[ProviderConfig]) -> dict[str, FetchResult]:
    """Fetch `providers`' lists (aiohttp and the keyring are loaded only now)."""
    import asyncio

    from ccroute.keys import get_key
    from ccroute.server.catalogue_fetch import fetch_catalogue

    keys = {p.name: get_key(p) for p in providers}
    return asyncio.run(fetch_catalogue(providers, keys))


def _warnings(config: Config, lists: Sequence[ProviderList]) -> list[RouteWarning]:
    from ccroute.routing import route_refs

    catalogue = {lst.provider: lst.models for lst in lists if lst.status != "unavailable"}
    return route_warnings(route_refs(config), config, catalogue)


def _sorted(models: Sequence[ModelInfo]) -> list[ModelInfo]:
    """One provider's models by id, ignoring case (providers keep their configured order)."""
    return sorted(models, key=lambda m: (m.id.casefold(), m.id))


def _matching(models: list[ModelInfo], search: str | None) -> list[ModelInfo]:
    """`models` whose id or name contains `search` (case-insensitive), in input order."""
    if not search:
        return models
    needle = search.casefold()
    return [m for m in models if needle in m.id.casefold() or needle in (m.name or "").casefold()]


def _as_json(
    lists: Sequence[ProviderList],
    shown: Sequence[ModelInfo],
    warnings: Sequence[RouteWarning],
    now: float,
) -> dict[str, Any]:
    providers = [
        {
            "provider": lst.provider,
            "status": lst.status,
            "url": lst.url,
            "fetched_at": lst.fetched_at,
            "age_seconds": None
            if lst.fetched_at is None
            else round(max(0.0, now - lst.fetched_at)),
            "offline": lst.offline,
            "error": lst.error,
            "notes": list(lst.notes),
            "count": len(lst.models),
        }
        for lst in lists
    ]
    return {
        "providers": providers,
        "models": [m.to_json() for m in shown],
        "warnings": [w.to_json() for w in warnings],
    }


def _print_table(shown: Sequence[ModelInfo], search: str | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = TABLE_WIDTH
    if not shown:
        console.print(
            f"No models match {search!r}." if search else "No models listed.", markup=False
        )
        return
    table = Table(
        "provider",
        "id",
        "context",
        "max output",
        "$/M in",
        "$/M out",
        "tools",
        "reasoning",
        "images",
        caption="$/M: USD per million tokens; '-': not in the provider's list.",
    )
    for column in table.columns[2:6]:
        column.justify = "right"
    table.columns[1].no_wrap = True
    for m in shown:
        cells = (
            m.provider,
            m.id,
            tokens(m.context_length),
            tokens(m.max_output_tokens),
            price(m.input_price),
            price(m.output_price),
            flag(m.supports_tools),
            flag(m.supports_reasoning),
            flag(m.supports_images),
        )
        table.add_row(*(Text(cell) for cell in cells))  # Text: ids are not rich markup
    console.print(table)


def _report(lists: Sequence[ProviderList], warnings: Sequence[RouteWarning], now: float) -> None:
    """Notes on each list's origin, then the route warnings, on stderr."""
    for lst in lists:
        for note in lst.notes:
            typer.echo(f"note: {lst.provider}: {note}", err=True)
        line = _origin(lst, now)
        if line:
            typer.echo(line, err=True)
    for warning in warnings:
        typer.echo(f"warning: {warning.message}", err=True)


def _origin(lst: ProviderList, now: float) -> str | None:
    """One line on where a list came from, or None for a list fetched just now."""
    match lst.status:
        case "live":
            return None
        case "cached":
            assert lst.fetched_at is not None
            age = f"cached {ago(now - lst.fetched_at)}"
            if lst.offline:
                reason = "" if lst.error in (None, "offline") else f" ({lst.error})"
                return f"{lst.provider}: {age}; offline{reason}"
            if lst.error:
                return f"{lst.provider}: {age}; could not refresh ({lst.error})"
            return f"{lst.provider}: {age} (--refresh fetches it again)"
        case _:
            text = f"error: {lst.provider}: no model list ({lst.error}) and nothing cached."
            if lst.offline and lst.error != "offline":
                text += (
                    f" Check that the server is up and providers.{lst.provider}.base_url is right."
                )
            return text


def ago(seconds: float) -> str:
    """A rough age: "moments ago", "12 min ago", "3 h ago", "4 d ago" (whole units, down)."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return "moments ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def tokens(count: int | None) -> str:
    """A token count for the table: "1.05M", "131k", "512", or "-" when unknown."""
    if count is None:
        return "-"
    if count >= 1_000_000:
        return f"{count / 1_000_000:.3g}M"
    if count >= 1000:
        return f"{count / 1000:.0f}k"
    return str(count)


def price(usd_per_million: float | None) -> str:
    """A price for the table: "free", "3", "0.075", "-" when unknown (4 significant digits)."""
    if usd_per_million is None:
        return "-"
    if usd_per_million == 0:
        return "free"
    return f"{usd_per_million:.4g}"


def flag(value: bool | None) -> str:
    """A capability for the table: "yes", "no", or "-" when the list does not say."""
    return "-" if value is None else ("yes" if value else "no")
