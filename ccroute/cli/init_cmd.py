"""`ccroute init`: the first-run wizard (also what `ccroute code` runs when nothing can answer).

Owns: the questions and how they are printed — a provider (a numbered preset list, local servers
included, or any OpenAI-compatible server by URL), its API key (hidden input, checked against
the provider's model list, stored in the OS keyring), and a model for the default, background
and think routes from the provider's live model list (tool-capable models only, with context and
price; any id may be typed; typing is the fallback when the list cannot be fetched). Deciding
whether set-up is needed, the model shortlist and the one atomic config write are
`ccroute.firstrun`'s.

Nothing is written until every answer is in: Ctrl-C or end of input at any question leaves
config.toml and the keyring untouched (`firstrun.SetupCancelled`, exit status 1). A run
without a terminal (stdin or stdout not a TTY, or `CI` set) never asks: it fails with exit
status 2 and the exact commands to run.
With no keyring backend, the key is not stored: the user is told the variable to export, and
`ccroute code` gives the key to the daemon it starts for this run only.

Must not import at module level: aiohttp, rich (the wizard loads them when it runs).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from ccroute import firstrun, keys
from ccroute.catalogue.model import ModelInfo
from ccroute.config import Config, ProviderConfig, load_config, paths
from ccroute.errors import ConfigError, KeyringUnavailableError
from ccroute.presets import PRESETS, Preset, find_preset

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(help="Set ccroute up: a provider, its key, and models for the routes.")

SHOWN = 12
"""Models listed per question."""
OTHER_NAME = "custom"
"""The provider name suggested for "any other OpenAI-compatible server"."""
_SAME = "same"


def is_interactive() -> bool:
    """True when a person can answer: stdin and stdout are terminals and `CI` is not set."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false"):
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


@dataclass
class Outcome:
    """The wizard's result: the new configuration, and variables (a key no keyring could
    store) that only the daemon `ccroute code` starts now should get."""

    config: Config
    session_env: dict[str, str] = field(default_factory=dict, repr=False)


@app.callback(invoke_without_command=True)
def init() -> None:
    """Pick a provider, store its key and choose models, then print how to start."""
    config_exists = paths().config_file.exists()
    if not is_interactive():
        config = load_config()
        raise ConfigError(_refusal("'ccroute init' needs a terminal to ask its questions", config))
    outcome = _run_or_cancel(_console())
    typer.echo(f"Wrote {paths().config_file}.")
    if outcome.session_env:
        names = ", ".join(outcome.session_env)
        typer.echo(f"Before 'ccroute code', export {names} (the key) in your shell.")
    typer.echo("Next: run 'ccroute code' to start Claude Code through ccroute.")
    if config_exists:
        typer.echo("Your other providers and settings were kept.")


def setup_for_code(
    config: Config, reason: str, *, config_exists: bool
) -> tuple[Config, dict[str, str]]:
    """For `ccroute code`: the wizard in a terminal, else a `ConfigError` with the commands."""
    if not is_interactive():
        raise ConfigError(_refusal(reason, config, config_exists=config_exists))
    console = _console()
    console.print(f"{reason}.", markup=False)
    console.print("Let's set it up; nothing is written until the end (Ctrl-C stops).")
    outcome = _run_or_cancel(console)
    console.print(f"Wrote {paths().config_file}. Starting Claude Code…", markup=False)
    return outcome.config, outcome.session_env


def _refusal(reason: str, config: Config, *, config_exists: bool | None = None) -> str:
    exists = paths().config_file.exists() if config_exists is None else config_exists
    steps = firstrun.manual_steps(config, config_exists=exists)
    lines = "\n".join(f"  {step}" for step in steps)
    return f"{reason}. Run 'ccroute init' in a terminal, or run:\n{lines}"


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _run_or_cancel(console: Console) -> Outcome:
    try:
        return run_wizard(console)
    except (typer.Abort, KeyboardInterrupt, EOFError):  # click turns both into Abort at a prompt
        console.print()
        raise firstrun.SetupCancelled() from None


