"""The schema of the router tables: `[router]`, its sub-tables, and `[profiles.<name>.router]`.

Owns: reading a router table into `RouterConfig` keyword values (`router_values`: scenario routes,
threshold, strategy, custom function, `[router.models]` patterns, `[router.fallbacks]`,
`[[router.rules]]`), building a `RouterConfig` from them (`router_config`, so a profile's values
merge over `[router]`'s key by key), the profiles (`profiles`), and the check that every ref
names a configured provider (`check_refs`). Every problem names the file, the dotted key and the
fix, through the caller's checker. No file access, no environment.

Must not import: typer, rich, aiohttp, keyring, tomli_w, or `ccroute.config`'s load/edit
modules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ccroute.config.fields import _quote_key
from ccroute.config.model import (
    ROUTE_NAMES,
    RefEntry,
    RouterConfig,
    RouteRule,
    split_model_ref,
)
from ccroute.config.router_fields import _ROUTE, _ROUTER, _ROUTER_TABLES, _RULE

if TYPE_CHECKING:
    from ccroute.config.schema import _Checker

_CHOICE_ROUTES = ("custom", "explicit", "subagent")  # routes that are not scenario routes
_CONDITIONS = ("model", "min_tokens", "max_tokens", "keyword", "regex", "tools", "session")


def entries(value: Any) -> tuple[RefEntry, ...]:
    """A normalised route value (a ref string or a tuple of refs / `{ref, weight}`) → entries."""
    items = (value,) if isinstance(value, str) else value
    return tuple(
        RefEntry(item) if isinstance(item, str) else RefEntry(item["ref"], item["weight"])
        for item in items
    )


def router_values(
    check: _Checker, prefix: str, table: dict[str, Any], rule_names: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The valid values of a router table, keyed by TOML key (route values as `RefEntry` tuples).

    Problems are recorded on `check`; invalid entries are left out (so defaults apply). A
    `fallbacks` key must name a route: a scenario route, "custom", "explicit", "subagent", a
    rule of this table, or one of `rule_names` (a profile's base rules).
    """
    table = dict(table)
    subtables = {name: table.pop(name) for name in _ROUTER_TABLES if name in table}
    values = check.fields(prefix, table, _ROUTER)
    for name in ROUTE_NAMES:
        if name in values:
            values[name] = entries(values[name])
    if "models" in subtables:
        key = f"{prefix}.models"
        models: dict[str, tuple[RefEntry, ...]] = {}
        for pattern, raw in check.table(key, subtables["models"]).items():
            checked = check.leaf(f"{key}.{_quote_key(pattern)}", _ROUTE, raw)
            if checked is not None:
                models[pattern.lower()] = entries(checked)
        values["models"] = MappingProxyType(models)
    if "fallbacks" in subtables:
        key = f"{prefix}.fallbacks"
        fallbacks: dict[str, tuple[RefEntry, ...]] = {}
        for route, raw in check.table(key, subtables["fallbacks"]).items():
            checked = check.leaf(f"{key}.{_quote_key(route)}", _ROUTE, raw)
            if checked is not None:
                fallbacks[route] = entries(checked)
        values["fallbacks"] = MappingProxyType(fallbacks)
    if "rules" in subtables:
        values["rules"] = _rules(check, f"{prefix}.rules", subtables["rules"])
    known = [*ROUTE_NAMES, *_CHOICE_ROUTES, *rule_names]
    known += [rule.name for rule in values.get("rules", ())]
    for route in values.get("fallbacks", {}):
        if route not in known:
            key = f"{prefix}.fallbacks.{_quote_key(route)}"
            check.add(
                f"{key}: {route!r} is not a route name (known: {', '.join(known)}). Rename it "
                f"to the route these fallbacks are for, or remove it with "
                f"'ccroute config unset {key}'."
            )
    return values


