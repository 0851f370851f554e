"""First run: is there a usable provider, and what the set-up wizard writes.

Owns: `SetupCancelled`, `setup_reason` (why `ccroute code` cannot route yet, or None),
`manual_steps` (the exact commands a non-interactive run prints instead of asking),
`shortlist` (the models the wizard offers for a route), `SetupPlan` (the wizard's answers)
and `write_plan` (every config edit applied to a scratch copy, then installed in one atomic
write, so an interrupted or refused set-up leaves config.toml as it was). The questions and
their printing are `ccroute.cli.init_cmd`'s; keys are stored there through `ccroute.keys`.

`setup_reason` is on `ccroute code`'s path, so it is cheap first: a keyless provider or a key in
the environment settles it without touching the keyring, and so does a running daemon (it may
hold keys from its own environment); only then is the keyring asked (`stored_key`).

Must not import: typer, rich, aiohttp, keyring.
"""

from __future__ import annotations

import dataclasses
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ccroute.catalogue.model import ModelInfo
from ccroute.config import (
    Config,
    Paths,
    ProviderConfig,
    load_config,
    paths,
    set_value,
    unset_value,
)
from ccroute.config.edit import set_provider
from ccroute.config.staged import staged_edits
from ccroute.errors import CcrouteError

ROLES = ("default", "background", "think")
"""The routes the wizard asks a model for, in order."""
SUGGESTED = "openrouter"
"""The preset the manual steps suggest when nothing is configured."""


class SetupCancelled(CcrouteError):
    """The user stopped the wizard (Ctrl-C or end of input); nothing was written."""

    def __init__(self) -> None:
        super().__init__("Set-up cancelled; nothing was written.")


def routed_providers(config: Config) -> list[ProviderConfig]:
    """The configured providers some route names (the same list `ccroute doctor` checks)."""
    from ccroute.doctor import routed_providers as routed

    return routed(config)


def setup_reason(
    config: Config,
    *,
    config_exists: bool,
    environ: Mapping[str, str],
    daemon_running: Callable[[], bool],
    stored_key: Callable[[ProviderConfig], bool],
) -> str | None:
    """Why no routed provider can answer yet, or None when one can.

    A provider can answer when it takes no key (`api_key_env` None), its key variable is set in
    `environ`, or `stored_key(provider)` (the keyring) has one. A running daemon counts as set
    up (it may have been started with the key in its environment).
    """
    providers = routed_providers(config)
    for provider in providers:
        if provider.api_key_env is None or environ.get(provider.api_key_env, "").strip():
            return None
    if daemon_running() or any(stored_key(p) for p in providers):
        return None
    if not config_exists:
        return f"ccroute is not set up yet: {config.source} does not exist"
    names = ", ".join(f"{p.name} (${p.api_key_env})" for p in providers)
    return f"no routed provider has a key: {names} has none in the environment or the OS keyring"


def manual_steps(config: Config, *, config_exists: bool) -> list[str]:
    """The commands that set ccroute up without the wizard, one per line, for an error message."""
    if not config_exists:
        from ccroute.presets import PRESETS

        preset = PRESETS[SUGGESTED]
        return [
            f"ccroute providers add {preset.name}",
            f"ccroute keys set {preset.name}    (or: export {preset.api_key_env}=<your key>)",
            f"ccroute config set router.default {preset.name}/{preset.default_model}",
        ]
    return [
        f"ccroute keys set {p.name}    (or: export {p.api_key_env}=<your key>)"
        for p in routed_providers(config)
        if p.api_key_env is not None
    ]


def shortlist(models: Sequence[ModelInfo], role: str, limit: int = 12) -> list[ModelInfo]:
    """The models to offer for `role` ("default", "background" or "think"), best first.

    Models whose listing says they take no tools are left out (Claude Code sends tools on every
    request). Known tool support ranks first. Then: "background" prefers the cheapest input
    price, "think" models that reason, and every role the newest (`created`), then the id.
    """
    usable = [m for m in models if m.supports_tools is not False]

    def rank(m: ModelInfo) -> tuple[object, ...]:
        tools = 0 if m.supports_tools else 1
        newest = -(m.created or 0)
        if role == "background":
            price = m.input_price if m.input_price is not None else float("inf")
            return (tools, price, newest, m.id)
        if role == "think":
            return (tools, 0 if m.supports_reasoning else 1, newest, m.id)
        return (tools, newest, m.id)

    return sorted(usable, key=rank)[:limit]


@dataclass(frozen=True)
class SetupPlan:
    """What the wizard decided; nothing is written until `write_plan`.

    Attributes:
        provider: the provider name (`[providers.<provider>]`).
        table: the provider table to write (`Preset.provider_table` or a typed base URL).
        routes: route name ("default", "background", "think") → upstream model id; "default"
            is always present.
        key: the pasted API key, or None (a keyless server, or the key is in the environment).
            Never written to config.toml; `repr` hides it.
    """

    provider: str
    table: Mapping[str, object]
    routes: Mapping[str, str] = field(default_factory=dict)
    key: str | None = field(default=None, repr=False)

    @property
    def key_env(self) -> str | None:
        value = self.table.get("api_key_env")
        return value if isinstance(value, str) else None


def preview_provider(name: str, table: Mapping[str, object], p: Paths | None = None) -> Config:
    """The configuration with `[providers.<name>]` set to `table`, validated on a scratch copy
    (the real file is not touched). Raises `ConfigError` as `set_provider` does."""
    real = p or paths()
    with tempfile.TemporaryDirectory(prefix="ccroute-init-") as scratch:
        fake = _scratch(real, Path(scratch))
        set_provider(name, table, fake)
        return load_config(fake)


def write_plan(plan: SetupPlan, p: Paths | None = None) -> Config:
    """Apply `plan` to config.toml in one atomic write and return the new configuration.

    The provider table and each route (`router.<role> = "<provider>/<model>"`) are set through
    `ccroute.config.edit` on a scratch copy (a route the plan leaves to the default one is
    removed from the file, so no older route keeps pointing elsewhere); if any edit is refused,
    the real file is unchanged and the `ConfigError` names it.
    """
    real = p or paths()
    with staged_edits(real) as staged:
        set_provider(plan.provider, plan.table, staged)
        for role in ROLES:
            model = plan.routes.get(role)
            if model:
                set_value(f"router.{role}", f"{plan.provider}/{model}", staged)
            elif role in _file_router(staged):  # "same as default": no stale older route
                unset_value(f"router.{role}", staged)
    return load_config(real)


def _file_router(p: Paths) -> dict[str, object]:
    try:
        router = tomllib.loads(p.config_file.read_text(encoding="utf-8")).get("router")
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return router if isinstance(router, dict) else {}


def _scratch(real: Paths, folder: Path) -> Paths:
    fake = dataclasses.replace(real, config_file=folder / "config.toml")
    if real.config_file.exists():
        fake.config_file.write_bytes(real.config_file.read_bytes())
    return fake