def run_wizard(console: Console) -> Outcome:
    """Ask every question, then store the key and write config.toml (in that order)."""
    name, table, preset = _choose_provider(console)
    preview = firstrun.preview_provider(name, table).providers[name]
    key = _ask_key(console, preview, preset)
    models = _fetch_models(console, preview, key)
    routes: dict[str, str] = {}
    suggested = preset.default_model if preset is not None else None
    for role in firstrun.ROLES:
        chosen = _choose_model(console, role, models, suggested, routes.get("default"))
        if chosen is not None:
            routes[role] = chosen
    plan = firstrun.SetupPlan(name, table, routes, key)
    session_env = _store_key(console, plan)
    config = firstrun.write_plan(plan)
    return Outcome(config, session_env)


# --- provider ------------------------------------------------------------------------------------


def _choose_provider(console: Console) -> tuple[str, dict[str, object], Preset | None]:
    presets = list(PRESETS.values())
    console.print("\nWhich provider should answer Claude Code?")
    for number, preset in enumerate(presets, 1):
        extra = "  (local, no key)" if preset.local else ""
        console.print(f"  {number:>2}. {preset.name:<10} {preset.title}{extra}", markup=False)
    other = len(presets) + 1
    console.print(f"  {other:>2}. {'other':<10} any OpenAI-compatible server (you give its URL)")
    while True:
        answer = str(typer.prompt("Provider (number or name)", default="1")).strip()
        if answer.isdigit() and 1 <= int(answer) <= other:
            if int(answer) == other:
                return _other_server(console)
            preset = presets[int(answer) - 1]
            break
        if answer.lower() == "other":
            return _other_server(console)
        try:
            preset = find_preset(answer)
            break
        except ConfigError as exc:
            console.print(exc.message, markup=False)
    base_url = None
    if preset.local:
        base_url = _ask_url(f"{preset.title} URL", preset.base_url)
    return preset.name, preset.provider_table(base_url=base_url), preset


def _other_server(console: Console) -> tuple[str, dict[str, object], None]:
    url = _ask_url("Base URL of its OpenAI-compatible API (e.g. http://localhost:8000/v1)", None)
    name = str(typer.prompt("A name for it in ccroute", default=OTHER_NAME)).strip()
    table: dict[str, object] = {"wire": "openai", "base_url": url}
    if typer.confirm("Does it need an API key?", default=True):
        table["api_key_env"] = f"{name.upper().replace('-', '_')}_API_KEY"
    console.print(f"It will be provider {name!r}.", markup=False)
    return name, table, None


def _ask_url(question: str, default: str | None) -> str:
    while True:
        url = str(typer.prompt(question, default=default)).strip().rstrip("/")
        if url.startswith(("http://", "https://")):
            return url
        typer.echo("Give a URL starting with http:// or https://.")


# --- key -----------------------------------------------------------------------------------------


def _ask_key(console: Console, provider: ProviderConfig, preset: Preset | None) -> str | None:
    """The pasted key (None when the provider takes none or its variable is already set)."""
    env_var = provider.api_key_env
    if env_var is None:
        return None
    if os.environ.get(env_var, "").strip():
        console.print(f"Using the key in ${env_var}.", markup=False)
        return None
    title = preset.title if preset is not None else provider.name
    while True:
        key = str(typer.prompt(f"Paste your API key for {title} (hidden)", hide_input=True))
        key = key.strip()
        if not key or any(c.isspace() for c in key):
            typer.echo("That is not a key (empty, or it has spaces); paste only the key.")
            continue
        if _key_accepted(console, provider, key):
            return key


def _key_accepted(console: Console, provider: ProviderConfig, key: str) -> bool:
    """Check the key against the provider's model list (401/403 = rejected; anything else,
    including no answer, lets the wizard go on)."""
    from ccroute import wires
    from ccroute.catalogue.sources import ANTHROPIC_VERSION
    from ccroute.server.probe import ProbeTarget, check

    wire = wires.wire_for(provider.wire)
    headers = {name: value for name, value in provider.headers.items() if value}
    if wire.name == "anthropic":
        headers["anthropic-version"] = ANTHROPIC_VERSION
    headers.update(wire.auth_headers(provider, key))
    target = ProbeTarget(provider.name, wire.models_url(provider.base_url), headers, True)
    with console.status(f"Checking the key with {provider.base_url}…"):
        result = check([target])[0]
    if result.status in (401, 403):
        console.print(f"The provider rejected this key ({result.summary}). Try again.")
        return False
    if not result.reachable:
        console.print(f"Could not reach {provider.base_url} to check the key; going on.")
    return True