def _rules(check: _Checker, prefix: str, raw: object) -> tuple[RouteRule, ...]:
    if not isinstance(raw, list):
        check.add(
            f"{prefix} must be an array of tables ([[{prefix}]]), got {raw!r}. Rewrite it as "
            f"[[{prefix}]] entries with name, route and at least one condition."
        )
        return ()
    rules: list[RouteRule] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        key = f"{prefix}[{i}]"
        table = check.table(key, item)
        values = check.fields(key, table, _RULE)
        missing = [name for name in ("name", "route") if name not in table]
        if missing:
            check.add(
                f'{key} has no {" or ".join(missing)}. Add e.g. name = "big-refactors" and '
                'route = "openrouter/anthropic/claude-opus-4" to it.'
            )
            continue
        if not any(name in table for name in _CONDITIONS):
            check.add(
                f"{key} ({table.get('name')!r}) has no condition, so it would match every "
                f"request. Add one of {', '.join(_CONDITIONS)}, or use router.default instead."
            )
            continue
        if "name" not in values or "route" not in values or len(values) != len(table):
            continue  # an invalid field, already reported
        if values["name"] in seen:
            check.add(f"{key}: rule name {values['name']!r} is used twice. Rename one of them.")
            continue
        seen.add(values["name"])
        values["route"] = entries(values["route"])
        rules.append(RouteRule(**values))
    return tuple(rules)


def router_config(values: Mapping[str, Any]) -> RouterConfig:
    """The RouterConfig of `router_values` output (a profile's merged over `[router]`'s)."""
    routes = {name: values[name] for name in ROUTE_NAMES if name in values}
    kwargs = {k: v for k, v in values.items() if k not in ROUTE_NAMES}
    if "default" in routes:
        kwargs["default"] = routes["default"][0].ref
    else:
        routes["default"] = (RefEntry(RouterConfig().default),)
    return RouterConfig(routes=MappingProxyType(routes), **kwargs)


def profiles(
    check: _Checker, raw: object, base: Mapping[str, Any]
) -> dict[str, tuple[dict[str, Any], RouterConfig]]:
    """`[profiles.<name>.router]` tables: name → (its own values, its router over `base`)."""
    out: dict[str, tuple[dict[str, Any], RouterConfig]] = {}
    for name, item in check.table("profiles", raw).items():
        prefix = f"profiles.{_quote_key(name)}"
        table = check.table(prefix, item)
        for other in table:
            if other != "router":
                check.unknown(f"{prefix}.{other}", other, [f"{prefix}.router"])
        base_rules = tuple(rule.name for rule in base.get("rules", ()))
        own = router_values(
            check,
            f"{prefix}.router",
            check.table(f"{prefix}.router", table.get("router", {})),
            base_rules,
        )
        out[name] = (own, router_config({**base, **own}))
    return out


def _refs(prefix: str, values: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(dotted key, ref) for every ref `values` (router_values output) names."""
    for name in ROUTE_NAMES:
        for entry in values.get(name, ()):
            yield f"{prefix}.{name}", entry.ref
    for table in ("models", "fallbacks"):
        for sub, refs in values.get(table, {}).items():
            for entry in refs:
                yield f"{prefix}.{table}.{_quote_key(sub)}", entry.ref
    for i, rule in enumerate(values.get("rules", ())):
        for entry in rule.route:
            yield f"{prefix}.rules[{i}].route", entry.ref


def check_refs(
    check: _Checker, prefix: str, values: Mapping[str, Any], providers: Mapping[str, object]
) -> None:
    """Record a problem for every ref in `values` whose provider is not configured."""
    for key, ref in _refs(prefix, values):
        parts = split_model_ref(ref)
        if parts is None or parts[0] in providers:
            continue
        fix = (
            f"'ccroute config set {key} {RouterConfig().default}'"
            if "." not in key.removeprefix(f"{prefix}.") and "[" not in key
            else "editing the file"
        )
        check.add(
            f"{key} names provider {parts[0]!r}, which is not configured (configured: "
            f"{', '.join(providers)}). Fix it with {fix} or add the provider with "
            f"'ccroute config set providers.{parts[0]}.base_url URL'."
        )
