"""What each settable leaf of the router tables may hold, and the table of top-level tables.

Owns: the router's field specs (`_ROUTE`, a ref or a list of refs / `{ref, weight}` tables;
`_ROUTER`, the `[router]` leaves; `_RULE`, a `[[router.rules]]` entry's fields;
`_ROUTER_TABLES`, the router keys that are tables), their normalisers, and `_TABLES` (the
top-level tables whose leaves `ccroute config set` takes: server and router). Pure, like
`fields`.

Must not import: typer, rich, aiohttp, keyring, tomli_w, or any `ccroute.config` module but
`model` and `fields`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ccroute.config.fields import (
    _CODE,
    _LOG,
    _PROVIDER_NAME,
    _SERVER,
    _choice,
    _Field,
    _host,
    _model_ref,
    _names,
    _positive,
)
from ccroute.config.model import ROUTE_NAMES, STRATEGIES, FrozenTable


def _rule_name(value: str) -> str:
    if not _PROVIDER_NAME.match(value):
        raise ValueError
    return value


def _words(value: object) -> tuple[str, ...]:
    """A word or a list of words → lower-cased tuple (rule keywords match case-insensitively)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError
    return tuple(word.lower() for word in _names(items))


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error:
        raise ValueError from None
    return value


def _route_refs(value: object) -> Any:
    """A route: one ref (kept a string) or a non-empty list of refs / `{ref, weight}` tables.

    Refs are normalised to "provider/model"; a list becomes a tuple whose weighted entries are
    FrozenTables `{"ref": ..., "weight": n}` (n >= 1) and plain entries strings.
    """
    if isinstance(value, str):
        return _model_ref(value)
    if not isinstance(value, list) or not value:
        raise ValueError
    out: list[Any] = []
    for item in value:
        if isinstance(item, str):
            out.append(_model_ref(item))
        elif isinstance(item, dict) and set(item) <= {"ref", "weight"} and "ref" in item:
            ref, weight = item["ref"], item.get("weight", 1)
            if not isinstance(ref, str) or isinstance(weight, bool) or not isinstance(weight, int):
                raise ValueError
            out.append(FrozenTable({"ref": _model_ref(ref), "weight": _positive(weight)}))
        else:
            raise ValueError
    return tuple(out)


def _custom_ref(value: str) -> str:
    path, colon, function = value.strip().rpartition(":")
    if not colon or not path.strip() or not function.strip().isidentifier():
        raise ValueError
    return value.strip()


def _non_negative(value: int) -> int:
    if value < 0:
        raise ValueError
    return value


_ROUTE = _Field(
    object,
    "a model reference 'provider/model' or a list of them (a TOML array on the command line)",
    "openrouter/anthropic/claude-sonnet-4.5",
    _route_refs,
)
_ROUTER: Mapping[str, _Field] = {
    **dict.fromkeys(ROUTE_NAMES, _ROUTE),
    "long_context_threshold": _Field(int, "a positive integer (input tokens)", "60000", _positive),
    "strategy": _Field(str, f"one of {', '.join(STRATEGIES)}", "priority", _choice(STRATEGIES)),
    "custom": _Field(
        str, "'path/to/file.py:function'", "~/.config/ccroute/route.py:choose", _custom_ref
    ),
}
_ROUTER_TABLES = ("models", "fallbacks", "rules")  # router keys set by editing the file
# One `[[router.rules]]` entry's fields (`name` and `route` are required).
_RULE: Mapping[str, _Field] = {
    "name": _Field(str, "a rule name (letters, digits, '-', '_')", "big-refactors", _rule_name),
    "route": _ROUTE,
    "model": _Field(str, "an fnmatch pattern such as '*opus*'", "*opus*", _host),
    "min_tokens": _Field(int, "a non-negative integer (input tokens)", "1000", _non_negative),
    "max_tokens": _Field(int, "a non-negative integer (input tokens)", "90000", _non_negative),
    "keyword": _Field(object, "a word or a list of words", '["refactor"]', _words),
    "regex": _Field(str, "a Python regular expression", "'\\brefactor\\b'", _regex),
    "tools": _Field(list, "a list of tool names", '["Bash"]', _names),
    "session": _Field(str, "a session id (X-Claude-Code-Session-Id)", "abc", _host),
}
_TABLES: Mapping[str, Mapping[str, _Field]] = {
    "server": _SERVER,
    "log": _LOG,
    "code": _CODE,
    "router": _ROUTER,
}
