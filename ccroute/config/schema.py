"""The schema of config.toml and its validation.

Owns: the settable fields (`_Field` specs for server, router, providers and headers), their
normalisers, secret-looking-key detection, and `_build`, which turns a parsed TOML document
into a `Config` plus every problem found, each naming the file, the dotted key and the fix.
No file access and no environment: callers read and write the file.

Must not import: typer, rich, aiohttp, keyring, tomli_w, or `ccroute.config`'s load/edit
modules. difflib is imported only when a "did you mean" suggestion is needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from ccroute.config.model import (
    BUILTIN_PROVIDERS,
    KNOWN_WIRES,
    Config,
    ProviderConfig,
    RouterConfig,
    ServerConfig,
    split_model_ref,
)
from ccroute.errors import ConfigError


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


def _raise(problems: list[str]) -> None:
    if problems:
        raise ConfigError("\n".join(problems))


def _parse_raw(spec: _Field, raw: str) -> object:
    """Command-line text → the field's TOML type (int fields parse as base-10 integers)."""
    if spec.kind is int:
        try:
            return int(raw.strip())
        except ValueError:
            return raw
    return raw
