"""Anthropic `system` + `messages` → the OpenAI Chat Completions `messages` array.

Owns: `messages_for` and the per-role conversions it needs — system text and the attribution
block (protocol.md §6.4), user parts (text, images, PDFs as `file` parts), tool results as
`tool` messages placed right after their assistant turn (§3.1, §7 item 2), assistant text,
`tool_calls` and the reasoning sent back from ccroute's own thinking signatures (§4.4, §7 item
7), and `cache_control` markers where the target keeps them (§1.7, §4.12). Used by
`openai_request.build_request`, whose docstring states the rules.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ccroute.errors import TranslationError
from ccroute.translate import reasoning as r
from ccroute.translate.messages import MessagesRequest
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

ATTRIBUTION_PREFIX = "x-anthropic-billing-header:"
"""Claude Code's per-conversation attribution system block; dropped (protocol.md §6.4)."""

EMPTY_TOOL_RESULT = "(no content)"
"""Sent for a tool_result without text: some upstreams turn "" into an empty block (§7 item 1)."""

MEDIA_FOLLOWS = "(image or file content follows in the next user message)"
"""Sent for a tool_result holding only images/files: tool messages carry text only (§3.1)."""

DEFAULT_PDF_NAME = "document.pdf"

_JOIN = "\n\n"
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

Part = dict[str, Any]


class _Context:
    """What translating the messages of one request needs besides the messages."""

    def __init__(self, req: MessagesRequest, target: Target, names: ToolNames) -> None:
        self.target = target
        self.names = names
        self.keep_cache = target.cache_control
        self.loop_start = _current_loop_start(req["messages"])


def messages_for(req: MessagesRequest, target: Target, names: ToolNames) -> list[dict[str, Any]]:
    """The OpenAI `messages` for `req` sent to `target`, tool names mapped through `names`.

    Raises:
        TranslationError: a malformed message, naming its path (`messages.3.role`).
    """
    ctx = _Context(req, target, names)
    out: list[dict[str, Any]] = []
    system = _system_content(req.get("system"), "system", ctx.keep_cache)
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
                    _append_user(out, content, path, ctx)
                case "assistant":
                    _append_assistant(out, content, ctx, in_loop=i > ctx.loop_start)
                case _:
                    raise TranslationError(f"{path}.role: unknown role {role!r}")
        except (KeyError, TypeError, AttributeError) as exc:
            raise TranslationError(f"{path}: malformed message ({exc!r})") from exc
    return out


def _current_loop_start(messages: Sequence[Any]) -> int:
    """Index of the last user message without `tool_result` blocks: the turn the current tool
    loop belongs to. Reasoning is only sent back for assistant messages after it."""
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if not isinstance(content, list) or not any(
            isinstance(block, dict) and block.get("type") == "tool_result" for block in content
        ):
            return i
    return -1


# --- system ------------------------------------------------------------------------------------


def _system_content(system: object, path: str, keep_cache: bool) -> str | list[Part]:
    """The first system message's content: one string, or text parts when a block carries a
    `cache_control` marker that must survive (§1.7, §4.12)."""
    if (
        keep_cache
        and isinstance(system, list)
        and any(isinstance(block, dict) and block.get("cache_control") for block in system)
    ):
        parts: list[Part] = []
        for j, block in enumerate(system):
            text = _system_text([block], f"{path}.{j}")
            if text:
                parts.append(_with_cache({"type": "text", "text": text}, block, keep_cache))
        return parts
    return _system_text(system, path)


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


def _with_cache(part: Part, block: Mapping[str, Any], keep_cache: bool) -> Part:
    marker = block.get("cache_control")
    if keep_cache and isinstance(marker, dict):
        part["cache_control"] = marker
    return part


# --- user --------------------------------------------------------------------------------------


def _append_user(out: list[dict[str, Any]], content: Any, path: str, ctx: _Context) -> None:
    if isinstance(content, str):
        if content.strip():
            out.append({"role": "user", "content": content})
        return
    tool_messages: list[dict[str, Any]] = []
    moved_media: list[Part] = []
    parts: list[Part] = []
    for j, block in enumerate(content):
        where = f"{path}.content.{j}"
        match block["type"]:
            case "tool_result":
                message, media = _tool_message(block, where, ctx)
                tool_messages.append(message)
                moved_media.extend(media)
            case "image":
                part = _image_part(block["source"], f"{where}.source")
                parts.append(_with_cache(part, block, ctx.keep_cache))
            case "document":
                document = _document_part(block, where)
                if document is not None:
                    parts.append(_with_cache(document, block, ctx.keep_cache))
            case "text" | "search_result":
                text = _block_text(block)
                if text.strip():
                    parts.append(_with_cache({"type": "text", "text": text}, block, ctx.keep_cache))
            case "container_upload":
                pass  # a file for Anthropic's code execution container: nothing to send
            case other:
                raise TranslationError(f"{where}.type: {other!r} not allowed in user")
    _insert_tool_messages(out, tool_messages)
    parts = moved_media + parts
    if not parts:
        return
    if all(part["type"] == "text" and "cache_control" not in part for part in parts):
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


