"""An Anthropic-format upstream's answers → what ccroute returns to Claude Code (passthrough).

Owns: `parse_response`, `parse_error` and `StreamTranslator` for the `anthropic` wire. The
server relays a streamed answer byte for byte and returns a non-streamed Message body as it
came (ccroute/server/relay.py `_pipe`, proxy.py `_relay_json`), so these functions only see
what is *not* already a well-formed Anthropic answer: error bodies, and bodies that need
checking. Exported through `ccroute.translate.anthropic`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from ccroute.errors import UpstreamError
from ccroute.translate import openai_errors
from ccroute.translate.block_writer import BlockWriter, Phase
from ccroute.translate.events import Message, StreamEvent
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

STATUS_FOR_ERROR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""The HTTP status of each Anthropic `error.type` (protocol.md §2.5), for an error that came
without one (an error body in a 200 answer)."""

ANTHROPIC_CONTEXT_WORDING = (
    "prompt is too long:",
    "input length and `max_tokens` exceed context limit:",
)
"""Context-overflow messages in Anthropic's own words, which Claude Code acts on (§2.5)."""


def parse_error(status: int, body: bytes, *, input_tokens: int | None = None) -> UpstreamError:
    """Map an upstream HTTP error (status + raw body) to the error ccroute returns.

    - An Anthropic error body (`{"type": "error", "error": {"type", "message"}}`, §2.5) keeps
      its HTTP status, `error.type` and message unchanged: Claude Code matches the wording of
      capability rejections (thinking, signatures, mid-conversation system) and retries
      without them (§2.5 "forward error bodies unmodified", §7 item 20). One exception: an
      `invalid_request_error` about the context length that is not already in Anthropic's
      wording (`ANTHROPIC_CONTEXT_WORDING`, from a compatible provider) is reworded to
      `prompt is too long: N tokens > M maximum` like `openai_errors.parse_error` does, so
      Claude Code compacts.
    - Any other body (DeepSeek, Kimi, GLM and others answer OpenAI-shaped errors on their
      Anthropic endpoints; plain text; HTML) is mapped by `openai_errors.parse_error`
      (status → type per §3.4, overload → 529, context rewording, key redaction).
    `retry_after` is left None: the server copies the upstream's `retry-after` header.
    """
    payload = _decode(body)
    error = _anthropic_error(payload)
    if error is None:
        return openai_errors.parse_error(status, body, input_tokens=input_tokens)
    error_type, message = error
    if error_type == "invalid_request_error" and not message.startswith(ANTHROPIC_CONTEXT_WORDING):
        message = _context_wording(status, message, input_tokens)
    return UpstreamError(status, error_type, message)


