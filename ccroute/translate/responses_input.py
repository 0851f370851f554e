"""Anthropic `messages` → the OpenAI Responses API `input` items.

Owns: `input_for` and the per-role conversions it needs — user `message` items with
`input_text` / `input_image` / `input_file` parts, `function_call_output` items for tool
results (placed right after the calls they answer), assistant `message` and `function_call`
items, `reasoning` items given back from ccroute's own thinking signatures, and
mid-conversation system messages (protocol.md §6.4). Used by `responses_request.build_request`,
whose docstring states the rules; `ccroute.translate.responses` lists the wire facts and their
sources. Reading text, image URLs and files out of content blocks is shared in `content`.

Must not import: anything beyond the standard library, `ccroute.errors`,
`ccroute.jsoncodec` (pure JSON) and `ccroute.translate`.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    tool_result_content,
)
from ccroute.translate.messages import MessagesRequest
from ccroute.translate.openai_messages import EMPTY_TOOL_RESULT
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

IMAGE_DETAIL = "auto"
"""`input_image.detail`, required by the API ("high", "low", "auto" or "original")."""

Item = dict[str, Any]
Part = dict[str, Any]

_compact = dumps_str


def input_for(req: MessagesRequest, target: Target, names: ToolNames) -> list[Item]:
    """The `input` items for `req`'s messages sent to `target`, tool names mapped by `names`.

    Raises:
        TranslationError: a malformed message, naming its path (`messages.3.role`).
    """
    items: list[Item] = []
    for i, message in enumerate(req["messages"]):
        path = f"messages.{i}"
        try:
            role, content = message["role"], message["content"]
            match role:
                case "system":
                    text = system_text(content, f"{path}.content")
                    if text:
                        items.append(_message("system", text))
                case "user":
                    _append_user(items, content, path)
                case "assistant":
                    items.extend(_assistant_items(content, target, names))
                case _:
                    raise TranslationError(f"{path}.role: unknown role {role!r}")
        except (KeyError, TypeError, AttributeError) as exc:
            raise TranslationError(f"{path}: malformed message ({exc!r})") from exc
    return items


def _message(role: str, content: str | list[Part]) -> Item:
    return {"type": "message", "role": role, "content": content}


def _input_text(text: str) -> Part:
    return {"type": "input_text", "text": text}


# --- user --------------------------------------------------------------------------------------


def _append_user(items: list[Item], content: Any, path: str) -> None:
    if isinstance(content, str):
        if content.strip():
            items.append(_message("user", content))
        return
    outputs: list[Item] = []
    parts: list[Part] = []
    for j, block in enumerate(content):
        where = f"{path}.content.{j}"
        match block["type"]:
            case "tool_result":
                outputs.append(_function_call_output(block, where))
            case "image":
                parts.append(_input_image(block["source"], f"{where}.source"))
            case "document":
                document = _document_part(block, where)
                if document is not None:
                    parts.append(document)
            case "text" | "search_result":
                text = block_text(block)
                if text.strip():
                    parts.append(_input_text(text))
            case "container_upload":
                pass  # a file for Anthropic's code execution container: nothing to send
            case other:
                raise TranslationError(f"{where}.type: {other!r} not allowed in user")
    _insert_outputs(items, outputs)
    if not parts:
        return
    if all(part["type"] == "input_text" for part in parts):
        items.append(_message("user", JOIN.join(part["text"] for part in parts)))
    else:
        items.append(_message("user", parts))


def _insert_outputs(items: list[Item], outputs: list[Item]) -> None:
    """Place tool outputs directly after the `function_call` items (and outputs) they answer,
    ahead of any mid-conversation system messages that came in between."""
    if not outputs:
        return
    at = len(items)
    while at > 0 and items[at - 1].get("role") == "system":
        at -= 1
    if at == 0 or items[at - 1]["type"] not in ("function_call", "function_call_output"):
        at = len(items)
    items[at:at] = outputs


def _function_call_output(block: Mapping[str, Any], path: str) -> Item:
    """A tool_result as a `function_call_output`: `output` is the text, or, when the result
    holds images or PDFs, a list of `input_text` / `input_image` / `input_file` parts."""
    text, found = tool_result_content(block)
    media = [
        _input_image(inner["source"], f"{path}.content.{j}.source")
        if inner["type"] == "image"
        else _input_file(inner, f"{path}.content.{j}")
        for j, inner in found
    ]
    if block.get("is_error"):
        text = f"Error: {text}" if text else "Error"
    output: str | list[Part]
    if media:
        output = [_input_text(text), *media] if text else media
    else:
        output = text or EMPTY_TOOL_RESULT
    return {"type": "function_call_output", "call_id": block["tool_use_id"], "output": output}


def _document_part(block: Mapping[str, Any], path: str) -> Part | None:
    if is_file(block):
        return _input_file(block, path)
    text = document_text(block)
    return _input_text(text) if text.strip() else None


def _input_file(block: Mapping[str, Any], path: str) -> Part:
    """A PDF `document` as `input_file`: `file_data` (a data: URL) or `file_url`."""
    document = document_file(block, path)
    key = "file_data" if document.inline else "file_url"
    return {"type": "input_file", "filename": document.filename, key: document.url}


def _input_image(source: Mapping[str, Any], path: str) -> Part:
    return {"type": "input_image", "image_url": image_url(source, path), "detail": IMAGE_DETAIL}


# --- assistant ---------------------------------------------------------------------------------


def _assistant_items(content: Any, target: Target, names: ToolNames) -> list[Item]:
    """An assistant turn's items in its block order: consecutive text blocks → one assistant
    `message`, `tool_use` → `function_call`, thinking → the `reasoning` item its signature
    carries. A reasoning item with nothing after it in the turn is dropped (the API wants each
    reasoning item followed by the item it led to)."""
    if isinstance(content, str):
        return [_message("assistant", content)] if content.strip() else []
    turn: list[Item] = []
    texts: list[str] = []

    def flush() -> None:
        if texts:
            turn.append(_message("assistant", JOIN.join(texts)))
            texts.clear()

    for block in content:
        match block["type"]:
            case "text":
                if block["text"].strip():
                    texts.append(block["text"])
            case "tool_use":
                flush()
                turn.append(
                    {
                        "type": "function_call",
                        "call_id": block["id"],
                        "name": names.upstream(block["name"]),
                        "arguments": _compact(block["input"]),
                    }
                )
            case "thinking" | "redacted_thinking" if target.return_reasoning:
                item = _reasoning_item(block.get("signature", block.get("data")), target.scope)
                if item is not None:
                    flush()
                    turn.append(item)
    flush()
    while turn and turn[-1]["type"] == "reasoning":
        turn.pop()
    return turn


def _reasoning_item(signature: object, scope: str) -> Item | None:
    """The `reasoning` input item a thinking signature carries for `scope`, or None.

    None for foreign signatures, other scopes and other kinds (`reasoning.decode_signature`),
    and for an item with neither `encrypted_content` nor `content`: sent with `store: false`,
    a bare item id refers to nothing the API kept.
    """
    found = r.decode_signature(signature, scope)
    if found is None or found.kind != "reasoning_item" or not found.details:
        return None
    item = dict(found.details[0])
    if not item.get("encrypted_content") and not item.get("content"):
        return None
    item["type"] = "reasoning"
    if not isinstance(item.get("summary"), list):
        item["summary"] = []
    return item
