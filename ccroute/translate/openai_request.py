"""Anthropic Messages request → OpenAI Chat Completions request body.

Owns: `ModelLimits` and `build_request` (protocol.md §3.1 mapping table, §6.4, §7 items 1, 2, 5,
6, 9, 14, 16, 17). Exported through `ccroute.translate.openai`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ccroute.errors import TranslationError
from ccroute.translate.messages import MessagesRequest, ToolChoice, ToolDefinition

ATTRIBUTION_PREFIX = "x-anthropic-billing-header:"
"""Claude Code's per-conversation attribution system block; dropped (protocol.md §6.4)."""

MAX_STOP_SEQUENCES = 4
"""OpenAI accepts at most 4 `stop` entries; extra ones are dropped, not failed (§7 item 14)."""

EMPTY_TOOL_RESULT = "(no content)"
"""Sent for a tool_result without text: some upstreams turn "" into an empty block (§7 item 1)."""

IMAGES_FOLLOW = "(image content follows in the next user message)"
"""Sent for a tool_result holding only images: tool messages cannot carry images (§3.1)."""

_JOIN = "\n\n"
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True)
class ModelLimits:
    """What the upstream model accepts. `max_tokens`: output cap in tokens, None = no clamp."""

    max_tokens: int | None = None


def build_request(
    req: MessagesRequest, *, upstream_model: str, limits: ModelLimits, stream: bool
) -> dict[str, Any]:
    """Translate a validated Messages request into a `POST /chat/completions` body.

    Shape: `{"model", "messages", "max_tokens", ["temperature"], ["top_p"], ["stop"], ["tools",
    "tool_choice", "parallel_tool_calls"], ["stream": true, "stream_options": {"include_usage":
    true}]}` (protocol.md §3.1). Rules, all from §3.1 unless noted:

    - `system` (string or text blocks, joined with a blank line, attribution block dropped §6.4)
      becomes the first `system` message; a mid-conversation `role: "system"` message stays in
      place as a `system` message (§6.4).
    - Empty/whitespace-only text blocks are dropped (§7 item 1); thinking, redacted_thinking and
      server-tool blocks are dropped; user images become `image_url` parts (data: URLs for
      base64); text-only user content is sent as one string (widest server support).
    - `tool_use` → assistant `tool_calls` (arguments are compact JSON; `content: null` when there
      is no text); each `tool_result` → one `tool` message, before the rest of its user message
      and directly after the assistant `tool_calls` message (a mid-conversation system message
      in between is moved after the tool messages); `is_error` → text prefixed `Error: `;
      images in a tool_result move to the following user message.
    - Custom tools → `function` tools with `$schema` stripped; server tools (a `type` other than
      "custom") are dropped (§1.5, §7 item 17); `tool_choice` and `parallel_tool_calls` are only
      sent when tools remain.
    - `max_tokens` is clamped to `limits.max_tokens` and raised to at least 1 (§7 item 9);
      `stop_sequences` → `stop` (first 4). Dropped: metadata, thinking, output_config,
      context_management, cache_control, top_k and every other Anthropic-only field.

    Raises:
        TranslationError: a structure `validate_request` should have rejected, naming its path.
    """
    try:
        return _build(req, upstream_model, limits, stream)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise TranslationError(f"request could not be translated ({exc!r})") from exc


