"""The schema of config.toml as a whole: a parsed TOML document → a `Config` and its problems.

Owns: `_build`, which turns a parsed TOML document into a `Config` plus every problem found,
each naming the file, the dotted key and the fix (the per-leaf rules are `fields`', the same
for a provider's fields and a `[providers.<p>.models."<model>"]` override table; the router
tables are `router_schema`'s); how an
invalid value is quoted back (`_got`, never repeating a possible secret); how user headers merge
onto a built-in provider's (`_merge_headers`); and `_raise`. No file access and no
environment: callers read and write the file.

Must not import: typer, rich, aiohttp, keyring, tomli_w, or `ccroute.config`'s load/edit
modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ccroute.config.fields import (
    _CODE,
    _HEADER,
    _HEADER_NAME,
    _LOG,
    _MODEL,
    _PROVIDER,
    _PROVIDER_NAME,
    _PROVIDER_TABLES,
    _ROUTING,
    _ROUTING_OTHER,
    _SERVER,
    _check,
    _did_you_mean,
    _Field,
    _looks_secret,
    _quote_key,
    _secret_header,
)
from ccroute.config.model import (
    BUILTIN_PROVIDERS,
    KNOWN_WIRES,
    CodeConfig,
    Config,
    FrozenTable,
    LogConfig,
    ModelOverrides,
    ProviderConfig,
    ServerConfig,
)
from ccroute.config.router_fields import _TABLES
from ccroute.config.router_schema import check_refs, router_config, router_values
from ccroute.config.router_schema import profiles as router_profiles
from ccroute.errors import ConfigError

# --- building a Config from a TOML document ------------------------------------------------------


class _Checker:
    """Collects every problem in one document, each naming the file, the dotted key and a fix."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.problems: list[str] = []

    def add(self, message: str) -> None:
        self.problems.append(f"{self.source}: {message}")

    def table(self, key: str, value: object) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.add(
            f"{key} must be a table, got {value!r}. Remove it with 'ccroute config unset {key}'."
        )
        return {}

    def unknown(self, key: str, leaf: str, known: list[str], prefix: str = "") -> None:
        """An unknown key; with `prefix`, `known` are field names matched against `leaf` alone."""
        if _looks_secret(leaf):
            self.secret(key)
            return
        hint = _did_you_mean(leaf, known, prefix=prefix) if prefix else _did_you_mean(key, known)
        self.add(f"unknown key {key!r}{hint}. Remove it with 'ccroute config unset {key}'.")

    def secret(self, key: str) -> None:
        parts = key.split(".")
        store = (
            f"'ccroute keys set {parts[1]}'" if parts[0] == "providers" else "'ccroute keys set'"
        )
        self.add(
            f"{key} looks like a secret; API keys never go in config.toml. Remove it with "
            f"'ccroute config unset {key}' and store the key with {store} instead."
        )

    def leaf(self, key: str, spec: _Field, value: object) -> Any:
        try:
            return _check(spec, value)
        except ValueError:
            self.add(_invalid(key, spec, value))
            return None

    def fields(
        self, prefix: str, table: dict[str, Any], specs: Mapping[str, _Field]
    ) -> dict[str, Any]:
        """Valid, normalised values of `table`'s known fields; problems recorded for the rest."""
        out: dict[str, Any] = {}
        for name, value in table.items():
            key = f"{prefix}.{name}"
            if name in specs:
                checked = self.leaf(key, specs[name], value)
                if checked is not None:
                    out[name] = checked
            elif specs is _MODEL:
                self.unknown(key, name, list(specs), prefix)
            else:
                known = [*specs, *(_PROVIDER_TABLES if specs is _PROVIDER else ())]
                self.unknown(key, name, [f"{prefix}.{k}" for k in known])
        return out

    def headers(self, prefix: str, table: dict[str, Any]) -> dict[str, str]:
        """The valid headers of `table` (a `providers.<p>.headers` table)."""
        headers: dict[str, str] = {}
        for header, value in table.items():
            key = f"{prefix}.{header}"
            if _secret_header(header):
                self.secret(key)
            elif not _HEADER_NAME.match(header):
                self.add(
                    f"{key}: {header!r} is not a valid HTTP header name. "
                    f"Remove it with 'ccroute config unset {key}'."
                )
            elif (checked := self.leaf(key, _HEADER, value)) is not None:
                headers[header] = checked
        return headers

    def routing(self, prefix: str, table: dict[str, Any]) -> FrozenTable | None:
        """A `provider_routing` table, known fields type-checked, frozen; None when empty."""
        out: dict[str, Any] = {}
        for name, value in table.items():
            key = f"{prefix}.{name}"
            if _looks_secret(name):
                self.secret(key)
            elif (checked := self.leaf(key, _ROUTING.get(name, _ROUTING_OTHER), value)) is not None:
                out[name] = checked
        return FrozenTable(out) if out else None

    def models(self, prefix: str, table: dict[str, Any]) -> Mapping[str, ModelOverrides]:
        """A `providers.<p>.models` table: each upstream model's overrides, fields checked."""
        out: dict[str, ModelOverrides] = {}
        for model, raw in table.items():
            key = f"{prefix}.{_quote_key(model)}"
            if not model.strip() or model != model.strip():
                self.add(
                    f"{key}: a model table is named by the upstream model name exactly, "
                    "without surrounding spaces. Rename it, or remove it with "
                    f"'ccroute config unset {key}'."
                )
            elif isinstance(raw, dict):
                out[model] = ModelOverrides(**self.fields(key, raw, _MODEL))
            else:
                self.table(key, raw)
        return MappingProxyType(out)


