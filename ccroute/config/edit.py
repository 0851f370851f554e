"""Reading and changing single keys: what `ccroute config get/set/unset/show` runs on.

Owns: `Setting` and `settings()` (every effective leaf with its origin), `get_value`,
`set_value` and `unset_value`, dotted-key parsing and the unknown/secret-key messages. Edits
rewrite the file through tomllib → dict → tomli_w, so comments and formatting in config.toml
are not preserved; every edit is validated as a whole before the atomic write.

Must not import: typer, rich, aiohttp, keyring. tomli_w is imported only when writing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccroute.atomicfile import write_atomic
from ccroute.config.fields import (
    _HEADER,
    _HEADER_NAME,
    _PROVIDER,
    _PROVIDER_NAME,
    _ROUTING,
    _ROUTING_OTHER,
    _TABLES,
    _check,
    _did_you_mean,
    _Field,
    _looks_secret,
    _parse_raw,
    _secret_header,
)
from ccroute.config.load import _ENV_OVERRIDES, _read_doc, load_config
from ccroute.config.locations import Paths, paths
from ccroute.config.schema import _build, _got, _raise
from ccroute.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One effective leaf value: dotted `key`, `value` (None = unset), and where it came from.

    `origin` is "default", "file" or "env:<VAR>".
    """

    key: str
    value: object
    origin: str


