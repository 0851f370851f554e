"""Finishing a JSON text that was cut off, by appending only.

Owns: `closing_suffix`, used when an upstream stops mid tool call (`finish_reason: "length"`,
a stream cut short): the `input_json_delta` fragments already sent cannot be taken back, so the
tool_use block is closed with one last fragment that makes the whole a valid JSON object
(protocol.md §3.2 "never emit invalid JSON to Claude Code", §7 item 11).

Must not import: anything beyond the standard library.
"""

from __future__ import annotations

import json

_LITERALS = ("true", "false", "null")
_HEX = frozenset("0123456789abcdefABCDEF")


def closing_suffix(text: str) -> str | None:
    """The shortest-ish text that, appended to `text`, makes a valid JSON object.

    "" when `text` already is one; None when `text` is not the start of a JSON object (then no
    suffix can help). The suffix closes an open string (finishing a cut escape), completes a
    cut literal or number, gives a dangling key or `:` a `null` value, fills a trailing comma
    with a placeholder (`"_":null` in an object, `null` in an array), and closes every open
    array and object.
    """
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        if isinstance(json.loads(stripped), dict):
            return ""
    except ValueError:
        pass
    suffix = _scan(stripped)
    if suffix is None:
        return None
    try:
        return suffix if isinstance(json.loads(stripped + suffix), dict) else None
    except ValueError:
        return None


def _scan(text: str) -> str | None:
    stack: list[str] = []  # "{" or "["
    expect_key = False  # inside an object, before a key
    after_colon = False  # a value is due
    after_comma = False
    after_key = False  # a key string ended, its ":" has not come yet
    in_string = False
    string_is_key = False
    escape = ""  # "" | "\\" | "\\u" + hex digits so far
    token = ""  # a literal or number being read
    for ch in text:
        if in_string:
            if escape:
                escape = "" if len(escape) == 1 and ch != "u" else escape + ch
                if escape.startswith("\\u") and len(escape) == 6:
                    escape = ""
                continue
            if ch == "\\":
                escape = "\\"
            elif ch == '"':
                in_string = False
                after_key = string_is_key
                if not string_is_key:
                    after_colon = False
            continue
        if token and (ch.isalnum() or ch in "+-."):
            token += ch
            continue
        token = ""
        if ch.isspace():
            continue
        match ch:
            case "{" | "[":
                stack.append(ch)
                expect_key = ch == "{"
                after_colon = after_comma = False
            case "}" | "]":
                if not stack:
                    return None
                stack.pop()
                expect_key = after_colon = after_comma = False
            case '"':
                in_string = True
                string_is_key = bool(stack) and stack[-1] == "{" and (expect_key or after_comma)
                expect_key = after_comma = False
            case ":":
                after_colon = True
                after_key = False
            case ",":
                after_comma = True
                after_colon = False
            case _:
                token = ch
                after_colon = after_comma = False
    if after_key:
        return ":null" + _closers(stack)
    return _finish(
        stack,
        in_string=in_string,
        string_is_key=string_is_key,
        escape=escape,
        token=token,
        after_colon=after_colon,
        after_comma=after_comma,
    )


def _closers(stack: list[str]) -> str:
    return "".join("}" if opener == "{" else "]" for opener in reversed(stack))


def _finish(
    stack: list[str],
    *,
    in_string: bool,
    string_is_key: bool,
    escape: str,
    token: str,
    after_colon: bool,
    after_comma: bool,
) -> str | None:
    out = ""
    if in_string:
        if escape == "\\":
            out += "\\"
        elif escape.startswith("\\u"):
            out += "0" * (6 - len(escape))
        out += '"'
        if string_is_key:
            out += ":null"
    elif token:
        literal = next((lit for lit in _LITERALS if lit.startswith(token)), None)
        if literal is not None:
            out += literal[len(token) :]
        elif token[-1] in "+-.eE":
            out += "0"
    elif after_colon:
        out += "null"
    elif after_comma:
        out += '"_":null' if stack and stack[-1] == "{" else "null"
    return out + _closers(stack)
