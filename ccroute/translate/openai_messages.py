"""Anthropic `system` + `messages` → the OpenAI Chat Completions `messages` array.

Owns: `messages_for` and the per-role conversions it needs — system text and the attribution
block (protocol.md §6.4), user parts (text, images, PDFs as `file` parts), tool results as
`tool` messages placed right after their assistant turn (§3.1, §7 item 2), assistant text,
`tool_calls` and the reasoning sent back from ccroute's own thinking signatures (§4.4, §7 item
7), and `cache_control` markers where the target keeps them (§1.7, §4.12). Used by
`openai_request.build_request`, whose docstring states the rules; reading text, image URLs and
files out of content blocks is shared with other wires in `content`.

Must not import: anything beyond the standard library, `ccroute.errors`,
`ccroute.jsoncodec` (pure JSON) and `ccroute.translate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ccroute.errors import TranslationError
from ccroute.jsoncodec import dumps_str
from ccroute.translate import reasoning as r
from ccroute.translate.content import (
    JOIN,
    block_text,
    document_file,
    document_text,
    image_url,
    is_file,
    system_text,
)
from ccroute.translate.messages import MessagesRequest
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

EMPTY_TOOL_RESULT = "(no content)"
"""Sent for a tool_result without text: some upstreams turn "" into an empty block (§7 item 1)."""

MEDIA_FOLLOWS = "(image or file content follows in the next user message)"
"""Sent for a tool_result holding only images/files: tool messages carry text only (§3.1)."""

_compact = dumps_str

Part = dict[str, Any]

_OPENAI_KINDS = ("reasoning_details", "reasoning_content", "reasoning")
"""Carrier kinds this wire can send back (another wire's kind, e.g. after a provider's `wire`
changed mid-conversation, is dropped)."""


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
                    text = system_text(content, f"{path}.content")
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
            text = system_text([block], f"{path}.{j}")
            if text:
                parts.append(_with_cache({"type": "text", "text": text}, block, keep_cache))
        return parts
    return system_text(system, path)


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
                text = block_text(block)
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
        out.append({"role": "user", "content": JOIN.join(part["text"] for part in parts)})
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
            elif kind == "document" and is_file(inner):
                document = _document_part(inner, f"{path}.content.{j}")
                if document is not None:
                    media.append(document)
            else:
                inner_text = block_text(inner)
                if inner_text.strip():
                    texts.append(inner_text)
            marked = marked or isinstance(inner.get("cache_control"), dict)
        text = JOIN.join(texts)
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


def _document_part(block: Mapping[str, Any], path: str) -> Part | None:
    """A `document` block as an OpenAI part: PDFs (base64 or URL) → `file` with a data: URL or
    the URL in `file_data` (§3.1, OpenRouter); text documents → a text part; None if empty."""
    if not is_file(block):
        text = document_text(block)
        return {"type": "text", "text": text} if text.strip() else None
    document = document_file(block, path)
    return {"type": "file", "file": {"filename": document.filename, "file_data": document.url}}


def _image_part(source: Mapping[str, Any], path: str) -> Part:
    return {"type": "image_url", "image_url": {"url": image_url(source, path)}}


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
                if found is not None and found.kind in _OPENAI_KINDS:
                    carried.append((found, str(block.get("thinking") or "")))
    if not texts and not tool_calls:
        return
    message: dict[str, Any] = {"role": "assistant", "content": JOIN.join(texts) or None}
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