def _plain(value: object) -> Any:
    """A config value as TOML/JSON writers take it: tuples become lists, mappings dicts."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _split_key(key: str) -> list[str]:
    """Dotted key → path; a header name after `providers.<p>.headers.` may itself contain dots."""
    parts = key.strip().split(".")
    if len(parts) > 4 and parts[0] == "providers" and parts[2] == "headers":
        parts = [*parts[:3], ".".join(parts[3:])]
    if not all(parts):
        raise ConfigError(f"{key!r} is not a config key; use dotted keys such as 'server.port'.")
    return parts


def settings(p: Paths | None = None) -> list[Setting]:
    """Every effective leaf of the configuration, in file order: server, providers, router.

    Raises `ConfigError` like `load_config`.
    """
    p = p or paths()
    config = load_config(p)
    doc = _read_doc(p.config_file)

    def origin(key: str) -> str:
        parts = key.split(".", 3) if key.startswith("providers.") else key.split(".")
        if parts[0] == "server":
            env = next((e for e, n in _ENV_OVERRIDES.items() if n == parts[1]), None)
            if env and os.environ.get(env):
                return f"env:{env}"
        node: Any = doc
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                return "default"
            node = node[part]
        return "file"

    leaves: list[tuple[str, object]] = [
        ("server.host", config.server.host),
        ("server.port", config.server.port),
    ]
    for name, prov in config.providers.items():
        leaves += [(f"providers.{name}.{f}", _plain(getattr(prov, f))) for f in _PROVIDER]
        routing = prov.provider_routing or {}
        if not routing:  # one leaf, so 'config show' can say it is not set
            leaves.append((f"providers.{name}.provider_routing", None))
        leaves += [(f"providers.{name}.headers.{h}", v) for h, v in prov.headers.items()]
        leaves += [
            (f"providers.{name}.provider_routing.{k}", _plain(v)) for k, v in routing.items()
        ]
    leaves.append(("router.default", config.router.default))
    return [Setting(key, value, origin(key)) for key, value in leaves]


def get_value(key: str, p: Paths | None = None) -> object:
    """The effective value of a dotted key, defaults included.

    A leaf gives its value (str, int, bool, a list, or None when unset, e.g. a provider without
    `api_key_env`); a table (`server`, `providers.openrouter`, `providers.x.headers`,
    `providers.x.provider_routing`, ...) gives a nested dict of its set values. Raises
    `ConfigError` for an unknown key or provider.
    """
    parts = _split_key(key)
    items = settings(p)
    for s in items:
        if s.key == ".".join(parts):
            return s.value
    _known_key(parts, {name for s in items if (name := _provider_of(s.key))})
    if len(parts) == 4:  # a header or provider-routing field that is not set
        return None
    prefix = ".".join(parts) + "."
    table: dict[str, Any] = {}
    for s in items:
        if s.key.startswith(prefix) and s.value is not None:
            path = _split_key(s.key)[len(parts) :]
            node = table
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = s.value
    return table


def _provider_of(key: str) -> str | None:
    parts = key.split(".")
    return parts[1] if parts[0] == "providers" else None


_TABLE_EXAMPLES = {
    "provider": "base_url http://localhost:8000/v1",
    "headers": "X-Title ccroute",
    "provider_routing": "order anthropic,google-vertex",
}


def _known_key(parts: list[str], providers: set[str], *, for_set: bool = False) -> _Field | None:
    """Check that `parts` names a known key (a leaf, or a table if not `for_set`).

    Returns the leaf's field spec (None for a table). Raises `ConfigError` naming the nearest
    known key, or pointing to `ccroute keys set` for a secret-looking key.
    """
    key = ".".join(parts)
    head, rest = parts[0], parts[1:]
    header = len(parts) == 4 and head == "providers" and parts[2] == "headers"
    if (len(parts) >= 2 and _looks_secret(parts[-1])) or (header and _secret_header(parts[3])):
        owner = parts[1] if head == "providers" else "<provider>"
        raise ConfigError(
            f"{key} looks like a secret; API keys never go in config.toml. Store the key "
            f"with 'ccroute keys set {owner}' (or in the provider's api_key_env variable)."
        )
    if head in _TABLES and len(rest) <= 1:
        specs = _TABLES[head]
        if not rest:
            if for_set:
                raise ConfigError(f"{key} is a table; set one of its keys: {', '.join(specs)}.")
            return None
        if rest[0] in specs:
            return specs[rest[0]]
        candidates = [f"{head}.{n}" for n in specs]
    elif head == "providers" and len(rest) >= 1:
        name = rest[0]
        if not _PROVIDER_NAME.match(name):
            raise ConfigError(
                f"{key}: provider name {name!r} may only use letters, digits, '-' and '_'."
            )
        if not for_set and name not in providers:
            raise ConfigError(
                f"{key}: no provider {name!r} is configured (configured: "
                f"{', '.join(sorted(providers))}). Add one with "
                f"'ccroute config set providers.{name}.base_url URL'."
            )
        if len(rest) == 1 or (len(rest) == 2 and rest[1] in ("headers", "provider_routing")):
            if for_set:
                example = _TABLE_EXAMPLES[rest[1] if len(rest) == 2 else "provider"]
                raise ConfigError(
                    f"{key} is a table; set one of its keys, e.g. "
                    f"'ccroute config set {key}.{example}'."
                )
            return None
        if len(rest) == 2 and rest[1] in _PROVIDER:
            return _PROVIDER[rest[1]]
        if len(rest) == 3 and rest[1] == "headers":
            if not _HEADER_NAME.match(rest[2]):
                raise ConfigError(f"{key}: {rest[2]!r} is not a valid HTTP header name.")
            return _HEADER
        if len(rest) == 3 and rest[1] == "provider_routing":
            return _ROUTING.get(rest[2], _ROUTING_OTHER)
        candidates = [
            f"providers.{name}.{n}"
            for n in (*_PROVIDER, "headers.<Name>", "provider_routing.<field>")
        ]
    elif head == "providers" and not for_set:
        return None
    else:
        candidates = [*(f"{t}.{n}" for t, s in _TABLES.items() for n in s), "providers.<name>.*"]
    raise ConfigError(f"unknown config key {key!r}{_did_you_mean(key, candidates)}.")


def _write_doc(source: Path, doc: dict[str, Any], before: dict[str, Any]) -> None:
    """Validate `doc`, refuse it if it adds problems `before` did not have, then write it."""
    _, old = _build(before, source)
    _, new = _build(doc, source)
    _raise([problem for problem in new if problem not in old])
    import tomli_w

    try:
        write_atomic(source, tomli_w.dumps(doc).encode("utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"{source}: could not write the config file ({exc.strerror or exc}); it was left "
            "unchanged. Check the directory's permissions and free space."
        ) from None


def set_value(key: str, raw: str, p: Paths | None = None) -> object:
    """Set a dotted key in config.toml from command-line text and return the stored value.

    `raw` is parsed per the key's type (int for `server.port` and `providers.<p>.max_tokens`,
    `true`/`false` for switches, a TOML array or comma-separated names for lists such as
    `fallback_models`, str otherwise; see `_parse_raw`) and normalised (e.g. a base_url loses its
    trailing slash). `providers.<p>.provider_routing` is set one field at a time. The whole
    resulting config is validated before anything is written; the write is atomic and keeps the
    file's other settings (but not its comments). Raises `ConfigError` for an unknown or
    secret-looking key, an invalid value, a config that would become invalid, or a failed write.
    """
    source = (p or paths()).config_file
    parts = _split_key(key)
    spec = _known_key(parts, set(), for_set=True)
    assert spec is not None  # for_set never returns a table
    dotted = ".".join(parts)
    try:
        value = _plain(_check(spec, _parse_raw(spec, raw)))
    except ValueError:
        raise ConfigError(
            f"{dotted} must be {spec.expected}, {_got(dotted, spec, raw)}; {source} was not "
            "changed. "
            f"Example: 'ccroute config set {dotted} {spec.example}'."
        ) from None
    before = _read_doc(source)
    doc = _copy(before)
    node = doc
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(
                f"{source}: {part} is not a table, so {dotted} cannot be set. "
                f"Remove it first with 'ccroute config unset {part}'."
            )
        node = child
    node[parts[-1]] = value
    _write_doc(source, doc, before)
    return value


def unset_value(key: str, p: Paths | None = None) -> None:
    """Remove a dotted key (a leaf or a whole table) from config.toml; it reverts to its default.

    Works for unknown keys too, so a mistyped key can be removed. Tables left empty are pruned.
    Raises `ConfigError` when the key is not set in the file, when removing it would make the
    config invalid (e.g. a provider `router.default` uses losing its base_url), or the write fails.
    """
    source = (p or paths()).config_file
    parts = _split_key(key)
    before = _read_doc(source)
    doc = _copy(before)
    chain: list[dict[str, Any]] = [doc]
    for part in parts[:-1]:
        child = chain[-1].get(part)
        if not isinstance(child, dict):
            break
        chain.append(child)
    if len(chain) != len(parts) or parts[-1] not in chain[-1]:
        raise ConfigError(
            f"{'.'.join(parts)} is not set in {source}, so there is nothing to unset. "
            "See the effective settings with 'ccroute config show'."
        )
    del chain[-1][parts[-1]]
    for depth in range(len(chain) - 1, 0, -1):  # prune tables the removal left empty
        if not chain[depth]:
            del chain[depth - 1][parts[depth - 1]]
    _write_doc(source, doc, before)


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in doc.items()}
