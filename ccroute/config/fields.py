"""What each settable leaf of config.toml may hold.

Owns: `_Field` (a leaf's TOML type, what a valid value is, an example, and its normaliser), the
normalisers, the field tables for server, log, code, providers, per-model overrides, headers and
OpenRouter's provider-routing table, secret-looking-name detection, how a dotted key is written
(`_quote_key`, `_format_key`: model ids are TOML-quoted), `_check` (validate and normalise one
value) and `_parse_raw` (command-line text → a field's TOML type). Pure: no file access, no
environment, no messages naming files.

Must not import: typer, rich, aiohttp, keyring, tomli_w, or any `ccroute.config` module but
`model`. difflib is imported only when a "did you mean" suggestion is needed.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ccroute.config.model import (
    AUTH_MODES,
    BETA_MODES,
    CACHE_CONTROL_MODES,
    KNOWN_WIRES,
    LOG_FORMATS,
    MODEL_OVERRIDE_FIELDS,
    REASONING_MODES,
    FrozenTable,
    split_model_ref,
)


@dataclass(frozen=True)
class _Field:
    """One settable leaf: its TOML type, what a valid value is, an example, and a normaliser."""

    kind: type  # bool, int, str, list, or object (any TOML value; normalize decides)
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


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def normalize(value: str) -> str:
        if value not in choices:
            raise ValueError
        return value

    return normalize


def _seconds(*, zero: bool) -> Callable[[Any], float]:
    """A normaliser for a duration in seconds (an int or float; 0 only when `zero`)."""

    def normalize(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            raise ValueError
        return float(value)

    return normalize


def _count(value: int) -> int:
    if value < 0:
        raise ValueError
    return value


def _flag(value: bool) -> bool:
    return value


def _names(value: list[Any]) -> tuple[str, ...]:
    """A list of non-blank strings (model or provider names), stripped, as a tuple."""
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError
    return tuple(item.strip() for item in value)


def _frozen_json(value: object) -> Any:
    """A TOML value that JSON can carry, made immutable: tables → FrozenTable, arrays → tuples.

    Dates and times (TOML has them, JSON does not) and non-finite floats raise ValueError.
    """
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, list):
        return tuple(_frozen_json(item) for item in value)
    if isinstance(value, dict):
        return FrozenTable({k: _frozen_json(v) for k, v in value.items()})
    raise ValueError


def _sort(value: object) -> Any:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, dict):
        return _frozen_json(value)
    raise ValueError


_SERVER: Mapping[str, _Field] = {
    "host": _Field(str, "a host name or IP address", "127.0.0.1", _host),
    "port": _Field(int, "an integer from 1 to 65535", "3456", _port),
    "stay": _Field(bool, "true or false", "true", _flag),
}

_LOG: Mapping[str, _Field] = {
    "format": _Field(str, f"one of {', '.join(LOG_FORMATS)}", "json", _choice(LOG_FORMATS)),
    "usage": _Field(bool, "true or false", "true", _flag),
    "bodies": _Field(bool, "true or false", "false", _flag),
    "usage_max_mb": _Field(int, "a positive integer (megabytes)", "64", _positive),
}

_CODE: Mapping[str, _Field] = {
    "statusline": _Field(bool, "true or false", "true", _flag),
}


_PROVIDER: Mapping[str, _Field] = {
    "wire": _Field(str, f"one of {', '.join(KNOWN_WIRES)}", KNOWN_WIRES[0], _wire),
    "base_url": _Field(str, "an http(s) URL", "http://localhost:8000/v1", _url),
    "api_key_env": _Field(
        str, "an environment variable name", "MY_PROVIDER_API_KEY", _env_name, echo=False
    ),
    "max_tokens": _Field(int, "a positive integer", "32000", _positive),
    "reasoning": _Field(
        str, f"one of {', '.join(REASONING_MODES)}", "auto", _choice(REASONING_MODES)
    ),
    "return_reasoning": _Field(bool, "true or false", "true", _flag),
    "cache_control": _Field(
        str, f"one of {', '.join(CACHE_CONTROL_MODES)}", "auto", _choice(CACHE_CONTROL_MODES)
    ),
    "send_user": _Field(bool, "true or false", "true", _flag),
    "fallback_models": _Field(
        list,
        "a list of upstream model names (comma-separated on the command line)",
        "openai/gpt-4o,google/gemini-2.5-pro",
        _names,
    ),
    "auth": _Field(str, f"one of {', '.join(AUTH_MODES)}", "bearer", _choice(AUTH_MODES)),
    "betas": _Field(str, f"one of {', '.join(BETA_MODES)}", "strip", _choice(BETA_MODES)),
    "connect_timeout": _Field(object, "a positive number of seconds", "10", _seconds(zero=False)),
    "first_byte_timeout": _Field(
        object, "a positive number of seconds", "120", _seconds(zero=False)
    ),
    "idle_timeout": _Field(object, "a positive number of seconds", "300", _seconds(zero=False)),
    "total_timeout": _Field(
        object, "a number of seconds (0 = no limit)", "600", _seconds(zero=True)
    ),
    "max_retries": _Field(int, "an integer >= 0", "2", _count),
    "retry_budget": _Field(object, "a number of seconds >= 0", "30", _seconds(zero=True)),
    "max_concurrency": _Field(int, "an integer >= 0 (0 = unlimited)", "4", _count),
    "max_queue": _Field(int, "an integer >= 0", "32", _count),
    "breaker_failures": _Field(int, "a positive integer", "5", _positive),
    "breaker_cooldown": _Field(object, "a positive number of seconds", "30", _seconds(zero=False)),
}
_PROVIDER_TABLES = ("headers", "provider_routing", "models")  # provider keys that are tables
# A `[providers.<p>.models."<model>"]` table: the provider fields a model may override.
_MODEL: Mapping[str, _Field] = {name: _PROVIDER[name] for name in MODEL_OVERRIDE_FIELDS}
_HEADER = _Field(
    str, 'a single-line string ("" = do not send the header)', "ccroute", _header_value
)
_PROVIDER_LIST = _Field(
    list,
    "a list of OpenRouter provider names (comma-separated on the command line)",
    "anthropic,google-vertex",
    _names,
)
# OpenRouter's `provider` object (protocol.md §4.5): the fields whose types are cheap to check.
_ROUTING: Mapping[str, _Field] = {
    "order": _PROVIDER_LIST,
    "only": _PROVIDER_LIST,
    "ignore": _PROVIDER_LIST,
    "quantizations": _Field(
        list, "a list of quantizations (comma-separated on the command line)", "fp8,int8", _names
    ),
    "allow_fallbacks": _Field(bool, "true or false", "false", _flag),
    "require_parameters": _Field(bool, "true or false", "true", _flag),
    "zdr": _Field(bool, "true or false", "true", _flag),
    "data_collection": _Field(str, "allow or deny", "deny", _choice(("allow", "deny"))),
    "sort": _Field(
        object,
        'price, throughput, latency or a table such as { by = "price" }',
        "throughput",
        _sort,
    ),
}
# Any other routing field is passed through unchecked (OpenRouter adds fields), if JSON can say it.
_ROUTING_OTHER = _Field(object, "a string, number, boolean, array or table", "true", _frozen_json)
_SECRET_NAMES = frozenset({"key", "apikey", "token", "secret", "password", "passwd", "credential"})
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie"}
)


def _looks_secret(name: str) -> bool:
    n = name.lower().replace("-", "_")
    return n in _SECRET_NAMES or n.endswith(("_key", "_token", "_secret", "_password"))


def _secret_header(name: str) -> bool:
    return name.lower() in _SECRET_HEADERS or _looks_secret(name)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


def _quote_key(name: str) -> str:
    """One key of a dotted key as TOML writes it: bare when it may be, else a basic string."""
    if _BARE_KEY.match(name):
        return name
    escaped = "".join(
        f"\\{c}" if c in '"\\' else f"\\u{ord(c):04X}" if ord(c) < 0x20 or ord(c) == 0x7F else c
        for c in name
    )
    return f'"{escaped}"'


def _format_key(path: list[str] | tuple[str, ...]) -> str:
    """A key path as a dotted key: a model id (`providers.<p>.models.<id>`) is TOML-quoted.

    Other parts are written as they are, as `ccroute config` has always shown them (a header
    name with dots included), so only model ids need quoting to be read back unambiguously.
    """
    parts = list(path)
    if len(parts) >= 4 and parts[0] == "providers" and parts[2] == "models":
        parts[3] = _quote_key(parts[3])
    return ".".join(parts)


def _did_you_mean(word: str, choices: list[str], *, prefix: str = "") -> str:
    """A " (did you mean ...?)" hint, or the known choices when none is close.

    With `prefix`, `word` and `choices` are field names compared alone (in a model table every
    full key shares a long prefix, which would make any two look alike) and the suggestion is
    written as the full key `prefix.choice`.
    """
    import difflib

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {f'{prefix}.{close[0]}' if prefix else close[0]!r}?)"
    return f" (known: {', '.join(choices)})"


def _check(spec: _Field, value: object) -> Any:
    """`value` normalised per `spec`; ValueError when it is not valid (a bool is never an int)."""
    if not isinstance(value, spec.kind) or (
        isinstance(value, bool) and spec.kind not in (bool, object)
    ):
        raise ValueError
    return spec.normalize(value)


def _parse_raw(spec: _Field, raw: str) -> object:
    """Command-line text → the field's TOML type; text that does not parse is returned as is.

    int fields take base-10 integers, bool fields `true`/`false` (any case), list fields a TOML
    array (`["a", "b"]`) or comma-separated names (`a,b`), and fields of any TOML type a TOML
    value (`123`, `false`, `{ by = "price" }`) or else the text as a string.
    """
    text = raw.strip()
    if spec.kind is int:
        try:
            return int(text)
        except ValueError:
            return raw
    if spec.kind is bool:
        return {"true": True, "false": False}.get(text.lower(), raw)
    if spec.kind is list and not text.startswith("["):
        return [part.strip() for part in raw.split(",")]
    if spec.kind in (list, object):
        try:
            doc = tomllib.loads(f"v = {text}")
        except tomllib.TOMLDecodeError:
            return raw
        return doc["v"] if len(doc) == 1 else raw
    return raw
