"""`ccroute keys ...`: store, remove and list provider API keys.

Owns: the set/delete/list commands, reading a key from a hidden prompt or stdin, and showing
where each provider's key comes from. Storage and lookup are `ccroute.keys`' (the only module
importing keyring); a key is only ever printed masked (its last 4 characters).

Must not import: aiohttp or keyring.
"""

from __future__ import annotations

import json
import sys

import typer

from ccroute import keys
from ccroute.config import Config, ProviderConfig, load_config
from ccroute.errors import ConfigError

app = typer.Typer(
    help=(
        "Manage provider API keys in the OS keyring. A provider's api_key_env variable, when "
        "set, takes precedence over the keyring."
    ),
    no_args_is_help=True,
)


def _provider(cfg: Config, name: str) -> ProviderConfig:
    try:
        return cfg.providers[name]
    except KeyError:
        raise ConfigError(
            f"Unknown provider {name!r}. Configured providers: {', '.join(cfg.providers)}. "
            f"Add one with 'ccroute config set providers.{name}.base_url URL'."
        ) from None


def _env_note(provider: ProviderConfig) -> None:
    source, _ = keys.key_source(provider)
    if source.startswith("env:"):
        typer.echo(
            f"Note: {provider.api_key_env} is set in your environment and takes precedence "
            "over the keyring.",
            err=True,
        )


@app.command("set")
def set_(
    provider: str = typer.Argument(..., help="A configured provider, e.g. openrouter."),
    stdin: bool = typer.Option(
        False, "--stdin", help="Read the key from the first line of standard input."
    ),
) -> None:
    """Store a provider's API key in the OS keyring (prompted for, without echo)."""
    prov = _provider(load_config(), provider)
    if stdin:
        key = sys.stdin.readline().strip()
    else:
        key = str(typer.prompt(f"API key for {provider}", hide_input=True)).strip()
    if not key:
        raise ConfigError(f"The key for provider {provider!r} is empty; nothing was stored.")
    if any(c.isspace() for c in key):
        raise ConfigError(
            f"The key for provider {provider!r} contains whitespace; nothing was stored. "
            "Paste only the key itself."
        )
    keys.set_key(provider, key, env_var=prov.api_key_env)
    typer.echo(f"Stored the key for {provider!r} in the OS keyring ({keys.mask(key)}).")
    _env_note(prov)


@app.command("delete")
def delete(
    provider: str = typer.Argument(..., help="The provider whose stored key to remove."),
) -> None:
    """Remove a provider's API key from the OS keyring."""
    cfg = load_config()
    prov = cfg.providers.get(provider)
    env_var = prov.api_key_env if prov else None
    if keys.delete_key(provider, env_var=env_var):
        typer.echo(f"Deleted the key for {provider!r} from the OS keyring.")
    elif prov is None:
        _provider(cfg, provider)  # raises: unknown provider and nothing stored
    else:
        typer.echo(f"No key for {provider!r} was stored in the OS keyring.")
    if prov is not None:
        _env_note(prov)


@app.command("list")
def list_(
    as_json: bool = typer.Option(
        False, "--json", help='Print [{"provider", "source", "key"}] as JSON (key masked).'
    ),
) -> None:
    """Show each provider's key source (env:VAR, keyring or none) and its last 4 characters."""
    rows = [(name, *keys.key_source(prov)) for name, prov in load_config().providers.items()]
    if as_json:
        data = [{"provider": n, "source": s, "key": m} for n, s, m in rows]
        typer.echo(json.dumps(data, indent=2))
        return
    # rich is slow to import and only `list` needs it, so every other command skips it.
    from rich.console import Console
    from rich.table import Table

    table = Table("provider", "source", "key")
    for name, source, masked in rows:
        table.add_row(name, source, masked or "-")
    Console(highlight=False).print(table)
