"""Reading Anthropic request content as plain text, image URLs and files, for any wire.

Owns: what every OpenAI-dialect translator reads out of Anthropic content blocks the same way,
whatever part shape its upstream wants — system text with Claude Code's attribution block
dropped (protocol.md §6.4) and `mid_conv_system` blocks unwrapped, the text a model should read
for text-like blocks (`text`, `search_result`, text `document`s, `tool_reference`, §1.6), an
image source as a URL (`data:` URL for base64, §3.1, §7 item 15), and a PDF `document` as a
file name plus a `data:` URL or its URL (§3.1). Used by `openai_messages` (Chat Completions
parts) and `responses_input` (Responses API items).

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccroute.errors import TranslationError

ATTRIBUTION_PREFIX = "x-anthropic-billing-header:"
"""Claude Code's per-conversation attribution system block; dropped (protocol.md §6.4)."""

DEFAULT_PDF_NAME = "document.pdf"

JOIN = "\n\n"
"""Separator between text blocks that an upstream receives as one string."""


def system_text(system: object, path: str) -> str:
    """System content (a string, or `text` / `mid_conv_system` blocks) as one string.

    Blocks are joined with a blank line; empty or whitespace-only text and the attribution
    block are dropped (§6.4, §7 item 1). "" when nothing is left.

    Raises:
        TranslationError: content that is not a string or a list of those blocks, naming `path`.
    """
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
            inner = system_text(block.get("content"), f"{path}.{j}.content")
            if inner:
                texts.append(inner)
        else:
            raise TranslationError(f"{path}.{j}.type: {kind!r} is not allowed in system content")
    return JOIN.join(texts)


def block_text(block: Mapping[str, Any]) -> str:
    """The text a model should read for a text-like block; a marker for what we cannot send.

    `text` → its text; `search_result` → title and content texts; a text `document` → titled
    text (`document_text`); `tool_reference` → `[tool loaded: <name>]`; anything else → "".
    """
    match block.get("type"):
        case "text":
            return str(block["text"])
        case "search_result":
            texts = [inner.get("text", "") for inner in block.get("content") or ()]
            return JOIN.join([str(block.get("title", "")), *texts]).strip()
        case "document":
            return document_text(block)
        case "tool_reference":
            return f"[tool loaded: {block.get('tool_name', '')}]"
    return ""


def is_file(block: Mapping[str, Any]) -> bool:
    """True for a `document` whose source is a file (`base64` or `url`, i.e. a PDF)."""
    source = block.get("source")
    return isinstance(source, dict) and source.get("type") in ("base64", "url")


def document_text(block: Mapping[str, Any]) -> str:
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
                body = JOIN.join(block_text(b) for b in inner or () if isinstance(b, dict))
        case _:
            return ""
    heading = [str(block[k]) for k in ("title", "context") if isinstance(block.get(k), str)]
    return JOIN.join([*heading, body]) if body.strip() else ""


@dataclass(frozen=True)
class DocumentFile:
    """A file `document` as an upstream takes it.

    Attributes:
        filename: the document's `title`, else the URL's last path segment, else
            `DEFAULT_PDF_NAME`.
        url: a `data:<media_type>;base64,<data>` URL for a base64 source, else the document URL.
        inline: True when `url` is a `data:` URL built from a base64 source.
    """

    filename: str
    url: str
    inline: bool


def document_file(block: Mapping[str, Any], path: str) -> DocumentFile:
    """The file of a `document` block for which `is_file` holds (§3.1).

    Raises:
        TranslationError: a `url` source without a URL, naming `path`.
    """
    source = block["source"]
    title = block.get("title")
    if source["type"] == "base64":
        media_type = source.get("media_type") or "application/pdf"
        name = title if isinstance(title, str) and title else DEFAULT_PDF_NAME
        return DocumentFile(name, f"data:{media_type};base64,{source['data']}", inline=True)
    url = source.get("url")
    if not isinstance(url, str) or not url:
        raise TranslationError(f"{path}.source.url: required for a url document")
    tail = url.rsplit("/", 1)[-1].split("?", 1)[0]
    name = title if isinstance(title, str) and title else (tail or DEFAULT_PDF_NAME)
    return DocumentFile(name, url, inline=False)


def image_url(source: Mapping[str, Any], path: str) -> str:
    """An image block's `source` as a URL: `data:<media_type>;base64,<data>` or its `url`.

    Raises:
        TranslationError: a source type other than `base64` / `url`, naming `path`.
    """
    match source.get("type"):
        case "base64":
            return f"data:{source['media_type']};base64,{source['data']}"
        case "url":
            return str(source["url"])
        case other:
            raise TranslationError(f"{path}.type: unsupported image source type {other!r}")


Media = list[tuple[int, Mapping[str, Any]]]
"""Image blocks and file documents of a tool_result, each with its position in `content`."""


def tool_result_content(block: Mapping[str, Any]) -> tuple[str, Media]:
    """A `tool_result`'s text and media, for wires that take the two apart (§1.6, §3.1).

    Returns the text — its string `content`, or the `block_text` of its text-like blocks,
    non-empty ones joined with a blank line; "" when there is none — and its `image` blocks and
    file `document`s (`is_file`) with their position in `content` (for error paths), in order.
    """
    content = block.get("content")
    if isinstance(content, str):
        return (content if content.strip() else ""), []
    texts: list[str] = []
    media: Media = []
    for j, inner in enumerate(content if isinstance(content, list) else ()):
        if inner["type"] == "image" or (inner["type"] == "document" and is_file(inner)):
            media.append((j, inner))
        else:
            text = block_text(inner)
            if text.strip():
                texts.append(text)
    return JOIN.join(texts), media
