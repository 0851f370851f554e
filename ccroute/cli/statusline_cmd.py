"""`ccroute statusline`: the command for Claude Code's `statusLine` setting.

Owns: reading the status JSON Claude Code writes to the command's stdin (protocol.md §6.9:
`model.id`/`display_name`, `cost.total_cost_usd`, `context_window.{total_input_tokens,
total_output_tokens, context_window_size, used_percentage, current_usage{...}}`,
`session_id`, ...) and printing one short line: the model Claude Code asked for, where
ccroute's router sends it, tokens in/out, context used and the session's cost. Any field may
be missing and the input may not be JSON at all: the command then prints what it can (at
worst `ccroute`) and exits 0, never a traceback. Colour is used unless `NO_COLOR` is set to
a non-empty value.

Must not import aiohttp, rich or (outside type checking) typer, nor touch the network or the
daemon: Claude Code runs it
after every message (debounced 300 ms), so it must be quick.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ccroute import launcher

if TYPE_CHECKING:
    import typer

SEPARATOR = " · "
"""Between the parts of the line."""

_CYAN = "\033[36m"
_DIM = "\033[2m"
_RESET = "\033[0m"


def parse_status(text: str) -> dict[str, Any]:
    """The status object Claude Code sent, or `{}` when `text` is not a JSON object."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _field(obj: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def format_tokens(count: float) -> str:
    """A token count for people: `950`, `12.3k`, `1.2M`."""
    if count < 1000:
        return str(int(count))
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"


def context_percent(status: Mapping[str, Any]) -> float | None:
    """Context used, in percent: `context_window.used_percentage`, else the current usage's
    input, cache-creation and cache-read tokens over `context_window_size`; None if unknown."""
    used = _number(_field(status, "context_window", "used_percentage"))
    if used is not None:
        return used
    size = _number(_field(status, "context_window", "context_window_size"))
    current = _field(status, "context_window", "current_usage")
    if not size or not isinstance(current, Mapping):
        return None
    keys = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    parts = [_number(current.get(key)) for key in keys]
    if all(part is None for part in parts):
        return None
    return sum(part or 0.0 for part in parts) / size * 100


def requested_model(status: Mapping[str, Any]) -> str | None:
    """The model Claude Code asks for: `model.id`, else `model.display_name`."""
    for key in ("id", "display_name"):
        value = _field(status, "model", key)
        if isinstance(value, str) and value:
            return value
    return None


def _profile(environ: Mapping[str, str]) -> str | None:
    # `ccroute code --profile NAME` passes the profile to Claude Code as a custom header, and
    # Claude Code runs the status line command with its own environment.
    for line in environ.get(launcher.CUSTOM_HEADERS_ENV, "").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == launcher.PROFILE_HEADER.lower() and value.strip():
            return value.strip()
    return None


def routed_to(model: str, session_id: str | None, environ: Mapping[str, str]) -> str | None:
    """Where the loaded configuration routes a request for `model`: `provider/model`, followed
    by ` (route)` unless the route is "explicit"; None if the configuration cannot be loaded
    or routing fails (any error: the status line must still print)."""
    try:
        from ccroute.config import load_config
        from ccroute.routing import decide
        from ccroute.translate.messages import MessagesRequest

        config = load_config()
        profile = _profile(environ)
        if profile is not None and profile not in config.profiles:
            profile = None
        # Claude Code names 1M-context models `<id>[1m]` in its own state, not on the wire
        # (protocol.md §1 `model`), so route the name without the suffix.
        wire_model = model[:-4] if model.lower().endswith("[1m]") else model
        req: MessagesRequest = {"model": wire_model, "max_tokens": 1, "messages": []}
        decision = decide(req, config, input_tokens=0, session_id=session_id, profile=profile)
    except Exception:  # a status line never fails
        return None
    target = decision.targets[0]
    where = f"{target.provider.name}/{target.model}"
    return where if decision.route == "explicit" else f"{where} ({decision.route})"


def render(status: Mapping[str, Any], route: str | None, *, color: bool) -> str:
    """The status line: `model → provider/model (route) · 12.3k in / 1.2k out · ctx 34% ·
    $0.12`, leaving out each part whose fields are missing; `ccroute` if nothing is known."""
    paint = (lambda code, text: f"{code}{text}{_RESET}") if color else (lambda _c, text: text)
    parts: list[str] = []
    model = requested_model(status)
    if model is not None:
        parts.append(model + (f" → {paint(_CYAN, route)}" if route else ""))
    tokens_in = _number(_field(status, "context_window", "total_input_tokens"))
    tokens_out = _number(_field(status, "context_window", "total_output_tokens"))
    if tokens_in is not None or tokens_out is not None:
        parts.append(f"{format_tokens(tokens_in or 0)} in / {format_tokens(tokens_out or 0)} out")
    percent = context_percent(status)
    if percent is not None:
        parts.append(f"ctx {percent:.0f}%")
    cost = _number(_field(status, "cost", "total_cost_usd"))
    if cost is not None:
        parts.append(f"${cost:.2f}")
    if not parts:
        return "ccroute"
    return paint(_DIM, SEPARATOR).join(parts)


def statusline() -> None:
    """Print a one-line status for Claude Code's `statusLine` setting (reads its JSON on stdin):
    `"statusLine": {"type": "command", "command": "ccroute statusline"}`."""
    print_statusline()


def print_statusline() -> None:
    """`ccroute statusline` itself (also run without Typer by `ccroute.cli.fastpath`): read
    Claude Code's JSON from stdin, print the line. Never raises."""
    try:
        status = parse_status(sys.stdin.read())
        model = requested_model(status)
        session = _field(status, "session_id")
        route = (
            routed_to(model, session if isinstance(session, str) else None, os.environ)
            if model is not None
            else None
        )
        line = render(status, route, color=not os.environ.get("NO_COLOR"))
    except Exception:  # a status line never fails
        line = "ccroute"
    # Written as is: the escapes stay although stdout is a pipe, which it always is here.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    """Register `statusline` on the root app."""
    app.command()(statusline)
