"""Reading and changing single keys: what `ccroute config get/set/unset/show` runs on.

Owns: `Setting` and `settings()` (every effective leaf with its origin), `get_value`,
`set_value`, `set_provider` (a whole provider table in one write, for `ccroute providers add`)
and `unset_value`, dotted-key parsing (TOML-quoted parts, so model ids with "/",
"." and ":" can be named) and the unknown/secret-key messages. Edits
rewrite the file through tomllib → dict → tomli_w, so comments and formatting in config.toml
are not preserved; every edit is validated as a whole before the atomic write.

Must not import: typer, rich, aiohttp, keyring. tomli_w is imported only when writing.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccroute.atomicfile import write_atomic
from ccroute.config.fields import (
    _CODE,
    _HEADER,
    _HEADER_NAME,
    _LOG,
    _MODEL,
    _PROVIDER,
    _PROVIDER_NAME,
    _ROUTING,
    _ROUTING_OTHER,
    _check,
    _did_you_mean,
    _Field,
    _format_key,
    _looks_secret,
    _parse_raw,
    _secret_header,
)
from ccroute.config.load import _ENV_OVERRIDES, _read_doc, load_config
from ccroute.config.locations import Paths, paths
from ccroute.config.model import ROUTE_NAMES, RefEntry
from ccroute.config.router_fields import _ROUTER, _TABLES
from ccroute.config.schema import _build, _got, _raise
from ccroute.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One effective leaf value: dotted `key`, `value` (None = unset), and where it came from.

    `origin` is "default", "file" or "env:<VAR>". `path` is the key split into its tables and
    leaf, e.g. ("providers", "openrouter", "models", "openai/gpt-4.1", "reasoning") for the key
    `providers.openrouter.models."openai/gpt-4.1".reasoning` (whose model id has a dot).
    """

    key: str
    value: object
    origin: str
    path: tuple[str, ...]


