"""ccroute's configuration: where it lives, what it may contain, and how it is read and changed.

Owns: `paths()` (config file, state and log directories; `CCROUTE_HOME` re-roots them), the
schema of config.toml, the frozen dataclasses the rest of ccroute reads (`Config` and friends),
validation whose every message names the file, the dotted key and the fix, and the
`get_value` / `set_value` / `unset_value` edits behind `ccroute config`.

Precedence: built-in defaults < config.toml < `CCROUTE_HOST` / `CCROUTE_PORT` < command-line
flags (the callers apply flags). Secrets never go in the file: keys live in the OS keyring or
an environment variable (`ccroute.keys`). Edits rewrite the file through tomllib → dict →
tomli_w, so comments and formatting in config.toml are not preserved.

Must not import: typer, rich, aiohttp, keyring. It runs on every `ccroute status`/`code`, so it
stays cheap: platformdirs, tomli_w and difflib are imported only when needed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from ccroute.atomicfile import ensure_private_dir, write_atomic
from ccroute.errors import ConfigError

__all__ = [
    "KNOWN_WIRES",
    "Config",
    "Paths",
    "ProviderConfig",
    "RouterConfig",
    "ServerConfig",
    "Setting",
    "ensure_private_dir",
    "get_value",
    "load_config",
    "paths",
    "set_value",
    "settings",
    "unset_value",
    "write_atomic",
]

KNOWN_WIRES: tuple[str, ...] = ("openai",)
"""Values `providers.<name>.wire` may take; add a wire here when its translator lands."""

_APP = "ccroute"


@dataclass(frozen=True)
class Paths:
    """Where ccroute keeps its files; all absolute.

    Attributes:
        config_file: `<config dir>/config.toml` (may not exist).
        state_dir: the daemon's pid/port record (daemon.json) and local token.
        log_dir: daemon.log.
    """

    config_file: Path
    state_dir: Path
    log_dir: Path


def paths() -> Paths:
    """Return ccroute's paths: the platformdirs user config/state/log dirs for "ccroute".

    With `CCROUTE_HOME=D` they become `D/config/config.toml`, `D/state` and `D/logs`. Nothing
    is created here; writers create directories (0700) when they first write.
    """
    home = os.environ.get("CCROUTE_HOME")
    if home:
        root = Path(home).expanduser().absolute()
        return Paths(root / "config" / "config.toml", root / "state", root / "logs")
    import platformdirs

    return Paths(
        config_file=platformdirs.user_config_path(_APP, appauthor=False) / "config.toml",
        state_dir=platformdirs.user_state_path(_APP, appauthor=False),
        log_dir=platformdirs.user_log_path(_APP, appauthor=False),
    )


@dataclass(frozen=True)
class ServerConfig:
    """The local proxy's listening address: `host` (name or IP), `port` (1-65535)."""

    host: str = "127.0.0.1"
    port: int = 3456


@dataclass(frozen=True)
class ProviderConfig:
    """One upstream provider.

    Attributes:
        name: the `[providers.<name>]` table name; also the keyring username for its key.
        wire: the upstream protocol, one of `KNOWN_WIRES`.
        base_url: http(s) URL without a trailing slash, e.g. "https://openrouter.ai/api/v1".
        api_key_env: env var holding the key; None = the provider needs no key (local server).
        max_tokens: clamp for a request's max_tokens; None = no clamp.
        headers: extra request headers (never secrets).
    """

    name: str
    wire: str
    base_url: str
    api_key_env: str | None = None
    max_tokens: int | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class RouterConfig:
    """Routing: `default` is the model reference "provider/model" for Claude Code's own names."""

    default: str = "openrouter/anthropic/claude-sonnet-4.5"


@dataclass(frozen=True)
class Config:
    """The effective configuration; `source` is the file it was read from (may not exist)."""

    server: ServerConfig
    providers: Mapping[str, ProviderConfig]
    router: RouterConfig
    source: Path


BUILTIN_PROVIDERS: Mapping[str, ProviderConfig] = MappingProxyType(
    {
        "openrouter": ProviderConfig(
            name="openrouter",
            wire="openai",
            base_url="https://openrouter.ai/api/v1",
            api_key_env="OPENROUTER_API_KEY",
            max_tokens=32000,
        )
    }
)


# --- schema -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    """One settable leaf: its TOML type, what a valid value is, an example, and a normaliser."""

    kind: type
    expected: str
    example: str
    normalize: Callable[[Any], Any]  # valid value (of `kind`) -> stored form; ValueError if not
    echo: bool = True  # False: never repeat a bad value (it may be a pasted API key)


def _host(value: str) -> str:
    if not value.strip() or any(c.isspace() for c in value):
        raise ValueError
    return value


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError
    return value


def _positive(value: int) -> int:
    if value < 1:
        raise ValueError
    return value


