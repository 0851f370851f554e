"""Anthropic `system` + `messages` → Gemini `systemInstruction` + `contents`.

Owns: `system_instruction` and `contents_for` (protocol.md §5.2, §5.7, §6.4, §7 items 1, 2, 6, 15):
roles `user`/`model` only, consecutive turns of one role merged with `functionResponse` parts
first; user text, images (`inlineData`, or `fileData` for a URL) and PDFs; `tool_result` →
`functionResponse` named after its `tool_use` (looked up by `tool_use_id`), `response` an object
(`{"output": ...}` or `{"error": ...}`); a mid-conversation `role: "system"` message folded into a
user part marked `SYSTEM_MARK`; assistant text and `tool_use` → `model` parts with the
`thoughtSignature`s ccroute carried in its thinking blocks put back on the parts they came on,
and `SKIP_SIGNATURE` on a function-call step that has none. Used by
`gemini_request.build_request`, whose docstring states the rules.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ccroute.errors import TranslationError
from ccroute.translate import reasoning as r
from ccroute.translate.content import JOIN, block_text, is_file, system_text
from ccroute.translate.messages import MessagesRequest
from ccroute.translate.openai_messages import EMPTY_TOOL_RESULT
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

SKIP_SIGNATURE = "skip_thought_signature_validator"
"""Google's documented `thoughtSignature` for function calls Gemini did not produce (§5.7)."""

SYSTEM_MARK = "[System message]\n"
"""Leads the user part a mid-conversation system message becomes (Gemini has no system turns)."""

MEDIA_FOLLOWS = "(the result's images or files follow as parts of this turn)"
"""A tool result holding only media: its parts go after the function responses (§5.2)."""

_EXTENSION_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
}

Part = dict[str, Any]


def system_instruction(system: object) -> dict[str, Any] | None:
    """`{"parts": [{"text": block}, ...]}`, one part per non-empty system block with Claude Code's
    attribution block dropped (§6.4, §7 item 6); None when nothing is left."""
    parts = [{"text": text} for text in _system_texts(system, "system")]
    return {"parts": parts} if parts else None


def contents_for(req: MessagesRequest, target: Target, names: ToolNames) -> list[dict[str, Any]]:
    """The Gemini `contents` for `req`'s messages sent to `target`, tool names via `names`.

    Raises:
        TranslationError: a malformed message or a `tool_result` whose `tool_use_id` names no
            earlier `tool_use`, naming its path (`messages.3.content.0.tool_use_id`).
    """
    builder = _Contents(target, names)
    for i, message in enumerate(req["messages"]):
        path = f"messages.{i}"
        try:
            role, content = message["role"], message["content"]
            match role:
                case "system":
                    text = JOIN.join(_system_texts(content, f"{path}.content"))
                    if text:
                        builder.add("user", [], [{"text": SYSTEM_MARK + text}])
                case "user":
                    builder.add_user(content, path)
                case "assistant":
                    builder.add_model(content, path)
                case _:
                    raise TranslationError(f"{path}.role: unknown role {role!r}")
        except (KeyError, TypeError, AttributeError) as exc:
            raise TranslationError(f"{path}: malformed message ({exc!r})") from exc
    return builder.contents


@dataclass
class _Turn:
    role: str
    responses: list[Part] = field(default_factory=list)  # functionResponse parts lead a turn
    parts: list[Part] = field(default_factory=list)


