"""Anthropic Messages request → OpenAI Chat Completions request body.

Owns: `build_request`, `tool_names_for` and `forward_headers` (protocol.md §3.1 mapping table,
§4.3-4.6, §4.12, §6.4, §7 items 1-9, 14, 16, 17, 21). Exported through `ccroute.translate.openai`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from ccroute.errors import TranslationError
from ccroute.translate.messages import MessagesRequest, ToolChoice, ToolDefinition
from ccroute.translate.openai_messages import messages_for
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

MAX_STOP_SEQUENCES = 4
"""OpenAI accepts at most 4 `stop` entries; extra ones are dropped, not failed (§7 item 14)."""

EFFORT_FOR_BUDGET = ((4096, "low"), (16384, "medium"))
"""`thinking.budget_tokens` below each bound → that `reasoning_effort`; larger → "high"."""

USER_HASH_HEX = 32
"""Hex digits of sha256(metadata.user_id) sent as `user` (fits every limit in §7 item 16)."""


def tool_names_for(req: MessagesRequest) -> ToolNames:
    """The request's tool-name map (§7 item 4). `build_request` sends `upstream(name)` for each
    custom tool; the response translators map names back with `claude(name)`."""
    names = ToolNames()
    for tool in req.get("tools") or ():
        if tool.get("type") in (None, "custom") and isinstance(tool.get("name"), str):
            names.upstream(tool["name"])
    return names


def forward_headers(client_headers: Mapping[str, str], *, target: Target) -> dict[str, str]:
    """Headers of Claude Code's request to pass upstream: none. `anthropic-version` and
    `anthropic-beta` mean nothing to an OpenAI-compatible server (protocol.md §2.8)."""
    return {}


def build_request(req: MessagesRequest, *, target: Target, stream: bool) -> dict[str, Any]:
    """Translate a validated Messages request into a `POST /chat/completions` body for `target`.

    Shape: `{"model", "messages", "max_tokens", ["temperature"], ["top_p"], ["stop"], ["tools",
    "tool_choice", "parallel_tool_calls"], ["reasoning" | "reasoning_effort"], ["user"],
    ["cache_control"], ["stream": true, "stream_options": {"include_usage": true}],
    *target.extra_body}` (protocol.md §3.1). Rules, all from §3.1 unless noted:

    - `system` (string or text blocks, joined with a blank line, attribution block dropped §6.4)
      becomes the first `system` message; a mid-conversation `role: "system"` message stays in
      place as a `system` message (§6.4).
    - Empty/whitespace-only text blocks are dropped (§7 item 1); server-tool blocks are dropped;
      user images become `image_url` parts (data: URLs for base64); PDF documents become `file`
      parts (`file_data` a data: URL or the document URL, §3.1), text documents text parts;
      text-only user content is sent as one string (widest server support). A trailing
      assistant message is kept last (prefill, §1.4).
    - `tool_use` → assistant `tool_calls` (arguments are compact JSON; `content: null` when there
      is no text); each `tool_result` → one `tool` message, before the rest of its user message
      and directly after the assistant `tool_calls` message (a mid-conversation system message
      in between is moved after the tool messages); `is_error` → text prefixed `Error: `;
      images and files in a tool_result move to the following user message.
    - Thinking blocks: dropped, except that on assistant turns of the current tool loop (after
      the last user message holding no `tool_result`) a signature ccroute minted for this
      `target.scope` is decoded and its reasoning sent back as `reasoning_details`,
      `reasoning_content` or `reasoning` (§4.4, §7 item 7), when `target.return_reasoning`.
    - Reasoning controls by `target.reasoning` (§4.3, §8): `thinking` enabled with budget B →
      OpenRouter `reasoning: {max_tokens: min(B, max_tokens - 1)}` or `reasoning_effort` by
      `EFFORT_FOR_BUDGET`; adaptive → `reasoning: {effort: E}` (`{enabled: true}` without
      `output_config.effort`) or `reasoning_effort: E` (xhigh and max → high);
      `display: "omitted"` → `exclude: true`; disabled or absent → nothing. Never both fields.
    - Custom tools → `function` tools with `$schema` stripped and names made upstream-safe by
      `tool_names_for` (also in `tool_choice` and history); server tools (a `type` other than
      "custom") are dropped (§1.5, §7 item 17); `tool_choice` and `parallel_tool_calls` are only
      sent when tools remain.
    - `cache_control` markers are kept on system, user, image, file and tool-result parts (and
      the top-level marker) only when `target.cache_control` (§1.7, §4.12); a marked system or
      user content is then sent as parts instead of one string.
    - `max_tokens` is clamped to `target.max_tokens` and raised to at least 1 (§7 item 9);
      `stop_sequences` → `stop` (first 4); `metadata.user_id` → `user` = the first
      `USER_HASH_HEX` hex digits of its sha256 when `target.send_user` (§7 item 16). Dropped:
      output_config, context_management, top_k, betas and every other Anthropic-only field.

    Raises:
        TranslationError: a structure `validate_request` should have rejected, naming its path.
    """
    try:
        return _build(req, target, stream)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise TranslationError(f"request could not be translated ({exc!r})") from exc


def _build(req: MessagesRequest, target: Target, stream: bool) -> dict[str, Any]:
    names = tool_names_for(req)
    body: dict[str, Any] = {"model": target.model, "messages": messages_for(req, target, names)}
    max_tokens = target.output_tokens(req["max_tokens"])
    body["max_tokens"] = max_tokens
    for key in ("temperature", "top_p"):
        value = req.get(key)
        if value is not None:
            body[key] = value
    stop = req.get("stop_sequences")
    if stop:
        body["stop"] = list(stop[:MAX_STOP_SEQUENCES])
    tools = _tools(req.get("tools") or [], names)
    if tools:
        body["tools"] = tools
        choice = req.get("tool_choice")
        if choice:
            body["tool_choice"] = _tool_choice(choice, names)
            if choice.get("disable_parallel_tool_use") and choice["type"] != "none":
                body["parallel_tool_calls"] = False
    body.update(_reasoning_fields(req, target, max_tokens))
    user = hashed_user(req) if target.send_user else None
    if user:
        body["user"] = user
    top_cache = req.get("cache_control")
    if target.cache_control and isinstance(top_cache, dict):
        body["cache_control"] = top_cache
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    for key, value in target.extra_fields().items():
        body.setdefault(key, value)
    return body


def hashed_user(req: MessagesRequest) -> str | None:
    """The `user` sent for `metadata.user_id`: its sha256, `USER_HASH_HEX` hex digits (§7
    item 16); None without one."""
    metadata = req.get("metadata")
    user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
    if not isinstance(user_id, str) or not user_id:
        return None
    return hashlib.sha256(user_id.encode()).hexdigest()[:USER_HASH_HEX]


_OPENAI_EFFORT = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}


def _reasoning_fields(req: MessagesRequest, target: Target, max_tokens: int) -> dict[str, Any]:
    thinking = req.get("thinking")
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if target.reasoning == "none" or not isinstance(thinking, dict):
        return {}
    if kind not in ("enabled", "adaptive"):
        return {}
    output_config = req.get("output_config")
    effort = output_config.get("effort") if isinstance(output_config, dict) else None
    effort = effort if isinstance(effort, str) and effort else None
    budget = thinking.get("budget_tokens") if kind == "enabled" else None
    budget = budget if isinstance(budget, int) and not isinstance(budget, bool) else None
    if target.reasoning == "openrouter":
        reasoning: dict[str, Any]
        if budget is not None and budget > 0:
            reasoning = {"max_tokens": max(1, min(budget, max_tokens - 1))}
        elif effort is not None:
            reasoning = {"effort": effort}
        else:
            reasoning = {"enabled": True}
        if thinking.get("display") == "omitted":
            reasoning["exclude"] = True
        return {"reasoning": reasoning}
    if budget is not None and budget > 0:
        for bound, level in EFFORT_FOR_BUDGET:
            if budget < bound:
                return {"reasoning_effort": level}
        return {"reasoning_effort": "high"}
    if effort is not None and effort in _OPENAI_EFFORT:
        return {"reasoning_effort": _OPENAI_EFFORT[effort]}
    return {}


def _tools(tools: Sequence[ToolDefinition], names: ToolNames) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for j, tool in enumerate(tools):
        if tool.get("type") not in (None, "custom"):
            continue  # server tool: the upstream cannot run it (§1.5)
        try:
            function: dict[str, Any] = {"name": names.upstream(tool["name"])}
            description = tool.get("description")
            if description:
                function["description"] = description
            function["parameters"] = strip_schema(tool["input_schema"])
        except KeyError as exc:
            raise TranslationError(f"tools.{j}.{exc.args[0]}: required") from exc
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: ToolChoice, names: ToolNames) -> str | dict[str, Any]:
    match choice["type"]:
        case "auto":
            return "auto"
        case "any":
            return "required"
        case "none":
            return "none"
        case "tool":
            return {"type": "function", "function": {"name": names.upstream(choice["name"])}}
    raise TranslationError(f"tool_choice.type: unknown {choice['type']!r}")


_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
_SCHEMA_LISTS = frozenset({"anyOf", "allOf", "oneOf", "prefixItems"})
_SCHEMA_VALUES = frozenset(
    {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"}
)


def strip_schema(schema: Any) -> Any:
    """A copy of a JSON Schema without `$schema` anywhere a sub-schema can sit (§7 item 5).

    Only schema positions are walked, so a property *named* `$schema` survives.
    """
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$schema":
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: strip_schema(sub) for name, sub in value.items()}
        elif (key in _SCHEMA_LISTS or key == "items") and isinstance(value, list):
            out[key] = [strip_schema(sub) for sub in value]
        elif key in _SCHEMA_VALUES:
            out[key] = strip_schema(value)
        else:
            out[key] = value
    return out