def _wire(value: str) -> str:
    if value not in KNOWN_WIRES:
        raise ValueError
    return value


def _url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError
    return value.strip().rstrip("/")


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError
    return value


def _header_value(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError
    return value


def _model_ref(value: str) -> str:
    parts = split_model_ref(value)
    if parts is None:
        raise ValueError
    return f"{parts[0]}/{parts[1]}"


def split_model_ref(ref: str) -> tuple[str, str] | None:
    """Split a model reference into `(provider, model)`.

    Accepts `provider/model` and claude-code-router's `provider,model`, split at whichever
    separator comes first: `openrouter/anthropic/claude-x` gives `("openrouter",
    "anthropic/claude-x")`. Returns None when that does not give two non-empty parts.
    """
    cut = min((i for i in (ref.find("/"), ref.find(",")) if i >= 0), default=-1)
    if cut <= 0:
        return None
    provider, model = ref[:cut].strip(), ref[cut + 1 :].strip()
    return (provider, model) if provider and model else None


_SERVER: Mapping[str, _Field] = {
    "host": _Field(str, "a host name or IP address", "127.0.0.1", _host),
    "port": _Field(int, "an integer from 1 to 65535", "3456", _port),
}
_ROUTER: Mapping[str, _Field] = {
    "default": _Field(
        str,
        "a model reference 'provider/model'",
        "openrouter/anthropic/claude-sonnet-4.5",
        _model_ref,
    ),
}
_PROVIDER: Mapping[str, _Field] = {
    "wire": _Field(str, f"one of {', '.join(KNOWN_WIRES)}", KNOWN_WIRES[0], _wire),
    "base_url": _Field(str, "an http(s) URL", "http://localhost:8000/v1", _url),
    "api_key_env": _Field(
        str, "an environment variable name", "MY_PROVIDER_API_KEY", _env_name, echo=False
    ),
    "max_tokens": _Field(int, "a positive integer", "32000", _positive),
}
_HEADER = _Field(str, "a single-line string", "ccroute", _header_value)
_TABLES: Mapping[str, Mapping[str, _Field]] = {"server": _SERVER, "router": _ROUTER}
_SECRET_NAMES = frozenset({"key", "apikey", "token", "secret", "password", "passwd", "credential"})
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie"}
)


def _looks_secret(name: str) -> bool:
    n = name.lower().replace("-", "_")
    return n in _SECRET_NAMES or n.endswith(("_key", "_token", "_secret", "_password"))


def _secret_header(name: str) -> bool:
    return name.lower() in _SECRET_HEADERS or _looks_secret(name)


def _did_you_mean(word: str, choices: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(choices)})"


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

    def unknown(self, key: str, leaf: str, known: list[str]) -> None:
        if _looks_secret(leaf):
            self.secret(key)
            return
        self.add(
            f"unknown key {key!r}{_did_you_mean(key, known)}. "
            f"Remove it with 'ccroute config unset {key}'."
        )

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
            else:
                known = [*specs, *(["headers"] if specs is _PROVIDER else [])]
                self.unknown(key, name, [f"{prefix}.{k}" for k in known])
        return out


def _check(spec: _Field, value: object) -> Any:
    if not isinstance(value, spec.kind) or isinstance(value, bool):
        raise ValueError
    return spec.normalize(value)


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
        if name not in (*_TABLES, "providers"):
            check.unknown(name, name, [*_TABLES, "providers"])
    server = check.fields("server", check.table("server", doc.get("server", {})), _SERVER)
    router = check.fields("router", check.table("router", doc.get("router", {})), _ROUTER)

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
        values = check.fields(prefix, table, _PROVIDER)
        headers: dict[str, str] = {}
        for header, value in headers_raw.items():
            key = f"{prefix}.headers.{header}"
            if _secret_header(header):
                check.secret(key)
            elif not _HEADER_NAME.match(header):
                check.add(
                    f"{key}: {header!r} is not a valid HTTP header name. "
                    f"Remove it with 'ccroute config unset {key}'."
                )
            elif (checked := check.leaf(key, _HEADER, value)) is not None:
                headers[header] = checked
        base = providers.get(name)
        if base is None:
            if "base_url" not in table:
                check.add(
                    f"{prefix}.base_url is required for a provider ccroute does not know. Fix it "
                    f"with 'ccroute config set {prefix}.base_url http://localhost:8000/v1'."
                )
            base = ProviderConfig(name=name, wire=KNOWN_WIRES[0], base_url="")
        merged = {**dict(base.headers), **headers}
        providers[name] = replace(base, **values, headers=MappingProxyType(merged))

    router_cfg = RouterConfig(**router)
    ref = split_model_ref(router_cfg.default)
    if ref is not None and ref[0] not in providers:
        check.add(
            f"router.default names provider {ref[0]!r}, which is not configured (configured: "
            f"{', '.join(providers)}). Fix it with 'ccroute config set router.default "
            f"{RouterConfig().default}' or add the provider with "
            f"'ccroute config set providers.{ref[0]}.base_url URL'."
        )
    config = Config(
        server=ServerConfig(**server),
        providers=MappingProxyType(providers),
        router=router_cfg,
        source=source,
    )
    return config, check.problems


