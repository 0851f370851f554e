"""A cheap, local estimate of a request's prompt size in tokens.

Owns: `estimate_input_tokens`, which seeds `message_start.usage.input_tokens` before the upstream
reports real usage (protocol.md §2.4: a 0 there breaks Claude Code's context bar until the final
`message_delta`), and can answer `count_tokens` (§2.6: a local estimate is acceptable).

Must not import: anything beyond the standard library (no tokenizer, no network).
"""

from __future__ import annotations

import json
from typing import Any

from ccroute.translate.messages import MessagesRequest

CHARS_PER_TOKEN = 4
"""The rule of thumb used for English text and JSON with BPE tokenizers."""

IMAGE_TOKENS = 1600
"""Flat cost of one image: about what Anthropic charges for a ~1.15 megapixel image."""

MESSAGE_OVERHEAD = 4
"""Role and turn-separator tokens per message."""

TOOL_OVERHEAD = 8
"""Framing tokens per tool definition."""

_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def estimate_input_tokens(req: MessagesRequest) -> int:
    """Estimate the prompt tokens of `req` (system + messages + tools); always >= 1.

    Method: count the characters of every text the model reads (system text, text, thinking,
    tool_use input and tool_result content as compact JSON, tool names, descriptions and
    `input_schema` as compact JSON), divide by `CHARS_PER_TOKEN` rounding up, then add
    `IMAGE_TOKENS` per image, `MESSAGE_OVERHEAD` per message and `TOOL_OVERHEAD` per tool.
    Expect an error of ±30 % against a real tokenizer; it is a seed, replaced by the upstream's
    usage at the end of the stream.
    """
    chars = 0
    fixed = 0
    system = req.get("system")
    if isinstance(system, str):
        chars += len(system)
    elif isinstance(system, list):
        chars += sum(len(block.get("text", "")) for block in system)
    for message in req["messages"]:
        fixed += MESSAGE_OVERHEAD
        content: Any = message["content"]
        if isinstance(content, str):
            chars += len(content)
            continue
        for block in content:
            block_chars, block_fixed = _block_cost(block)
            chars += block_chars
            fixed += block_fixed
    for tool in req.get("tools", []):
        fixed += TOOL_OVERHEAD
        chars += len(tool.get("name", "")) + len(tool.get("description", ""))
        schema = tool.get("input_schema")
        if schema is not None:
            chars += len(_compact(schema))
    return max(1, -(-chars // CHARS_PER_TOKEN) + fixed)


def _block_cost(block: Any) -> tuple[int, int]:
    """(characters, fixed tokens) of one content block."""
    match block.get("type"):
        case "text":
            return len(block.get("text", "")), 0
        case "image":
            return 0, IMAGE_TOKENS
        case "thinking":
            return len(block.get("thinking", "")), 0
        case "tool_use":
            return len(block.get("name", "")) + len(_compact(block.get("input", {}))), 0
        case "tool_result":
            content = block.get("content")
            if isinstance(content, str):
                return len(content), 0
            chars = fixed = 0
            for inner in content or ():
                inner_chars, inner_fixed = _block_cost(inner)
                chars += inner_chars
                fixed += inner_fixed
            return chars, fixed
        case "redacted_thinking":
            return 0, 0
    return len(_compact(block)), 0
