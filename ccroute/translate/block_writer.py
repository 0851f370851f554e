"""The Anthropic side of a translated stream: the message, its content blocks, its end.

Owns: `BlockWriter`, the base class of the `StreamTranslator`s that turn another wire's stream
into Anthropic events (`openai_stream`, `gemini_stream`, `responses_stream`). It keeps what
they all do on the Anthropic side (protocol.md §2.4 event order): the stream's phase (nothing
sent, streaming, done); `message_start` once, usage seeded with the input estimate (§7 item
12); block indexes in content order with one block open at a time (`content_block_start` /
`content_block_delta` / `content_block_stop`); text blocks opened lazily on the first
non-whitespace text, the whitespace before it held (§7 item 1); tool_use block starts (ids by
`openai_response.tool_use_id`, §7 item 3; names mapped back, §7 item 4) and a last
`input_json_delta` that mends cut-off arguments (§3.2); thinking blocks, `signature_delta` and
`redacted_thinking` blocks (§4.4); the end (`message_delta` with the stop reason and the usage
or an output estimate, `message_stop`); and the one `error` event that ends a failed stream
(§2.5). A wire's subclass reads its upstream format and calls these; the anthropic wire's
passthrough `StreamTranslator` (`anthropic_response`) uses only the phase and the error event.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Literal

from ccroute.translate import messages as m
from ccroute.translate.events import message_delta_usage
from ccroute.translate.messages import StopReason, StreamEvent, Usage
from ccroute.translate.openai_response import tool_use_id
from ccroute.translate.partialjson import closing_suffix
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

BlockKind = Literal["text", "tool_use", "thinking", "redacted_thinking"]


class Phase(enum.Enum):
    IDLE = "idle"  # nothing emitted yet
    STREAMING = "streaming"  # message_start emitted
    DONE = "done"  # message_stop or an error event emitted; later input is ignored


@dataclass(frozen=True)
class OpenBlock:
    """The open content block. `key` ties it to what the upstream sent it for (an output item,
    for the wires that say), None when the wire needs no such tie."""

    kind: BlockKind
    index: int
    key: object = None


class BlockWriter:
    """Writes one Anthropic message stream for a translator of another wire (see the module
    docstring). A subclass sets up its own state in `_init_wire`, implements `_translate` (one
    upstream chunk) and `_stop_reason` (for `finish`), and extends `_close_open` for the blocks
    it must sign, `_tool_arguments` for those it must mend."""

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
        self._phase = Phase.IDLE
        self._open: OpenBlock | None = None
        self._next_index = 0
        self._texts = 0  # text blocks opened so far
        self._tool_blocks = 0  # tool_use blocks opened so far
        self._tool_ids: set[str] = set()
        self._held_whitespace = ""
        self._usage: Usage | None = None  # the upstream's, once it reported any
        self._output_chars = 0
        self._init_wire()

    def feed(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        """One upstream chunk → the Anthropic events it implies (maybe none)."""
        if self._phase is Phase.DONE:
            return []
        if not isinstance(chunk, dict):
            return self._start()  # not a JSON object: nothing to translate
        return self._translate(chunk)

    def finish(self) -> list[StreamEvent]:
        """End of the upstream stream → close the open block, `message_delta`, `message_stop`.

        Emits them exactly once; later calls (or calls after an error event) return [].
        """
        if self._phase is Phase.DONE:
            return []
        events = self._start() + self._close_open()
        stop_reason, stop_sequence = self._stop_reason()
        usage = message_delta_usage(self._usage, self._output_chars)
        return events + self._end(stop_reason, usage, stop_sequence)

    # --- what a wire's translator supplies ------------------------------------------------------

    def _init_wire(self) -> None:
        """Set up the wire's own state (called at the end of `__init__`)."""

    def _translate(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        """The events for one upstream chunk (a JSON object), while the stream is not done."""
        raise NotImplementedError

    def _stop_reason(self) -> tuple[StopReason, str | None]:
        """The stop_reason and stop_sequence `finish` reports."""
        raise NotImplementedError

    def _tool_arguments(self, block: OpenBlock) -> str:
        """The arguments sent so far in the tool_use block `block` ("" = nothing to mend)."""
        return ""

    def _make_room(self) -> list[StreamEvent]:
        """What ends before a text or tool_use block opens: the open block."""
        return self._close_open()

    # --- the message ------------------------------------------------------------------------

    def _start(self) -> list[StreamEvent]:
        """`message_start`, the first time only."""
        if self._phase is not Phase.IDLE:
            return []
        self._phase = Phase.STREAMING
        start = m.message_start(
            message_id=self._message_id, model=self._model, input_tokens=self._input_estimate
        )
        return [start]

    def _end(
        self, stop_reason: StopReason, usage: m.MessageDeltaUsage, stop_sequence: str | None = None
    ) -> list[StreamEvent]:
        """`message_delta` and `message_stop`: the stream is done."""
        self._phase = Phase.DONE
        return [m.message_delta(stop_reason, usage, stop_sequence), m.message_stop()]

    def _fail(self, error_type: str, message: str) -> list[StreamEvent]:
        """One `error` event; nothing follows it (no block stop, no `message_stop`)."""
        self._phase = Phase.DONE
        return [m.error_body(error_type, message)]

    # --- blocks -----------------------------------------------------------------------------

    def _open_block(self, kind: BlockKind, key: object = None) -> int:
        """The next block index, now the open block's."""
        index = self._next_index
        self._next_index += 1
        self._open = OpenBlock(kind, index, key)
        if kind == "text":
            self._texts += 1
        elif kind == "tool_use":
            self._tool_blocks += 1
        return index

    def _is_open(self, kind: BlockKind, key: object = None) -> bool:
        return self._open is not None and (self._open.kind, self._open.key) == (kind, key)

    def _close_open(self) -> list[StreamEvent]:
        """Close the open block; a tool_use block's cut-off arguments are mended first."""
        opened, self._open = self._open, None
        if opened is None:
            return []
        events = []
        if opened.kind == "tool_use":
            events = self._seal(opened.index, self._tool_arguments(opened))
        return [*events, m.content_block_stop(opened.index)]

    def _text(self, text: str, key: object = None) -> list[StreamEvent]:
        """Text into the open text block, or into a new one once it holds non-whitespace
        (whitespace before that is held and sent with it)."""
        if not text:
            return []
        if self._open is not None and self._open.kind == "text":
            self._output_chars += len(text)
            return [m.content_block_delta(self._open.index, _text_delta(text))]
        if not text.strip():
            self._held_whitespace += text
            return []
        text, self._held_whitespace = self._held_whitespace + text, ""
        events = self._make_room()
        index = self._open_block("text", key)
        self._output_chars += len(text)
        events.append(m.content_block_start(index, {"type": "text", "text": ""}))
        events.append(m.content_block_delta(index, _text_delta(text)))
        return events

    def _open_tool_use(
        self, upstream_id: str | None, name: str, key: object = None
    ) -> tuple[int, list[StreamEvent]]:
        """Open a tool_use block for an upstream call; held whitespace is dropped."""
        events = self._make_room()
        self._held_whitespace = ""
        index = self._open_block("tool_use", key)
        block: m.ResponseToolUseBlock = {
            "type": "tool_use",
            "id": tool_use_id(
                upstream_id, message_id=self._message_id, index=index, used=self._tool_ids
            ),
            "name": self._names.claude(name),
            "input": {},
        }
        events.append(m.content_block_start(index, block))
        return index, events

    def _tool_input(self, index: int, arguments: str) -> StreamEvent:
        self._output_chars += len(arguments)
        delta: m.InputJSONDelta = {"type": "input_json_delta", "partial_json": arguments}
        return m.content_block_delta(index, delta)

    def _seal(self, index: int, arguments: str) -> list[StreamEvent]:
        """A last `input_json_delta` that makes cut-off arguments a whole JSON object; none
        when they are whole already or cannot be mended (`partialjson.closing_suffix`)."""
        suffix = closing_suffix(arguments) if arguments else None
        if not suffix:
            return []
        delta: m.InputJSONDelta = {"type": "input_json_delta", "partial_json": suffix}
        return [m.content_block_delta(index, delta)]

    def _open_thinking(self, key: object = None) -> tuple[int, StreamEvent]:
        index = self._open_block("thinking", key)
        block: m.ThinkingBlock = {"type": "thinking", "thinking": "", "signature": ""}
        return index, m.content_block_start(index, block)

    def _thinking(self, index: int, text: str) -> StreamEvent:
        self._output_chars += len(text)
        delta: m.ThinkingDelta = {"type": "thinking_delta", "thinking": text}
        return m.content_block_delta(index, delta)

    def _sign(self, index: int, signature: str) -> list[StreamEvent]:
        """The thinking block `index` gets its one `signature_delta` and closes."""
        self._open = None
        delta: m.SignatureDelta = {"type": "signature_delta", "signature": signature}
        return [m.content_block_delta(index, delta), m.content_block_stop(index)]

    def _redacted(self, signature: str, key: object = None) -> list[StreamEvent]:
        """A whole `redacted_thinking` block whose `data` is `signature`."""
        index = self._open_block("redacted_thinking", key)
        self._open = None
        block: m.RedactedThinkingBlock = {"type": "redacted_thinking", "data": signature}
        return [m.content_block_start(index, block), m.content_block_stop(index)]


def _text_delta(text: str) -> m.TextDelta:
    return {"type": "text_delta", "text": text}