def _store_key(console: Console, plan: firstrun.SetupPlan) -> dict[str, str]:
    """Store the plan's key in the keyring; without one, say what to export and return the
    variable for this run's daemon."""
    if plan.key is None:
        return {}
    env_var = plan.key_env or f"{plan.provider.upper()}_API_KEY"
    try:
        keys.set_key(plan.provider, plan.key, env_var=env_var)
    except KeyringUnavailableError as exc:
        console.print(f"{exc.message}", markup=False)
        console.print(
            f"The key was not stored. To keep it, add this to your shell profile:\n"
            f"  export {env_var}=<your key>",
            markup=False,
        )
        return {env_var: plan.key}
    console.print(
        f"Stored the key for {plan.provider!r} in the OS keyring ({keys.mask(plan.key)})."
    )
    return {}


# --- models --------------------------------------------------------------------------------------


def _fetch_models(
    console: Console, provider: ProviderConfig, key: str | None
) -> list[ModelInfo] | None:
    """The provider's live model list, or None (after saying why) when it cannot be fetched."""
    import asyncio

    from ccroute.server.catalogue_fetch import fetch_catalogue

    with console.status(f"Fetching the model list from {provider.base_url}…"):
        found = asyncio.run(
            fetch_catalogue([provider], {provider.name: key or keys.get_key(provider)})
        )
    result = found[provider.name]
    if result.models is None:
        console.print(f"Could not fetch the model list ({result.error}); type model ids instead.")
        return None
    return list(result.models)


def _choose_model(
    console: Console,
    role: str,
    models: Sequence[ModelInfo] | None,
    suggested: str | None,
    default_model: str | None,
) -> str | None:
    """A model id for `role`; None for background/think left as the default route's model."""
    blurb = {
        "default": "the model for everyday requests",
        "background": "quick background tasks (cheap and fast is best)",
        "think": "planning and thinking (a reasoning model is best)",
    }[role]
    optional = role != "default"
    console.print(f"\nModel for {role}: {blurb}.")
    if not models:
        return _typed_model(role, suggested, optional)
    offered = firstrun.shortlist(models, role, SHOWN)
    if suggested and not optional:
        match = [m for m in models if m.id == suggested]
        offered = (match + [m for m in offered if m.id != suggested])[:SHOWN]
    _print_models(console, offered)
    default = _SAME if optional else "1"
    hint = f" ('{_SAME}' = {default_model})" if optional else ""
    while True:
        answer = str(typer.prompt(f"Number or model id{hint}", default=default)).strip()
        if optional and answer.lower() == _SAME:
            return None
        if answer.isdigit() and 1 <= int(answer) <= len(offered):
            return offered[int(answer) - 1].id
        if any(m.id == answer for m in models):
            return answer
        found = [m for m in models if answer.casefold() in m.id.casefold()]
        if len(found) == 1 and not answer.isdigit():
            console.print(f"Using {found[0].id}.", markup=False)
            return found[0].id
        if found and not answer.isdigit():
            offered = firstrun.shortlist(found, role, SHOWN) or found[:SHOWN]
            console.print(f"Models matching {answer!r}:", markup=False)
            _print_models(console, offered)
            continue
        if answer and not answer.isdigit():
            console.print(f"{answer!r} is not in the provider's list; using it as typed.")
            return answer
        console.print("Give a number from the list or a model id.")


def _typed_model(role: str, suggested: str | None, optional: bool) -> str | None:
    default = _SAME if optional else suggested
    while True:
        answer = str(typer.prompt(f"Model id for {role}", default=default)).strip()
        if optional and answer.lower() == _SAME:
            return None
        if answer:
            return answer


def _print_models(console: Console, offered: Sequence[ModelInfo]) -> None:
    from rich.table import Table
    from rich.text import Text

    from ccroute.cli.models_cmds import price, tokens

    table = Table("#", "model", "context", "$/M in", "$/M out", "tools", box=None)
    for column in table.columns[2:5]:
        column.justify = "right"
    for number, m in enumerate(offered, 1):
        tools = "-" if m.supports_tools is None else "yes"
        cells: list[Any] = [str(number), m.id, tokens(m.context_length)]
        cells += [price(m.input_price), price(m.output_price), tools]
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table)
