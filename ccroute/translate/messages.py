"""The Anthropic Messages API as ccroute speaks it to Claude Code: shapes, validation, events.

Owns: TypedDicts for the request (`MessagesRequest`, protocol.md §1) and `validate_request`,
which checks the fields the translators rely on and names the JSON path of any problem. The
response and stream shapes, the event builders, `error_body` and `error_type_for_status` live in
`ccroute.translate.events` and are re-exported here (§2.1, §2.4, §2.5), so callers need only
this module.

Must not import: anything beyond the standard library, `ccroute.errors` and
`ccroute.translate.events` (no aiohttp, typer, rich, keyring, platformdirs; no file, network,
clock or random/uuid I/O).
"""

from __future__ import annotations

from typing import Any, Literal, NoReturn, NotRequired, Required, TypedDict

from ccroute.errors import TranslationError
from ccroute.translate.events import (
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    Delta,
    ErrorDetail,
    ErrorEvent,
    InputJSONDelta,
    Message,
    MessageDeltaBody,
    MessageDeltaEvent,
    MessageDeltaUsage,
    MessageStartEvent,
    MessageStopEvent,
    PingEvent,
    RedactedThinkingBlock,
    ResponseBlock,
    ResponseTextBlock,
    ResponseToolUseBlock,
    SignatureDelta,
    StopReason,
    StreamEvent,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    Usage,
    content_block_delta,
    content_block_start,
    content_block_stop,
    error_body,
    error_type_for_status,
    message_delta,
    message_start,
    message_stop,
    ping,
)

__all__ = [
    "Base64ImageSource",
    "ContentBlock",
    "ContentBlockDeltaEvent",
    "ContentBlockStartEvent",
    "ContentBlockStopEvent",
    "Delta",
    "ErrorDetail",
    "ErrorEvent",
    "ImageBlock",
    "InputJSONDelta",
    "Message",
    "MessageDeltaBody",
    "MessageDeltaEvent",
    "MessageDeltaUsage",
    "MessageParam",
    "MessageStartEvent",
    "MessageStopEvent",
    "MessagesRequest",
    "OtherBlock",
    "PingEvent",
    "RedactedThinkingBlock",
    "ResponseBlock",
    "ResponseTextBlock",
    "ResponseToolUseBlock",
    "Role",
    "SignatureDelta",
    "StopReason",
    "StreamEvent",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolChoice",
    "ToolDefinition",
    "ToolResultBlock",
    "ToolUseBlock",
    "URLImageSource",
    "Usage",
    "content_block_delta",
    "content_block_start",
    "content_block_stop",
    "error_body",
    "error_type_for_status",
    "message_delta",
    "message_start",
    "message_stop",
    "ping",
    "validate_request",
]

# --- request shapes (protocol.md §1) -------------------------------------------------------------


class TextBlock(TypedDict):
    type: Literal["text"]
    text: str
    cache_control: NotRequired[dict[str, Any]]


class Base64ImageSource(TypedDict):
    type: Literal["base64"]
    media_type: str
    data: str


class URLImageSource(TypedDict):
    type: Literal["url"]
    url: str


class ImageBlock(TypedDict):
    type: Literal["image"]
    source: Base64ImageSource | URLImageSource
    cache_control: NotRequired[dict[str, Any]]


class ToolUseBlock(TypedDict):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]
    cache_control: NotRequired[dict[str, Any]]


class ToolResultBlock(TypedDict):
    type: Literal["tool_result"]
    tool_use_id: str
    content: NotRequired[str | list[dict[str, Any]]]  # text/image/search_result/document blocks
    is_error: NotRequired[bool]
    cache_control: NotRequired[dict[str, Any]]


class OtherBlock(TypedDict):
    """A block ccroute accepts but does not translate yet (document, server tool blocks, ...)."""

    type: Literal[
        "document",
        "search_result",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "container_upload",
        "tool_reference",
        "mid_conv_system",
    ]


ContentBlock = (
    TextBlock
    | ImageBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | OtherBlock
)

Role = Literal["user", "assistant", "system"]


class MessageParam(TypedDict):
    """One conversation turn; `system` is the mid-conversation-system beta (protocol.md §6.4)."""

    role: Role
    content: str | list[ContentBlock]


class ToolDefinition(TypedDict, total=False):
    """A custom tool (`type` absent or "custom") or a server tool (any other `type`), §1.5."""

    name: Required[str]
    type: str
    description: str
    input_schema: dict[str, Any]


