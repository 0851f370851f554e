"""Gemini `streamGenerateContent?alt=sse` chunks → Anthropic stream events.

Owns: `StreamTranslator` for the gemini wire (protocol.md §2.4 event order, §5.4 chunks, §5.5
finishReason, §5.6 usage, §5.7 thought signatures, §7 items 1, 10, 12, 13): reading the parts
and placing the signatures; the Anthropic side (message, blocks, end) is its base
`block_writer.BlockWriter`'s. `gemini_response` runs the same translator over a non-streaming
answer, so both give the same blocks. Exported through `ccroute.translate.gemini`.

Must not import: anything beyond the standard library, `ccroute.errors`,
`ccroute.jsoncodec` (pure JSON) and `ccroute.translate`.
"""

from __future__ import annotations

from typing import Any

from ccroute.jsoncodec import dumps_str
from ccroute.translate import reasoning as r
from ccroute.translate.block_writer import BlockWriter
from ccroute.translate.gemini_candidate import (
    candidate_parts,
    error_of,
    finish_reason_of,
    prompt_block,
    stop_reason_for,
    usage_from,
)
from ccroute.translate.messages import StopReason, StreamEvent
from ccroute.translate.openai_errors import stream_error

_compact = dumps_str

Anchor = dict[str, Any]


