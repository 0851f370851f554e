"""Carrying an upstream's reasoning through Claude Code and back, losslessly.

Owns: the thinking-block `signature` format ccroute mints (`encode_signature` /
`decode_signature`), the merge of streamed OpenRouter `reasoning_details` fragments
(`DetailsAccumulator`), and the reading of reasoning text out of a chunk delta or a message
(`reasoning_of`). Protocol facts: protocol.md §4.4 (OpenRouter `reasoning` /
`reasoning_details`, "concatenate chunks in order, same `index` ⇒ same detail"), §3.2
(`reasoning_content` from DeepSeek, Kimi, vLLM), §1.3 and §7 item 7 (Claude Code returns every
thinking block unchanged; real Anthropic rejects signatures it did not mint).

Signature format: `ccr1.` + unpadded base64url of compact JSON
`{"s": scope, "k": kind, "d": data}` where `scope` is `provider/model` (see `Target.scope`),
`kind` is the field the reasoning came in and must go back in (`reasoning_details`,
`reasoning_content` or `reasoning`; `reasoning_item` for the OpenAI Responses wire), and `d` is
the merged `reasoning_details` list, or for `reasoning_item` a one-element list holding the
Responses API `reasoning` output item (`id`, `summary`, `encrypted_content`, `content`; see
`responses_response`) to send back as an input item; for the other kinds the text travels in
the thinking block itself, so `d` is null. Kind `gemini` carries Gemini `thoughtSignature`s
(§5.7): `d` is a list of anchors, each naming the part its signature goes back on (see
`GEMINI_KIND`).

Must not import: anything beyond the standard library and `ccroute.jsoncodec` (pure JSON).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ccroute.jsoncodec import dumps_str

SIGNATURE_PREFIX = "ccr1."
"""Marks a signature ccroute minted; anything else (e.g. a real Anthropic signature) is foreign."""

ReasoningKind = Literal[
    "reasoning_details", "reasoning_content", "reasoning", "reasoning_item", "gemini"
]
"""The OpenAI-dialect field the reasoning arrived in, and the one it is sent back in (§4.4);
`reasoning_item`: an OpenAI Responses API `reasoning` output item, sent back whole as an input
item (openai-python `types/responses/response_reasoning_item.py`); `gemini`: Gemini
`thoughtSignature`s, which go back on the parts they came on (§5.7, `GEMINI_KIND`)."""

KINDS: tuple[ReasoningKind, ...] = (
    "reasoning_details",
    "reasoning_content",
    "reasoning",
    "reasoning_item",
    "gemini",
)

GEMINI_KIND: ReasoningKind = "gemini"
"""Kind of a signature carrying Gemini `thoughtSignature`s (protocol.md §5.7). Its details are
anchors, one per signature: `{"on": "call", "n": k, "sig": s}` (the functionCall part that became
the message's k-th tool_use block, from 0), `{"on": "text", "n": k, "sig": s}` (the k-th text
block) or `{"on": "thought", "sig": s}` (a thought part holding the thinking block's own text).
`ccroute.translate.gemini_stream` mints them, `gemini_contents` puts them back."""

_compact = dumps_str


@dataclass(frozen=True)
class Carried:
    """A decoded ccroute signature: what to send back, and in which field."""

    kind: ReasoningKind
    details: tuple[Mapping[str, Any], ...] = ()


def encode_signature(scope: str, kind: ReasoningKind, details: Sequence[Any] = ()) -> str:
    """The `signature` (or `redacted_thinking.data`) for reasoning from upstream `scope`.

    `details` is the merged `reasoning_details` list for kind `reasoning_details`, the one
    Responses `reasoning` item for kind `reasoning_item`, the anchors for kind `gemini`
    (`GEMINI_KIND`), else empty.
    """
    payload = {"s": scope, "k": kind, "d": list(details) if details else None}
    raw = base64.urlsafe_b64encode(_compact(payload).encode()).rstrip(b"=")
    return SIGNATURE_PREFIX + raw.decode("ascii")


def decode_signature(signature: object, scope: str) -> Carried | None:
    """What a thinking block's `signature` carries for upstream `scope`, or None.

    None for a foreign signature (not minted by ccroute), one minted for another
    provider/model (so one upstream's reasoning never reaches another), or a damaged one.
    """
    if not isinstance(signature, str) or not signature.startswith(SIGNATURE_PREFIX):
        return None
    raw = signature[len(SIGNATURE_PREFIX) :]
    try:
        payload = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(payload, dict) or payload.get("s") != scope:
        return None
    kind = payload.get("k")
    if kind not in KINDS:
        return None
    data = payload.get("d")
    items = data if isinstance(data, list) else []
    details = tuple(item for item in items if isinstance(item, dict))
    return Carried(kind, details)


def reasoning_of(source: Mapping[str, Any]) -> tuple[ReasoningKind, str] | None:
    """The plain reasoning text in a delta or message, and its field; None when there is none.

    `reasoning_content` (DeepSeek, Kimi, vLLM) is preferred over `reasoning` (OpenRouter, which
    sends the same text in `reasoning_details` too; callers read details first).
    """
    for kind in ("reasoning_content", "reasoning"):
        value = source.get(kind)
        if isinstance(value, str) and value:
            return kind, value
    return None


def details_of(source: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The `reasoning_details` items of a delta or message (dicts only; [] when absent)."""
    value = source.get("reasoning_details")
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def detail_text(item: Mapping[str, Any]) -> str:
    """The human-readable text of one detail: `reasoning.text` text, `reasoning.summary`
    summary; "" for `reasoning.encrypted` and unknown types (§4.4)."""
    match item.get("type"):
        case "reasoning.text":
            text = item.get("text")
        case "reasoning.summary":
            text = item.get("summary")
        case _:
            text = None
    return text if isinstance(text, str) else ""


_CONCATENATED = ("text", "summary", "data")


class DetailsAccumulator:
    """Merges streamed `reasoning_details` fragments into the list OpenRouter wants back.

    Fragments with the same `index` belong to one detail (§4.4): their `text`, `summary` and
    `data` strings are concatenated; other fields (`type`, `id`, `format`, `signature`) take
    the first non-null value. Fragments without an `index` are separate details. Item order is
    first-seen order.
    """

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []
        self._by_index: dict[Any, dict[str, Any]] = {}

    def __bool__(self) -> bool:
        return bool(self._items)

    def add(self, fragments: Sequence[Mapping[str, Any]]) -> None:
        """Merge one chunk's `reasoning_details` list."""
        for fragment in fragments:
            key = fragment.get("index")
            item = self._by_index.get(key) if isinstance(key, int) else None
            if item is None:
                item = dict(fragment)
                self._items.append(item)
                if isinstance(key, int):
                    self._by_index[key] = item
                continue
            for name, value in fragment.items():
                if name in _CONCATENATED and isinstance(value, str):
                    previous = item.get(name)
                    item[name] = (previous if isinstance(previous, str) else "") + value
                elif item.get(name) is None and value is not None:
                    item[name] = value

    def items(self) -> list[dict[str, Any]]:
        """The merged details, in order (copies)."""
        return [dict(item) for item in self._items]