class _Contents:
    """Accumulates `contents`, merging consecutive turns of one role."""

    def __init__(self, target: Target, names: ToolNames) -> None:
        self._target = target
        self._names = names
        self._turns: list[_Turn] = []
        self._call_names: dict[str, str] = {}  # tool_use id → upstream function name

    @property
    def contents(self) -> list[dict[str, Any]]:
        out = []
        for turn in self._turns:
            parts = turn.responses + turn.parts
            if parts:
                out.append({"role": turn.role, "parts": parts})
        return out

    def add(self, role: str, responses: list[Part], parts: list[Part]) -> None:
        if not responses and not parts:
            return
        if not self._turns or self._turns[-1].role != role:
            self._turns.append(_Turn(role))
        self._turns[-1].responses += responses
        self._turns[-1].parts += parts

    # --- user ----------------------------------------------------------------------------

    def add_user(self, content: Any, path: str) -> None:
        if isinstance(content, str):
            self.add("user", [], [{"text": content}] if content.strip() else [])
            return
        responses: list[Part] = []
        media: list[Part] = []
        parts: list[Part] = []
        for j, block in enumerate(content):
            where = f"{path}.content.{j}"
            match block["type"]:
                case "tool_result":
                    response, result_media = self._function_response(block, where)
                    responses.append(response)
                    media += result_media
                case "image":
                    parts.append(_image_part(block["source"], f"{where}.source"))
                case "document" if is_file(block):
                    parts.append(_file_part(block["source"], f"{where}.source"))
                case "text" | "search_result" | "document":
                    text = block_text(block)
                    if text.strip():
                        parts.append({"text": text})
                case "container_upload":
                    pass  # a file for Anthropic's code execution container: nothing to send
                case other:
                    raise TranslationError(f"{where}.type: {other!r} not allowed in user")
        self.add("user", responses, media + parts)

    def _function_response(self, block: Mapping[str, Any], path: str) -> tuple[Part, list[Part]]:
        """One `functionResponse` part for a tool_result, and the media parts it carried."""
        tool_use_id = block["tool_use_id"]
        name = self._call_names.get(tool_use_id)
        if name is None:
            raise TranslationError(
                f"{path}.tool_use_id: no earlier tool_use has the id {tool_use_id!r}"
            )
        content = block.get("content")
        media: list[Part] = []
        texts: list[str] = []
        if isinstance(content, str):
            texts.append(content)
        for j, inner in enumerate(content if isinstance(content, list) else ()):
            where = f"{path}.content.{j}"
            if inner["type"] == "image":
                media.append(_image_part(inner["source"], f"{where}.source"))
            elif inner["type"] == "document" and is_file(inner):
                media.append(_file_part(inner["source"], f"{where}.source"))
            else:
                texts.append(block_text(inner))
        text = JOIN.join(t for t in texts if t.strip())
        if not text:
            text = MEDIA_FOLLOWS if media else EMPTY_TOOL_RESULT
        key = "error" if block.get("is_error") else "output"
        return {"functionResponse": {"name": name, "response": {key: text}}}, media

    # --- model ---------------------------------------------------------------------------

    def add_model(self, content: Any, path: str) -> None:
        if isinstance(content, str):
            self.add("model", [], [{"text": content}] if content.strip() else [])
            return
        anchors = _Anchors.of(content, self._target)
        parts: list[Part] = []
        texts = calls = 0
        for block in content:
            match block["type"]:
                case "text" if block["text"].strip():
                    part: Part = {"text": block["text"]}
                    _sign(part, anchors.texts.get(texts))
                    texts += 1
                    parts.append(part)
                case "tool_use":
                    name = self._names.upstream(block["name"])
                    self._call_names[block["id"]] = name
                    part = {"functionCall": {"name": name, "args": block["input"]}}
                    _sign(part, anchors.calls.get(calls))
                    calls += 1
                    parts.append(part)
                case "thinking":
                    signature = anchors.thoughts.get(id(block))
                    if signature is not None:
                        thought = {"text": str(block.get("thinking") or ""), "thought": True}
                        parts.append(_sign(thought, signature))
        first_call = next((part for part in parts if "functionCall" in part), None)
        if first_call is not None and "thoughtSignature" not in first_call:
            first_call["thoughtSignature"] = SKIP_SIGNATURE  # a step Gemini did not sign (§5.7)
        self.add("model", [], parts)


@dataclass
class _Anchors:
    """The `thoughtSignature`s an assistant message's thinking blocks carry for this target."""

    calls: dict[int, str] = field(default_factory=dict)  # tool_use block ordinal → signature
    texts: dict[int, str] = field(default_factory=dict)  # text block ordinal → signature
    thoughts: dict[int, str] = field(default_factory=dict)  # id(thinking block) → signature

    @classmethod
    def of(cls, content: Sequence[Any], target: Target) -> _Anchors:
        """Decoded from ccroute signatures minted for `target.scope` (others are ignored, so a
        signature never reaches another model, §5.7); none when `target.return_reasoning` is
        off."""
        anchors = cls()
        if not target.return_reasoning:
            return anchors
        for block in content:
            if not isinstance(block, dict) or block.get("type") != "thinking":
                continue
            carried = r.decode_signature(block.get("signature"), target.scope)
            if carried is None or carried.kind != r.GEMINI_KIND:
                continue
            for anchor in carried.details:
                signature = anchor.get("sig")
                if not isinstance(signature, str) or not signature:
                    continue
                ordinal = anchor.get("n")
                match anchor.get("on"):
                    case "call" if isinstance(ordinal, int):
                        anchors.calls.setdefault(ordinal, signature)
                    case "text" if isinstance(ordinal, int):
                        anchors.texts.setdefault(ordinal, signature)
                    case "thought":
                        anchors.thoughts.setdefault(id(block), signature)
        return anchors


def _sign(part: Part, signature: str | None) -> Part:
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


# --- shared content helpers ------------------------------------------------------------------


def _system_texts(system: object, path: str) -> list[str]:
    """System content as one text per non-empty block (`content.system_text` per block, which
    drops the attribution block and unwraps `mid_conv_system`)."""
    joined = system_text(system, path)  # validates, naming the path of a bad block
    if not isinstance(system, list):
        return [joined] if joined else []
    texts = [system_text([block], f"{path}.{j}") for j, block in enumerate(system)]
    return [text for text in texts if text]


def _image_part(source: Mapping[str, Any], path: str) -> Part:
    if source.get("type") not in ("base64", "url"):
        raise TranslationError(f"{path}.type: unsupported image source type {source.get('type')!r}")
    return _file_part(source, path)


def _file_part(source: Mapping[str, Any], path: str) -> Part:
    """`inlineData` for base64 data; `fileData` with the URL for a url source (§5.2, §7 item
    15: the translator does no I/O, so the URL goes as it is, typed by its extension)."""
    if source["type"] == "base64":
        media_type = source.get("media_type") or "application/pdf"
        return {"inlineData": {"mimeType": media_type, "data": source["data"]}}
    url = source.get("url")
    if not isinstance(url, str) or not url:
        raise TranslationError(f"{path}.url: required for a url source")
    file_data = {"fileUri": url}
    extension = url.split("?", 1)[0].rsplit(".", 1)[-1].lower()
    if extension in _EXTENSION_TYPES:
        file_data = {"mimeType": _EXTENSION_TYPES[extension], "fileUri": url}
    return {"fileData": file_data}