class StreamTranslator(BlockWriter):
    """Translates one Gemini SSE stream (each `data:` a `GenerateContentResponse`) into Anthropic
    stream events.

    Feed each parsed chunk to `feed`, then call `finish` once at the end of the stream (Gemini
    sends no `[DONE]`, §5.4); both return the events to send, in order:

    - `message_start` first, usage seeded with `input_tokens_estimate` (§2.4, §7 item 12).
    - Parts of the first candidate, in order (§5.4):
      - thought parts (`"thought": true`) open a `thinking` block and stream as
        `thinking_delta`s (Gemini's thought summaries);
      - text parts open a `text` block on the first non-whitespace text (whitespace before it
        is held, and dropped if a function call comes first: §7 item 1);
      - each `functionCall` becomes its own `tool_use` block (even when names repeat, §7 item
        10): start, one `input_json_delta` with the compact args (none for empty args), stop.
        Its id is Gemini's `functionCall.id` when it fits `^[a-zA-Z0-9_-]+$`, else minted by
        `openai_response.tool_use_id` from the message id and block index (§7 item 3); its
        name is mapped back through `tool_names`.
    - `thoughtSignature`s (§5.7) are carried in the `signature` of thinking blocks, minted by
      `reasoning.encode_signature(target.scope, "gemini", anchors)`; each anchor names the part
      the signature goes back on by position (`reasoning.GEMINI_KIND`: the n-th tool_use or
      text block of the message, or the thinking block itself), never by the tool_use id, which
      for a call without a Gemini id depends on the message id: a thought part's signature stays in
      its own thinking block, which it closes (one signed run = one block); a functionCall's
      goes in the open thinking block, or else in an empty thinking block opened right before
      its tool_use; a text part's waits until its text block closes and then goes in the next
      thinking block (opened for it if need be) — but if the message ends first it is dropped:
      a thinking block must not end a message, because Claude Code's print mode reports the
      text of the last block (observed with 2.1.197: `"result": ""`), and Gemini checks only
      function-call signatures (§5.7). So stream and non-stream place them alike whichever
      chunk held the signature, and every thinking block has a signature.
    - `finishReason` and `usageMetadata` (running totals; the last counts, §5.6) are recorded.
    - `finish`: closes the open block, drops text signatures still waiting, emits
      `message_delta` (`stop_reason_for`, real usage when known, else an output estimate) and
      `message_stop`.
    - A chunk with an `error` object (a failure after the stream started) emits one `error`
      event mapped like an OpenAI stream error (`openai_errors.stream_error`, §5.8); a prompt
      refused outright (`promptFeedback.blockReason`, no candidate) emits one
      `invalid_request_error` event. Nothing follows either.
    """

    def _init_wire(self) -> None:
        self._anchors: list[Anchor] = []  # what the open thinking block carries
        self._pending: list[Anchor] = []  # text signatures waiting for the next thinking block
        self._finish_reason: str | None = None

    def _translate(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        error = error_of(chunk)
        if error is not None:
            return self._fail(*stream_error(error))
        blocked = prompt_block(chunk)
        if blocked is not None:
            return self._fail("invalid_request_error", blocked)
        events = self._start()
        for part in candidate_parts(chunk):
            events += self._part(part)
        finish_reason = finish_reason_of(chunk)
        if finish_reason is not None:
            self._finish_reason = finish_reason
        usage = usage_from(chunk.get("usageMetadata"))
        if usage is not None:
            self._usage = usage
        return events

    def _stop_reason(self) -> tuple[StopReason, str | None]:
        # text signatures still in `_pending` go nowhere (see the class docstring)
        return stop_reason_for(self._finish_reason, has_tool_use=self._tool_blocks > 0), None

    # --- transitions ------------------------------------------------------------------------

    def _part(self, part: dict[str, Any]) -> list[StreamEvent]:
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        call = part.get("functionCall")
        if isinstance(call, dict):
            return self._function_call(call, signature)
        text = part.get("text")
        text = text if isinstance(text, str) else ""
        if part.get("thought") is True:
            return self._thought(text, signature)
        if "text" in part or signature is not None:
            return self._text_part(text, signature)
        return []  # parts Claude Code has no block for (executableCode, inlineData, ...)

    def _thought(self, text: str, signature: str | None) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if not self._is_open("thinking"):
            events += self._close_open()
            events += self._open_carrier()
        assert self._open is not None
        if text:
            events.append(self._thinking(self._open.index, text))
        if signature is not None:
            self._anchors.append({"on": "thought", "sig": signature})
            events += self._close_open()  # a signature ends a thought run: one run, one block
        return events

    def _text_part(self, text: str, signature: str | None) -> list[StreamEvent]:
        events = self._text(text)
        if signature is not None:
            # The text block it belongs to: the open one, else the next one to open.
            ordinal = self._texts - 1 if self._is_open("text") else self._texts
            self._pending.append({"on": "text", "n": ordinal, "sig": signature})
        return events

    def _function_call(self, call: dict[str, Any], signature: str | None) -> list[StreamEvent]:
        name = call.get("name")
        if not isinstance(name, str) or not name:
            return []  # a call without a name cannot become a tool_use block
        events: list[StreamEvent] = []
        if self._is_open("text"):
            events += self._close_open()
        if signature is not None:
            self._pending.append({"on": "call", "n": self._tool_blocks, "sig": signature})
        upstream_id = call.get("id") if isinstance(call.get("id"), str) else None
        index, opening = self._open_tool_use(upstream_id or None, name)
        events += opening
        args = call.get("args")
        if isinstance(args, dict) and args:
            events.append(self._tool_input(index, _compact(args)))
        return events + self._close_open()

    def _make_room(self) -> list[StreamEvent]:
        """Close the open block (a thinking block carries what is waiting), then put
        signatures still waiting in an empty thinking block of their own."""
        events = self._close_open()
        if not self._pending:
            return events
        return events + self._open_carrier() + self._close_open()

    def _open_carrier(self) -> list[StreamEvent]:
        """Open a thinking block; it takes over the signatures waiting for one."""
        _, start = self._open_thinking()
        self._anchors, self._pending = self._pending, []
        return [start]

    def _close_open(self) -> list[StreamEvent]:
        if self._open is None or self._open.kind != "thinking":
            return super()._close_open()
        anchors = self._anchors + self._pending
        self._anchors, self._pending = [], []
        signature = r.encode_signature(self._scope, r.GEMINI_KIND, anchors)
        return self._sign(self._open.index, signature)
