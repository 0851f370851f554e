"""Checks that an Anthropic event stream is one Claude Code can consume (protocol.md §2.4).

Import from any test:

    from tests.streamcheck import assert_well_formed, parse_sse
    events = parse_sse(response_bytes)   # decode with our SSEDecoder, event name == data type
    assert_well_formed(events)           # order, indexes, delta kinds, JSON of tool input

Failures raise AssertionError naming the event position and what was expected.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ccroute.translate.sse import SSEDecoder

__all__ = ["assert_well_formed", "parse_sse"]

_DELTAS_FOR_BLOCK = {
    "text": {"text_delta", "citations_delta"},
    "tool_use": {"input_json_delta"},
    "server_tool_use": {"input_json_delta"},
    "thinking": {"thinking_delta", "signature_delta"},
    "redacted_thinking": set(),
}
_STOP_REASONS = {
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
}
_TOOL_ID = re.compile(r"[a-zA-Z0-9_-]+")


def parse_sse(data: bytes) -> list[dict[str, Any]]:
    """Decode an Anthropic SSE byte stream into its event dicts.

    Checks that every frame has an `event:` line equal to its data's `type` (both SDKs dispatch
    on the event name, §2.4) and that each data is a JSON object.
    """
    decoder = SSEDecoder()
    frames = decoder.feed(data) + decoder.close()
    events: list[dict[str, Any]] = []
    for position, frame in enumerate(frames):
        _check(frame.event is not None, position, f"frame without an event: line: {frame.data!r}")
        try:
            event = json.loads(frame.data)
        except ValueError as exc:
            raise AssertionError(f"event {position}: data is not JSON: {frame.data!r}") from exc
        _check(isinstance(event, dict), position, f"data is not an object: {frame.data!r}")
        _check(
            event.get("type") == frame.event,
            position,
            f"event: {frame.event!r} but data type {event.get('type')!r}",
        )
        events.append(event)
    return events


def assert_well_formed(events: list[dict[str, Any]]) -> None:
    """Assert the Anthropic stream invariants (protocol.md §2.4, design.md §3).

    `message_start` first; then blocks, each `content_block_start` → deltas of the block's kind
    (text_delta for text, input_json_delta for tool_use, thinking/signature for thinking) →
    `content_block_stop`, indexes 0, 1, 2... with one block open at a time; text blocks hold
    non-whitespace text; tool_use ids match `^[a-zA-Z0-9_-]+$` and their partial_json
    concatenates to a JSON object or to nothing; then `message_delta` (one or more) and
    `message_stop` last, exactly once. Alternatively the stream ends with one `error` event
    (possibly as the only event). `ping` may appear anywhere.
    """
    _check(bool(events), 0, "empty stream")
    checker = _Checker()
    for position, event in enumerate(events):
        checker.step(position, event)
    checker.end(len(events))


class _Checker:
    def __init__(self) -> None:
        self.phase = "before_start"  # before_start → blocks → delta → stopped | failed
        self.open: tuple[int, str] | None = None
        self.next_index = 0
        self.text = ""
        self.partial_json = ""

    def step(self, position: int, event: dict[str, Any]) -> None:
        kind = event.get("type")
        _check(self.phase not in ("stopped", "failed"), position, f"{kind} after the stream ended")
        if kind == "ping":
            return
        if kind == "error":
            error = event.get("error")
            _check(isinstance(error, dict), position, "error event without an error object")
            _check(isinstance(error.get("type"), str), position, "error.type is not a string")
            _check(isinstance(error.get("message"), str), position, "error.message not a string")
            self.phase = "failed"
            return
        if self.phase == "before_start":
            _check(kind == "message_start", position, f"first event is {kind}, not message_start")
            self._message_start(position, event)
            self.phase = "blocks"
            return
        match kind:
            case "content_block_start":
                self._block_start(position, event)
            case "content_block_delta":
                self._block_delta(position, event)
            case "content_block_stop":
                self._block_stop(position, event)
            case "message_delta":
                self._message_delta(position, event)
            case "message_stop":
                _check(self.phase == "delta", position, "message_stop without message_delta")
                self.phase = "stopped"
            case _:
                raise AssertionError(f"event {position}: unexpected event type {kind!r}")

    def end(self, count: int) -> None:
        _check(
            self.phase in ("stopped", "failed"),
            count,
            f"stream ended in phase {self.phase!r}: no message_stop and no error event",
        )

    def _message_start(self, position: int, event: dict[str, Any]) -> None:
        message = event.get("message")
        _check(isinstance(message, dict), position, "message_start without a message")
        for key, value in (("type", "message"), ("role", "assistant"), ("content", [])):
            _check(message.get(key) == value, position, f"message.{key} != {value!r}")
        _check(str(message.get("id", "")).startswith("msg_"), position, "id lacks msg_ prefix")
        _check(message.get("stop_reason") is None, position, "message_start has a stop_reason")
        usage = message.get("usage")
        _check(isinstance(usage, dict), position, "message_start without usage")
        for key in ("input_tokens", "output_tokens"):
            _check(isinstance(usage.get(key), int), position, f"usage.{key} is not an integer")

    def _block_start(self, position: int, event: dict[str, Any]) -> None:
        _check(self.phase == "blocks", position, "content_block_start after message_delta")
        _check(self.open is None, position, f"block {self.open} still open")
        index = event.get("index")
        _check(index == self.next_index, position, f"index {index}, expected {self.next_index}")
        block = event.get("content_block")
        _check(isinstance(block, dict), position, "content_block_start without content_block")
        block_type = block.get("type")
        _check(block_type in _DELTAS_FOR_BLOCK, position, f"unknown block type {block_type!r}")
        if block_type == "text":
            _check(block.get("text") == "", position, "text block must start empty")
        if block_type == "tool_use":
            _check(
                _TOOL_ID.fullmatch(str(block.get("id", ""))) is not None,
                position,
                f"tool_use id {block.get('id')!r} does not match ^[a-zA-Z0-9_-]+$",
            )
            _check(bool(block.get("name")), position, "tool_use without a name")
            _check(block.get("input") == {}, position, "tool_use must start with input {}")
        self.open = (index, block_type)
        self.next_index += 1
        self.text = ""
        self.partial_json = ""

    def _block_delta(self, position: int, event: dict[str, Any]) -> None:
        _check(self.open is not None, position, "content_block_delta with no open block")
        index, block_type = self.open
        _check(event.get("index") == index, position, f"delta index != open block {index}")
        delta = event.get("delta")
        _check(isinstance(delta, dict), position, "content_block_delta without delta")
        delta_type = delta.get("type")
        _check(
            delta_type in _DELTAS_FOR_BLOCK[block_type],
            position,
            f"{delta_type} inside a {block_type} block",
        )
        if delta_type == "text_delta":
            _check(isinstance(delta.get("text"), str), position, "text_delta.text not a string")
            self.text += delta["text"]
        elif delta_type == "input_json_delta":
            fragment = delta.get("partial_json")
            _check(isinstance(fragment, str), position, "partial_json is not a string")
            self.partial_json += fragment

    def _block_stop(self, position: int, event: dict[str, Any]) -> None:
        _check(self.open is not None, position, "content_block_stop with no open block")
        index, block_type = self.open
        _check(event.get("index") == index, position, f"stop index != open block {index}")
        if block_type == "text":
            _check(bool(self.text.strip()), position, "text block holds no non-whitespace text")
        if block_type in ("tool_use", "server_tool_use") and self.partial_json.strip():
            try:
                value = json.loads(self.partial_json)
            except ValueError as exc:
                raise AssertionError(
                    f"event {position}: tool input is not JSON: {self.partial_json!r}"
                ) from exc
            _check(isinstance(value, dict), position, "tool input JSON is not an object")
        self.open = None

    def _message_delta(self, position: int, event: dict[str, Any]) -> None:
        _check(self.open is None, position, f"message_delta while block {self.open} is open")
        delta = event.get("delta")
        _check(isinstance(delta, dict), position, "message_delta without delta")
        _check(delta.get("stop_reason") in _STOP_REASONS, position, "bad stop_reason")
        _check("stop_sequence" in delta, position, "message_delta without stop_sequence")
        usage = event.get("usage")
        _check(isinstance(usage, dict), position, "message_delta without usage")
        _check(isinstance(usage.get("output_tokens"), int), position, "usage.output_tokens")
        self.phase = "delta"


def _check(condition: bool, position: int, message: str) -> None:
    if not condition:
        raise AssertionError(f"event {position}: {message}")
