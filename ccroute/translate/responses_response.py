"""OpenAI Responses API `response` object → Anthropic Message, and the mappings the stream shares.

Owns: `parse_response` and what both directions of the response path agree on — the thinking
block a `reasoning` output item becomes (and the signature that carries the item back), the
text of a `message` item, status / `incomplete_details.reason` → stop_reason, `usage`, and the
error a failed response becomes. Exported through `ccroute.translate.responses`, whose
docstring lists the wire facts and their sources.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ccroute.errors import UpstreamError
from ccroute.translate import reasoning as r
from ccroute.translate.content import JOIN
from ccroute.translate.events import assistant_message, usage_or_estimate
from ccroute.translate.messages import Message, ResponseBlock, StopReason, Usage
from ccroute.translate.openai_errors import parse_error
from ccroute.translate.openai_response import (
    arguments_complete,
    parse_arguments,
    stop_reason_for,
    tool_use_id,
)
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

CARRIED_KEYS = ("type", "id", "summary", "encrypted_content", "content")
"""The fields of a `reasoning` output item kept in the thinking signature, i.e. those of
`ResponseReasoningItemParam` it is sent back as (`status` is left out: it is output-only)."""

_FINISH_FOR_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}


def reasoning_text(item: Mapping[str, Any]) -> str:
    """The readable text of a `reasoning` item: its `summary` parts' `text`, then its `content`
    parts' `text` (raw reasoning, from servers that return it), non-empty ones joined with a
    blank line. "" when it holds none (e.g. encrypted content only)."""
    texts: list[str] = []
    for key in ("summary", "content"):
        parts = item.get(key)
        for part in parts if isinstance(parts, list) else ():
            text = part.get("text") if isinstance(part, dict) else None
            if isinstance(text, str) and text:
                texts.append(text)
    return JOIN.join(texts)


def carried_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a `reasoning` output item that goes into its thinking block's signature."""
    kept = {key: item[key] for key in CARRIED_KEYS if item.get(key) is not None}
    kept["type"] = "reasoning"
    if not isinstance(kept.get("summary"), list):
        kept["summary"] = []
    return kept


def reasoning_signature(item: Mapping[str, Any], scope: str) -> str:
    """The thinking signature for a `reasoning` item: `reasoning.encode_signature(scope,
    "reasoning_item", [carried_item(item)])`, decoded by `responses_input` on the next turn."""
    return r.encode_signature(scope, "reasoning_item", [carried_item(item)])


def reasoning_block(item: Mapping[str, Any], scope: str) -> ResponseBlock | None:
    """The Anthropic block for a `reasoning` item: `thinking` with `reasoning_text` and the
    item's signature; `redacted_thinking` (data = the signature) when it has no text but
    `encrypted_content`; None when it has neither (nothing to show or to send back)."""
    text = reasoning_text(item)
    if text:
        return {"type": "thinking", "thinking": text, "signature": reasoning_signature(item, scope)}
    if item.get("encrypted_content"):
        return {"type": "redacted_thinking", "data": reasoning_signature(item, scope)}
    return None


def message_text(item: Mapping[str, Any]) -> str:
    """The text of a `message` item: its `output_text` parts' `text` and `refusal` parts'
    `refusal`, in order, concatenated."""
    out: list[str] = []
    parts = item.get("content")
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, dict):
            continue
        value = part.get("refusal") if part.get("type") == "refusal" else part.get("text")
        if isinstance(value, str):
            out.append(value)
    return "".join(out)


def stop_reason_of(
    status: object,
    incomplete_details: object,
    *,
    has_tool_use: bool,
    tool_input_complete: bool = True,
) -> StopReason:
    """Anthropic stop_reason for a finished response's `status` and `incomplete_details`.

    `incomplete` with reason `max_output_tokens` is a `length` finish and `content_filter` a
    `content_filter` finish; anything else (`completed`) a `stop` finish; the mapping of
    `openai_response.stop_reason_for` then applies (tool calls → `tool_use`, unless a call's
    arguments were cut by the limit → `max_tokens`; `content_filter` → `refusal`).
    """
    reason = incomplete_details.get("reason") if isinstance(incomplete_details, dict) else None
    finish = _FINISH_FOR_INCOMPLETE.get(str(reason), "stop") if status == "incomplete" else "stop"
    return stop_reason_for(
        finish, has_tool_use=has_tool_use, tool_input_complete=tool_input_complete
    )


def usage_from(usage: object) -> Usage | None:
    """Anthropic usage from a Responses `usage` object, None when absent (protocol.md §2.3).

    `cache_read_input_tokens` = `input_tokens_details.cached_tokens`;
    `cache_creation_input_tokens` = `input_tokens_details.cache_write_tokens`; `input_tokens` =
    max(`input_tokens` - both, 0), uncached only, so Claude Code does not count them twice;
    `output_tokens` = `output_tokens` (it includes `output_tokens_details.reasoning_tokens`).
    """
    if not isinstance(usage, dict):
        return None
    details = usage.get("input_tokens_details")
    details = details if isinstance(details, dict) else {}
    cache_read = _count(details.get("cached_tokens"))
    cache_write = _count(details.get("cache_write_tokens"))
    return {
        "input_tokens": max(_count(usage.get("input_tokens")) - cache_read - cache_write, 0),
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": _count(usage.get("output_tokens")),
    }


