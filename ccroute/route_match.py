"""What the routing decision reads from a request, beyond its top-level fields.

Owns: the subagent tag (`SUBAGENT_OPEN`/`SUBAGENT_CLOSE`, `subagent_tag`, which finds it and
gives a copy of the request without it, copying only the containers it changes), the image
scan (`has_image`, `tool_result` content included), the latest user text rules match keywords
and regexes against (`latest_user_text`), and `rule_matches`, a `[[router.rules]]` entry's
conditions. Pure and fast: no I/O, no serialisation, one walk over the blocks at most.

Must not import: aiohttp, typer, rich, keyring, or anything from ccroute but `config` and
`translate.messages` (the request's type).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any, cast

from ccroute.config import ProviderConfig, split_model_ref
from ccroute.config.model import RouteRule
from ccroute.translate.messages import MessagesRequest

SUBAGENT_OPEN = "<CCR-SUBAGENT-MODEL>"
SUBAGENT_CLOSE = "</CCR-SUBAGENT-MODEL>"
"""The subagent tag (claude-code-router's convention): `<CCR-SUBAGENT-MODEL>provider,model
</CCR-SUBAGENT-MODEL>` at the start of a system text block or of the first user message."""


def has_image(messages: Iterable[Any]) -> bool:
    """Whether any message has an `image` block, at top level or in a `tool_result`'s content
    (protocol.md §1.6, §6.4: Read on an image file returns one there)."""
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and _blocks_have_image(content):
            return True
    return False


def _blocks_have_image(blocks: list[Any]) -> bool:
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "image":
            return True
        if kind == "tool_result":
            inner = block.get("content")
            if isinstance(inner, list) and _blocks_have_image(inner):
                return True
    return False


def latest_user_text(req: MessagesRequest) -> str:
    """The text of the latest user message that has text (tool_result-only turns skipped)."""
    for message in reversed(req.get("messages", ())):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [
            b["text"]
            for b in content or ()
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        ]
        if texts:
            return "\n".join(texts)
    return ""


def rule_matches(
    rule: RouteRule, req: MessagesRequest, input_tokens: int, session_id: str | None
) -> bool:
    """Whether every condition `rule` sets holds: model pattern (fnmatch, case-insensitive),
    `min_tokens <= input_tokens <= max_tokens`, a tool name among `tools`, the session id, and
    a keyword (case-insensitive substring) and/or regex in `latest_user_text`."""
    if rule.session is not None and rule.session != session_id:
        return False
    if rule.model is not None and not fnmatchcase(req.get("model", "").lower(), rule.model.lower()):
        return False
    if rule.min_tokens is not None and input_tokens < rule.min_tokens:
        return False
    if rule.max_tokens is not None and input_tokens > rule.max_tokens:
        return False
    if rule.tools:
        names = {tool.get("name") for tool in req.get("tools") or ()}
        if not names.intersection(rule.tools):
            return False
    if rule.keyword or rule.regex is not None:
        text = latest_user_text(req)
        if rule.keyword:
            lowered = text.lower()
            if not any(word in lowered for word in rule.keyword):
                return False
        if rule.regex is not None and re.search(rule.regex, text) is None:
            return False
    return True


def _strip_tag(text: str, providers: Mapping[str, ProviderConfig]) -> tuple[str, str] | None:
    """(ref, text without the tag) when `text` starts with a subagent tag naming a provider."""
    stripped = text.lstrip()
    if not stripped.startswith(SUBAGENT_OPEN):
        return None
    end = stripped.find(SUBAGENT_CLOSE, len(SUBAGENT_OPEN))
    if end < 0:
        return None
    ref = stripped[len(SUBAGENT_OPEN) : end].strip()
    parts = split_model_ref(ref)
    if parts is None or parts[0] not in providers:
        return None
    return ref, stripped[end + len(SUBAGENT_CLOSE) :].lstrip()


def subagent_tag(
    req: MessagesRequest, providers: Mapping[str, ProviderConfig]
) -> tuple[str, MessagesRequest] | None:
    """(ref, a copy of `req` without the tag) when a system block or the first user message
    starts with the subagent tag; None otherwise. Only the changed containers are copied."""
    system = req.get("system")
    if isinstance(system, str):
        found = _strip_tag(system, providers)
        if found is not None:
            return found[0], cast(MessagesRequest, {**req, "system": found[1]})
    elif isinstance(system, list):
        hit = _tag_in_blocks(system, providers)
        if hit is not None:
            return hit[0], cast(MessagesRequest, {**req, "system": hit[1]})
    messages = req.get("messages", [])
    first = next((i for i, m in enumerate(messages) if m.get("role") == "user"), None)
    if first is None:
        return None
    content = messages[first].get("content")
    new_content: Any
    if isinstance(content, str):
        found = _strip_tag(content, providers)
        if found is None:
            return None
        ref, new_content = found
    elif isinstance(content, list):
        hit = _tag_in_blocks(content, providers)
        if hit is None:
            return None
        ref, new_content = hit
    else:
        return None
    new_messages = list(messages)
    new_messages[first] = {**messages[first], "content": new_content}
    return ref, cast(MessagesRequest, {**req, "messages": new_messages})


def _tag_in_blocks(
    blocks: list[Any], providers: Mapping[str, ProviderConfig]
) -> tuple[str, list[Any]] | None:
    for i, block in enumerate(blocks):
        if isinstance(block, dict) and block.get("type") == "text":
            found = _strip_tag(str(block.get("text", "")), providers)
            if found is not None:
                copy = list(blocks)
                copy[i] = {**block, "text": found[1]}
                return found[0], copy
    return None