def _plain(value: object) -> Any:
    """A config value as TOML/JSON writers take it: tuples become lists, mappings dicts."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _plain_route(refs: tuple[RefEntry, ...]) -> object:
    """A route as `config show` prints it: None (unset), one ref, or a list of refs/tables."""
    plain = [e.ref if e.weight == 1 else {"ref": e.ref, "weight": e.weight} for e in refs]
    return None if not plain else plain[0] if len(plain) == 1 else plain


def _tokens(key: str) -> list[tuple[str, bool]]:
    """A dotted key's parts, each with whether it was quoted; TOML's "..." and '...' quoting."""
    text, tokens, i = key.strip(), [], 0
    while True:
        if text[i : i + 1] in ('"', "'"):
            end = i + 1
            while end < len(text) and text[end] != text[i]:
                end += 2 if text[i] == '"' and text[end] == "\\" else 1
            try:
                part = tomllib.loads(f"k = {text[i : end + 1]}")["k"]
            except tomllib.TOMLDecodeError:
                part = None
            if part is None or text[end + 1 : end + 2] not in ("", "."):
                raise ConfigError(
                    f"{key!r} is not a config key: the quoted part {text[i : end + 1]!r} is not a "
                    "TOML string followed by '.' or the end. Quote a model id like this: "
                    """'providers.openrouter.models."openai/gpt-4.1".reasoning'."""
                )
            tokens.append((part, True))
            i = end + 1
        else:
            end = text.find(".", i)
            end = len(text) if end < 0 else end
            tokens.append((text[i:end], False))
            i = end
        if i >= len(text):
            return tokens
        i += 1


def _key_paths(key: str) -> list[list[str]]:
    """Dotted key → its path, then any other way to read it; `_split_key` takes the first.

    A header name after `providers.<p>.headers.` may contain dots. A model id after
    `providers.<p>.models.` may be quoted (`models."openai/gpt-4.1".reasoning`); unquoted, it
    runs to the last dot (the rest is the field), and the whole rest read as the model id is
    offered second, so `models.openai/gpt-4.1` still names that model's table once the shell has
    eaten the quotes.
    """
    tokens = _tokens(key)
    parts = [part for part, _ in tokens]
    if not all(parts):
        raise ConfigError(f"{key!r} is not a config key; use dotted keys such as 'server.port'.")
    if len(parts) > 4 and parts[0] == "providers" and parts[2] == "headers":
        return [[*parts[:3], ".".join(parts[3:])]]
    if len(parts) < 5 or parts[0] != "providers" or parts[2] != "models":
        return [parts]
    paths = []
    if not any(quoted for _, quoted in tokens[3:-1]):
        paths.append([*parts[:3], ".".join(parts[3:-1]), parts[-1]])
    if not any(quoted for _, quoted in tokens[3:]):
        paths.append([*parts[:3], ".".join(parts[3:])])
    return paths or [parts]


def _split_key(key: str) -> list[str]:
    """Dotted key → path (see `_key_paths`)."""
    return _key_paths(key)[0]


def settings(p: Paths | None = None) -> list[Setting]:
    """Every effective leaf of the configuration, in file order: server, providers, router.

    Raises `ConfigError` like `load_config`.
    """
    p = p or paths()
    config = load_config(p)
    doc = _read_doc(p.config_file)

    def origin(path: tuple[str, ...]) -> str:
        if path[0] == "server":
            env = next((e for e, n in _ENV_OVERRIDES.items() if n == path[1]), None)
            if env and os.environ.get(env):
                return f"env:{env}"
        return "file" if _in_doc(doc, path) else "default"

    leaves: list[tuple[tuple[str, ...], object]] = [
        (("server", "host"), config.server.host),
        (("server", "port"), config.server.port),
        *((("log", name), getattr(config.log, name)) for name in _LOG),
        *((("code", name), getattr(config.code, name)) for name in _CODE),
    ]
    for name, prov in config.providers.items():
        top = ("providers", name)
        leaves += [((*top, f), _plain(getattr(prov, f))) for f in _PROVIDER]
        routing = prov.provider_routing or {}
        if not routing:  # one leaf, so 'config show' can say it is not set
            leaves.append(((*top, "provider_routing"), None))
        leaves += [((*top, "headers", h), v) for h, v in prov.headers.items()]
        leaves += [((*top, "provider_routing", k), _plain(v)) for k, v in routing.items()]
        leaves += [
            ((*top, "models", model, f), value)
            for model, overrides in prov.models.items()
            for f in _MODEL
            if (value := getattr(overrides, f)) is not None
        ]
    router = config.router
    leaves += [
        (("router", name), _plain_route(router.routes.get(name, ()))) for name in ROUTE_NAMES
    ]
    leaves += [
        (("router", "long_context_threshold"), router.long_context_threshold),
        (("router", "strategy"), router.strategy),
        (("router", "custom"), router.custom),
    ]
    for table in ("models", "fallbacks"):
        routes: Mapping[str, tuple[RefEntry, ...]] = getattr(router, table)
        leaves += [(("router", table, name), _plain_route(refs)) for name, refs in routes.items()]
    for name, profile in config.profiles.items():  # the keys a profile's file table sets
        own = doc.get("profiles", {}).get(name, {}).get("router", {})
        leaves += [
            (
                ("profiles", name, "router", field),
                _plain_route(profile.route(field))
                if field in ROUTE_NAMES
                else getattr(profile, field),
            )
            for field in _ROUTER
            if field in own
        ]
    return [Setting(_format_key(path), value, origin(path), path) for path, value in leaves]


def _in_doc(doc: Mapping[str, Any], path: list[str] | tuple[str, ...]) -> bool:
    """Whether the parsed config file sets `path` (a leaf or a table)."""
    node: Any = doc
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def get_value(key: str, p: Paths | None = None) -> object:
    """The effective value of a dotted key, defaults included.

    A leaf gives its value (str, int, bool, a list, or None when unset, e.g. a provider without
    `api_key_env`); a table (`server`, `providers.openrouter`, `providers.x.headers`,
    `providers.x.provider_routing`, `providers.x.models."vendor/model"`, ...) gives a nested
    dict of its set values. A model override that is not set gives None (the model inherits the
    provider's value). Raises `ConfigError` for an unknown key or provider.
    """
    items = settings(p)

    def exists(path: list[str]) -> bool:
        return any(s.path[: len(path)] == tuple(path) for s in items)

    candidates = _key_paths(key)
    parts = next((path for path in candidates if exists(path)), None)
    if parts is None:  # an unset model table or field, or an error to report
        field_named = candidates[0][-1] in _MODEL or len(candidates) == 1
        parts = candidates[0] if field_named else candidates[1]
    for s in items:
        if s.path == tuple(parts):
            return s.value
    providers = {s.path[1] for s in items if s.path[0] == "providers"}
    if _known_key(parts, providers) is not None:  # a leaf that is not set
        return None
    table: dict[str, Any] = {}
    for s in items:
        if s.path[: len(parts)] == tuple(parts) and s.value is not None:
            *tables, leaf = s.path[len(parts) :]
            node = table
            for part in tables:
                node = node.setdefault(part, {})
            node[leaf] = s.value
    return table


_TABLE_EXAMPLES = {
    "provider": "base_url http://localhost:8000/v1",
    "headers": "X-Title ccroute",
    "provider_routing": "order anthropic,google-vertex",
    "models": '"deepseek/deepseek-r1".reasoning none',
}


def _known_key(parts: list[str], providers: set[str], *, for_set: bool = False) -> _Field | None:
    """Check that `parts` names a known key (a leaf, or a table if not `for_set`).

    Returns the leaf's field spec (None for a table). Raises `ConfigError` naming the nearest
    known key, or pointing to `ccroute keys set` for a secret-looking key.
    """
    key = _format_key(parts)
    head, rest = parts[0], parts[1:]
    header = len(parts) == 4 and head == "providers" and parts[2] == "headers"
    model_table = len(parts) == 4 and head == "providers" and parts[2] == "models"
    if (len(parts) >= 2 and _looks_secret(parts[-1]) and not model_table) or (
        header and _secret_header(parts[3])
    ):
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
        if len(rest) >= 2 and rest[1] == "models":
            return _model_key(parts, for_set=for_set)
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
            for n in (
                *_PROVIDER,
                "headers.<Name>",
                "provider_routing.<field>",
                "models.<id>.<field>",
            )
        ]
    elif head == "profiles" and len(rest) == 3 and rest[1] == "router" and rest[2] in _ROUTER:
        if not _PROVIDER_NAME.match(rest[0]):
            raise ConfigError(
                f"{key}: profile name {rest[0]!r} may only use letters, digits, '-' and '_'."
            )
        return _ROUTER[rest[2]]
    elif (
        head in ("profiles", "providers")
        and not for_set
        and (head == "providers" or len(rest) <= 2)
    ):
        return None
    else:
        candidates = [*(f"{t}.{n}" for t, s in _TABLES.items() for n in s), "providers.<name>.*"]
    raise ConfigError(f"unknown config key {key!r}{_did_you_mean(key, candidates)}.")


def _model_key(parts: list[str], *, for_set: bool) -> _Field | None:
    """`_known_key` for `providers.<p>.models[.<model>[.<field>]]`."""
    key = _format_key(parts)
    if len(parts) >= 4 and parts[3] != parts[3].strip():
        raise ConfigError(
            f"{key}: a model id is the upstream model name exactly, without surrounding spaces."
        )
    if len(parts) <= 4:
        if for_set:
            example = "reasoning none" if len(parts) == 4 else _TABLE_EXAMPLES["models"]
            raise ConfigError(
                f"{key} is a table; set one of its keys ({', '.join(_MODEL)}), e.g. "
                f"'ccroute config set {key}.{example}'."
            )
        return None
    if len(parts) == 5 and parts[4] in _MODEL:
        return _MODEL[parts[4]]
    hint = _did_you_mean(parts[-1], list(_MODEL), prefix=_format_key(parts[:4]))
    raise ConfigError(f"unknown config key {key!r}{hint}.")


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
    dotted = _format_key(parts)
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


def set_provider(name: str, fields: Mapping[str, object], p: Paths | None = None) -> None:
    """Write `[providers.<name>]` as exactly `fields`, in one validated atomic write.

    `fields` maps provider field names (`wire`, `base_url`, `api_key_env`, `max_tokens`, ...) to
    TOML values and may hold a `headers` table; an existing table of that name is replaced as a
    whole (a built-in provider's defaults still apply under it). Raises `ConfigError` for a bad
    name, an unknown or secret-looking field, an invalid value, a config that would become
    invalid, or a failed write; the file is then unchanged.
    """
    source = (p or paths()).config_file
    if not _PROVIDER_NAME.match(name):
        raise ConfigError(
            f"provider name {name!r} may only use letters, digits, '-' and '_' (and start with a "
            "letter or digit)."
        )
    leaves: list[tuple[tuple[str, ...], object]] = []
    for key, value in fields.items():
        if key == "headers" and isinstance(value, Mapping):
            leaves += [(("headers", str(header)), text) for header, text in value.items()]
        else:
            leaves.append(((key,), value))
    table: dict[str, Any] = {}
    for path, value in leaves:
        spec = _known_key(["providers", name, *path], set(), for_set=True)
        assert spec is not None  # for_set never returns a table
        dotted = _format_key(["providers", name, *path])
        try:
            checked = _plain(_check(spec, value))
        except ValueError:
            raise ConfigError(
                f"{dotted} must be {spec.expected}, {_got(dotted, spec, value)}; {source} was "
                "not changed."
            ) from None
        node = table.setdefault("headers", {}) if len(path) == 2 else table
        node[path[-1]] = checked
    before = _read_doc(source)
    doc = _copy(before)
    providers = doc.setdefault("providers", {})
    if not isinstance(providers, dict):
        raise ConfigError(
            f"{source}: providers is not a table, so providers.{name} cannot be set. "
            "Remove it first with 'ccroute config unset providers'."
        )
    providers[name] = table
    _write_doc(source, doc, before)


def unset_value(key: str, p: Paths | None = None) -> None:
    """Remove a dotted key (a leaf or a whole table) from config.toml; it reverts to its default.

    Works for unknown keys too, so a mistyped key can be removed. Tables left empty are pruned
    (unsetting a model's last override removes its table). When an unquoted model key reads two
    ways (`models.openai/gpt-4.1`: field "1" of "openai/gpt-4", or the table "openai/gpt-4.1"),
    the one the file has is removed. Raises `ConfigError` when the key is not set in the file,
    when removing it would make the config invalid (e.g. a provider `router.default` uses losing
    its base_url), or the write fails.
    """
    source = (p or paths()).config_file
    before = _read_doc(source)
    candidates = _key_paths(key)
    parts = next((path for path in candidates if _in_doc(before, path)), candidates[0])
    doc = _copy(before)
    chain: list[dict[str, Any]] = [doc]
    for part in parts[:-1]:
        child = chain[-1].get(part)
        if not isinstance(child, dict):
            break
        chain.append(child)
    if len(chain) != len(parts) or parts[-1] not in chain[-1]:
        raise ConfigError(
            f"{_format_key(parts)} is not set in {source}, so there is nothing to unset. "
            "See the effective settings with 'ccroute config show'."
        )
    del chain[-1][parts[-1]]
    for depth in range(len(chain) - 1, 0, -1):  # prune tables the removal left empty
        if not chain[depth]:
            del chain[depth - 1][parts[depth - 1]]
    _write_doc(source, doc, before)


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in doc.items()}
