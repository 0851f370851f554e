"""A scripted fake of an OpenAI Responses API server (`POST /v1/responses`).

It speaks the wire format `ccroute.translate.responses` documents (openai-python
`types/responses/`): a streamed request gets typed SSE events (`event: <type>` + `data:` with
the same `type` and a `sequence_number`, no `[DONE]`), any other request one `response` object.

    fake = FakeResponses([call_reply([("Write", {...})]), text_reply("done")], api_key="k")
    server = await aiohttp_server(fake.app)          # pytest-aiohttp
    with fake.serve_in_thread() as base_url:          # "http://127.0.0.1:<port>/v1"
        ...
    fake.requests[0].json["input"]

A *script* is a list of `Reply` objects consumed one per `/responses` request, or a callable
`(body) -> Reply` answering from the request. A semantic reply (`text_reply`, `call_reply`) is
a list of output items — `reasoning` items (summary parts + `encrypted_content`), then a
`message` with the text, then `function_call`s — served as the full event sequence when the
request streams and as the final `response` object otherwise, ending `completed`, or
`incomplete` with `incomplete_details.reason` when `incomplete=` is given. `sse_reply` serves
raw events verbatim; `json_reply` / `error_reply` a body with a status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from tests.fakes.base import (
    SSE_HEADERS,
    openai_error_body,
    openai_error_response,
    random_id,
    send_sse,
    split,
    split_in,
)
from tests.fakes.openai_upstream import FakeOpenAI, RecordedRequest

JSON = dict[str, Any]
Script = Sequence["Reply"] | Callable[[JSON], "Reply"]

_CREATED = 1_700_000_000


def new_id(prefix: str) -> str:
    """An id in the shape the API uses (`resp_`, `msg_`, `fc_`, `rs_`, `call_` + 24 alnum)."""
    return random_id(prefix, 24)


@dataclass(frozen=True)
class Call:
    """One scripted function call; `arguments` is the JSON *string* the API sends."""

    call_id: str
    name: str
    arguments: str
    id: str = field(default_factory=lambda: new_id("fc_"))

    @property
    def input(self) -> Any:
        return json.loads(self.arguments)


@dataclass(frozen=True)
class Reasoning:
    """One scripted `reasoning` output item: summary parts and the opaque encrypted content."""

    summary: tuple[str, ...] = ()
    encrypted_content: str | None = None
    id: str = field(default_factory=lambda: new_id("rs_"))

    def item(self, *, final: bool) -> JSON:
        """The item as `output_item.added` (not final: empty summary, no encrypted content yet)
        or `output_item.done` / the response `output` (final) carries it."""
        if not final:
            return {"id": self.id, "type": "reasoning", "summary": []}
        out: JSON = {
            "id": self.id,
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": text} for text in self.summary],
        }
        if self.encrypted_content is not None:
            out["encrypted_content"] = self.encrypted_content
        return out


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build it with the `*_reply` helpers.

    kind "response": semantic output rendered as events or as a `response` object.
    kind "sse": `raw_events` written verbatim (dicts as `event:`+`data:` frames, str as-is).
    kind "json"/"error": `body` written as JSON with `status`.
    """

    kind: Literal["response", "sse", "json", "error"]
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    reasoning: tuple[Reasoning, ...] = ()
    text: str | None = None
    calls: tuple[Call, ...] = ()
    incomplete: str | None = None
    usage: JSON | None = None
    chunk_size: int = 8
    args_fragments: int = 3
    raw_events: tuple[JSON | str, ...] = ()
    body: Any = None
    delay: float = 0.0

    # -- rendering ---------------------------------------------------------------------------

    def output(self) -> list[JSON]:
        """The final `output` items, in order: reasoning, the message, the function calls."""
        items = [r.item(final=True) for r in self.reasoning]
        if self.text is not None:
            items.append(_message(self._message_id, self.text, "completed"))
        items.extend(_call(call, "completed") for call in self.calls)
        return items

    @property
    def _message_id(self) -> str:
        return "msg_" + (self.reasoning[0].id[3:] if self.reasoning else "fake00000000")

    def effective_usage(self, request: JSON) -> JSON:
        if self.usage is not None:
            return dict(self.usage)
        prompt = max(1, len(json.dumps(request.get("input", []))) // 4)
        produced = len(self.text or "") + sum(len(c.arguments) for c in self.calls)
        completion = max(1, produced // 4)
        return {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        }

    def response(self, request: JSON, response_id: str, *, final: bool) -> JSON:
        """The `response` object: in progress (no output yet) or final."""
        body: JSON = {
            "id": response_id,
            "object": "response",
            "created_at": _CREATED,
            "status": "in_progress",
            "error": None,
            "incomplete_details": None,
            "instructions": request.get("instructions"),
            "max_output_tokens": request.get("max_output_tokens"),
            "model": str(request.get("model", "fake-model")),
            "output": [],
            "parallel_tool_calls": request.get("parallel_tool_calls", True),
            "store": request.get("store", True),
            "tool_choice": request.get("tool_choice", "auto"),
            "tools": request.get("tools", []),
            "usage": None,
        }
        if final:
            body["output"] = self.output()
            body["usage"] = self.effective_usage(request)
            body["status"] = "incomplete" if self.incomplete else "completed"
            if self.incomplete:
                body["incomplete_details"] = {"reason": self.incomplete}
        return body

    def events(self, request: JSON) -> list[JSON]:
        """The stream events of this reply, in order, `sequence_number` from 0."""
        response_id = new_id("resp_")
        events: list[JSON] = [
            {
                "type": "response.created",
                "response": self.response(request, response_id, final=False),
            },
            {
                "type": "response.in_progress",
                "response": self.response(request, response_id, final=False),
            },
        ]
        index = 0
        for reasoning in self.reasoning:
            events += _reasoning_events(reasoning, index, self.chunk_size)
            index += 1
        if self.text is not None:
            events += _message_events(self._message_id, self.text, index, self.chunk_size)
            index += 1
        for call in self.calls:
            events += _call_events(call, index, self.args_fragments)
            index += 1
        terminal = "response.incomplete" if self.incomplete else "response.completed"
        events.append(
            {"type": terminal, "response": self.response(request, response_id, final=True)}
        )
        return [{**event, "sequence_number": n} for n, event in enumerate(events)]


def _message(item_id: str, text: str, status: str) -> JSON:
    content = (
        [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
    )
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _call(call: Call, status: str) -> JSON:
    arguments = call.arguments if status == "completed" else ""
    return {
        "id": call.id,
        "type": "function_call",
        "status": status,
        "arguments": arguments,
        "call_id": call.call_id,
        "name": call.name,
    }


def _reasoning_events(reasoning: Reasoning, index: int, size: int) -> list[JSON]:
    where = {"item_id": reasoning.id, "output_index": index}
    events: list[JSON] = [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": reasoning.item(final=False),
        }
    ]
    for n, text in enumerate(reasoning.summary):
        part = {"summary_index": n, **where}
        events.append(
            {
                "type": "response.reasoning_summary_part.added",
                **part,
                "part": {"type": "summary_text", "text": ""},
            }
        )
        for piece in split(text, size):
            events.append({"type": "response.reasoning_summary_text.delta", **part, "delta": piece})
        events.append({"type": "response.reasoning_summary_text.done", **part, "text": text})
        events.append(
            {
                "type": "response.reasoning_summary_part.done",
                **part,
                "part": {"type": "summary_text", "text": text},
            }
        )
    events.append(
        {
            "type": "response.output_item.done",
            "output_index": index,
            "item": reasoning.item(final=True),
        }
    )
    return events


def _message_events(item_id: str, text: str, index: int, size: int) -> list[JSON]:
    where = {"item_id": item_id, "output_index": index, "content_index": 0}
    empty = {"type": "output_text", "text": "", "annotations": []}
    events: list[JSON] = [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": _message(item_id, text, "in_progress"),
        },
        {"type": "response.content_part.added", **where, "part": empty},
    ]
    for piece in split(text, size):
        events.append(
            {"type": "response.output_text.delta", **where, "delta": piece, "logprobs": []}
        )
    events.append({"type": "response.output_text.done", **where, "text": text, "logprobs": []})
    events.append({"type": "response.content_part.done", **where, "part": {**empty, "text": text}})
    events.append(
        {
            "type": "response.output_item.done",
            "output_index": index,
            "item": _message(item_id, text, "completed"),
        }
    )
    return events


def _call_events(call: Call, index: int, fragments: int) -> list[JSON]:
    where = {"item_id": call.id, "output_index": index}
    events: list[JSON] = [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": _call(call, "in_progress"),
        }
    ]
    for piece in split_in(call.arguments, fragments):
        events.append({"type": "response.function_call_arguments.delta", **where, "delta": piece})
    events.append(
        {"type": "response.function_call_arguments.done", **where, "arguments": call.arguments}
    )
    events.append(
        {
            "type": "response.output_item.done",
            "output_index": index,
            "item": _call(call, "completed"),
        }
    )
    return events


