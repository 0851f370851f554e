"""OpenAI `chat.completion.chunk` stream → Anthropic stream events.

Owns: `StreamTranslator` (protocol.md §2.4 event order, §3.2 chunk format and tolerated quirks,
§3.3 mappings, §4.4 reasoning, §4.7 mid-stream errors, §7 items 1, 4, 10-13): reading the
chunks; the Anthropic side (message, blocks, end) is its base `block_writer.BlockWriter`'s.
Exported through `ccroute.translate.openai`.

Must not import: anything beyond the standard library, `ccroute.errors`,
`ccroute.jsoncodec` (pure JSON) and `ccroute.translate`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ccroute.jsoncodec import dumps_str
from ccroute.translate import reasoning as r
from ccroute.translate.block_writer import BlockWriter, OpenBlock, Phase
from ccroute.translate.messages import StopReason, StreamEvent
from ccroute.translate.openai_errors import stream_error
from ccroute.translate.openai_response import (
    arguments_complete,
    matched_stop_sequence,
    stop_reason_for,
    usage_from,
)

_compact = dumps_str


@dataclass
class _Reasoning:
    """The reasoning segment being received. `block_index` is None until reasoning text arrives
    (an encrypted-only segment never opens a thinking block; it becomes `redacted_thinking`)."""

    kind: r.ReasoningKind
    details: r.DetailsAccumulator = field(default_factory=r.DetailsAccumulator)
    block_index: int | None = None


@dataclass
class _ToolCall:
    """One upstream tool call. `block_index` is None until its name is known and the
    tool_use block is opened; `pending` holds argument fragments that arrived before that."""

    upstream_id: str | None
    name: str | None = None
    block_index: int | None = None
    pending: str = ""
    arguments: str = field(default="", repr=False)


class StreamTranslator(BlockWriter):
    """Translates one upstream chat.completion stream into Anthropic stream events.

    Feed each parsed `data:` JSON chunk (not `[DONE]`) to `feed`, then call `finish` once on
    `[DONE]` or end of stream; both return the events to send, in order:

    - `message_start` first (on the first chunk), usage seeded with `input_tokens_estimate`.
    - Reasoning (§4.4, §3.2): `delta.reasoning_details` (OpenRouter; preferred when present),
      else `delta.reasoning_content` (DeepSeek, Kimi, vLLM) or `delta.reasoning`, is handled
      before the delta's content and tool calls. Its text opens a `thinking` block and goes out
      as `thinking_delta`s; when anything else starts (or the stream ends) the block gets one
      `signature_delta` — `reasoning.encode_signature` for `target.scope`, carrying the merged
      details — and closes. Details with no text (encrypted only) become one
      `redacted_thinking` block whose `data` is that signature.
    - Text: a `text` block opens on the first content holding non-whitespace (whitespace
      before it is held and prepended, and dropped if a tool call comes first: §7 item 1).
    - Tool calls: a `tool_use` block opens when a call's id/name arrive (the name mapped back
      through `tool_names`, §7 item 4); argument fragments are sent as `input_json_delta`
      the moment they arrive; the previous block is closed first.
      Calls are keyed by `index`, or by position in the chunk when `index` is missing; a new
      non-null `id` under a known key starts a new call (servers that send every call with
      index 0). A fragment repeating the whole arguments after they already form complete JSON
      is dropped (§7 item 11). Calls that never send arguments get no delta (input `{}`);
      arguments cut off mid-object get one closing `input_json_delta` before the block stops
      (`partialjson.closing_suffix`), so the input Claude Code assembles is always JSON.
    - `finish_reason` and `usage` are recorded; `message_delta` waits for `finish` because
      usage arrives in a later `choices: []` chunk (§3.2).
    - `finish`: closes the open block, emits `message_delta` (stop_reason via
      `stop_reason_for`, real usage when known, else an output estimate) and `message_stop`.
    - A chunk with a top-level `error` object or `finish_reason: "error"` (OpenRouter §4.7)
      emits one `error` event and ends the stream: no block stop, no `message_stop` after it.
    Known limit: argument fragments for a call whose block was already closed (calls
    interleaved by the upstream) cannot be sent and are dropped.
    """

    def _init_wire(self) -> None:
        self._reasoning: _Reasoning | None = None
        self._calls: dict[int, _ToolCall] = {}
        self._finish_reason: str | None = None
        self._stop_sequence: str | None = None

    def _translate(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        error = chunk.get("error")
        if error:
            return self._fail(*stream_error(error))
        events = self._start()
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                events += self._choice(choice)
                if self._phase is Phase.DONE:
                    return events
        usage = usage_from(chunk.get("usage"))
        if usage is not None:
            self._usage = usage
        return events

    def _stop_reason(self) -> tuple[StopReason, str | None]:
        stop_reason = stop_reason_for(
            self._finish_reason,
            has_tool_use=self._tool_blocks > 0,
            tool_input_complete=all(
                arguments_complete(call.arguments)
                for call in self._calls.values()
                if call.block_index is not None
            ),
        )
        stop_sequence = self._stop_sequence if stop_reason == "end_turn" else None
        if stop_sequence is not None:
            stop_reason = "stop_sequence"
        return stop_reason, stop_sequence

    # --- transitions ------------------------------------------------------------------------

    def _choice(self, choice: dict[str, Any]) -> list[StreamEvent]:
        delta = choice.get("delta")
        events: list[StreamEvent] = []
        if isinstance(delta, dict):
            events += self._reasoning_delta(delta)
            content = delta.get("content") or delta.get("refusal")  # OpenAI streams refusals
            if isinstance(content, str) and content:
                events += self._text(content)
            tool_calls = delta.get("tool_calls")
            for position, call in enumerate(tool_calls if isinstance(tool_calls, list) else ()):
                if isinstance(call, dict):
                    events += self._tool_call(call, position)
        match choice.get("finish_reason"):
            case "error":
                events += self._fail(*stream_error(None))
            case str() as finish_reason:
                self._finish_reason = finish_reason
                self._stop_sequence = matched_stop_sequence(choice)
        return events

    def _reasoning_delta(self, delta: dict[str, Any]) -> list[StreamEvent]:
        fragments = r.details_of(delta)
        if fragments:
            text = "".join(r.detail_text(fragment) for fragment in fragments)
            return self._reason("reasoning_details", text, fragments)
        plain = r.reasoning_of(delta)
        if plain is None:
            return []
        return self._reason(plain[0], plain[1], [])

    def _reason(
        self, kind: r.ReasoningKind, text: str, fragments: list[dict[str, Any]]
    ) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        segment = self._reasoning
        if segment is None:
            events += self._close_open()
            segment = self._reasoning = _Reasoning(kind)
        if fragments:
            segment.details.add(fragments)
            segment.kind = "reasoning_details"  # details are lossless: they win over plain text
        if not text:
            return events
        if segment.block_index is None:
            segment.block_index, start = self._open_thinking()
            events.append(start)
        events.append(self._thinking(segment.block_index, text))
        return events

    def _end_reasoning(self, segment: _Reasoning) -> list[StreamEvent]:
        """Sign and close the reasoning segment (see the class docstring)."""
        self._reasoning = None
        details = segment.details.items()
        signature = r.encode_signature(self._scope, segment.kind, details)
        if segment.block_index is not None:
            return self._sign(segment.block_index, signature)
        if not details:
            return []
        return self._redacted(signature)

    def _tool_call(self, fragment: dict[str, Any], position: int) -> list[StreamEvent]:
        key = fragment.get("index")
        if not isinstance(key, int) or isinstance(key, bool):
            key = position
        upstream_id = fragment.get("id") if isinstance(fragment.get("id"), str) else None
        upstream_id = upstream_id or None
        function = fragment.get("function")
        function = function if isinstance(function, dict) else {}
        name = function.get("name") if isinstance(function.get("name"), str) else None
        arguments = function.get("arguments")
        if isinstance(arguments, dict):
            arguments = _compact(arguments)
        elif not isinstance(arguments, str):
            arguments = ""

        call = self._calls.get(key)
        if call is None or (
            upstream_id is not None
            and call.upstream_id is not None
            and upstream_id != call.upstream_id
        ):
            call = self._calls[key] = _ToolCall(upstream_id)
        events: list[StreamEvent] = []
        if call.block_index is None:
            call.upstream_id = call.upstream_id or upstream_id
            call.name = call.name or name or None
            call.pending += arguments
            if call.name is None:
                return events  # cannot open a tool_use block without a name yet
            call.block_index, events = self._open_tool_use(call.upstream_id, call.name)
            arguments, call.pending = call.pending, ""
        return events + self._arguments(call, arguments)

    def _arguments(self, call: _ToolCall, arguments: str) -> list[StreamEvent]:
        index = call.block_index
        if not arguments or index is None or self._open != OpenBlock("tool_use", index):
            return []  # nothing to send, or the block was closed already (see class docstring)
        if call.arguments and arguments.lstrip().startswith("{") and _is_json(call.arguments):
            return []  # the whole arguments repeated after they were already complete
        call.arguments += arguments
        return [self._tool_input(index, arguments)]

    def _close_open(self) -> list[StreamEvent]:
        if self._reasoning is not None:
            return self._end_reasoning(self._reasoning)
        return super()._close_open()

    def _tool_arguments(self, block: OpenBlock) -> str:
        call = next((c for c in self._calls.values() if c.block_index == block.index), None)
        return call.arguments if call is not None else ""


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