class ToolChoice(TypedDict, total=False):
    type: Required[Literal["auto", "any", "tool", "none"]]
    name: str
    disable_parallel_tool_use: bool


class MessagesRequest(TypedDict, total=False):
    """The fields of `POST /v1/messages` the translators read (protocol.md §1.2).

    Unknown fields (metadata, thinking, context_management, output_config, betas, ...) are
    accepted by `validate_request` and stay in the dict; translators pick what they support.
    """

    model: Required[str]
    messages: Required[list[MessageParam]]
    max_tokens: Required[int]
    system: str | list[TextBlock]
    stop_sequences: list[str]
    stream: bool
    temperature: float
    top_p: float
    top_k: int
    tools: list[ToolDefinition]
    tool_choice: ToolChoice
    thinking: dict[str, Any]
    output_config: dict[str, Any]
    metadata: dict[str, Any]
    cache_control: dict[str, Any]


# --- validation (protocol.md §1.2, §1.5, §1.6) ---------------------------------------------------

_USER_BLOCKS = frozenset(
    {"text", "image", "document", "search_result", "tool_result", "container_upload"}
)
_ASSISTANT_BLOCKS = frozenset(
    {
        "text",
        "tool_use",
        "thinking",
        "redacted_thinking",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
    }
)
_SYSTEM_BLOCKS = frozenset({"text", "mid_conv_system"})
_TOOL_RESULT_BLOCKS = frozenset({"text", "image", "search_result", "document", "tool_reference"})
_ALL_BLOCKS = _USER_BLOCKS | _ASSISTANT_BLOCKS | _SYSTEM_BLOCKS | _TOOL_RESULT_BLOCKS
_ALLOWED = {"user": _USER_BLOCKS, "assistant": _ASSISTANT_BLOCKS, "system": _SYSTEM_BLOCKS}


def validate_request(body: object, *, count_tokens: bool = False) -> MessagesRequest:
    """Check a decoded `POST /v1/messages` body and return it typed (the same object, not a copy).

    Checks the required fields (`model`, `messages`, `max_tokens`), the types of the optional
    fields translators read, and every content block's `type` and required fields against its
    role (protocol.md §1.2, §1.5, §1.6). Unknown top-level fields are accepted and left alone;
    a `role: "system"` message (string, text or `mid_conv_system` blocks) is accepted. With
    `count_tokens`, the body of `POST /v1/messages/count_tokens` is checked: the same fields,
    `max_tokens` optional (protocol.md §2.6).

    Raises:
        TranslationError: `<json path>: <problem>`, e.g. `max_tokens: required integer` or
            `messages.1.content.0.type: unknown content block type 'foo'`.
    """
    if not isinstance(body, dict):
        _fail("body", f"must be a JSON object, got {_kind(body)}")
    _require(body, "model", str, "string", "")
    if count_tokens:
        # POST /v1/messages/count_tokens takes the same body without max_tokens (§2.6).
        _optional(body, "max_tokens", int, "integer", "")
    else:
        _require(body, "max_tokens", int, "integer", "")
    if (body.get("max_tokens") or 0) < 0:
        _fail("max_tokens", "must be >= 0")
    messages = _require(body, "messages", list, "array", "")
    if not messages:
        _fail("messages", "must contain at least one message")
    for i, message in enumerate(messages):
        _check_message(message, f"messages.{i}")
    system = body.get("system")
    if system is not None and not isinstance(system, str):
        _check_text_blocks(system, "system")
    for key in ("stop_sequences",):
        if key in body:
            seqs = _require(body, key, list, "array", "")
            for j, seq in enumerate(seqs):
                if not isinstance(seq, str):
                    _fail(f"{key}.{j}", f"must be a string, got {_kind(seq)}")
    for key in ("temperature", "top_p"):
        if key in body and not _is_number(body[key]):
            _fail(key, f"must be a number, got {_kind(body[key])}")
    _optional(body, "top_k", int, "integer", "")
    _optional(body, "stream", bool, "boolean", "")
    if "tools" in body:
        for j, tool in enumerate(_require(body, "tools", list, "array", "")):
            _check_tool(tool, f"tools.{j}")
    if "tool_choice" in body:
        _check_tool_choice(body["tool_choice"], "tool_choice")
    return body  # type: ignore[return-value]


