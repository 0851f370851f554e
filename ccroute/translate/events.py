"""The Anthropic Messages API response and stream shapes, their builders, and error types.

Owns: TypedDicts for the non-streaming response (`Message`) and the SSE events (`StreamEvent`)
(protocol.md §2.1, §2.4); one builder per event type and one for the Message; the usage an
answer reports when the upstream sends none (§2.3, §2.4); the error body and the HTTP status →
`error.type` table (§2.5). `ccroute.translate.messages` re-exports the shapes and the event
and error builders, so callers import those from there; the Message builder and the usage
helpers are imported from here.

Must not import: anything beyond the standard library (no aiohttp, typer, rich, keyring,
platformdirs; no file, network, clock or random/uuid I/O).
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict


class ThinkingBlock(TypedDict):
    type: Literal["thinking"]
    thinking: str
    signature: str


class RedactedThinkingBlock(TypedDict):
    type: Literal["redacted_thinking"]
    data: str


# --- response and stream shapes (protocol.md §2.1, §2.4) ----------------------------------------

StopReason = Literal[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
]


class Usage(TypedDict):
    """Token counts; `input_tokens` is the uncached part only (protocol.md §2.3)."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int


class ResponseToolUseBlock(TypedDict):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]


class ResponseTextBlock(TypedDict):
    type: Literal["text"]
    text: str


ResponseBlock = ResponseTextBlock | ResponseToolUseBlock | ThinkingBlock | RedactedThinkingBlock


class Message(TypedDict):
    """A non-streaming response body, and the `message` of `message_start` (protocol.md §2.1)."""

    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[ResponseBlock]
    stop_reason: StopReason | None
    stop_sequence: str | None
    usage: Usage


class TextDelta(TypedDict):
    type: Literal["text_delta"]
    text: str


class InputJSONDelta(TypedDict):
    type: Literal["input_json_delta"]
    partial_json: str


class ThinkingDelta(TypedDict):
    type: Literal["thinking_delta"]
    thinking: str


class SignatureDelta(TypedDict):
    type: Literal["signature_delta"]
    signature: str


Delta = TextDelta | InputJSONDelta | ThinkingDelta | SignatureDelta


class MessageStartEvent(TypedDict):
    type: Literal["message_start"]
    message: Message


class ContentBlockStartEvent(TypedDict):
    type: Literal["content_block_start"]
    index: int
    content_block: ResponseBlock


class ContentBlockDeltaEvent(TypedDict):
    type: Literal["content_block_delta"]
    index: int
    delta: Delta


class ContentBlockStopEvent(TypedDict):
    type: Literal["content_block_stop"]
    index: int


class MessageDeltaBody(TypedDict):
    stop_reason: StopReason | None
    stop_sequence: str | None


class MessageDeltaUsage(TypedDict, total=False):
    """Cumulative counts; fields other than `output_tokens` only when known (protocol.md §2.4)."""

    output_tokens: Required[int]
    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int


class MessageDeltaEvent(TypedDict):
    type: Literal["message_delta"]
    delta: MessageDeltaBody
    usage: MessageDeltaUsage


class MessageStopEvent(TypedDict):
    type: Literal["message_stop"]


class PingEvent(TypedDict):
    type: Literal["ping"]


class ErrorDetail(TypedDict):
    type: str
    message: str


class ErrorEvent(TypedDict):
    """Both the body of an HTTP error response and the SSE `error` event (protocol.md §2.5)."""

    type: Literal["error"]
    error: ErrorDetail


StreamEvent = (
    MessageStartEvent
    | ContentBlockStartEvent
    | ContentBlockDeltaEvent
    | ContentBlockStopEvent
    | MessageDeltaEvent
    | MessageStopEvent
    | PingEvent
    | ErrorEvent
)

# --- event builders (protocol.md §2.4) -----------------------------------------------------------


