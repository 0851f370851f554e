"""OpenAI Responses API stream events → Anthropic stream events.

Owns: `StreamTranslator` (protocol.md §2.4 event order, §7 items 1, 4, 10-13). The upstream's
typed events and their fields are listed, with sources, in `ccroute.translate.responses`; the
mappings shared with the non-streaming answer live in `responses_response`. Exported through
`ccroute.translate.responses`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal

from ccroute.translate import messages as m
from ccroute.translate.content import JOIN
from ccroute.translate.events import message_delta_usage
from ccroute.translate.messages import StreamEvent
from ccroute.translate.openai_response import arguments_complete, tool_use_id
from ccroute.translate.partialjson import closing_suffix
from ccroute.translate.responses_response import (
    failure_error,
    message_text,
    reasoning_signature,
    reasoning_text,
    stop_reason_of,
    usage_from,
)
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

BlockKind = Literal["text", "tool_use", "thinking", "redacted_thinking"]

_UNFINISHED = "The provider's stream ended before the response was completed."


class _Phase(enum.Enum):
    IDLE = "idle"  # nothing emitted yet
    STREAMING = "streaming"  # message_start emitted
    DONE = "done"  # message_stop or an error event emitted; later input is ignored


@dataclass(frozen=True)
class _OpenBlock:
    kind: BlockKind
    index: int
    key: object  # the output item the block belongs to (its output_index)


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


class StreamTranslator:
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

    def __init__(
        self,
        *,
        message_id: str,
        model: str,
        input_tokens_estimate: int,
        target: Target | None = None,
        tool_names: ToolNames | None = None,
    ) -> None:
        """`model` is the name Claude Code asked for; `target` scopes reasoning signatures
        (None: an empty scope, for tests); `tool_names` maps upstream tool names back."""
        self._message_id = message_id
        self._model = model
        self._input_estimate = input_tokens_estimate
        self._scope = target.scope if target is not None else ""
        self._names = tool_names if tool_names is not None else ToolNames()
        self._phase = _Phase.IDLE
        self._open: _OpenBlock | None = None
        self._next_index = 0
        self._reasoning: dict[object, _Reasoning] = {}
        self._calls: dict[object, _Call] = {}
        self._keys: dict[str, object] = {}  # item id → output_index
        self._texted: set[object] = set()  # message items that sent text deltas
        self._signed: set[object] = set()  # reasoning items whose block was closed
        self._tool_ids: set[str] = set()
        self._held_whitespace = ""
        self._output_chars = 0

    def feed(self, event: dict[str, Any]) -> list[StreamEvent]:
        """One upstream event → the Anthropic events it implies (maybe none)."""
        if self._phase is _Phase.DONE:
            return []
        if not isinstance(event, dict):
            return self._start()  # not an event object: nothing to translate
        kind = event.get("type")
        if kind == "error":
            return self._fail(event)
        events = self._start()
        key = self._key_of(event)
        match kind:
            case "response.output_item.added":
                events += self._item_added(key, event.get("item"))
            case "response.output_item.done":
                events += self._item_done(key, event.get("item"))
            case "response.output_text.delta" | "response.refusal.delta":
                self._texted.add(key)
                events += self._text(key, _string(event.get("delta")))
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
                events += self._fail(error)
        return events

    def finish(self) -> list[StreamEvent]:
        """End of the upstream stream. After a terminal event: nothing more. Before one: the
        response never finished, so one `error` event (`api_error`) ends the stream."""
        if self._phase is _Phase.DONE:
            return []
        self._phase = _Phase.DONE
        return [m.error_body("api_error", _UNFINISHED)]

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

    def _start(self) -> list[StreamEvent]:
        if self._phase is not _Phase.IDLE:
            return []
        self._phase = _Phase.STREAMING
        start = m.message_start(
            message_id=self._message_id, model=self._model, input_tokens=self._input_estimate
        )
        return [start]

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
                    events += self._text(key, message_text(item))
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
            segment.block_index = self._open_block("thinking", key)
            block: m.ThinkingBlock = {"type": "thinking", "thinking": "", "signature": ""}
            events.append(m.content_block_start(segment.block_index, block))
        elif not self._is_open("thinking", key):
            return events  # its block was closed by another item: cannot add to it
        if segment.text and part != segment.part:
            text = JOIN + text
        segment.part = part
        segment.text += text
        self._output_chars += len(text)
        delta: m.ThinkingDelta = {"type": "thinking_delta", "thinking": text}
        events.append(m.content_block_delta(segment.block_index, delta))
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
            self._open = None
            delta: m.SignatureDelta = {"type": "signature_delta", "signature": signature}
            return [
                m.content_block_delta(segment.block_index, delta),
                m.content_block_stop(segment.block_index),
            ]
        if not segment.item.get("encrypted_content"):
            return []
        events = self._close_open()
        index = self._open_block("redacted_thinking", key)
        self._open = None
        block: m.RedactedThinkingBlock = {"type": "redacted_thinking", "data": signature}
        return [*events, m.content_block_start(index, block), m.content_block_stop(index)]

    def _text(self, key: object, text: str) -> list[StreamEvent]:
        if not text:
            return []
        if self._open is not None and self._open.kind == "text":
            self._output_chars += len(text)
            delta: m.TextDelta = {"type": "text_delta", "text": text}
            return [m.content_block_delta(self._open.index, delta)]
        if not text.strip():
            self._held_whitespace += text
            return []
        text, self._held_whitespace = self._held_whitespace + text, ""
        events = self._close_open()
        index = self._open_block("text", key)
        self._output_chars += len(text)
        events.append(m.content_block_start(index, {"type": "text", "text": ""}))
        events.append(m.content_block_delta(index, {"type": "text_delta", "text": text}))
        return events

    def _open_call(self, key: object, item: dict[str, Any]) -> list[StreamEvent]:
        name = item.get("name")
        if not isinstance(name, str) or not name or key in self._calls:
            return []
        events = self._close_open()
        self._held_whitespace = ""
        index = self._open_block("tool_use", key)
        self._calls[key] = _Call(index)
        call_id = item.get("call_id") if isinstance(item.get("call_id"), str) else None
        block: m.ResponseToolUseBlock = {
            "type": "tool_use",
            "id": tool_use_id(
                call_id or None, message_id=self._message_id, index=index, used=self._tool_ids
            ),
            "name": self._names.claude(name),
            "input": {},
        }
        events.append(m.content_block_start(index, block))
        return events + self._arguments(key, _string(item.get("arguments")))

    def _arguments(self, key: object, arguments: str) -> list[StreamEvent]:
        call = self._calls.get(key)
        if not arguments or call is None or not self._is_open("tool_use", key):
            return []  # nothing to send, or the block was closed already
        call.arguments += arguments
        self._output_chars += len(arguments)
        delta: m.InputJSONDelta = {"type": "input_json_delta", "partial_json": arguments}
        return [m.content_block_delta(call.block_index, delta)]

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
        self._phase = _Phase.DONE
        return [*events, m.message_delta(stop_reason, usage), m.message_stop()]

    def _open_block(self, kind: BlockKind, key: object) -> int:
        index = self._next_index
        self._next_index += 1
        self._open = _OpenBlock(kind, index, key)
        return index

    def _is_open(self, kind: BlockKind, key: object) -> bool:
        return self._open is not None and (self._open.kind, self._open.key) == (kind, key)

    def _close_open(self) -> list[StreamEvent]:
        opened = self._open
        if opened is None:
            return []
        if opened.kind == "thinking":
            return self._end_reasoning(opened.key)
        self._open = None
        events = self._seal_tool_input(opened.key) if opened.kind == "tool_use" else []
        return [*events, m.content_block_stop(opened.index)]

    def _seal_tool_input(self, key: object) -> list[StreamEvent]:
        """A last `input_json_delta` that makes cut-off arguments a whole JSON object; none
        when they are whole already or cannot be mended (`partialjson.closing_suffix`)."""
        call = self._calls.get(key)
        suffix = closing_suffix(call.arguments) if call is not None and call.arguments else None
        if call is None or not suffix:
            return []
        delta: m.InputJSONDelta = {"type": "input_json_delta", "partial_json": suffix}
        return [m.content_block_delta(call.block_index, delta)]

    def _fail(self, error: object) -> list[StreamEvent]:
        failed = failure_error(error)
        self._phase = _Phase.DONE
        return [m.error_body(failed.error_type, failed.message)]


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""
