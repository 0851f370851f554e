"""Tool names an upstream accepts, and the way back to the names Claude Code sent.

Owns: `ToolNames`, a per-request two-way map between Claude Code's tool names and names that
fit an upstream's rules (OpenAI: `^[a-zA-Z0-9_-]{1,64}$`, protocol.md §7 item 4, §1.5). A name
that already fits is used unchanged; one that does not (an MCP tool `mcp__server__tool` past 64
characters, a dot or space in a name) becomes its allowed characters cut to leave room for `_`
and 8 hex digits of its sha256, so the same name always maps to the same upstream name.

Must not import: anything beyond the standard library.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

OPENAI_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
"""OpenAI's function name rule (§3.1 / §7 item 4)."""

OPENAI_MAX = 64

_HASH_HEX = 8
_DISALLOWED = re.compile(r"[^a-zA-Z0-9_-]")


class ToolNames:
    """Two-way tool name map for one request.

    `upstream(name)` gives the name to send; `claude(name)` maps a name the upstream answered
    with back to Claude Code's (unknown names pass through unchanged, so a model inventing a
    tool gets Claude Code's own "no such tool" answer).
    """

    def __init__(self, names: Iterable[str] = (), *, max_length: int = OPENAI_MAX) -> None:
        self._max = max_length
        self._to_upstream: dict[str, str] = {}
        self._to_claude: dict[str, str] = {}
        for name in names:
            self.upstream(name)

    def upstream(self, name: str) -> str:
        """The upstream-safe name for Claude Code's `name` (registered for the way back)."""
        known = self._to_upstream.get(name)
        if known is not None:
            return known
        safe = name if self._fits(name) else self._shorten(name)
        self._to_upstream[name] = safe
        self._to_claude.setdefault(safe, name)
        return safe

    def claude(self, name: str) -> str:
        """Claude Code's name for a name the upstream used."""
        return self._to_claude.get(name, name)

    def _fits(self, name: str) -> bool:
        return len(name) <= self._max and OPENAI_NAME.fullmatch(name) is not None

    def _shorten(self, name: str) -> str:
        digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_HEX]
        stem = _DISALLOWED.sub("_", name)[: self._max - _HASH_HEX - 1]
        return f"{stem}_{digest}"