SERVER_ERROR_CODES = frozenset({"server_error", "vector_store_timeout"})
"""`error.code` values that are the upstream's fault; `rate_limit_exceeded` is a rate limit and
any other code (invalid_prompt, the image codes, ...) a problem with the request."""


def failure_error(error: object) -> UpstreamError:
    """The Anthropic error for a failed response's `error` or an `error` stream event.

    The `code` decides the HTTP status it is read with — `SERVER_ERROR_CODES` or none → 500
    (`api_error`), `rate_limit_exceeded` → 429 (`rate_limit_error`), any other → 400
    (`invalid_request_error`, with a context-length message in Anthropic's wording) — and
    `openai_errors.parse_error` maps it (protocol.md §2.5, §7 item 20). A stream ends with an
    `error` event of its type and message; a non-streamed request gets it as its HTTP error.
    """
    fields: dict[str, Any] = {"message": str(error or "")}
    if isinstance(error, dict):
        fields = {key: error.get(key) for key in ("code", "message", "param") if key in error}
    code = fields.get("code")
    if code is None or code in SERVER_ERROR_CODES:
        status = 500
    else:
        status = 429 if code == "rate_limit_exceeded" else 400
    return parse_error(status, json.dumps({"error": fields}).encode())


def parse_response(
    body: dict[str, Any],
    *,
    message_id: str,
    model: str,
    target: Target | None = None,
    tool_names: ToolNames | None = None,
    input_tokens_estimate: int = 0,
) -> Message:
    """Translate a non-streaming Responses API `response` object into an Anthropic Message.

    Content follows `output` in order: a `reasoning` item → `reasoning_block` (signed for
    `target.scope`), a `message` item → one `text` block with `message_text` (whitespace-only
    text is dropped, protocol.md §7 item 1), a `function_call` item → a `tool_use` block
    (`id` from its `call_id` via `openai_response.tool_use_id`, `name` mapped back through
    `tool_names`, `input` from `parse_arguments` of its JSON `arguments` string); other item
    types (built-in tool calls) are skipped. `stop_reason` from `stop_reason_of`;
    `stop_sequence` is always null (the API has no stop sequences). Usage from `usage_from`;
    without one, `input_tokens_estimate` and an output estimate over the emitted text,
    arguments and reasoning: what a stream of the same answer reports.

    Raises:
        UpstreamError: `status: "failed"` (`failure_error` of its `error`), a body holding only
            an `error` object (its status from `error.code` when that is one, else 502), or a
            body that is not a response (502 `api_error`).
    """
    if not isinstance(body, dict):
        raise _malformed("the body is not a JSON object")
    error = body.get("error")
    if body.get("status") == "failed":
        raise failure_error(error)
    output = body.get("output")
    if error and not isinstance(output, list):
        code = error.get("code") if isinstance(error, dict) else None
        status = code if isinstance(code, int) and 400 <= code <= 599 else 502
        raise parse_error(status, json.dumps({"error": error}).encode())
    if not isinstance(output, list):
        raise _malformed("it has no output list")
    scope = target.scope if target is not None else ""
    names = tool_names if tool_names is not None else ToolNames()
    content: list[ResponseBlock] = []
    used: set[str] = set()
    chars = 0
    complete = True
    for item in output:
        if not isinstance(item, dict):
            continue
        match item.get("type"):
            case "reasoning":
                block = reasoning_block(item, scope)
                if block is not None:
                    content.append(block)
                    chars += len(reasoning_text(item))
            case "message":
                text = message_text(item)
                if text.strip():
                    content.append({"type": "text", "text": text})
                    chars += len(text)
            case "function_call" if isinstance(item.get("name"), str) and item["name"]:
                raw = item.get("arguments")
                call_id = item.get("call_id") if isinstance(item.get("call_id"), str) else None
                block_id = tool_use_id(
                    call_id, message_id=message_id, index=len(content), used=used
                )
                content.append(
                    {
                        "type": "tool_use",
                        "id": block_id,
                        "name": names.claude(item["name"]),
                        "input": parse_arguments(raw),
                    }
                )
                complete = complete and arguments_complete(raw)
                chars += len(raw) if isinstance(raw, str) else 0
    stop_reason = stop_reason_of(
        body.get("status"),
        body.get("incomplete_details"),
        has_tool_use=any(block["type"] == "tool_use" for block in content),
        tool_input_complete=complete,
    )
    usage = usage_or_estimate(
        usage_from(body.get("usage")), input_tokens=input_tokens_estimate, output_chars=chars
    )
    return assistant_message(
        message_id=message_id,
        model=model,
        content=content,
        stop_reason=stop_reason,
        stop_sequence=None,
        usage=usage,
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _malformed(why: str) -> UpstreamError:
    message = f"The upstream returned a malformed Responses API response: {why}."
    return UpstreamError(502, "api_error", message)