def _decode(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _anthropic_error(payload: object) -> tuple[str, str] | None:
    """(`error.type`, message) of an Anthropic error body, None for any other shape."""
    if not isinstance(payload, Mapping) or payload.get("type") != "error":
        return None
    error = payload.get("error")
    if not isinstance(error, Mapping):
        return None
    error_type, message = error.get("type"), error.get("message")
    if not isinstance(error_type, str) or not error_type or not isinstance(message, str):
        return None
    return error_type, message


def _context_wording(status: int, message: str, input_tokens: int | None) -> str:
    """`message` in Anthropic's context-overflow wording if it is a context-length error
    `openai_errors` recognises and can reword, else `message` unchanged."""
    probe = json.dumps({"error": {"message": message, "type": "invalid_request_error"}})
    reworded = openai_errors.parse_error(status, probe.encode(), input_tokens=input_tokens)
    if reworded.message.startswith(ANTHROPIC_CONTEXT_WORDING):
        return reworded.message
    return message


def parse_response(
    body: Any,
    *,
    message_id: str,
    model: str,
    target: Target | None = None,
    tool_names: ToolNames | None = None,
    input_tokens_estimate: int = 0,
) -> Message:
    """The Anthropic Message for a non-streaming upstream answer `body` (parsed JSON).

    - A Message (`"type": "message"`) is returned as it is (the server does not even call
      this for one: it relays the bytes).
    - A body with `content` (a list) and `role: "assistant"` but lacking some Message fields
      (a loose compatible provider) gets them filled: `id` = `message_id`, `type`,
      `model` = `model`, `stop_reason` ("tool_use" when it holds a tool_use block, else
      "end_turn"), `stop_sequence` None, `usage` with
      `input_tokens` = `input_tokens_estimate` and `output_tokens` 0 where missing (§2.1).
    - An error body (Anthropic's `{"type": "error", ...}` or any body with an `error` key)
      raises it as `parse_error` would, with the status of its `error.type`
      (`STATUS_FOR_ERROR_TYPE`; 502 for a non-Anthropic error).

    Raises:
        UpstreamError: an error body; 502 `api_error` for a body that is neither.
    """
    if isinstance(body, dict):
        if body.get("type") == "message":
            return cast(Message, body)
        error = _anthropic_error(body)
        if error is not None:
            status = STATUS_FOR_ERROR_TYPE.get(error[0], 500)
            raise parse_error(status, json.dumps(body).encode())
        if "error" in body:
            raise openai_errors.parse_error(502, json.dumps(body).encode())
        if body.get("role") == "assistant" and isinstance(body.get("content"), list):
            return _completed(body, message_id, model, input_tokens_estimate)
    raise UpstreamError(
        502, "api_error", "The provider answered with a body that is not an Anthropic Message."
    )


def _completed(body: dict[str, Any], message_id: str, model: str, estimate: int) -> Message:
    usage = body.get("usage")
    usage = dict(usage) if isinstance(usage, Mapping) else {}
    usage.setdefault("input_tokens", estimate)
    usage.setdefault("output_tokens", 0)
    calls_tool = any(
        isinstance(block, Mapping) and block.get("type") == "tool_use" for block in body["content"]
    )
    message: dict[str, Any] = {
        "id": message_id,
        "model": model,
        "stop_reason": "tool_use" if calls_tool else "end_turn",
        "stop_sequence": None,
    }
    message.update((key, value) for key, value in body.items() if value is not None)
    message.update(type="message", usage=usage)
    return cast(Message, message)


class StreamTranslator(BlockWriter):
    """The streaming half of the contract for an upstream that already speaks Anthropic SSE.

    The server does not use it: the `anthropic` wire is `passthrough`, so its stream is relayed
    byte for byte (relay.py `_pipe`), and tests/test_translate_golden.py treats its golden
    streams as identity. It exists so the contract holds for every wire: on parsed events it
    relays like the byte relay — `feed` returns each upstream event unchanged (pings and
    `error` events included, §2.4) and nothing after the stream's end (`message_stop` or
    `error`) — and it also closes a stream the upstream cut: `finish` returns one
    `overloaded_error` event when neither end arrived (Claude Code may retry it, §2.5), else
    nothing. A chunk that is not an object with a string `type` ends the stream with an
    `api_error` event. Of its base `block_writer.BlockWriter` it uses only the stream's phase
    and the error event that ends it: the upstream writes the message itself.
    """

    def feed(self, chunk: Any) -> list[StreamEvent]:
        """The Anthropic events for one upstream SSE event's parsed `data` (the event itself)."""
        if self._phase is Phase.DONE:
            return []
        if not isinstance(chunk, dict) or not isinstance(chunk.get("type"), str):
            message = "The provider sent a stream event that is not an Anthropic event."
            return self._fail("api_error", message)
        if chunk["type"] in ("message_stop", "error"):
            self._phase = Phase.DONE
        return [cast(StreamEvent, chunk)]

    def finish(self) -> list[StreamEvent]:
        """The events that end the stream once the upstream stopped sending."""
        if self._phase is Phase.DONE:
            return []
        return self._fail(
            "overloaded_error", "The provider's stream ended before its message_stop event."
        )
