"""Gemini `streamGenerateContent?alt=sse` chunks → Anthropic stream events.

Owns: `StreamTranslator` for the gemini wire (protocol.md §2.4 event order, §5.4 chunks, §5.5
finishReason, §5.6 usage, §5.7 thought signatures, §7 items 1, 10, 12, 13). `gemini_response`
runs the same translator over a non-streaming answer, so both give the same blocks. Exported
through `ccroute.translate.gemini`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ccroute.translate import messages as m
from ccroute.translate import reasoning as r
from ccroute.translate.events import message_delta_usage
from ccroute.translate.gemini_candidate import (
    candidate_parts,
    error_of,
    finish_reason_of,
    prompt_block,
    stop_reason_for,
    usage_from,
)
from ccroute.translate.messages import StreamEvent, Usage
from ccroute.translate.openai_errors import stream_error
from ccroute.translate.openai_response import tool_use_id
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

Anchor = dict[str, Any]


class _Phase(enum.Enum):
    IDLE = "idle"  # nothing emitted yet
    STREAMING = "streaming"  # message_start emitted
    DONE = "done"  # message_stop or an error event emitted; later input is ignored


@dataclass
class _Open:
    """The open block: a thinking block collecting signature anchors, or a text block."""

    kind: Literal["thinking", "text"]
    index: int
    ordinal: int = 0  # text blocks: position among the message's text blocks
    anchors: list[Anchor] = field(default_factory=list)  # thinking blocks: what they carry


class StreamTranslator:
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

    def __init__(
        self,
        *,
        message_id: str,
        model: str,
        input_tokens_estimate: int,
        target: Target | None = None,
        tool_names: ToolNames | None = None,
    ) -> None:
        """`model` is the name Claude Code asked for; `target` scopes the signatures ccroute
        mints (None: an empty scope, for tests); `tool_names` maps upstream tool names back."""
        self._message_id = message_id
        self._model = model
        self._input_estimate = input_tokens_estimate
        self._scope = target.scope if target is not None else ""
        self._names = tool_names if tool_names is not None else ToolNames()
        self._phase = _Phase.IDLE
        self._open: _Open | None = None
        self._pending: list[Anchor] = []  # text signatures waiting for the next thinking block
        self._next_index = 0
        self._texts = 0
        self._held_whitespace = ""
        self._tool_ids: set[str] = set()
        self._tool_blocks = 0
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._output_chars = 0

    def feed(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        """One upstream chunk → the Anthropic events it implies (maybe none)."""
        if self._phase is _Phase.DONE:
            return []
        if not isinstance(chunk, dict):
            return self._start()  # not a response object: nothing to translate
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

    def finish(self) -> list[StreamEvent]:
        """End of the upstream stream → close the open block, `message_delta`, `message_stop`.

        Emits them exactly once; later calls (or calls after an error event) return [].
        """
        if self._phase is _Phase.DONE:
            return []
        events = self._start() + self._close_open()
        self._pending = []  # text signatures with no block after them (see the class docstring)
        stop_reason = stop_reason_for(self._finish_reason, has_tool_use=self._tool_blocks > 0)
        usage = message_delta_usage(self._usage, self._output_chars)
        events += [m.message_delta(stop_reason, usage), m.message_stop()]
        self._phase = _Phase.DONE
        return events

    # --- transitions ------------------------------------------------------------------------

    def _start(self) -> list[StreamEvent]:
        if self._phase is not _Phase.IDLE:
            return []
        self._phase = _Phase.STREAMING
        start = m.message_start(
            message_id=self._message_id, model=self._model, input_tokens=self._input_estimate
        )
        return [start]

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
            return self._text(text, signature)
        return []  # parts Claude Code has no block for (executableCode, inlineData, ...)

    def _thought(self, text: str, signature: str | None) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if self._open is None or self._open.kind != "thinking":
            events += self._close_open()
            events += self._open_thinking()
        opened = self._open
        assert opened is not None
        if text:
            self._output_chars += len(text)
            delta: m.ThinkingDelta = {"type": "thinking_delta", "thinking": text}
            events.append(m.content_block_delta(opened.index, delta))
        if signature is not None:
            opened.anchors.append({"on": "thought", "sig": signature})
            events += self._close_open()  # a signature ends a thought run: one run, one block
        return events

    def _text(self, text: str, signature: str | None) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if self._open is not None and self._open.kind == "text":
            if text:
                self._output_chars += len(text)
                events.append(m.content_block_delta(self._open.index, _text_delta(text)))
        elif text.strip():
            text, self._held_whitespace = self._held_whitespace + text, ""
            events += self._close_open()
            events += self._flush_pending()
            index = self._open_block()
            self._open = _Open("text", index, ordinal=self._texts)
            self._texts += 1
            self._output_chars += len(text)
            events.append(m.content_block_start(index, {"type": "text", "text": ""}))
            events.append(m.content_block_delta(index, _text_delta(text)))
        else:
            self._held_whitespace += text
        if signature is not None:
            # The text block it belongs to: the open one, else the next one to open.
            ordinal = (
                self._open.ordinal if self._open and self._open.kind == "text" else self._texts
            )
            self._pending.append({"on": "text", "n": ordinal, "sig": signature})
        return events

    def _function_call(self, call: dict[str, Any], signature: str | None) -> list[StreamEvent]:
        name = call.get("name")
        if not isinstance(name, str) or not name:
            return []  # a call without a name cannot become a tool_use block
        self._held_whitespace = ""
        events: list[StreamEvent] = []
        if self._open is not None and self._open.kind == "text":
            events += self._close_open()
        carrier_needed = self._open is None and bool(self._pending or signature)
        index = self._next_index + (1 if carrier_needed else 0)
        upstream_id = call.get("id") if isinstance(call.get("id"), str) else None
        block_id = tool_use_id(
            upstream_id or None, message_id=self._message_id, index=index, used=self._tool_ids
        )
        if signature is not None:
            self._pending.append({"on": "call", "n": self._tool_blocks, "sig": signature})
        if self._open is not None:  # a thinking block: it carries what is waiting, then closes
            events += self._close_open()
        events += self._flush_pending()
        index = self._open_block()
        self._open = None
        self._tool_blocks += 1
        block: m.ResponseToolUseBlock = {
            "type": "tool_use",
            "id": block_id,
            "name": self._names.claude(name),
            "input": {},
        }
        events.append(m.content_block_start(index, block))
        args = call.get("args")
        if isinstance(args, dict) and args:
            arguments = _compact(args)
            self._output_chars += len(arguments)
            delta: m.InputJSONDelta = {"type": "input_json_delta", "partial_json": arguments}
            events.append(m.content_block_delta(index, delta))
        events.append(m.content_block_stop(index))
        return events

    def _open_block(self) -> int:
        index = self._next_index
        self._next_index += 1
        return index

    def _open_thinking(self) -> list[StreamEvent]:
        """Open a thinking block; it takes over the signatures waiting for one."""
        index = self._open_block()
        self._open = _Open("thinking", index, anchors=self._pending)
        self._pending = []
        block: m.ThinkingBlock = {"type": "thinking", "thinking": "", "signature": ""}
        return [m.content_block_start(index, block)]

    def _close_open(self) -> list[StreamEvent]:
        opened, self._open = self._open, None
        if opened is None:
            return []
        if opened.kind == "text":
            return [m.content_block_stop(opened.index)]
        opened.anchors += self._pending
        self._pending = []
        signature = r.encode_signature(self._scope, r.GEMINI_KIND, opened.anchors)
        delta: m.SignatureDelta = {"type": "signature_delta", "signature": signature}
        return [m.content_block_delta(opened.index, delta), m.content_block_stop(opened.index)]

    def _flush_pending(self) -> list[StreamEvent]:
        """Signatures still waiting (nothing is open) → an empty thinking block carrying them."""
        if not self._pending:
            return []
        return self._open_thinking() + self._close_open()

    def _fail(self, error_type: str, message: str) -> list[StreamEvent]:
        self._phase = _Phase.DONE
        return [m.error_body(error_type, message)]


def _text_delta(text: str) -> m.TextDelta:
    return {"type": "text_delta", "text": text}
