"""JSON in and out on the hot path: orjson, with the standard library behind it for the rare
value orjson refuses.

Owns: `loads` and `dumps` / `dumps_str`, the one way request bodies, upstream bodies and stream
chunks are parsed and serialised (compact, UTF-8, no spaces). orjson is several times faster than
`json` for the ~80 KB bodies Claude Code sends (issue 7's benchmarks), but it is stricter in two
places where the standard library is lenient and Claude Code or a provider may depend on it:

- a lone UTF-16 surrogate escape (`"\\ud83d"` without its pair, e.g. an emoji cut in half by a
  tool's output) — orjson rejects it on input and cannot write it out;
- `NaN` / `Infinity` literals on input, integers beyond 64 bits, non-string keys and mapping
  types that are not dicts on output (orjson writes a NaN float as `null`).

Whenever orjson raises, the same call is made with `json` (compact separators; `ensure_ascii`
on output so a surrogate survives as an escape), so those inputs behave exactly as before and
the fast path costs nothing extra. Pure: no I/O.

Must not import: anything from ccroute.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_stdlib_dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def loads(data: bytes | str) -> Any:
    """Parse one JSON document.

    Raises:
        ValueError: `data` is not JSON (`json.JSONDecodeError`, with line and column), as the
            standard library would raise it.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any) -> bytes:
    """`value` as compact JSON in UTF-8 bytes (non-ASCII text written as is, not escaped).

    Raises:
        TypeError / ValueError: `value` is not JSON-serialisable, as `json.dumps` raises.
    """
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _stdlib_dumps(value).encode()


def dumps_str(value: Any) -> str:
    """`dumps(value)` as text (for JSON that is embedded in another string or hashed)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return _stdlib_dumps(value)
