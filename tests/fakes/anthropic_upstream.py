"""A scripted fake of an Anthropic-format upstream: Anthropic itself, or a compatible provider's
`/anthropic` endpoint (DeepSeek, Kimi, GLM, OpenRouter's skin).

It speaks the real wire format (protocol.md §2.1, §2.4, §2.5, §2.6): streams are `event:` +
`data:` frames with a `ping` after `message_start`, thinking blocks end with one
`signature_delta`, tool inputs arrive as `input_json_delta` fragments (the first one empty),
errors are `{"type":"error","error":{...}}`. Use it in-process or over loopback:

    fake = FakeAnthropic([tool_use_reply([("Write", {...})]), text_reply("done")], api_key="k")
    server = await aiohttp_server(fake.app)          # pytest-aiohttp
    with fake.serve_in_thread() as base_url:          # "http://127.0.0.1:<port>" (no /v1)
        ...
    fake.message_requests[0].json["model"]

Endpoints (any path prefix, so `/anthropic/v1/messages` works too):
- `POST .../v1/messages` answers from the script: a list of `Reply`s consumed in order, or a
  callable `(body) -> Reply`. A semantic reply (`text_reply`, `tool_use_reply`) is served as SSE
  when the body has `"stream": true` and as one Message JSON otherwise; `error_reply`,
  `openai_error_reply` and `sse_reply` are served as they are.
- `POST .../v1/messages/count_tokens` answers `{"input_tokens": N}` (`count_tokens=True`) or an
  Anthropic 404 (`count_tokens=False`, like OpenRouter's skin, §4.11).
- `GET .../v1/models` lists `models`.

Credentials: with `api_key` set, the key must come in the header `auth` names ("x-api-key", the
Anthropic default, or "bearer" for `Authorization: Bearer`); otherwise a 401
`authentication_error` (the script is not consumed).

`strict=True` plays a compatible provider that speaks only the core Messages API (DeepSeek's
documented field list, plus the "Extra inputs are not permitted" rejections of §6.5): a body
field outside `CORE_FIELDS`, an `output_config` key other than `effort`, a beta tool field, a
`role` other than user/assistant, or a `metadata.user_id` outside `^[a-zA-Z0-9_-]+$` (§7 item
16) gets a 400 in the OpenAI-style error shape such providers use. Every request is recorded in
`requests`; problems the fake itself detects go to `problems` (assert it is empty).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from tests.fakes.base import (
    SSE_HEADERS,
    FakeUpstream,
    RecordedRequest,
    openai_error_body,
    random_id,
    send_sse,
    split,
)

JSON = dict[str, Any]
Script = Sequence["Reply"] | Callable[[JSON], "Reply"]

CORE_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "metadata",
        "service_tier",
    }
)
"""Top-level fields a `strict` fake accepts."""

TOOL_FIELDS = frozenset({"name", "description", "input_schema", "cache_control", "type"})
USER_ID = re.compile(r"[a-zA-Z0-9_-]+")


def new_message_id() -> str:
    """An id in Anthropic's shape (`msg_01` + 22 alphanumerics)."""
    return random_id("msg_01", 22)


def new_tool_use_id() -> str:
    """A tool_use id in Anthropic's shape (`toolu_01` + 22 alphanumerics)."""
    return random_id("toolu_01", 22)


@dataclass(frozen=True)
class ToolUse:
    """One scripted tool call."""

    id: str
    name: str
    input: JSON


