"""What one `POST /v1/messages` did, noted while it runs: `RequestFacts` and the `FACTS` key.

Owns: the mutable notes the handler and the relays keep about a request (route, the targets
tried, when the first content went out, the usage and the `error` event the client saw, the
bytes sent when bodies are recorded). `recording.record_middleware` creates them when the
request arrives and turns them into a `RequestRecord` once the answer is done.

The relays call `saw_events` / `saw_sse` once per written chunk, so both look at event types
only; the few events that carry usage or an error (`message_start`, `message_delta`, `error`)
are the only ones decoded, and only on the passthrough path where they arrive as text.

Must not import other `ccroute.server` modules (the relays and the handler import this one).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ccroute.translate.sse import SSEEvent

#: The usage counts a record keeps (protocol.md §2.4).
USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


@dataclass(slots=True)
class RequestFacts:
    """One request's notes; times are `time.monotonic()` seconds unless said otherwise.

    Attributes:
        arrived: unix seconds the request arrived (the record's `time`).
        started: monotonic time it arrived.
        bodies: whether the request and response bytes are kept (`log.bodies` at arrival).
        request_id: the `msg_…` id; "" until the handler assigned it.
        session_id, requested_model, route, reason, stream: as in `RequestRecord`; the
            handler fills them once the request is valid and routed ("" route = never routed).
        provider, upstream_model: the target tried last.
        exchanges: the handler's `Exchange`s, one per upstream call (outcome of the last).
        first_content: when the first `content_block_delta` was written; None before.
        usage: the usage the client saw so far (`message_start`'s, overlaid by the counts
            of each `message_delta`); None before any.
        error_type: the type of the SSE `error` event that ended the stream, if one did.
        ended: the stream's last event (`message_stop` or `error`) was written.
        sent: the SSE bytes written, when `bodies`; None otherwise.
    """

    arrived: float
    started: float
    bodies: bool = False
    request_id: str = ""
    session_id: str | None = None
    requested_model: str = ""
    route: str = ""
    reason: str = ""
    stream: bool = False
    provider: str | None = None
    upstream_model: str | None = None
    exchanges: list[Any] = field(default_factory=list)
    first_content: float | None = None
    usage: dict[str, int] | None = None
    error_type: str | None = None
    ended: bool = False
    sent: list[bytes] | None = None

    @classmethod
    def now(cls, *, bodies: bool = False) -> RequestFacts:
        """Facts for a request arriving now."""
        return cls(time.time(), time.monotonic(), bodies, sent=[] if bodies else None)

    def add_usage(self, usage: object) -> None:
        """Overlay the counts present in `usage` (a `message_start` / `message_delta` usage)."""
        if not isinstance(usage, Mapping):
            return
        merged = self.usage if self.usage is not None else {}
        for name in USAGE_FIELDS:
            value = usage.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                merged[name] = value
        self.usage = merged

    def saw_events(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Note the Anthropic events (dicts) just written to the client."""
        for event in events:
            kind = event["type"]
            if kind == "content_block_delta":
                if self.first_content is None:
                    self.first_content = time.monotonic()
            elif kind == "message_start":
                self.add_usage(event["message"].get("usage"))
            elif kind == "message_delta":
                self.add_usage(event.get("usage"))
            elif kind == "message_stop":
                self.ended = True
            elif kind == "error":
                self.saw_error(event.get("error"))

    def saw_sse(self, events: Iterable[SSEEvent]) -> None:
        """Note the Anthropic SSE events (as text, the passthrough relay's) just written."""
        for event in events:
            kind = event.event or _data_type(event.data)
            if kind == "content_block_delta":
                if self.first_content is None:
                    self.first_content = time.monotonic()
            elif kind == "message_stop":
                self.ended = True
            elif kind in ("message_start", "message_delta", "error"):
                data = _decode(event.data)
                if kind == "message_start":
                    message = data.get("message")
                    self.add_usage(message.get("usage") if isinstance(message, dict) else None)
                elif kind == "message_delta":
                    self.add_usage(data.get("usage"))
                else:
                    self.saw_error(data.get("error"))

    def saw_error(self, error: object) -> None:
        """Note the `error` object of an SSE `error` event that ended the stream."""
        kind = error.get("type") if isinstance(error, Mapping) else None
        self.error_type = kind if isinstance(kind, str) else "api_error"
        self.ended = True

    def wrote(self, frame: bytes) -> None:
        """Keep `frame` (bytes sent to the client) when bodies are recorded."""
        if self.sent is not None:
            self.sent.append(frame)


def _decode(data: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _data_type(data: str) -> str | None:
    kind = _decode(data).get("type")
    return kind if isinstance(kind, str) else None


#: The request's facts, set by `recording.record_middleware` on `POST /v1/messages`.
FACTS = web.RequestKey("ccroute_facts", RequestFacts)