def _read_doc(source: Path) -> dict[str, Any]:
    """The parsed config file ({} when it does not exist); ConfigError when unreadable."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(
            f"{source}: cannot read the config file ({exc.strerror or exc}). Check its "
            "permissions, or run 'ccroute config path' to see where it is."
        ) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(
            f"{source}: the config file is not valid UTF-8. Re-save it as UTF-8 "
            "(run 'ccroute config path' to find it)."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source}: invalid TOML: {exc}. Open the file (run 'ccroute config path' to see "
            "where it is) and fix the syntax."
        ) from None


def _raise(problems: list[str]) -> None:
    if problems:
        raise ConfigError("\n".join(problems))


_ENV_OVERRIDES = {"CCROUTE_HOST": "host", "CCROUTE_PORT": "port"}


def _env_server(server: ServerConfig) -> ServerConfig:
    """Apply CCROUTE_HOST / CCROUTE_PORT on top of the file's [server] table."""
    changes: dict[str, Any] = {}
    for env, name in _ENV_OVERRIDES.items():
        raw = os.environ.get(env)
        if raw is None or raw == "":
            continue
        spec = _SERVER[name]
        try:
            changes[name] = _check(spec, _parse_raw(spec, raw))
        except ValueError:
            raise ConfigError(
                f"environment variable {env} (overrides server.{name}) must be {spec.expected}, "
                f"got {raw!r}. Fix it with '{env}={spec.example}', or unset it."
            ) from None
    return replace(server, **changes)


def load_config(p: Paths | None = None) -> Config:
    """Read the effective configuration: defaults < config file < CCROUTE_HOST/CCROUTE_PORT.

    The built-in provider "openrouter" always exists; a `[providers.openrouter]` table overrides
    its fields one by one. Raises `ConfigError` (all problems, one per line, each naming the
    file, the dotted key and the fix) when the file is unreadable, not TOML, or invalid.
    """
    source = (p or paths()).config_file
    config, problems = _build(_read_doc(source), source)
    _raise(problems)
    return replace(config, server=_env_server(config.server))


# --- reading and editing single keys -------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One effective leaf value: dotted `key`, `value` (None = unset), and where it came from.

    `origin` is "default", "file" or "env:<VAR>".
    """

    key: str
    value: object
    origin: str


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
        leaves += [(f"providers.{name}.{f}", getattr(prov, f)) for f in _PROVIDER]
        leaves += [(f"providers.{name}.headers.{h}", v) for h, v in prov.headers.items()]
    leaves.append(("router.default", config.router.default))
    return [Setting(key, value, origin(key)) for key, value in leaves]


def get_value(key: str, p: Paths | None = None) -> object:
    """The effective value of a dotted key, defaults included.

    A leaf gives its value (str, int, or None when unset, e.g. a provider without
    `api_key_env`); a table (`server`, `providers.openrouter`, `providers.x.headers`, ...) gives a
    nested dict of its set values. Raises `ConfigError` for an unknown key or provider.
    """
    parts = _split_key(key)
    items = settings(p)
    for s in items:
        if s.key == ".".join(parts):
            return s.value
    _known_key(parts, {name for s in items if (name := _provider_of(s.key))})
    if len(parts) == 4:  # a header that is not set
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
        if len(rest) == 1 or (len(rest) == 2 and rest[1] == "headers"):
            if for_set:
                raise ConfigError(f"{key} is a table; set one of its keys, e.g. {key}.base_url.")
            return None
        if len(rest) == 2 and rest[1] in _PROVIDER:
            return _PROVIDER[rest[1]]
        if len(rest) == 3 and rest[1] == "headers":
            if not _HEADER_NAME.match(rest[2]):
                raise ConfigError(f"{key}: {rest[2]!r} is not a valid HTTP header name.")
            return _HEADER
        candidates = [f"providers.{name}.{n}" for n in (*_PROVIDER, "headers.<Name>")]
    elif head == "providers" and not for_set:
        return None
    else:
        candidates = [*(f"{t}.{n}" for t, s in _TABLES.items() for n in s), "providers.<name>.*"]
    raise ConfigError(f"unknown config key {key!r}{_did_you_mean(key, candidates)}.")


def _parse_raw(spec: _Field, raw: str) -> object:
    """Command-line text → the field's TOML type (int fields parse as base-10 integers)."""
    if spec.kind is int:
        try:
            return int(raw.strip())
        except ValueError:
            return raw
    return raw


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
    str otherwise) and normalised (e.g. a base_url loses its trailing slash). The whole
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
        value = _check(spec, _parse_raw(spec, raw))
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
