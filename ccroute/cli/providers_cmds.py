"""`ccroute providers ...`: add providers from presets, remove them, and see which answer.

Owns: the add/remove/list/presets commands and how they print. Preset facts are
`ccroute.presets`'; the provider table is written by `ccroute.config.edit.set_provider` (one
validated atomic write); keys are looked up through `ccroute.keys` and only ever shown masked;
the reachability check is `ccroute.server.probe`, imported only when `list` checks, so the other
commands never load aiohttp. Errors are raised as `CcrouteError` and printed once by the root app.

Must not import at module level: aiohttp, rich (both are slow to import), keyring.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from ccroute import keys, wires
from ccroute.cli.progress import working
from ccroute.config import (
    BUILTIN_PROVIDERS,
    Config,
    ProviderConfig,
    load_config,
    paths,
    settings,
    split_model_ref,
    unset_value,
)
from ccroute.config.edit import set_provider
from ccroute.errors import ConfigError
from ccroute.presets import ALIASES, PRESETS, Preset, find_preset

if TYPE_CHECKING:
    from ccroute.server.probe import ProbeResult, ProbeTarget

app = typer.Typer(
    help=(
        "Add providers from presets (ccroute providers add deepseek), remove them, and check "
        "which configured providers answer. Run bare to list them."
    ),
    invoke_without_command=True,
)

ANTHROPIC_VERSION = "2023-06-01"
"""Sent with the anthropic wire's model-list probe (protocol.md §1.1)."""

CHECK_SECONDS = 3.0
"""How long each provider gets to answer `list` by default (Claude Code's discovery uses 3 s)."""


@app.callback()
def _bare(ctx: typer.Context) -> None:
    """Add providers from presets, remove them, and check which answer (bare: list them)."""
    if ctx.invoked_subcommand is None:
        list_(no_check=False, as_json=False, timeout=CHECK_SECONDS)


# --- add / remove --------------------------------------------------------------------------------


def _in_file() -> set[str]:
    """Providers that config.toml itself sets (built-ins left at their defaults are not)."""
    return {s.path[1] for s in settings() if s.path[0] == "providers" and s.origin == "file"}


@app.command("add")
def add(
    name: str = typer.Argument(
        ..., help="A preset, e.g. deepseek (see 'ccroute providers presets')."
    ),
    alias: str | None = typer.Option(
        None, "--as", metavar="NAME", help="Configure it under this provider name instead."
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", metavar="URL", help="Use this base URL instead of the preset's."
    ),
    key_env: str | None = typer.Option(
        None, "--key-env", metavar="VAR", help="Read the key from this environment variable."
    ),
    force: bool = typer.Option(False, "--force", help="Replace a provider of the same name."),
) -> None:
    """Configure a provider from a preset: wire, base URL, key variable and limits."""
    preset = find_preset(name)
    provider_name = alias or preset.name
    source = paths().config_file
    taken = provider_name in _in_file() or (
        provider_name in BUILTIN_PROVIDERS and provider_name != preset.name
    )
    if taken and not force:
        raise ConfigError(
            f"A provider named {provider_name!r} is already configured ({source}). Add this one "
            f"under another name with '--as NAME', or replace it with '--force'."
        )
    set_provider(provider_name, preset.provider_table(base_url=base_url, key_env=key_env))
    provider = load_config().providers[provider_name]
    _print_added(preset, provider)


def _print_added(preset: Preset, provider: ProviderConfig) -> None:
    name = provider.name
    lines = [
        f"Added provider {name!r}: {preset.title}",
        f"  wire        {provider.wire}",
        f"  base URL    {provider.base_url}",
    ]
    if provider.max_tokens is not None:
        lines.append(f"  max tokens  {provider.max_tokens}")
    source, masked = keys.key_source(provider)
    if source != "none":
        lines.append(f"  key         found ({source} {masked})")
    elif provider.api_key_env is None:
        lines.append("  key         none needed (local server)")
    else:
        lines.append(f"  key         not set yet ({provider.api_key_env} or the OS keyring)")
    if preset.note:
        lines.append(f"  note        {preset.note}")
    lines.append("Next steps:")
    if source == "none" and provider.api_key_env is not None:
        lines.append(f"  ccroute keys set {name}    (or: export {provider.api_key_env}=<your key>)")
    elif provider.api_key_env is None:
        lines.append(f"  start the server so that it answers at {provider.base_url}")
    lines.append(f"  ccroute config set router.default {name}/{preset.default_model}")
    lines.append("  ccroute providers list    (checks that it answers)")
    typer.echo("\n".join(lines))


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="A provider added with 'ccroute providers add'."),
) -> None:
    """Remove a provider from config.toml (its stored key stays in the keyring)."""
    cfg = load_config()
    source = paths().config_file
    if name not in _in_file():
        if name in BUILTIN_PROVIDERS:
            raise ConfigError(
                f"{name!r} is built in and is not set in {source}: there is nothing to remove."
            )
        raise ConfigError(
            f"No provider {name!r} in {source}. Configured: {', '.join(cfg.providers)}."
        )
    ref = split_model_ref(cfg.router.default)
    if ref is not None and ref[0] == name and name not in BUILTIN_PROVIDERS:
        raise ConfigError(
            f"router.default ({cfg.router.default}) routes to {name!r}; point it at another "
            f"provider first, e.g. 'ccroute config set router.default "
            f"openrouter/anthropic/claude-sonnet-4.5'."
        )
    unset_value(f"providers.{name}")
    if name in BUILTIN_PROVIDERS:
        typer.echo(
            f"Removed your settings for {name!r} from {source}; its built-in defaults apply."
        )
    else:
        typer.echo(f"Removed provider {name!r} from {source}.")
    if keys.key_source(cfg.providers[name])[0] == "keyring":
        typer.echo(
            f"Its key is still in the OS keyring; delete it with 'ccroute keys delete {name}'."
        )


