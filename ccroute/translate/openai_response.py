"""OpenAI `chat.completion` → Anthropic Message, and the mappings the stream shares with it.

Owns: `parse_response` and the pieces both directions of the response path agree on:
finish_reason → stop_reason, usage, tool_use ids, tool-call arguments (protocol.md §3.3, §2.3,
§7 items 3, 11, 12, 13). Exported through `ccroute.translate.openai`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from ccroute.errors import UpstreamError
from ccroute.translate import reasoning as r
from ccroute.translate.events import assistant_message, usage_or_estimate
from ccroute.translate.messages import Message, ResponseBlock, StopReason, Usage
from ccroute.translate.openai_errors import parse_error
from ccroute.translate.partialjson import closing_suffix
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

_TOOL_ID = re.compile(r"[a-zA-Z0-9_-]+")
_decoder = json.JSONDecoder()


def stop_reason_for(
    finish_reason: object, *, has_tool_use: bool, tool_input_complete: bool = True
) -> StopReason:
    """Anthropic stop_reason for an OpenAI finish_reason (protocol.md §3.3, §7 item 13).

    Any emitted tool call → `tool_use` (fixes `stop` with calls), except under `length` when a
    call's arguments were cut off (`tool_input_complete` False): then `max_tokens`, as
    Anthropic reports a tool_use cut by the output limit, so Claude Code does not run a tool
    with half its input. Otherwise `length` → `max_tokens`; `content_filter` → `refusal`;
    `stop`, `tool_calls` without calls, None and unknown values → `end_turn`.
    """
    if finish_reason == "length" and not (has_tool_use and tool_input_complete):
        return "max_tokens"
    if has_tool_use:
        return "tool_use"
    if finish_reason == "content_filter":
        return "refusal"
    return "end_turn"


def matched_stop_sequence(choice: Mapping[str, Any]) -> str | None:
    """The stop string that ended a choice, when the server says (vLLM's `stop_reason`, §3.3)."""
    value = choice.get("stop_reason")
    if choice.get("finish_reason") == "stop" and isinstance(value, str) and value:
        return value
    return None


def usage_from(usage: object) -> Usage | None:
    """Anthropic usage from an OpenAI `usage` object, None when absent (§3.3, §2.3).

    `cache_read_input_tokens` = `prompt_tokens_details.cached_tokens` (or DeepSeek's
    `prompt_cache_hit_tokens`); `cache_creation_input_tokens` =
    `prompt_tokens_details.cache_write_tokens` (OpenRouter); `input_tokens` =
    max(prompt_tokens - both, 0) so Claude Code does not double count; `output_tokens` =
    `completion_tokens` (includes reasoning tokens).
    """
    if not isinstance(usage, dict):
        return None
    details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    cache_read = (
        _count(details.get("cached_tokens"))
        or _count(usage.get("cache_read_input_tokens"))
        or _count(usage.get("prompt_cache_hit_tokens"))
    )
    cache_write = _count(details.get("cache_write_tokens")) or _count(
        usage.get("cache_creation_input_tokens")
    )
    prompt = _count(usage.get("prompt_tokens"))
    return {
        "input_tokens": max(prompt - cache_read - cache_write, 0),
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": _count(usage.get("completion_tokens")),
    }


def tool_use_id(upstream_id: str | None, *, message_id: str, index: int, used: set[str]) -> str:
    """A tool_use id matching `^[a-zA-Z0-9_-]+$` and unique in the message (§7 item 3).

    The upstream id is kept when compliant and unused; otherwise `toolu_` + 24 hex digits of
    sha256 over the upstream id (or, without one, `message_id:index`, index = content block
    index), so the same answer always gets the same id. The id is added to `used`.
    """
    if upstream_id and _TOOL_ID.fullmatch(upstream_id) and upstream_id not in used:
        candidate = upstream_id
    else:
        seed = f"{upstream_id}:{index}" if upstream_id else f"{message_id}:{index}"
        candidate = "toolu_" + hashlib.sha256(seed.encode()).hexdigest()[:24]
    used.add(candidate)
    return candidate


def arguments_complete(arguments: object) -> bool:
    """True when tool-call arguments are one whole JSON object (a dict sent as-is counts)."""
    if isinstance(arguments, dict):
        return True
    if not isinstance(arguments, str) or not arguments.strip():
        return False
    try:
        return isinstance(json.loads(arguments), dict)
    except ValueError:
        return False


def parse_arguments(arguments: object) -> dict[str, Any]:
    """tool_use `input` from a tool call's `arguments` (a JSON string per OpenAI, §3.3).

    Empty or missing → `{}`. An object sent as-is (some servers) is kept. Invalid JSON: the
    first complete JSON value is used when it is an object (repairs a call whose JSON was
    repeated or followed by junk, §7 item 11); an object cut off part-way is closed with
    `partialjson.closing_suffix` (as the stream does); anything else becomes `{"_raw": <arguments>}`
    so the model sees what it sent when Claude Code reports the bad input.
    """
    if isinstance(arguments, dict):
        return arguments
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        try:
            value, _ = _decoder.raw_decode(arguments.strip())
        except ValueError:
            suffix = closing_suffix(arguments)
            if not suffix:
                return {"_raw": arguments}
            value = json.loads(arguments.strip() + suffix)
    return value if isinstance(value, dict) else {"_raw": arguments}


def parse_response(
    body: dict[str, Any],
    *,
    message_id: str,
    model: str,
    target: Target | None = None,
    tool_names: ToolNames | None = None,
    input_tokens_estimate: int = 0,
) -> Message:
    """Translate a non-streaming `chat.completion` body into an Anthropic Message (§3.3, §2.1).

    Content, in Anthropic order (§3.3): reasoning first — `message.reasoning_details` (text of
    `reasoning.text`/`reasoning.summary` items), else `reasoning_content` or `reasoning` — as
    one `thinking` block signed by `reasoning.encode_signature` for `target.scope` (a
    `redacted_thinking` block when the details hold no text, §4.4); then the text (if not
    whitespace-only); then one `tool_use` per tool call with `input` from `parse_arguments`
    and its name mapped back through `tool_names`; calls without a function name are skipped.
    `stop_reason` from `stop_reason_for`; `stop_sequence` only when the server names the
    matched string. Usage from `usage_from`; when the upstream sent none,
    `input_tokens_estimate` and an output estimate over the emitted text: the figures a stream
    of the same answer reports (§2.4; 0 input tokens would break Claude Code's context bar).

    Raises:
        UpstreamError: the body carries an `error` object (OpenRouter can answer 200 with one),
            or is not a chat.completion (502 `api_error`).
    """
    if not isinstance(body, dict):
        raise _malformed("the body is not a JSON object")
    error = body.get("error")
    if error:
        code = error.get("code") if isinstance(error, dict) else None
        status = code if isinstance(code, int) and 400 <= code <= 599 else 502
        raise parse_error(status, json.dumps({"error": error}).encode())
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _malformed("it has no choices")
    choice: dict[str, Any] = choices[0]
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    content: list[ResponseBlock] = _reasoning_blocks(message, target)
    reasoning_chars = sum(len(b["thinking"]) for b in content if b["type"] == "thinking")
    names = tool_names if tool_names is not None else ToolNames()
    text = _message_text(message.get("content")) or _message_text(message.get("refusal"))
    if not text.strip():
        text = ""  # whitespace-only text is not emitted (§7 item 1), so it is not counted either
    else:
        content.append({"type": "text", "text": text})
    used: set[str] = set()
    arguments_chars = 0
    complete = True
    for call in message.get("tool_calls") or ():
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not function.get("name"):
            continue
        upstream_id = call.get("id") if isinstance(call.get("id"), str) else None
        block_id = tool_use_id(upstream_id, message_id=message_id, index=len(content), used=used)
        arguments = parse_arguments(function.get("arguments"))
        complete = complete and arguments_complete(function.get("arguments"))
        arguments_chars += len(str(function.get("arguments") or ""))
        name = names.claude(function["name"])
        content.append({"type": "tool_use", "id": block_id, "name": name, "input": arguments})
    has_tool_use = any(block["type"] == "tool_use" for block in content)
    stop_reason = stop_reason_for(
        choice.get("finish_reason"), has_tool_use=has_tool_use, tool_input_complete=complete
    )
    stop_sequence = matched_stop_sequence(choice) if stop_reason == "end_turn" else None
    if stop_sequence is not None:
        stop_reason = "stop_sequence"
    usage = usage_or_estimate(
        usage_from(body.get("usage")),
        input_tokens=input_tokens_estimate,
        output_chars=len(text) + arguments_chars + reasoning_chars,
    )
    return assistant_message(
        message_id=message_id,
        model=model,
        content=content,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        usage=usage,
    )


def _reasoning_blocks(message: dict[str, Any], target: Target | None) -> list[ResponseBlock]:
    scope = target.scope if target is not None else ""
    details = r.details_of(message)
    if details:
        accumulator = r.DetailsAccumulator()
        accumulator.add(details)
        merged = accumulator.items()
        signature = r.encode_signature(scope, "reasoning_details", merged)
        text = "".join(r.detail_text(item) for item in merged)
        if not text:
            return [{"type": "redacted_thinking", "data": signature}]
        return [{"type": "thinking", "thinking": text, "signature": signature}]
    plain = r.reasoning_of(message)
    if plain is None:
        return []
    kind, text = plain
    return [{"type": "thinking", "thinking": text, "signature": r.encode_signature(scope, kind)}]


def _message_text(content: object) -> str:
    """Assistant text from a string or a list of `{"type":"text","text":..}` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _malformed(why: str) -> UpstreamError:
    message = f"The upstream returned a malformed chat.completion: {why}."
    return UpstreamError(502, "api_error", message)
