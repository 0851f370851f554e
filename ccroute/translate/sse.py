"""Server-sent events: an incremental decoder (upstream bytes in) and an encoder (events out).

Owns: the SSE wire format in both directions. The decoder follows the WHATWG event-stream rules
(lines end with LF, CRLF or CR; `:` lines are comments; `data:` lines of one event join with LF;
a blank line dispatches), and splits lines on bytes *before* decoding UTF-8, so a character cut
across two network reads survives. The encoder writes the Anthropic framing, whose `event:` line
is mandatory (protocol.md §2.4, §7 item 18).

Must not import: anything beyond the standard library and `ccroute.jsoncodec` (pure JSON);
no aiohttp: the server owns the socket.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccroute.jsoncodec import dumps

__all__ = ["PING", "SSEDecoder", "SSEEvent", "encode"]

_LINE_END = re.compile(rb"\r\n|\r|\n")
_CR = 0x0D
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: its `event:` name (None when absent) and its joined `data:` lines.

    The OpenAI `[DONE]` sentinel arrives as `SSEEvent(None, "[DONE]")`; the caller decides.
    """

    event: str | None
    data: str


class SSEDecoder:
    """Turns a byte stream into `SSEEvent`s, whatever the read boundaries.

    `feed` returns the events completed by the new bytes; `close` ends the stream and returns
    what is left. Leniency (documented deviation from WHATWG): at `close`, an unterminated last
    line is processed and a pending event with data is dispatched even without its blank line,
    because some servers end with `data: [DONE]` and no trailing newline. Invalid UTF-8 is
    replaced with U+FFFD rather than raising. `id:` and `retry:` fields are ignored.
    """

    __slots__ = ("_buffer", "_data", "_event", "_first_line", "_scanned")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scanned = 0  # bytes at the front of _buffer already known to hold no line end
        self._event: str | None = None
        self._data: list[str] = []
        self._first_line = True

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Add bytes; return the events they complete (possibly none)."""
        buffer = self._buffer
        buffer += data
        if b"\r" not in buffer:
            return self._feed_lf(buffer)
        events: list[SSEEvent] = []
        start = 0
        while (match := _LINE_END.search(buffer, self._scanned)) is not None:
            if match.end() == len(buffer) and buffer[-1] == _CR:
                break  # a lone CR at the end may be the first half of CRLF: wait for more
            event = self._line(bytes(buffer[start : match.start()]))
            if event is not None:
                events.append(event)
            start = self._scanned = match.end()
        if start:
            del buffer[:start]
        self._scanned = len(buffer) - 1 if buffer.endswith(b"\r") else len(buffer)
        return events

    def close(self) -> list[SSEEvent]:
        """End of stream: process any unterminated line, dispatch a pending event, reset."""
        events: list[SSEEvent] = []
        rest = bytes(self._buffer)
        self._buffer.clear()
        self._scanned = 0
        if rest:
            event = self._line(rest.removesuffix(b"\r"))
            if event is not None:
                events.append(event)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        self._first_line = True
        return events

    def _feed_lf(self, buffer: bytearray) -> list[SSEEvent]:
        """`feed` for the usual stream, whose lines all end with LF: every complete line is
        decoded in one go and split once (a UTF-8 character never contains the LF byte, so
        this decodes exactly as line by line would)."""
        end = buffer.rfind(b"\n")
        if end < 0:
            self._scanned = len(buffer)
            return []
        text = buffer[:end].decode("utf-8", "replace")
        del buffer[: end + 1]
        self._scanned = len(buffer)
        events: list[SSEEvent] = []
        for line in text.split("\n"):
            event = self._text_line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, raw: bytes) -> SSEEvent | None:
        return self._text_line(raw.decode("utf-8", "replace"))

    def _text_line(self, line: str) -> SSEEvent | None:
        if self._first_line:
            self._first_line = False
            line = line.removeprefix(_BOM)
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None  # comment (e.g. OpenRouter's ": OPENROUTER PROCESSING")
        field, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        return None

    def _dispatch(self) -> SSEEvent | None:
        event, data = self._event, self._data
        self._event, self._data = None, []
        if not data:
            return None
        return SSEEvent(event, "\n".join(data))


def encode(event: Mapping[str, Any]) -> bytes:
    """One Anthropic SSE frame: `event: <type>\\ndata: <compact json>\\n\\n` (protocol.md §2.4).

    `event["type"]` names the frame; the data is the whole event as compact JSON in UTF-8 (one
    line: JSON escapes every newline inside strings; a lone surrogate from an upstream JSON
    escape stays an escape, `jsoncodec.dumps`).
    """
    body = dumps(event if isinstance(event, dict) else dict(event))
    kind: str = event["type"]
    return b"event: " + kind.encode() + b"\ndata: " + body + b"\n\n"


PING: bytes = encode({"type": "ping"})
"""The keep-alive frame `event: ping` (Claude Code skips it; it resets the idle watchdog §6.3)."""