@dataclass(frozen=True)
class Reply:
    """One scripted answer; build it with the `*_reply` helpers.

    kind "message": semantic content (thinking, text, tool calls) rendered as SSE or JSON.
    kind "sse": `events` written verbatim (dicts as `event: <type>` + `data: <json>`, strings
    as they are). kind "json": `body` with `status` (errors included).
    """

    kind: Literal["message", "sse", "json"]
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    thinking: str | None = None
    signature: str | None = None
    text: str | None = None
    tool_uses: tuple[ToolUse, ...] = ()
    stop_reason: str | None = None
    usage: JSON | None = None
    model: str | None = None
    chunk_size: int = 8
    events: tuple[JSON | str, ...] = ()
    body: Any = None

    def effective_stop_reason(self) -> str:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if self.tool_uses else "end_turn"

    def effective_usage(self, request_body: JSON) -> JSON:
        if self.usage is not None:
            return dict(self.usage)
        produced = len(self.thinking or "") + len(self.text or "")
        produced += sum(len(json.dumps(call.input)) for call in self.tool_uses)
        return {
            "input_tokens": max(1, len(json.dumps(request_body.get("messages", []))) // 4),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": max(1, produced // 4),
        }

    def blocks(self) -> list[JSON]:
        """The content blocks of this answer, in Anthropic order (thinking, text, tool_use)."""
        out: list[JSON] = []
        if self.thinking is not None:
            out.append(
                {"type": "thinking", "thinking": self.thinking, "signature": self.signature or ""}
            )
        if self.text:
            out.append({"type": "text", "text": self.text})
        for call in self.tool_uses:
            out.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.input})
        return out

    def message(self, request_body: JSON, message_id: str) -> JSON:
        """This answer as one non-streaming Message (§2.1)."""
        return {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model or str(request_body.get("model", "fake-model")),
            "content": self.blocks(),
            "stop_reason": self.effective_stop_reason(),
            "stop_sequence": None,
            "usage": self.effective_usage(request_body),
        }

    def stream_events(self, request_body: JSON, message_id: str) -> list[JSON | str]:
        """This answer as Anthropic stream events (§2.4), in order."""
        usage = self.effective_usage(request_body)
        start = self.message(request_body, message_id)
        start.update(content=[], stop_reason=None, stop_sequence=None)
        start["usage"] = {**usage, "output_tokens": 1}
        events: list[JSON | str] = [{"type": "message_start", "message": start}, _PING]
        for index, block in enumerate(self.blocks()):
            events.extend(self._block_events(index, block))
        events.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": self.effective_stop_reason(), "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            }
        )
        events.append({"type": "message_stop"})
        return events

    def _block_events(self, index: int, block: JSON) -> list[JSON | str]:
        def delta(body: JSON) -> JSON:
            return {"type": "content_block_delta", "index": index, "delta": body}

        kind = block["type"]
        if kind == "thinking":
            start: JSON = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                delta({"type": "thinking_delta", "thinking": piece})
                for piece in split(block["thinking"], self.chunk_size)
            ]
            deltas.append(delta({"type": "signature_delta", "signature": block["signature"]}))
        elif kind == "text":
            start = {"type": "text", "text": ""}
            deltas = [
                delta({"type": "text_delta", "text": piece})
                for piece in split(block["text"], self.chunk_size)
            ]
        else:
            start = {**block, "input": {}}
            raw = json.dumps(block["input"])
            pieces = ["", *split(raw, max(1, -(-len(raw) // 3)))]
            deltas = [delta({"type": "input_json_delta", "partial_json": p}) for p in pieces]
        return [
            {"type": "content_block_start", "index": index, "content_block": start},
            *deltas,
            {"type": "content_block_stop", "index": index},
        ]


_PING = 'event: ping\ndata: {"type": "ping"}\n\n'


# -- reply builders ----------------------------------------------------------------------------


def text_reply(
    text: str,
    *,
    thinking: str | None = None,
    signature: str | None = None,
    stop_reason: str | None = None,
    usage: JSON | None = None,
    model: str | None = None,
    chunk_size: int = 8,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """A text answer (`end_turn` unless overridden), after a thinking block when `thinking` is
    given (its `signature` arrives as one `signature_delta`). `usage` defaults to a size-based
    estimate; streamed, `output_tokens` arrives in `message_delta`."""
    return Reply(
        kind="message",
        text=text,
        thinking=thinking,
        signature=signature,
        stop_reason=stop_reason,
        usage=usage,
        model=model,
        chunk_size=chunk_size,
        headers=dict(headers or {}),
    )


def tool_use_reply(
    calls: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    text_before: str | None = None,
    thinking: str | None = None,
    signature: str | None = None,
    ids: Sequence[str] | None = None,
    usage: JSON | None = None,
    model: str | None = None,
) -> Reply:
    """An answer calling tools `[(name, input), ...]` (`stop_reason: "tool_use"`), after an
    optional thinking block and text. Each call gets a `toolu_01...` id unless `ids` are given;
    they are on `reply.tool_uses` for a test to check what comes back."""
    if ids is not None and len(ids) != len(calls):
        raise ValueError("ids must have one entry per call")
    tool_uses = tuple(
        ToolUse(ids[i] if ids is not None else new_tool_use_id(), name, dict(args))
        for i, (name, args) in enumerate(calls)
    )
    return Reply(
        kind="message",
        text=text_before,
        thinking=thinking,
        signature=signature,
        tool_uses=tool_uses,
        usage=usage,
        model=model,
    )


def error_reply(
    status: int, error_type: str, message: str, *, headers: Mapping[str, str] | None = None
) -> Reply:
    """An Anthropic error answer (§2.5): HTTP `status` with
    `{"type":"error","error":{"type","message"},"request_id"}`; e.g. `error_reply(429,
    "rate_limit_error", "slow down", headers={"retry-after": "3"})`."""
    body = {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": random_id("req_011", 21),
    }
    return Reply(kind="json", status=status, body=body, headers=dict(headers or {}))


def openai_error_reply(
    status: int, message: str, *, error_type: str = "invalid_request_error"
) -> Reply:
    """An OpenAI-shaped error, as DeepSeek and other compatible providers send on their Anthropic
    endpoints: `{"error": {"message", "type", "param", "code"}}`."""
    return Reply(kind="json", status=status, body=openai_error_body(message, error_type))


def sse_reply(events: Sequence[JSON | str], *, status: int = 200) -> Reply:
    """A raw stream: dicts are sent as `event: <type>\\ndata: <json>\\n\\n`, strings verbatim
    (a comment line, a deliberately broken frame). Served whatever the request's `stream`."""
    return Reply(kind="sse", status=status, events=tuple(events))


def encode_event(item: JSON | str) -> bytes:
    """One Anthropic SSE frame (strings pass through as they are)."""
    if isinstance(item, str):
        return item.encode()
    data = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
    return f"event: {item['type']}\ndata: {data}\n\n".encode()


# -- strict (core API only) validation -----------------------------------------------------------


def core_api_problem(body: JSON) -> str | None:
    """Why a strict compatible provider rejects `body`, or None (see the module docstring)."""
    for key in body:
        if key not in CORE_FIELDS:
            return f"{key}: Extra inputs are not permitted"
    output_config = body.get("output_config")
    if isinstance(output_config, dict):
        for key in output_config:
            if key != "effort":
                return f"output_config.{key}: Extra inputs are not permitted"
    for i, tool in enumerate(body.get("tools") or []):
        if tool.get("type") not in (None, "custom"):
            return f"tools.{i}.type: unsupported tool type {tool.get('type')!r}"
        for key in tool:
            if key not in TOOL_FIELDS:
                return f"tools.{i}.{key}: Extra inputs are not permitted"
    for i, message in enumerate(body.get("messages") or []):
        if message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
    metadata = body.get("metadata")
    user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
    if user_id is not None and not (isinstance(user_id, str) and USER_ID.fullmatch(user_id)):
        return "metadata.user_id: String should match pattern '^[a-zA-Z0-9_-]+$'"
    return None


# -- the fake server ---------------------------------------------------------------------------


class FakeAnthropic(FakeUpstream[Reply]):
    """A scripted Anthropic-format upstream. See the module docstring. Its base URL from
    `serve_in_thread` is `http://127.0.0.1:<port>` (what ANTHROPIC_BASE_URL would be)."""

    thread_name = "fake-anthropic-upstream"

    def __init__(
        self,
        script: Script | None = None,
        *,
        api_key: str | None = None,
        auth: Literal["x-api-key", "bearer"] = "x-api-key",
        count_tokens: bool = True,
        input_tokens: int = 1234,
        strict: bool = False,
        models: Sequence[str] = ("claude-sonnet-5",),
    ) -> None:
        super().__init__(script)
        self.api_key = api_key
        self.auth = auth
        self.count_tokens = count_tokens
        self.input_tokens = input_tokens
        self.strict = strict
        self.models = list(models)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """The recorded `POST .../v1/messages` requests, in arrival order."""
        return [r for r in self.requests if r.path.endswith("/v1/messages")]

    @property
    def count_tokens_requests(self) -> list[RecordedRequest]:
        """The recorded `POST .../v1/messages/count_tokens` requests."""
        return [r for r in self.requests if r.path.endswith("/v1/messages/count_tokens")]

    def _credential_ok(self, recorded: RecordedRequest) -> bool:
        if self.api_key is None:
            return True
        if self.auth == "bearer":
            return recorded.header("Authorization") == f"Bearer {self.api_key}"
        return recorded.header("x-api-key") == self.api_key

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw, parsed, recorded = await self._record(request)
        path, method = request.path, request.method
        if method == "GET" and path.endswith("/v1/models"):
            data = [{"type": "model", "id": m, "display_name": m} for m in self.models]
            return web.json_response({"data": data, "has_more": False})
        is_count = method == "POST" and path.endswith("/v1/messages/count_tokens")
        is_messages = method == "POST" and path.endswith("/v1/messages")
        if not (is_count or is_messages) or (is_count and not self.count_tokens):
            return _anthropic_error(404, "not_found_error", f"Not found: {method} {path}")
        if not self._credential_ok(recorded):
            return _anthropic_error(401, "authentication_error", "invalid x-api-key")
        if not isinstance(parsed, dict):
            self.problems.append(f"request body is not a JSON object: {raw[:200]!r}")
            return _anthropic_error(400, "invalid_request_error", "body must be a JSON object")
        if self.strict and (problem := core_api_problem(parsed)) is not None:
            return _strict_rejection(problem)
        if is_count:
            return web.json_response({"input_tokens": self.input_tokens})
        reply = self._next_reply(parsed)
        if reply is None:
            self.problems.append(f"script exhausted at request #{len(self.message_requests)}")
            return _anthropic_error(500, "api_error", "fake upstream: script exhausted")
        return await self._serve(request, reply, parsed)

    async def _serve(self, request: web.Request, reply: Reply, body: JSON) -> web.StreamResponse:
        headers = {"request-id": "req_fake", **dict(reply.headers)}
        if reply.kind == "json":
            return web.json_response(reply.body, status=reply.status, headers=headers)
        message_id = new_message_id()
        if reply.kind == "message" and not body.get("stream"):
            return web.json_response(reply.message(body, message_id), headers=headers)
        events = reply.events if reply.kind == "sse" else reply.stream_events(body, message_id)
        return await send_sse(
            request,
            (encode_event(event) for event in events),
            status=reply.status,
            headers={**SSE_HEADERS, **headers},
        )


def _anthropic_error(status: int, error_type: str, message: str) -> web.Response:
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return web.json_response(body, status=status)


def _strict_rejection(message: str) -> web.Response:
    """The 400 a strict compatible provider answers (OpenAI-style error shape)."""
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None}}
    return web.json_response(body, status=400)
