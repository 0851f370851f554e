"""Claude Code's request → the body and headers for an Anthropic-format upstream (passthrough).

Owns: `build_request`, `build_count_tokens_request`, `forward_headers` and `tool_names_for`
for the `anthropic` wire. The request goes upstream as Claude Code sent it (protocol.md §6.2:
"forward unchanged ... all unknown body fields when the upstream is Anthropic-format"), with
only the changes listed in `build_request`. Exported through `ccroute.translate.anthropic`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ccroute.errors import TranslationError
from ccroute.translate.anthropic_betas import strip_betas, without_assistant_blocks
from ccroute.translate.messages import MessagesRequest
from ccroute.translate.openai_request import USER_HASH_HEX
from ccroute.translate.reasoning import SIGNATURE_PREFIX
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

DEFAULT_VERSION = "2023-06-01"
"""`anthropic-version` sent when Claude Code's request carries none (protocol.md §1.1, §2.8)."""

MIN_THINKING_BUDGET = 1024
"""Anthropic's smallest `thinking.budget_tokens` (protocol.md §1.2, §1.3)."""

SAFE_USER_ID = re.compile(r"[a-zA-Z0-9_-]{6,64}")
"""A `metadata.user_id` every provider of §7 item 16 accepts as it is (DeepSeek's charset,
Zhipu/Doubao's 6-128 length, OpenAI's 64)."""

COUNT_TOKENS_DROPPED = (
    "max_tokens",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "metadata",
    "service_tier",
)
"""Messages-only fields that `POST /v1/messages/count_tokens` does not take (§2.6)."""


def tool_names_for(req: MessagesRequest) -> ToolNames:
    """An empty `ToolNames`: an Anthropic-format upstream takes Claude Code's tool names as
    they are, so every name maps to itself."""
    return ToolNames()


def forward_headers(client_headers: Mapping[str, str], *, target: Target) -> dict[str, str]:
    """The headers of Claude Code's request that go upstream (protocol.md §2.8, §6.2).

    `anthropic-version` as Claude Code sent it (`DEFAULT_VERSION` when absent) and
    `anthropic-beta` verbatim (several header lines joined with ","), unless
    `target.strip_betas`, which drops the header together with its body fields (§6.5). Header
    names are matched case-insensitively. Credentials are not forwarded: the server adds the
    provider's key (`Wire.auth_headers`).
    """
    version = _header(client_headers, "anthropic-version") or DEFAULT_VERSION
    out = {"anthropic-version": version}
    beta = _header(client_headers, "anthropic-beta")
    if beta and not target.strip_betas:
        out["anthropic-beta"] = beta
    return out


def _header(headers: Mapping[str, str], name: str) -> str:
    items: Iterable[tuple[str, str]] = headers.items()
    values = [value.strip() for key, value in items if key.lower() == name and value.strip()]
    return ",".join(values)


