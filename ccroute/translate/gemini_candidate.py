"""Reading one Gemini `GenerateContentResponse`: its parts, finishReason, usage and blocks.

Owns: the mappings the stream and the non-stream answer share (protocol.md §5.4-5.6, §8):
`candidate_parts`, `finish_reason_of`, `stop_reason_for` (finishReason → stop_reason),
`usage_from` (usageMetadata → Anthropic usage), `prompt_block` (a prompt refused before any
candidate) and `error_of` (an error object inside a 200 answer or a stream chunk).

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ccroute.translate.messages import StopReason, Usage

REFUSAL_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "LANGUAGE",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "IMAGE_OTHER",
    }
)
"""finishReasons that mean Gemini refused to go on: Anthropic `refusal` (§5.5, §8)."""


def candidate(response: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first candidate (`index` 0 or absent) of a response, None when there is none."""
    candidates = response.get("candidates")
    for item in candidates if isinstance(candidates, list) else ():
        if isinstance(item, dict) and item.get("index", 0) == 0:
            return item
    return None


def candidate_parts(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parts of the first candidate's content (dicts only; [] when absent)."""
    found = candidate(response)
    content = found.get("content") if found is not None else None
    parts = content.get("parts") if isinstance(content, dict) else None
    return [part for part in parts if isinstance(part, dict)] if isinstance(parts, list) else []


def finish_reason_of(response: Mapping[str, Any]) -> str | None:
    """The first candidate's `finishReason` (on the last chunk of a stream, §5.4), or None."""
    found = candidate(response)
    reason = found.get("finishReason") if found is not None else None
    return reason if isinstance(reason, str) and reason else None


def stop_reason_for(finish_reason: str | None, *, has_tool_use: bool) -> StopReason:
    """Anthropic stop_reason for a Gemini finishReason (§5.5, §8).

    Any function call → `tool_use` (Gemini answers STOP with calls; on the Gemini API each call
    arrives whole, §5.2, so a call next to MAX_TOKENS is complete too); MAX_TOKENS →
    `max_tokens`; the `REFUSAL_REASONS` → `refusal`; STOP, MALFORMED_FUNCTION_CALL,
    UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, OTHER, unspecified or unknown → `end_turn`.
    """
    if has_tool_use:
        return "tool_use"
    if finish_reason == "MAX_TOKENS":
        return "max_tokens"
    if finish_reason in REFUSAL_REASONS:
        return "refusal"
    return "end_turn"


def usage_from(metadata: object) -> Usage | None:
    """Anthropic usage from `usageMetadata` (running totals in a stream; the last one counts),
    None when absent (§5.6, §2.3).

    `cache_read_input_tokens` = `cachedContentTokenCount`; `input_tokens` = `promptTokenCount`
    minus it (the prompt count includes cached content, Claude Code adds the fields up);
    `output_tokens` = `candidatesTokenCount` + `thoughtsTokenCount`; no cache writes.
    """
    if not isinstance(metadata, dict):
        return None
    cached = _count(metadata.get("cachedContentTokenCount"))
    prompt = _count(metadata.get("promptTokenCount"))
    output = _count(metadata.get("candidatesTokenCount")) + _count(
        metadata.get("thoughtsTokenCount")
    )
    return {
        "input_tokens": max(prompt - cached, 0),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": output,
    }


def prompt_block(response: Mapping[str, Any]) -> str | None:
    """The message for a prompt Gemini refused outright (`promptFeedback.blockReason` and no
    candidate, §5.5), None otherwise. It goes to Claude Code as an `invalid_request_error`:
    retrying the same prompt cannot help."""
    feedback = response.get("promptFeedback")
    reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
    if not isinstance(reason, str) or not reason or candidate(response) is not None:
        return None
    detail = feedback.get("blockReasonMessage") if isinstance(feedback, dict) else None
    message = f"Gemini blocked the prompt (blockReason {reason})."
    return f"{message} {detail}" if isinstance(detail, str) and detail else message


def error_of(response: Mapping[str, Any]) -> dict[str, Any] | None:
    """The Google error object (`{"code", "message", "status"}`) a response carries, if any."""
    error = response.get("error")
    return error if isinstance(error, dict) and error else None


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