def _tool_message(
    block: Mapping[str, Any], path: str, ctx: _Context
) -> tuple[dict[str, Any], list[Part]]:
    """One `tool` message for a tool_result, and the image/file parts that must follow it."""
    content = block.get("content")
    media: list[Part] = []
    marked = isinstance(block.get("cache_control"), dict)
    if content is None:
        text = ""
    elif isinstance(content, str):
        text = content
    else:
        texts: list[str] = []
        for j, inner in enumerate(content):
            kind = inner["type"]
            if kind == "image":
                media.append(_image_part(inner["source"], f"{path}.content.{j}.source"))
            elif kind == "document" and _is_file(inner):
                document = _document_part(inner, f"{path}.content.{j}")
                if document is not None:
                    media.append(document)
            else:
                inner_text = _block_text(inner)
                if inner_text.strip():
                    texts.append(inner_text)
            marked = marked or isinstance(inner.get("cache_control"), dict)
        text = _JOIN.join(texts)
    if not text.strip():
        text = MEDIA_FOLLOWS if media else EMPTY_TOOL_RESULT
    if block.get("is_error"):
        text = "Error: " + text
    tool_call_id = block["tool_use_id"]
    if ctx.keep_cache and marked:
        marker = block.get("cache_control") or {"type": "ephemeral"}
        parts = [{"type": "text", "text": text, "cache_control": marker}]
        return {"role": "tool", "tool_call_id": tool_call_id, "content": parts}, media
    return {"role": "tool", "tool_call_id": tool_call_id, "content": text}, media


def _block_text(block: Mapping[str, Any]) -> str:
    """The text a model should read for a text-like block; a marker for what we cannot send."""
    match block.get("type"):
        case "text":
            return str(block["text"])
        case "search_result":
            texts = [inner.get("text", "") for inner in block.get("content") or ()]
            return _JOIN.join([str(block.get("title", "")), *texts]).strip()
        case "document":
            return _document_text(block)
        case "tool_reference":
            return f"[tool loaded: {block.get('tool_name', '')}]"
    return ""


def _is_file(block: Mapping[str, Any]) -> bool:
    source = block.get("source")
    return isinstance(source, dict) and source.get("type") in ("base64", "url")


def _document_text(block: Mapping[str, Any]) -> str:
    """A text document's text (`text` or `content` source), titled; "" for file documents."""
    source = block.get("source")
    source = source if isinstance(source, dict) else {}
    match source.get("type"):
        case "text":
            body = str(source.get("data", ""))
        case "content":
            inner = source.get("content")
            if isinstance(inner, str):
                body = inner
            else:
                body = _JOIN.join(_block_text(b) for b in inner or () if isinstance(b, dict))
        case _:
            return ""
    heading = [str(block[k]) for k in ("title", "context") if isinstance(block.get(k), str)]
    return _JOIN.join([*heading, body]) if body.strip() else ""


def _document_part(block: Mapping[str, Any], path: str) -> Part | None:
    """A `document` block as an OpenAI part: PDFs (base64 or URL) → `file` with a data: URL or
    the URL in `file_data` (§3.1, OpenRouter); text documents → a text part; None if empty."""
    if not _is_file(block):
        text = _document_text(block)
        return {"type": "text", "text": text} if text.strip() else None
    source = block["source"]
    title = block.get("title")
    if source["type"] == "base64":
        media_type = source.get("media_type") or "application/pdf"
        data = f"data:{media_type};base64,{source['data']}"
        name = title if isinstance(title, str) and title else DEFAULT_PDF_NAME
    else:
        data = source.get("url")
        if not isinstance(data, str) or not data:
            raise TranslationError(f"{path}.source.url: required for a url document")
        tail = data.rsplit("/", 1)[-1].split("?", 1)[0]
        name = title if isinstance(title, str) and title else (tail or DEFAULT_PDF_NAME)
    return {"type": "file", "file": {"filename": name, "file_data": data}}


def _image_part(source: Mapping[str, Any], path: str) -> Part:
    match source.get("type"):
        case "base64":
            url = f"data:{source['media_type']};base64,{source['data']}"
        case "url":
            url = source["url"]
        case other:
            raise TranslationError(f"{path}.type: unsupported image source type {other!r}")
    return {"type": "image_url", "image_url": {"url": url}}


# --- assistant ---------------------------------------------------------------------------------


def _append_assistant(
    out: list[dict[str, Any]], content: Any, ctx: _Context, *, in_loop: bool
) -> None:
    if isinstance(content, str):
        if content.strip():
            out.append({"role": "assistant", "content": content})
        return
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    carried: list[tuple[r.Carried, str]] = []
    for block in content:
        match block["type"]:
            case "text":
                if block["text"].strip():
                    texts.append(block["text"])
            case "tool_use":
                arguments = _compact(block["input"])
                name = ctx.names.upstream(block["name"])
                function = {"name": name, "arguments": arguments}
                tool_calls.append({"id": block["id"], "type": "function", "function": function})
            case "thinking" | "redacted_thinking" if in_loop and ctx.target.return_reasoning:
                signature = block.get("signature", block.get("data"))
                found = r.decode_signature(signature, ctx.target.scope)
                if found is not None:
                    carried.append((found, str(block.get("thinking") or "")))
    if not texts and not tool_calls:
        return
    message: dict[str, Any] = {"role": "assistant", "content": _JOIN.join(texts) or None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    message.update(_reasoning_back(carried))
    out.append(message)


def _reasoning_back(carried: list[tuple[r.Carried, str]]) -> dict[str, Any]:
    """The assistant-message fields that give an upstream its own reasoning back (§4.4):
    the merged `reasoning_details`, or the thinking text as `reasoning_content` / `reasoning`."""
    fields: dict[str, Any] = {}
    details = [dict(item) for found, _ in carried for item in found.details]
    if details:
        fields["reasoning_details"] = details
    for kind in ("reasoning_content", "reasoning"):
        text = "".join(thinking for found, thinking in carried if found.kind == kind)
        if text:
            fields[kind] = text
    return fields
