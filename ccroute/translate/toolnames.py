"""Tool names an upstream accepts, and the way back to the names Claude Code sent.

Owns: `ToolNames`, a per-request two-way map between Claude Code's tool names and names that
fit an upstream's rules (OpenAI: `^[a-zA-Z0-9_-]{1,64}$`; Gemini: a letter or `_` first, then
`[a-zA-Z0-9_.:-]`, at most 128; protocol.md §7 item 4, §1.5, §5.2). A name that already fits is
used unchanged; one that does not (an MCP tool `mcp__server__tool` past the limit, a dot or space
in an OpenAI name) becomes its allowed characters cut to leave room for `_` and 8 hex digits of
its sha256 (led by `_` when the rule wants a letter or `_` first), so the same name always maps
to the same upstream name.

Must not import: anything beyond the standard library.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

OPENAI_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
"""OpenAI's function name rule (§3.1 / §7 item 4)."""

OPENAI_MAX = 64

GEMINI_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_.:-]*")
"""Gemini's `FunctionDeclaration.name` rule, without the length (§5.2, §7 item 4)."""

GEMINI_MAX = 128

GEMINI_DISALLOWED = re.compile(r"[^a-zA-Z0-9_.:-]")
"""Characters a Gemini function name may not hold (replaced by `_` when shortening)."""

_HASH_HEX = 8
_DISALLOWED = re.compile(r"[^a-zA-Z0-9_-]")


class ToolNames:
    """Two-way tool name map for one request.

    `upstream(name)` gives the name to send; `claude(name)` maps a name the upstream answered
    with back to Claude Code's (unknown names pass through unchanged, so a model inventing a
    tool gets Claude Code's own "no such tool" answer).
    """

    def __init__(
        self,
        names: Iterable[str] = (),
        *,
        max_length: int = OPENAI_MAX,
        pattern: re.Pattern[str] = OPENAI_NAME,
        disallowed: re.Pattern[str] = _DISALLOWED,
    ) -> None:
        """`pattern` is the upstream's name rule (matched whole, length checked separately
        against `max_length`); `disallowed` matches the characters it does not allow. The
        defaults are OpenAI's; Gemini's are `GEMINI_NAME`, `GEMINI_DISALLOWED`, `GEMINI_MAX`."""
        self._max = max_length
        self._pattern = pattern
        self._disallowed = disallowed
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
        return len(name) <= self._max and self._pattern.fullmatch(name) is not None

    def _shorten(self, name: str) -> str:
        digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_HEX]
        stem = self._disallowed.sub("_", name)[: self._max - _HASH_HEX - 1]
        short = f"{stem}_{digest}"
        if self._pattern.fullmatch(short) is None:  # e.g. a digit first where Gemini wants a letter
            short = f"_{stem[: self._max - _HASH_HEX - 2]}_{digest}"
        return short