# --- list ----------------------------------------------------------------------------------------


def _key_column(provider: ProviderConfig) -> tuple[str, str | None, bool]:
    """(source, masked key, whether a key is needed) — never the key itself."""
    source, masked = keys.key_source(provider)
    return source, masked, provider.api_key_env is not None


def _targets(cfg: Config) -> list[ProbeTarget]:
    from ccroute.server.probe import ProbeTarget

    targets = []
    for provider in cfg.providers.values():
        wire = wires.wire_for(provider.wire)
        key = keys.get_key(provider)
        headers = {name: value for name, value in provider.headers.items() if value}
        if wire.name == "anthropic":
            headers["anthropic-version"] = ANTHROPIC_VERSION
        headers.update(wire.auth_headers(provider, key))
        targets.append(
            ProbeTarget(provider.name, wire.models_url(provider.base_url), headers, bool(key))
        )
    return targets


@app.command("list")
def list_(
    no_check: bool = typer.Option(
        False, "--no-check", help="Do not contact the providers (no 'answers' column)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the providers as JSON."),
    timeout: float = typer.Option(
        CHECK_SECONDS,
        "--timeout",
        metavar="SECONDS",
        min=0.1,
        help="How long each provider gets to answer.",
    ),
) -> None:
    """List configured providers, where their keys come from, and whether each answers."""
    cfg = load_config()
    results: dict[str, ProbeResult] = {}
    if not no_check:
        from ccroute.server.probe import check

        with working("Contacting providers…", quiet=as_json):
            results = {r.name: r for r in check(_targets(cfg), timeout=timeout)}
    ref = split_model_ref(cfg.router.default)
    default = ref[0] if ref else None
    if as_json:
        typer.echo(
            json.dumps(
                [_row(p, results.get(p.name), default) for p in cfg.providers.values()], indent=2
            )
        )
        return
    _print_table(cfg, results, default, checked=not no_check)


def _row(
    provider: ProviderConfig, result: ProbeResult | None, default: str | None
) -> dict[str, Any]:
    source, masked, needed = _key_column(provider)
    check: dict[str, Any] | None = None
    if result is not None:
        check = {
            "ok": result.ok,
            "reachable": result.reachable,
            "status": result.status,
            "models": result.models,
            "more": result.more,
            "summary": result.summary,
            "detail": result.detail,
        }
    return {
        "name": provider.name,
        "default": provider.name == default,
        "wire": provider.wire,
        "base_url": provider.base_url,
        "key": {"source": source, "masked": masked, "needed": needed},
        "check": check,
    }


def _print_table(
    cfg: Config, results: dict[str, ProbeResult], default: str | None, *, checked: bool
) -> None:
    # rich is slow to import and only the tables need it.
    from rich.console import Console
    from rich.table import Table

    table = Table("provider", "wire", "base URL", "key")
    if checked:
        table.add_column("answers")
    for provider in cfg.providers.values():
        source, masked, needed = _key_column(provider)
        if source != "none":
            key = f"{source} {masked}"
        else:
            key = f"missing: {provider.api_key_env}" if needed else "not needed"
        name = f"{provider.name} (default)" if provider.name == default else provider.name
        cells = [name, provider.wire, provider.base_url, key]
        if checked:
            cells.append(results[provider.name].summary)
        table.add_row(*cells)
    console = Console(highlight=False, soft_wrap=True)
    console.print(table)
    for result in results.values():
        if result.detail and not result.ok:
            console.print(f"{result.name}: {result.summary}: {result.detail}", markup=False)


# --- presets -------------------------------------------------------------------------------------


def _preset_dict(preset: Preset) -> dict[str, Any]:
    return {
        "name": preset.name,
        "aliases": sorted(a for a, target in ALIASES.items() if target == preset.name),
        "title": preset.title,
        "wire": preset.wire,
        "base_url": preset.base_url,
        "api_key_env": preset.api_key_env,
        "max_tokens": preset.max_tokens,
        "auth": preset.auth,
        "betas": preset.betas,
        "reasoning": preset.reasoning,
        "headers": dict(preset.headers),
        "default_model": preset.default_model,
        "note": preset.note,
        "source": preset.source,
    }


@app.command("presets")
def presets(
    name: str | None = typer.Argument(None, help="Show one preset in full, with its sources."),
    as_json: bool = typer.Option(False, "--json", help="Print every fact as JSON."),
) -> None:
    """List the presets 'ccroute providers add' knows, or one in full with its sources."""
    if name is not None:
        facts = _preset_dict(find_preset(name))
        if as_json:
            typer.echo(json.dumps(facts, indent=2))
            return
        width = max(len(k) for k in facts)
        for key, value in facts.items():
            shown = ", ".join(value) if isinstance(value, list) else value
            if isinstance(value, dict):
                shown = ", ".join(f"{h}: {v}" for h, v in value.items())
            typer.echo(f"{key:<{width}}  {'-' if shown in (None, '') else shown}")
        return
    if as_json:
        typer.echo(json.dumps([_preset_dict(p) for p in PRESETS.values()], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("preset", "wire", "base URL", "key", "max tokens", "suggested model")
    for preset in PRESETS.values():
        table.add_row(
            preset.name,
            preset.wire,
            preset.base_url,
            preset.api_key_env or "none (local)",
            str(preset.max_tokens) if preset.max_tokens else "-",
            preset.default_model,
        )
    console = Console(highlight=False, soft_wrap=True)
    console.print(table)
    console.print("Sources and notes: ccroute providers presets NAME")