def assistant_message(
    *,
    message_id: str,
    model: str,
    content: list[ResponseBlock],
    stop_reason: StopReason | None,
    stop_sequence: str | None,
    usage: Usage,
) -> Message:
    """An assistant Message (§2.1): a non-streaming answer, or, empty, `message_start`'s."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage,
    }


def message_start(*, message_id: str, model: str, input_tokens: int) -> MessageStartEvent:
    """`message_start` with empty content and usage seeded with an input estimate (§2.4)."""
    usage: Usage = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 1,
    }
    start = assistant_message(
        message_id=message_id,
        model=model,
        content=[],
        stop_reason=None,
        stop_sequence=None,
        usage=usage,
    )
    return {"type": "message_start", "message": start}


def content_block_start(index: int, content_block: ResponseBlock) -> ContentBlockStartEvent:
    """Opens block `index` (0, 1, 2... in content order); text starts `""`, tool_use `{}` (§2.4)."""
    return {"type": "content_block_start", "index": index, "content_block": content_block}


def content_block_delta(index: int, delta: Delta) -> ContentBlockDeltaEvent:
    """Appends `delta` to the open block `index`; the delta type must match the block (§2.4)."""
    return {"type": "content_block_delta", "index": index, "delta": delta}


def content_block_stop(index: int) -> ContentBlockStopEvent:
    """Closes block `index`; only one block is open at a time (§2.4)."""
    return {"type": "content_block_stop", "index": index}


def message_delta(
    stop_reason: StopReason | None, usage: MessageDeltaUsage, stop_sequence: str | None = None
) -> MessageDeltaEvent:
    """Final stop_reason/stop_sequence and cumulative usage, after the last block (§2.4).

    `usage` always has `output_tokens`; input and cache counts only when known, since the
    client replaces a field only when it is present.
    """
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
        "usage": usage,
    }


def message_stop() -> MessageStopEvent:
    """The last event of a successful stream, exactly once (§2.4)."""
    return {"type": "message_stop"}


def ping() -> PingEvent:
    """Keep-alive event; clients skip it (§2.4, §6.3)."""
    return {"type": "ping"}


# --- usage when the upstream reports none (protocol.md §2.3, §2.4, §7 item 12) -----------------

CHARS_PER_OUTPUT_TOKEN = 4
"""Used to estimate output_tokens when the upstream sends no usage."""


def estimate_output_tokens(chars: int) -> int:
    """A stand-in for output_tokens when the upstream reports no usage: chars / 4, rounded up."""
    return -(-chars // CHARS_PER_OUTPUT_TOKEN)


def usage_or_estimate(found: Usage | None, *, input_tokens: int, output_chars: int) -> Usage:
    """A non-streaming answer's usage: `found` (the upstream's, translated), or else
    `input_tokens` (the request's estimate) and an output estimate over `output_chars`, the
    figures a stream of the same answer reports (0 input tokens would break Claude Code's
    context bar)."""
    if found is not None:
        return found
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": estimate_output_tokens(output_chars),
    }


def message_delta_usage(found: Usage | None, output_chars: int) -> MessageDeltaUsage:
    """`message_delta.usage` at the end of a stream: every count of `found` (the upstream's
    usage, translated), or, when there is none, only `output_tokens` estimated over
    `output_chars` (the client keeps message_start's input estimate, since absent fields are
    not replaced, §2.4)."""
    if found is None:
        return {"output_tokens": estimate_output_tokens(output_chars)}
    return {
        "input_tokens": found["input_tokens"],
        "cache_creation_input_tokens": found["cache_creation_input_tokens"],
        "cache_read_input_tokens": found["cache_read_input_tokens"],
        "output_tokens": found["output_tokens"],
    }


def error_body(error_type: str, message: str) -> ErrorEvent:
    """`{"type":"error","error":{"type":error_type,"message":message}}` (protocol.md §2.5).

    The same dict is the body of an HTTP error response and the SSE `error` event that ends a
    stream that already started (no `message_stop` follows it).
    """
    return {"type": "error", "error": {"type": error_type, "message": message}}


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type_for_status(status: int) -> str:
    """The Anthropic `error.type` for an HTTP status (protocol.md §2.5 and §3.4).

    Statuses missing from the table fall back by class: other 4xx → `invalid_request_error`,
    anything else → `api_error`.
    """
    known = _ERROR_TYPES.get(status)
    if known is not None:
        return known
    return "invalid_request_error" if 400 <= status < 500 else "api_error"