# -- reply builders ----------------------------------------------------------------------------


def text_reply(
    text: str,
    *,
    reasoning: Sequence[Reasoning] = (),
    incomplete: str | None = None,
    usage: JSON | None = None,
    chunk_size: int = 8,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An assistant text answer, after the given `reasoning` items; `incomplete` (e.g.
    "max_output_tokens") ends it `incomplete` with that reason. `usage` defaults to a size
    estimate."""
    return Reply(
        kind="response",
        text=text,
        reasoning=tuple(reasoning),
        incomplete=incomplete,
        usage=usage,
        chunk_size=chunk_size,
        headers=dict(headers or {}),
    )


def call_reply(
    calls: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    text_before: str | None = None,
    reasoning: Sequence[Reasoning] = (),
    call_ids: Sequence[str] | None = None,
    fragments: int = 3,
    usage: JSON | None = None,
) -> Reply:
    """An assistant turn calling functions: `[(name, arguments), ...]`, each a `function_call`
    item with a `call_` id (or the given `call_ids`) whose arguments stream in `fragments`
    pieces; `text_before` is a message item before them, `reasoning` items come first. The
    generated calls are on `reply.calls`."""
    if call_ids is not None and len(call_ids) != len(calls):
        raise ValueError("call_ids must have one entry per call")
    made = tuple(
        Call(
            call_id=call_ids[i] if call_ids is not None else new_id("call_"),
            name=name,
            arguments=json.dumps(dict(arguments), ensure_ascii=False),
        )
        for i, (name, arguments) in enumerate(calls)
    )
    return Reply(
        kind="response",
        text=text_before,
        calls=made,
        reasoning=tuple(reasoning),
        args_fragments=fragments,
        usage=usage,
    )


def sse_reply(events: Sequence[JSON | str], *, status: int = 200) -> Reply:
    """Raw events served as SSE whatever the request says: each dict as `event: <its type>` +
    `data: <json>`, each str verbatim."""
    return Reply(kind="sse", status=status, raw_events=tuple(events))


def json_reply(body: Any, *, status: int = 200) -> Reply:
    """A raw JSON body served verbatim (whatever the request's `stream` flag says)."""
    return Reply(kind="json", status=status, body=body)


def error_reply(
    status: int,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An OpenAI error answer: HTTP `status`, `{"error": {message, type, param, code}}`."""
    body = openai_error_body(message, error_type, param=param, code=code)
    return Reply(kind="error", status=status, body=body, headers=dict(headers or {}))


# -- SSE -------------------------------------------------------------------------------------


def encode_event(event: JSON | str) -> bytes:
    """One SSE frame: `event: <type>\\ndata: <json>\\n\\n` (strings pass through as-is)."""
    if isinstance(event, str):
        return event.encode()
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event['type']}\ndata: {data}\n\n".encode()


def parse_events(raw: bytes | str) -> list[JSON]:
    """Parse a Responses SSE body strictly: every frame is one `event:` line and one `data:`
    line whose JSON `type` equals the event name, ended by a blank line."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    if text and not text.endswith("\n\n"):
        raise ValueError(f"SSE body does not end with a blank line: {text[-40:]!r}")
    out: list[JSON] = []
    for frame in text.split("\n\n")[:-1]:
        lines = frame.split("\n")
        if (
            len(lines) != 2
            or not lines[0].startswith("event: ")
            or not lines[1].startswith("data: ")
        ):
            raise ValueError(f"unexpected SSE frame: {frame!r}")
        event = json.loads(lines[1][len("data: ") :])
        if event.get("type") != lines[0][len("event: ") :]:
            raise ValueError(f"event name and data type differ: {frame!r}")
        out.append(event)
    return out


# -- the fake server ---------------------------------------------------------------------------


class FakeResponses(FakeOpenAI):
    """A scripted Responses API upstream. See the module docstring.

    - `POST <any prefix>/responses` answers from the script;
    - with `api_key` set, a request without `Authorization: Bearer <api_key>` gets an
      OpenAI-shaped 401 (and does not consume the script);
    - every request (rejected ones too) is appended to `requests`; problems the fake itself
      detects (unknown URL, body not a JSON object, script exhausted) go to `problems` and
      are answered with an error, so a test can assert `fake.problems == []`.

    The script queue, `set_script`, `app` and `serve_in_thread` (base URL
    `http://127.0.0.1:<port>/v1`), the key check and the script's errors are the Chat
    Completions fake's; only the endpoint and the answers differ. Being one, it can stand in as
    the e2e harness's `fake` (its report).
    """

    def __init__(self, script: Script | None = None, *, api_key: str | None = None) -> None:
        super().__init__(script, api_key=api_key)  # type: ignore[arg-type]

    @property
    def response_requests(self) -> list[RecordedRequest]:
        """The recorded `POST .../responses` requests, in arrival order."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/responses")]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw, parsed, recorded = await self._record(request)
        if request.method != "POST" or not request.path.endswith("/responses"):
            self.problems.append(f"unexpected request {request.method} {request.path}")
            return openai_error_response(
                404, f"Unknown request URL: {request.method} {request.path}"
            )
        rejected = self._key_rejected(recorded)
        if rejected is not None:
            return rejected
        reply = await self._scripted(raw, parsed, len(self.response_requests))
        if isinstance(reply, web.StreamResponse):
            return reply
        if reply.kind == "response" and not parsed.get("stream"):
            body = reply.response(parsed, new_id("resp_"), final=True)
            return web.json_response(body, headers=dict(reply.headers))
        events = list(reply.raw_events) if reply.kind == "sse" else list(reply.events(parsed))
        return await send_sse(
            request,
            (encode_event(event) for event in events),
            status=reply.status,
            headers={**SSE_HEADERS, **reply.headers},
        )


def iter_items(events: Sequence[JSON]) -> Iterator[JSON]:
    """The final items of a stream's `response.output_item.done` events, in order."""
    for event in events:
        if event.get("type") == "response.output_item.done":
            yield event["item"]