def _check_message(message: object, path: str) -> None:
    if not isinstance(message, dict):
        _fail(path, f"must be an object, got {_kind(message)}")
    role = _require(message, "role", str, "string", path)
    if role not in _ALLOWED:
        _fail(f"{path}.role", f"must be 'user', 'assistant' or 'system', got {role!r}")
    content = message.get("content")
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        _fail(f"{path}.content", _wrong("string or array", content))
    for j, block in enumerate(content):
        _check_block(block, f"{path}.content.{j}", _ALLOWED[role], role)


def _check_block(block: object, path: str, allowed: frozenset[str], where: str) -> None:
    if not isinstance(block, dict):
        _fail(path, f"must be an object, got {_kind(block)}")
    kind = _require(block, "type", str, "string", path)
    if kind not in _ALL_BLOCKS:
        _fail(f"{path}.type", f"unknown content block type {kind!r}")
    if kind not in allowed:
        _fail(f"{path}.type", f"'{kind}' blocks are not allowed in {where} content")
    if kind == "text":
        _require(block, "text", str, "string", path)
    elif kind == "image":
        _check_image_source(block.get("source"), f"{path}.source")
    elif kind == "tool_use":
        _require(block, "id", str, "string", path)
        _require(block, "name", str, "string", path)
        _require(block, "input", dict, "object", path)
    elif kind == "tool_result":
        _require(block, "tool_use_id", str, "string", path)
        _optional(block, "is_error", bool, "boolean", path)
        content = block.get("content")
        if isinstance(content, list):
            for j, inner in enumerate(content):
                _check_block(inner, f"{path}.content.{j}", _TOOL_RESULT_BLOCKS, "tool_result")
        elif content is not None and not isinstance(content, str):
            _fail(f"{path}.content", _wrong("string or array", content))
    elif kind == "thinking":
        _require(block, "thinking", str, "string", path)
    elif kind == "redacted_thinking":
        _require(block, "data", str, "string", path)
    elif kind == "mid_conv_system":
        _check_text_blocks(block.get("content"), f"{path}.content")


def _check_image_source(source: object, path: str) -> None:
    if not isinstance(source, dict):
        _fail(path, _wrong("object", source))
    kind = _require(source, "type", str, "string", path)
    if kind == "base64":
        _require(source, "media_type", str, "string", path)
        _require(source, "data", str, "string", path)
    elif kind == "url":
        _require(source, "url", str, "string", path)
    else:
        _fail(f"{path}.type", f"unsupported image source type {kind!r} (use 'base64' or 'url')")


def _check_text_blocks(blocks: object, path: str) -> None:
    if not isinstance(blocks, list):
        _fail(path, _wrong("string or array of text blocks", blocks))
    for j, block in enumerate(blocks):
        _check_block(block, f"{path}.{j}", frozenset({"text"}), "system")


def _check_tool(tool: object, path: str) -> None:
    if not isinstance(tool, dict):
        _fail(path, f"must be an object, got {_kind(tool)}")
    kind = _optional(tool, "type", str, "string", path)
    if kind in (None, "custom"):
        _require(tool, "name", str, "string", path)
        _require(tool, "input_schema", dict, "object", path)
        _optional(tool, "description", str, "string", path)


def _check_tool_choice(choice: object, path: str) -> None:
    if not isinstance(choice, dict):
        _fail(path, f"must be an object, got {_kind(choice)}")
    kind = _require(choice, "type", str, "string", path)
    if kind not in ("auto", "any", "tool", "none"):
        _fail(f"{path}.type", f"must be 'auto', 'any', 'tool' or 'none', got {kind!r}")
    if kind == "tool":
        _require(choice, "name", str, "string", path)
    _optional(choice, "disable_parallel_tool_use", bool, "boolean", path)


def _require(obj: dict[str, Any], key: str, typ: type, kind: str, path: str) -> Any:
    if obj.get(key) is None:
        _fail(f"{path}.{key}" if path else key, f"required {kind}")
    return _optional(obj, key, typ, kind, path)


def _optional(obj: dict[str, Any], key: str, typ: type, kind: str, path: str) -> Any:
    value = obj.get(key)
    if value is None:
        return None
    # bool is a subclass of int; JSON true is not an integer.
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        _fail(f"{path}.{key}" if path else key, _wrong(kind, value))
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _wrong(expected: str, value: object) -> str:
    return f"must be {'an' if expected[0] in 'aeiou' else 'a'} {expected}, got {_kind(value)}"


def _kind(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case dict():
            return "object"
    return type(value).__name__


def _fail(path: str, problem: str) -> NoReturn:
    raise TranslationError(f"{path}: {problem}")