def _build(
    req: MessagesRequest, upstream_model: str, limits: ModelLimits, stream: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": upstream_model, "messages": _messages(req)}
    max_tokens = req["max_tokens"]
    if limits.max_tokens is not None:
        max_tokens = min(max_tokens, limits.max_tokens)
    body["max_tokens"] = max(max_tokens, 1)
    for key in ("temperature", "top_p"):
        value = req.get(key)
        if value is not None:
            body[key] = value
    stop = req.get("stop_sequences")
    if stop:
        body["stop"] = list(stop[:MAX_STOP_SEQUENCES])
    tools = _tools(req.get("tools") or [])
    if tools:
        body["tools"] = tools
        choice = req.get("tool_choice")
        if choice:
            body["tool_choice"] = _tool_choice(choice)
            if choice.get("disable_parallel_tool_use") and choice["type"] != "none":
                body["parallel_tool_calls"] = False
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _messages(req: MessagesRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    system = _system_text(req.get("system"), "system")
    if system:
        out.append({"role": "system", "content": system})
    for i, message in enumerate(req["messages"]):
        path = f"messages.{i}"
        try:
            role, content = message["role"], message["content"]
            match role:
                case "system":
                    text = _system_text(content, f"{path}.content")
                    if text:
                        out.append({"role": "system", "content": text})
                case "user":
                    _append_user(out, content, path)
                case "assistant":
                    _append_assistant(out, content, path)
                case _:
                    raise TranslationError(f"{path}.role: unknown role {role!r}")
        except (KeyError, TypeError, AttributeError) as exc:
            raise TranslationError(f"{path}: malformed message ({exc!r})") from exc
    return out


def _system_text(system: object, path: str) -> str:
    """System content (string or text blocks, incl. `mid_conv_system`) as one string."""
    if system is None:
        return ""
    if isinstance(system, str):
        return system if system.strip() else ""
    if not isinstance(system, list):
        raise TranslationError(f"{path}: must be a string or an array of text blocks")
    texts: list[str] = []
    for j, block in enumerate(system):
        kind = block.get("type")
        if kind == "text":
            text = block["text"]
            if text.strip() and not text.startswith(ATTRIBUTION_PREFIX):
                texts.append(text)
        elif kind == "mid_conv_system":
            inner = _system_text(block.get("content"), f"{path}.{j}.content")
            if inner:
                texts.append(inner)
        else:
            raise TranslationError(f"{path}.{j}.type: {kind!r} is not allowed in system content")
    return _JOIN.join(texts)


def _append_user(out: list[dict[str, Any]], content: Any, path: str) -> None:
    if isinstance(content, str):
        if content.strip():
            out.append({"role": "user", "content": content})
        return
    tool_messages: list[dict[str, Any]] = []
    moved_images: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        match block["type"]:
            case "tool_result":
                message, images = _tool_message(block, f"{path}.content.{j}")
                tool_messages.append(message)
                moved_images.extend(images)
            case "image":
                parts.append(_image_part(block["source"], f"{path}.content.{j}.source"))
            case "text" | "document" | "search_result":
                text = _block_text(block)
                if text.strip():
                    parts.append({"type": "text", "text": text})
            case "container_upload":
                pass  # a file for Anthropic's code execution container: nothing to send
            case other:
                raise TranslationError(f"{path}.content.{j}.type: {other!r} not allowed in user")
    _insert_tool_messages(out, tool_messages)
    parts = moved_images + parts
    if not parts:
        return
    if all(part["type"] == "text" for part in parts):
        out.append({"role": "user", "content": _JOIN.join(part["text"] for part in parts)})
    else:
        out.append({"role": "user", "content": parts})


def _insert_tool_messages(out: list[dict[str, Any]], tool_messages: list[dict[str, Any]]) -> None:
    """Place tool messages directly after the assistant `tool_calls` turn (and its tool replies),
    ahead of any mid-conversation system messages that came in between (§3.1)."""
    if not tool_messages:
        return
    at = len(out)
    while at > 0 and out[at - 1]["role"] == "system":
        at -= 1
    before = out[at - 1] if at > 0 else None
    if before is None or not (before["role"] == "tool" or before.get("tool_calls")):
        at = len(out)
    out[at:at] = tool_messages


def _tool_message(block: Mapping[str, Any], path: str) -> tuple[dict[str, Any], list[Any]]:
    content = block.get("content")
    images: list[dict[str, Any]] = []
    if content is None:
        text = ""
    elif isinstance(content, str):
        text = content
    else:
        texts: list[str] = []
        for j, inner in enumerate(content):
            if inner["type"] == "image":
                images.append(_image_part(inner["source"], f"{path}.content.{j}.source"))
            else:
                inner_text = _block_text(inner)
                if inner_text.strip():
                    texts.append(inner_text)
        text = _JOIN.join(texts)
    if not text.strip():
        text = IMAGES_FOLLOW if images else EMPTY_TOOL_RESULT
    if block.get("is_error"):
        text = "Error: " + text
    return {"role": "tool", "tool_call_id": block["tool_use_id"], "content": text}, images


def _block_text(block: Mapping[str, Any]) -> str:
    """The text a model should read for a text-like block; a marker for what we cannot send."""
    match block.get("type"):
        case "text":
            return str(block["text"])
        case "search_result":
            texts = [inner.get("text", "") for inner in block.get("content") or ()]
            return _JOIN.join([str(block.get("title", "")), *texts]).strip()
        case "document":
            source = block.get("source") or {}
            if source.get("type") == "text":
                return str(source.get("data", ""))
            return f"[document {block.get('title') or ''} omitted: not supported by this model]"
        case "tool_reference":
            return f"[tool loaded: {block.get('tool_name', '')}]"
    return ""


def _image_part(source: Mapping[str, Any], path: str) -> dict[str, Any]:
    match source.get("type"):
        case "base64":
            url = f"data:{source['media_type']};base64,{source['data']}"
        case "url":
            url = source["url"]
        case other:
            raise TranslationError(f"{path}.type: unsupported image source type {other!r}")
    return {"type": "image_url", "image_url": {"url": url}}


def _append_assistant(out: list[dict[str, Any]], content: Any, path: str) -> None:
    if isinstance(content, str):
        if content.strip():
            out.append({"role": "assistant", "content": content})
        return
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in content:
        match block["type"]:
            case "text":
                if block["text"].strip():
                    texts.append(block["text"])
            case "tool_use":
                arguments = _compact(block["input"])
                function = {"name": block["name"], "arguments": arguments}
                tool_calls.append({"id": block["id"], "type": "function", "function": function})
    if not texts and not tool_calls:
        return
    message: dict[str, Any] = {"role": "assistant", "content": _JOIN.join(texts) or None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    out.append(message)


def _tools(tools: Sequence[ToolDefinition]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for j, tool in enumerate(tools):
        if tool.get("type") not in (None, "custom"):
            continue  # server tool: the upstream cannot run it (§1.5)
        try:
            function: dict[str, Any] = {"name": tool["name"]}
            description = tool.get("description")
            if description:
                function["description"] = description
            function["parameters"] = strip_schema(tool["input_schema"])
        except KeyError as exc:
            raise TranslationError(f"tools.{j}.{exc.args[0]}: required") from exc
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    match choice["type"]:
        case "auto":
            return "auto"
        case "any":
            return "required"
        case "none":
            return "none"
        case "tool":
            return {"type": "function", "function": {"name": choice["name"]}}
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