def _got(key: str, spec: _Field, value: object) -> str:
    """How an invalid value is quoted back: verbatim, or withheld when it may be a secret."""
    if spec.echo:
        return f"got {value!r}"
    provider = key.split(".")[1] if key.startswith("providers.") else "<provider>"
    return (
        "got something else (not repeated here: if it is the key itself, store it with "
        f"'ccroute keys set {provider}' instead)"
    )


def _invalid(key: str, spec: _Field, value: object) -> str:
    return (
        f"{key} must be {spec.expected}, {_got(key, spec, value)}. "
        f"Fix it with 'ccroute config set {key} {spec.example}'."
    )


def _build(doc: Mapping[str, Any], source: Path) -> tuple[Config, list[str]]:
    """The Config described by `doc` (invalid fields fall back to defaults) and its problems."""
    check = _Checker(source)
    for name in doc:
        if name not in (*_TABLES, "providers", "profiles"):
            check.unknown(name, name, [*_TABLES, "providers", "profiles"])
    server = check.fields("server", check.table("server", doc.get("server", {})), _SERVER)
    log = check.fields("log", check.table("log", doc.get("log", {})), _LOG)
    code = check.fields("code", check.table("code", doc.get("code", {})), _CODE)
    router = router_values(check, "router", check.table("router", doc.get("router", {})))

    providers = dict(BUILTIN_PROVIDERS)
    for name, raw in check.table("providers", doc.get("providers", {})).items():
        prefix = f"providers.{name}"
        if not _PROVIDER_NAME.match(name):
            check.add(
                f"provider name {name!r} may only use letters, digits, '-' and '_'. Rename it, "
                f"or remove it with 'ccroute config unset {prefix}'."
            )
            continue
        if not isinstance(raw, dict):
            check.table(prefix, raw)
            continue
        table = dict(raw)
        headers_raw = check.table(f"{prefix}.headers", table.pop("headers", {}))
        headers = check.headers(f"{prefix}.headers", headers_raw)
        routing_raw = table.pop("provider_routing", None)  # TOML has no null: None = absent
        models_raw = table.pop("models", None)
        values = check.fields(prefix, table, _PROVIDER)
        if routing_raw is not None:
            key = f"{prefix}.provider_routing"
            values["provider_routing"] = check.routing(key, check.table(key, routing_raw))
        if models_raw is not None:
            key = f"{prefix}.models"
            values["models"] = check.models(key, check.table(key, models_raw))
        base = providers.get(name)
        if base is None:
            if "base_url" not in table:
                check.add(
                    f"{prefix}.base_url is required for a provider ccroute does not know. Fix it "
                    f"with 'ccroute config set {prefix}.base_url http://localhost:8000/v1'."
                )
            base = ProviderConfig(name=name, wire=KNOWN_WIRES[0], base_url="")
        providers[name] = replace(base, **values, headers=_merge_headers(base.headers, headers))

    profile_values = router_profiles(check, doc.get("profiles", {}), router)
    check_refs(check, "router", router, providers)
    for name, (own, _) in profile_values.items():
        check_refs(check, f"profiles.{_quote_key(name)}.router", own, providers)
    config = Config(
        server=ServerConfig(**server),
        providers=MappingProxyType(providers),
        router=router_config(router),
        source=source,
        profiles=MappingProxyType({name: cfg for name, (_, cfg) in profile_values.items()}),
        log=LogConfig(**log),
        code=CodeConfig(**code),
    )
    return config, check.problems


def _merge_headers(base: Mapping[str, str], user: Mapping[str, str]) -> Mapping[str, str]:
    """A provider's effective headers: the built-in ones overlaid by the user's.

    A user header replaces a built-in one of the same name, whatever its case; a header set to
    "" is not sent at all, which is how a built-in one is dropped.
    """
    mine = {name.lower() for name in user}
    merged = {name: value for name, value in base.items() if name.lower() not in mine}
    merged.update((name, value) for name, value in user.items() if value)
    return MappingProxyType(merged)


def _raise(problems: list[str]) -> None:
    if problems:
        raise ConfigError("\n".join(problems))
