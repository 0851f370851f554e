"""OpenAI Responses API stream events → Anthropic stream events.

Owns: `StreamTranslator` (protocol.md §2.4 event order, §7 items 1, 4, 10-13): reading the
events; the Anthropic side (message, blocks, end) is its base `block_writer.BlockWriter`'s. The
upstream's typed events and their fields are listed, with sources, in
`ccroute.translate.responses`; the mappings shared with the non-streaming answer live in
`responses_response`. Exported through `ccroute.translate.responses`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccroute.translate.block_writer import BlockWriter, OpenBlock, Phase
from ccroute.translate.content import JOIN
from ccroute.translate.events import message_delta_usage
from ccroute.translate.messages import StreamEvent
from ccroute.translate.openai_response import arguments_complete
from ccroute.translate.responses_response import (
    failure_error,
    message_text,
    reasoning_signature,
    reasoning_text,
    stop_reason_of,
    usage_from,
)

_UNFINISHED = "The provider's stream ended before the response was completed."


@dataclass
class _Reasoning:
    """A `reasoning` output item being received. `item` is the latest copy of the item (the
    one from `response.output_item.done` is final: its `encrypted_content` is complete);
    `part` is the summary/content part the last text came from."""

    item: dict[str, Any]
    block_index: int | None = None
    part: tuple[str, object] | None = None
    text: str = ""


@dataclass
class _Call:
    """A `function_call` output item whose tool_use block is open or was."""

    block_index: int
    arguments: str = field(default="", repr=False)


class StreamTranslator(BlockWriter):
    """Translates one upstream Responses API event stream into Anthropic stream events.

    Feed each parsed `data:` JSON event (its `type` names it) to `feed`; call `finish` once at
    the end of the stream. Both return the events to send, in order:

    - `message_start` first (on the first event), usage seeded with `input_tokens_estimate`.
    - `reasoning` items: `response.reasoning_summary_text.delta` and
      `response.reasoning_text.delta` text opens a `thinking` block and goes out as
      `thinking_delta`s (a new summary or content part after earlier text is preceded by a
      blank line, as `responses_response.reasoning_text` joins them). At the item's
      `response.output_item.done` the block gets one `signature_delta` carrying the final
      item (`responses_response.reasoning_signature`, scoped to `target.scope`) and closes;
      an item with no text but `encrypted_content` becomes one `redacted_thinking` block
      whose `data` is that signature. Text found only in the done item is sent then.
    - `message` items: `response.output_text.delta` and `response.refusal.delta` text goes
      into a `text` block opened on the first non-whitespace text (whitespace before it is
      held and prepended; dropped if the item ends first, §7 item 1); the block closes at the
      item's `response.output_item.done` (which supplies the text if no delta did).
    - `function_call` items: `response.output_item.added` opens a `tool_use` block (id from
      `call_id` via `openai_response.tool_use_id`, name mapped back through `tool_names`);
      each `response.function_call_arguments.delta` is an `input_json_delta` at once; the
      `.done` event (or the done item) supplies the arguments when no delta did. Arguments cut
      off mid-object get one closing `input_json_delta` before the block stops.
    - `response.completed` / `response.incomplete`: close the open block, then `message_delta`
      (stop_reason from `responses_response.stop_reason_of`, usage from `usage_from` via
      `events.message_delta_usage`) and `message_stop`.
    - `response.failed` and `error` events end the stream with one `error` event
      (`responses_response.failure_error`); so does an upstream stream that ends (`finish`) before
      any of these terminal events: no `message_stop` follows.
    Other events (`response.created`, `response.in_progress`, `*.added`/`*.done` of content
    and summary parts, built-in tool progress) only start the message. Events are matched to
    their item by `output_index`, or by `item_id` when a server leaves the index out.
    Known limit: items arrive one after another; text or arguments for an item whose block
    was already closed by a later item cannot be sent and are dropped.
    """

    def _init_wire(self) -> None:
        self._reasoning: dict[object, _Reasoning] = {}
        self._calls: dict[object, _Call] = {}
        self._keys: dict[str, object] = {}  # item id → output_index
        self._texted: set[object] = set()  # message items that sent text deltas
        self._signed: set[object] = set()  # reasoning items whose block was closed

    def _translate(self, event: dict[str, Any]) -> list[StreamEvent]:
        kind = event.get("type")
        if kind == "error":
            return self._failure(event)
        events = self._start()
        key = self._key_of(event)
        match kind:
            case "response.output_item.added":
                events += self._item_added(key, event.get("item"))
            case "response.output_item.done":
                events += self._item_done(key, event.get("item"))
            case "response.output_text.delta" | "response.refusal.delta":
                self._texted.add(key)
                events += self._text(_string(event.get("delta")), key)
            case "response.function_call_arguments.delta":
                events += self._arguments(key, _string(event.get("delta")))
            case "response.function_call_arguments.done":
                events += self._arguments_done(key, _string(event.get("arguments")))
            case "response.reasoning_summary_text.delta":
                part = ("summary", event.get("summary_index"))
                events += self._reason(key, part, _string(event.get("delta")))
            case "response.reasoning_text.delta":
                part = ("content", event.get("content_index"))
                events += self._reason(key, part, _string(event.get("delta")))
            case "response.completed" | "response.incomplete":
                events += self._complete(kind, event.get("response"))
            case "response.failed":
                response = event.get("response")
                error = response.get("error") if isinstance(response, dict) else None
                events += self._failure(error)
        return events

    def finish(self) -> list[StreamEvent]:
        """End of the upstream stream. After a terminal event: nothing more. Before one: the
        response never finished, so one `error` event (`api_error`) ends the stream."""
        if self._phase is Phase.DONE:
            return []
        return self._fail("api_error", _UNFINISHED)

    # --- transitions ------------------------------------------------------------------------

    def _key_of(self, event: dict[str, Any]) -> object:
        """The output item an event is about: its `output_index`, or, when a server leaves
        that out, the index its `item_id` (or item's `id`) was announced with."""
        key = event.get("output_index")
        item = event.get("item")
        item_id = item.get("id") if isinstance(item, dict) else event.get("item_id")
        if isinstance(key, int) and not isinstance(key, bool):
            if isinstance(item_id, str):
                self._keys.setdefault(item_id, key)
            return key
        return self._keys.get(item_id) if isinstance(item_id, str) else None

    def _item_added(self, key: object, item: object) -> list[StreamEvent]:
        if not isinstance(item, dict):
            return []
        match item.get("type"):
            case "reasoning":
                events = self._close_open()
                self._reasoning[key] = _Reasoning(dict(item))
                return events
            case "function_call":
                return self._open_call(key, item)
        return []

    def _item_done(self, key: object, item: object) -> list[StreamEvent]:
        if not isinstance(item, dict):
            return []
        events: list[StreamEvent] = []
        match item.get("type"):
            case "reasoning" if key not in self._signed:
                segment = self._reasoning.setdefault(key, _Reasoning(dict(item)))
                segment.item = dict(item)
                if not segment.text:
                    events += self._reason(key, ("done", None), reasoning_text(item))
                return events + self._end_reasoning(key)
            case "message":
                if key not in self._texted:
                    events += self._text(message_text(item), key)
                self._held_whitespace = ""
                if self._open is not None and self._open.kind == "text":
                    events += self._close_open()
            case "function_call":
                if key not in self._calls:
                    events += self._open_call(key, item)
                events += self._arguments_done(key, _string(item.get("arguments")))
                if self._is_open("tool_use", key):
                    events += self._close_open()
        return events

    def _reason(self, key: object, part: tuple[str, object], text: str) -> list[StreamEvent]:
        segment = self._reasoning.get(key)
        if segment is None:  # text for a reasoning item never announced: start one
            segment = self._reasoning[key] = _Reasoning({"type": "reasoning"})
        if not text:
            return []
        events: list[StreamEvent] = []
        if segment.block_index is None:
            events += self._close_open()
            segment.block_index, start = self._open_thinking(key)
            events.append(start)
        elif not self._is_open("thinking", key):
            return events  # its block was closed by another item: cannot add to it
        if segment.text and part != segment.part:
            text = JOIN + text
        segment.part = part
        segment.text += text
        events.append(self._thinking(segment.block_index, text))
        return events

    def _end_reasoning(self, key: object) -> list[StreamEvent]:
        """Sign and close the reasoning item's block, or emit its redacted_thinking block."""
        segment = self._reasoning.pop(key, None)
        if segment is None:
            return []
        self._signed.add(key)
        signature = reasoning_signature(segment.item, self._scope)
        if segment.block_index is not None:
            if not self._is_open("thinking", key):
                return []
            return self._sign(segment.block_index, signature)
        if not segment.item.get("encrypted_content"):
            return []
        return self._close_open() + self._redacted(signature, key)

    def _open_call(self, key: object, item: dict[str, Any]) -> list[StreamEvent]:
        name = item.get("name")
        if not isinstance(name, str) or not name or key in self._calls:
            return []
        call_id = item.get("call_id") if isinstance(item.get("call_id"), str) else None
        index, events = self._open_tool_use(call_id or None, name, key)
        self._calls[key] = _Call(index)
        return events + self._arguments(key, _string(item.get("arguments")))

    def _arguments(self, key: object, arguments: str) -> list[StreamEvent]:
        call = self._calls.get(key)
        if not arguments or call is None or not self._is_open("tool_use", key):
            return []  # nothing to send, or the block was closed already
        call.arguments += arguments
        return [self._tool_input(call.block_index, arguments)]

    def _arguments_done(self, key: object, arguments: str) -> list[StreamEvent]:
        """The complete arguments: sent only when no delta sent any of them."""
        call = self._calls.get(key)
        if call is None or call.arguments:
            return []
        return self._arguments(key, arguments)

    def _complete(self, kind: str, response: object) -> list[StreamEvent]:
        response = response if isinstance(response, dict) else {}
        events = self._close_open()
        status = response.get("status") or kind.removeprefix("response.")
        stop_reason = stop_reason_of(
            status,
            response.get("incomplete_details"),
            has_tool_use=bool(self._calls),
            tool_input_complete=all(arguments_complete(c.arguments) for c in self._calls.values()),
        )
        usage = message_delta_usage(usage_from(response.get("usage")), self._output_chars)
        return events + self._end(stop_reason, usage)

    def _close_open(self) -> list[StreamEvent]:
        if self._open is not None and self._open.kind == "thinking":
            return self._end_reasoning(self._open.key)
        return super()._close_open()

    def _tool_arguments(self, block: OpenBlock) -> str:
        call = self._calls.get(block.key)
        return call.arguments if call is not None else ""

    def _failure(self, error: object) -> list[StreamEvent]:
        failed = failure_error(error)
        return self._fail(failed.error_type, failed.message)


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""
