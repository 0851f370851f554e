"""`ccroute import ccr [PATH]`: bring a claude-code-router config into ccroute's config.toml.

Owns: reading ccr's config.json (default `~/.claude-code-router/config.json`), the dry run
(the TOML that would be written plus the report), the conflict check (existing providers and
router keys are kept unless --force), writing through `ccroute.config.edit` (each write atomic
and validated), storing literal API keys in the OS keyring after confirmation, and the report.
The mapping itself is `ccroute.ccr_import`'s; keys go only through `ccroute.keys`.

Must not import: aiohttp or keyring.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from ccroute import keys
from ccroute.ccr_import import ImportPlan, plan_import, strip_json5
from ccroute.config import paths
from ccroute.config.edit import set_provider, set_value
from ccroute.config.fields import _format_key
from ccroute.config.load import _read_doc
from ccroute.config.staged import staged_edits
from ccroute.errors import CcrouteError, ConfigError, KeyringUnavailableError

app = typer.Typer(help="Import configuration from other tools.", no_args_is_help=True)


@app.callback()
def _import() -> None:
    """Import configuration from other tools (today: claude-code-router)."""


DEFAULT_CCR_PATH = Path("~/.claude-code-router/config.json")


def read_ccr(path: Path) -> object:
    """The parsed JSON at `path`; ConfigError naming the file when missing or not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no claude-code-router config there. Pass its path: 'ccroute import ccr PATH'."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc}).") from None
    try:
        return json.loads(strip_json5(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "nothing was imported."
        ) from None


def _as_toml(plan: ImportPlan, port_too: bool) -> str:
    import tomli_w

    doc: dict[str, object] = {}
    if port_too and plan.port is not None:
        doc["server"] = {"port": plan.port}
    providers: dict[str, object] = {}
    for name, fields in plan.providers.items():
        table = dict(fields)
        if name in plan.model_overrides:
            table["models"] = plan.model_overrides[name]
        providers[name] = table
    if providers:
        doc["providers"] = providers
    if plan.router:
        doc["router"] = plan.router
    return tomli_w.dumps(doc)


def _note_port(plan: ImportPlan, port_too: bool) -> None:
    if plan.port is not None:
        line = f"PORT {plan.port} → server.port"
        if port_too:
            plan.imported.append(line)
        else:
            plan.skipped.append(f"{line}: pass --port-too to import it")


def _report(plan: ImportPlan) -> None:
    for title, lines in (
        ("Imported", plan.imported),
        ("Mapped with changes", plan.changed),
        ("Not imported", plan.skipped),
    ):
        typer.echo(f"{title}:")
        for line in lines or ["(nothing)"]:
            typer.echo(f"  {line}")


def _conflicts(plan: ImportPlan) -> list[str]:
    doc = _read_doc(paths().config_file)
    existing = doc.get("providers") if isinstance(doc.get("providers"), dict) else {}
    router = doc.get("router") if isinstance(doc.get("router"), dict) else {}
    assert isinstance(existing, dict) and isinstance(router, dict)
    return [f"providers.{n}" for n in plan.providers if n in existing] + [
        f"router.{k}" for k in plan.router if k in router
    ]


def _write(plan: ImportPlan, port_too: bool) -> None:
    """Apply every edit to a scratch copy of config.toml, then install it in one atomic write.

    Each edit is validated by `ccroute.config.edit`; if any is refused the real file is unchanged.
    """
    with staged_edits() as p:
        for name, fields in plan.providers.items():
            set_provider(name, fields, p)
            for model, over in plan.model_overrides.get(name, {}).items():
                for field, value in over.items():
                    key = _format_key(["providers", name, "models", model, field])
                    set_value(key, str(value), p)
        for key, value in plan.router.items():
            set_value(f"router.{key}", str(value), p)
        if port_too and plan.port is not None:
            set_value("server.port", str(plan.port), p)


def _store_keys(plan: ImportPlan, yes: bool, *, ask: bool = True) -> dict[str, str]:
    """Store the ccr file's literal keys in the keyring (asking unless `yes`; never asking when
    not `ask`, which stores nothing without `yes`). Returns provider → "stored" | "declined" |
    "no keyring" | "not asked", and prints a line for each unless asking is off."""
    outcome: dict[str, str] = {}
    for name, key in plan.keys.items():
        env_var = str(plan.providers[name]["api_key_env"])
        if not yes and not ask:
            outcome[name] = "not asked"
            continue
        question = f"Store the API key for {name} ({keys.mask(key)}) in the OS keyring?"
        if not yes and not typer.confirm(question, default=True):
            typer.echo(f"Not stored: set {env_var} in your environment for {name}.")
            outcome[name] = "declined"
            continue
        try:
            keys.set_key(name, key, env_var=env_var)
        except KeyringUnavailableError:
            outcome[name] = "no keyring"
            if ask:
                typer.echo(f"No OS keyring: set {env_var} in your environment for {name}.")
        else:
            outcome[name] = "stored"
            if ask:
                typer.echo(f"Stored the key for {name} in the OS keyring.")
    return outcome


def _json_report(
    plan: ImportPlan, *, written: bool, toml: str | None, key_outcome: dict[str, str]
) -> str:
    return json.dumps(
        {
            "written": written,
            "config_file": str(paths().config_file),
            "toml": toml,
            "imported": plan.imported,
            "changed": plan.changed,
            "not_imported": plan.skipped,
            "keys": [
                {
                    "provider": name,
                    "env_var": str(plan.providers[name]["api_key_env"]),
                    "keyring": key_outcome.get(name, "not asked"),
                }
                for name in plan.keys
            ],
        },
        indent=2,
    )


@app.command("ccr")
def ccr(
    path: Annotated[
        Path, typer.Argument(help="claude-code-router's config.json.", show_default=True)
    ] = DEFAULT_CCR_PATH,
    *,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the TOML and the report; change nothing."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace providers and router keys that config.toml already has."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Store API keys without asking."),
    port_too: bool = typer.Option(False, "--port-too", help="Also import PORT as server.port."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the report as JSON (never asks: literal keys are stored only with --yes).",
    ),
) -> None:
    """Import providers and routes from a claude-code-router config.

    API keys never reach config.toml: `$VAR` references become api_key_env, literal keys go to
    the OS keyring. `--json` prints `{"written", "config_file", "toml" (dry run) or null,
    "imported", "changed", "not_imported", "keys": [{"provider", "env_var", "keyring"}]}`,
    where `keyring` is "stored", "declined", "no keyring" or "not asked".
    """
    try:
        source = path.expanduser()
        plan = plan_import(read_ccr(source), env=os.environ)
        if not plan.providers:
            raise ConfigError(f"{source}: no provider could be imported.")
        _note_port(plan, port_too)
        if dry_run:
            if as_json:
                toml = _as_toml(plan, port_too)
                typer.echo(_json_report(plan, written=False, toml=toml, key_outcome={}))
                return
            typer.echo(_as_toml(plan, port_too), nl=False)
            typer.echo("")
            _report(plan)
            typer.echo("Dry run: nothing was written and no key was stored.")
            return
        clashes = _conflicts(plan)
        if clashes and not force:
            raise ConfigError(
                f"{paths().config_file} already has {', '.join(clashes)}; nothing was imported. "
                "Pass --force to replace them, or --dry-run to see the import."
            )
        _write(plan, port_too)
        if as_json:
            outcome = _store_keys(plan, yes, ask=False)
            typer.echo(_json_report(plan, written=True, toml=None, key_outcome=outcome))
            return
        _report(plan)
        _store_keys(plan, yes)
        typer.echo(f"Wrote {paths().config_file}.")
    except CcrouteError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(exc.exit_code) from None