def build_request(req: MessagesRequest, *, target: Target, stream: bool) -> dict[str, Any]:
    """The `POST {base}/v1/messages` body for `target`: Claude Code's request, nearly as is.

    Shape: every field of `req`, in its order, with these changes only:
    - `model` = `target.model`; `stream` = `stream` (set when true or when the client sent the
      field, else absent).
    - `max_tokens` clamped to `target.max_tokens` (§7 item 9). When the clamp lowers it and
      manual thinking's `budget_tokens` is no longer below it, the budget becomes
      `max_tokens - 1` (Anthropic requires budget < max_tokens, §1.2); if that is under
      `MIN_THINKING_BUDGET`, `thinking` is removed (thinking off) rather than sent invalid.
    - Thinking blocks whose `signature`, and redacted_thinking blocks whose `data`, ccroute
      minted for another upstream (`reasoning.SIGNATURE_PREFIX`) are removed: real Anthropic
      rejects signatures it did not mint (§7 item 7, §1.3 "when switching models, strip prior
      thinking blocks"). An assistant message left empty is removed too.
    - `metadata.user_id`: kept when it matches `SAFE_USER_ID`, else replaced by the first
      `USER_HASH_HEX` hex digits of its sha256 (§7 item 16: Claude Code's ~150-character JSON
      string fails DeepSeek's `^[a-zA-Z0-9_-]+$` and other compatible providers' limits; the
      hash is stable per Claude Code session and opaque, which is what Anthropic asks of a
      user id). With `target.send_user` false it is removed (other `metadata` keys stay; an
      emptied `metadata` goes too).
    - With `target.strip_betas`, the beta-paired and Anthropic-only parts go
      (`anthropic_betas.strip_betas`).
    Everything else — system blocks (attribution block included, §6.4), `cache_control`,
    images, documents, tools, server tools, `thinking`, `output_config`, `context_management`,
    unknown fields — is forwarded verbatim. `req` is not modified.

    Raises:
        TranslationError: a structure `validate_request` should have rejected.
    """
    try:
        body = _sanitised(req, target)
        max_tokens = body.get("max_tokens")
        if (
            isinstance(max_tokens, int)
            and target.max_tokens is not None
            and max_tokens > target.max_tokens
        ):
            body["max_tokens"] = target.max_tokens
            _fit_thinking_budget(body, target.max_tokens)
        if stream or "stream" in body:
            body["stream"] = stream
        return body
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise TranslationError(f"request could not be translated ({exc!r})") from exc


def build_count_tokens_request(req: MessagesRequest, *, target: Target) -> dict[str, Any]:
    """The `POST {base}/v1/messages/count_tokens` body for `target` (protocol.md §2.6).

    The same changes as `build_request` except the `max_tokens` clamp (the counted prompt
    must be the one `build_request` would send), and without the Messages-only
    `COUNT_TOKENS_DROPPED` fields, which the endpoint does not take. `req` is validated with
    `validate_request(..., count_tokens=True)` and is not modified.

    Raises:
        TranslationError: a structure `validate_request` should have rejected.
    """
    try:
        body = _sanitised(req, target)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise TranslationError(f"request could not be translated ({exc!r})") from exc
    for key in COUNT_TOKENS_DROPPED:
        body.pop(key, None)
    return body


def _sanitised(req: MessagesRequest, target: Target) -> dict[str, Any]:
    """A shallow copy of `req` with the model, signatures, user id and betas handled."""
    body: dict[str, Any] = dict(req)
    body["model"] = target.model
    body["messages"] = without_assistant_blocks(req["messages"], minted)
    metadata = body.get("metadata")
    if isinstance(metadata, Mapping) and "user_id" in metadata:
        body["metadata"] = _metadata(metadata, send_user=target.send_user)
        if not body["metadata"]:
            del body["metadata"]
    if target.strip_betas:
        strip_betas(body)
    return body


def _fit_thinking_budget(body: dict[str, Any], max_tokens: int) -> None:
    thinking = body.get("thinking")
    if not isinstance(thinking, Mapping) or thinking.get("type") != "enabled":
        return
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or budget < max_tokens:
        return
    if max_tokens - 1 < MIN_THINKING_BUDGET:
        del body["thinking"]
    else:
        body["thinking"] = {**thinking, "budget_tokens": max_tokens - 1}


def _metadata(metadata: Mapping[str, Any], *, send_user: bool) -> dict[str, Any]:
    out = dict(metadata)
    user_id = out.pop("user_id")
    if not send_user or user_id is None:
        return out
    text = user_id if isinstance(user_id, str) else str(user_id)
    if SAFE_USER_ID.fullmatch(text) is None:
        text = hashlib.sha256(text.encode()).hexdigest()[:USER_HASH_HEX]
    out["user_id"] = text
    return out


def minted(block: Mapping[str, Any]) -> bool:
    """Whether a thinking or redacted_thinking block carries reasoning ccroute minted for
    another wire (its `signature` / `data` starts with `reasoning.SIGNATURE_PREFIX`)."""
    match block.get("type"):
        case "thinking":
            value = block.get("signature")
        case "redacted_thinking":
            value = block.get("data")
        case _:
            return False
    return isinstance(value, str) and value.startswith(SIGNATURE_PREFIX)
