"""A scripted fake of an OpenAI-compatible Chat Completions server (OpenRouter, vLLM, ...).

It speaks the real wire format (protocol.md §3.2/§3.4) so that ccroute's server and translator
can be tested against it, in-process or over loopback from a subprocess:

    fake = FakeOpenAI([tool_calls_reply([("Write", {...})]), text_reply("done")], api_key="k")
    server = await aiohttp_server(fake.app)          # pytest-aiohttp
    with fake.serve_in_thread() as base_url:          # "http://127.0.0.1:<port>/v1"
        ...
    fake.requests[0].json["model"]

A *script* is a list of `Reply` objects consumed one per chat-completions request, or a callable
`(body) -> Reply` that answers from the conversation. The same semantic reply (`text_reply`,
`tool_calls_reply`) is served as an SSE stream when the request has `"stream": true` and as one
`chat.completion` JSON body otherwise. `sse_reply`/`json_reply`/`error_reply`/
`openrouter_error_reply` are served verbatim.

Semantic replies can carry reasoning (protocol.md §3.2, §4.4) in two wire styles: "openrouter"
(`delta.reasoning` text plus `delta.reasoning_details` fragments; `message.reasoning` and
`message.reasoning_details`) and "deepseek" (`delta.reasoning_content` /
`message.reasoning_content`). `cut_after=N` drops the TCP connection after N stream chunks
(and a short pause, `Reply.cut_pause`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from tests.fakes.base import (
    SSE_HEADERS,
    FakeUpstream,
    RecordedRequest,
    open_sse,
    openai_error_body,
    openai_error_response,
    random_id,
    split,
    split_in,
)

JSON = dict[str, Any]
Script = Sequence["Reply"] | Callable[[JSON], "Reply"]
ReasoningStyle = Literal["openrouter", "deepseek"]

_CREATED = 1_700_000_000


def new_completion_id() -> str:
    """An id in the shape OpenAI uses for completions (`chatcmpl-...`)."""
    return random_id("chatcmpl-", 29)


def new_tool_call_id() -> str:
    """An id in the shape OpenAI uses for tool calls (`call_` + 24 alphanumerics)."""
    return random_id("call_", 24)


@dataclass(frozen=True)
class ToolCall:
    """One scripted tool call; `arguments` is the JSON *string* the upstream sends."""

    id: str
    name: str
    arguments: str

    @property
    def input(self) -> Any:
        return json.loads(self.arguments)


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build it with the `*_reply` helpers rather than directly.

    kind "completion": semantic content rendered as SSE or JSON depending on the request.
    kind "sse": `raw_chunks` written as SSE verbatim (dicts as `data: <json>`, strings as-is).
    kind "json"/"error": `body` written as JSON with `status`.
    """

    kind: Literal["completion", "sse", "json", "error"]
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    # completion
    text: str | None = None
    reasoning: str | None = None
    reasoning_details: tuple[JSON, ...] = ()
    reasoning_style: ReasoningStyle = "openrouter"
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    usage: JSON | None = None
    chunk_size: int = 8
    args_fragments: int = 3
    completion_id: str | None = None
    model: str | None = None
    # sse
    raw_chunks: tuple[JSON | str, ...] = ()
    done: bool = True
    truncate: bool = False
    # json / error
    body: Any = None
    # timing
    delay: float = 0.0
    chunk_delay: float = 0.0
    # failure injection ("completion" and "sse"): abort the connection after this many chunks,
    # `cut_pause` seconds after the last of them was sent (see `_drop_connection`)
    cut_after: int | None = None
    cut_pause: float = 0.25

    def __post_init__(self) -> None:
        if self.reasoning_details and self.reasoning_style != "openrouter":
            raise ValueError("reasoning_details only exist in the 'openrouter' style")
        if self.cut_after is not None and self.cut_after < 0:
            raise ValueError("cut_after must be >= 0")

    # -- rendering -------------------------------------------------------------------------

    @property
    def reasoning_text(self) -> str | None:
        """The plain reasoning text: `reasoning`, else the text of the `reasoning.text` details."""
        if self.reasoning is not None:
            return self.reasoning
        texts = [str(d.get("text") or "") for d in self.reasoning_details if d.get("type") == _TEXT]
        return "".join(texts) if texts else None

    def effective_finish_reason(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"

    def effective_usage(self, request_body: JSON) -> JSON:
        if self.usage is not None:
            return dict(self.usage)
        prompt = max(1, len(json.dumps(request_body.get("messages", []))) // 4)
        produced = len(self.text or "") + len(self.reasoning_text or "")
        produced += sum(len(c.name) + len(c.arguments) for c in self.tool_calls)
        completion = max(1, produced // 4)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }

    def stream_chunks(self, request_body: JSON, *, include_usage: bool) -> list[JSON]:
        """The `chat.completion.chunk` objects of this reply, in order (no `[DONE]`)."""
        cid = self.completion_id or new_completion_id()
        model = self.model or str(request_body.get("model", "fake-model"))

        def chunk(delta: JSON, finish_reason: str | None = None) -> JSON:
            out: JSON = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": _CREATED,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }
            if include_usage:
                out["usage"] = None
            return out

        chunks: list[JSON] = []
        if self.text is None and self.reasoning_text is None:
            chunks.append(chunk({"role": "assistant", "content": None}))
        else:
            chunks.append(chunk({"role": "assistant", "content": ""}))
        chunks.extend(chunk(delta) for delta in self.reasoning_deltas())
        for piece in split(self.text or "", self.chunk_size):
            chunks.append(chunk({"content": piece}))
        for index, call in enumerate(self.tool_calls):
            chunks.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call.id,
                                "type": "function",
                                "function": {"name": call.name, "arguments": ""},
                            }
                        ]
                    }
                )
            )
            for piece in split_in(call.arguments, self.args_fragments):
                chunks.append(
                    chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                )
        chunks.append(chunk({}, self.effective_finish_reason()))
        if include_usage:
            chunks.append(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": _CREATED,
                    "model": model,
                    "choices": [],
                    "usage": self.effective_usage(request_body),
                }
            )
        return chunks

    def reasoning_deltas(self) -> list[JSON]:
        """The `delta` objects that stream this reply's reasoning, before any content.

        "deepseek": `{"reasoning_content": piece}` per `chunk_size` characters.
        "openrouter" without details: `{"reasoning": piece}`. With details, in order per item:
        a `reasoning.text` item's text in `chunk_size` pieces, each delta
        `{"reasoning": piece, "reasoning_details": [{...item keys, "text": piece}]}` (no
        `signature` key), then, if the item has a `signature` key, one more
        `{"reasoning_details": [{...item keys, "text": "", "signature": sig}]}`; any other item
        (`reasoning.encrypted`, `reasoning.summary`) whole in one
        `{"reasoning_details": [item]}`. Merging the fragments by `index` (concatenate `text`,
        take the other keys from the fragments) gives back exactly `reasoning_details`.
        """
        if self.reasoning_style == "deepseek":
            pieces = split(self.reasoning or "", self.chunk_size)
            return [{"reasoning_content": piece} for piece in pieces]
        if not self.reasoning_details:
            return [{"reasoning": piece} for piece in split(self.reasoning or "", self.chunk_size)]
        deltas: list[JSON] = []
        for item in self.reasoning_details:
            if item.get("type") != _TEXT:
                deltas.append({"reasoning_details": [dict(item)]})
                continue
            base = {k: v for k, v in item.items() if k not in ("text", "signature")}
            for piece in split(str(item.get("text") or ""), self.chunk_size):
                deltas.append({"reasoning": piece, "reasoning_details": [{**base, "text": piece}]})
            if "signature" in item:
                fragment = {**base, "text": "", "signature": item["signature"]}
                deltas.append({"reasoning_details": [fragment]})
        return deltas

    def completion_body(self, request_body: JSON) -> JSON:
        """This reply as one non-streaming `chat.completion` object."""
        message: JSON = {"role": "assistant", "content": self.text}
        reasoning = self.reasoning_text
        if reasoning is not None and self.reasoning_style == "deepseek":
            message["reasoning_content"] = reasoning
        elif reasoning is not None:
            message["reasoning"] = reasoning
        if self.reasoning_details:
            message["reasoning_details"] = [dict(d) for d in self.reasoning_details]
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in self.tool_calls
            ]
        return {
            "id": self.completion_id or new_completion_id(),
            "object": "chat.completion",
            "created": _CREATED,
            "model": self.model or str(request_body.get("model", "fake-model")),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": self.effective_finish_reason(),
                    "logprobs": None,
                }
            ],
            "usage": self.effective_usage(request_body),
        }


_TEXT = "reasoning.text"


# -- reply builders ----------------------------------------------------------------------------


def text_reply(
    text: str,
    *,
    chunk_size: int = 8,
    reasoning: str | None = None,
    reasoning_details: Sequence[JSON] = (),
    reasoning_style: ReasoningStyle = "openrouter",
    finish_reason: str | None = None,
    usage: JSON | None = None,
    model: str | None = None,
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
    chunk_delay: float = 0.0,
    cut_after: int | None = None,
) -> Reply:
    """An assistant text answer (`finish_reason: "stop"` unless overridden).

    Streamed as `content` deltas of `chunk_size` characters; reasoning comes first when given:
    `reasoning` text (OpenRouter's `delta.reasoning`, or DeepSeek's `delta.reasoning_content`
    with `reasoning_style="deepseek"`) and/or whole OpenRouter `reasoning_details` items, which
    are streamed as fragments (`Reply.reasoning_deltas`). `usage` defaults to a size-based
    estimate. `cut_after=N` sends the first N chunks, then drops the connection.
    """
    return Reply(
        kind="completion",
        text=text,
        reasoning=reasoning,
        reasoning_details=tuple(dict(d) for d in reasoning_details),
        reasoning_style=reasoning_style,
        cut_after=cut_after,
        finish_reason=finish_reason,
        usage=usage,
        chunk_size=chunk_size,
        model=model,
        headers=dict(headers or {}),
        delay=delay,
        chunk_delay=chunk_delay,
    )


def tool_calls_reply(
    calls: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    text_before: str | None = None,
    reasoning: str | None = None,
    reasoning_details: Sequence[JSON] = (),
    reasoning_style: ReasoningStyle = "openrouter",
    ids: Sequence[str] | None = None,
    fragments: int = 3,
    chunk_size: int = 8,
    finish_reason: str | None = None,
    usage: JSON | None = None,
    model: str | None = None,
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
    chunk_delay: float = 0.0,
    cut_after: int | None = None,
) -> Reply:
    """An assistant turn calling tools: `[(name, arguments), ...]`, `finish_reason: "tool_calls"`.

    Each call gets an id `call_...` (or the given `ids`); when streamed, the first fragment of a
    call carries `index`, `id`, `type`, `function.name` and empty arguments, then the arguments'
    JSON text follows in `fragments` pieces carrying only `index` and `function.arguments`.
    The generated calls are on `reply.tool_calls` so a test can check the ids that come back.
    Reasoning (as in `text_reply`) streams before `text_before` and the calls.
    """
    if ids is not None and len(ids) != len(calls):
        raise ValueError("ids must have one entry per call")
    tool_calls = tuple(
        ToolCall(
            id=ids[i] if ids is not None else new_tool_call_id(),
            name=name,
            arguments=json.dumps(dict(arguments)),
        )
        for i, (name, arguments) in enumerate(calls)
    )
    return Reply(
        kind="completion",
        text=text_before,
        reasoning=reasoning,
        reasoning_details=tuple(dict(d) for d in reasoning_details),
        reasoning_style=reasoning_style,
        cut_after=cut_after,
        tool_calls=tool_calls,
        finish_reason=finish_reason,
        usage=usage,
        chunk_size=chunk_size,
        args_fragments=fragments,
        model=model,
        headers=dict(headers or {}),
        delay=delay,
        chunk_delay=chunk_delay,
    )


def error_reply(
    status: int,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    code: str | int | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
) -> Reply:
    """An OpenAI-shaped error: HTTP `status` with `{"error": {message, type, param, code}}`.

    Pass e.g. `headers={"retry-after": "2"}` for rate limits.
    """
    body = openai_error_body(message, error_type, param=param, code=code)
    return Reply(kind="error", status=status, body=body, headers=dict(headers or {}), delay=delay)


def openrouter_error_reply(
    status: int,
    message: str,
    *,
    error_type: str,
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
) -> Reply:
    """An OpenRouter-shaped error (protocol.md §4.7): HTTP `status` with
    `{"error": {"code": status, "message": message, "metadata": {"error_type": error_type}}}`.

    E.g. `openrouter_error_reply(429, "Rate limit exceeded", error_type="rate_limit_exceeded",
    headers={"Retry-After": "1"})`.
    """
    body = {"error": {"code": status, "message": message, "metadata": {"error_type": error_type}}}
    return Reply(kind="error", status=status, body=body, headers=dict(headers or {}), delay=delay)


def sse_reply(
    chunks: Sequence[JSON | str],
    *,
    done: bool = True,
    truncate: bool = False,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
    chunk_delay: float = 0.0,
    cut_after: int | None = None,
) -> Reply:
    """A raw SSE stream: each dict is sent as `data: <json>\\n\\n`, each str is written verbatim
    (e.g. `": OPENROUTER PROCESSING\\n\\n"` or a deliberately broken line). `data: [DONE]` follows
    when `done`. `truncate` drops the connection after the chunks instead of ending the body;
    `cut_after=N` drops it after the first N chunks. Served as SSE whatever the request's
    `stream` flag says.
    """
    return Reply(
        kind="sse",
        status=status,
        raw_chunks=tuple(chunks),
        done=done,
        truncate=truncate,
        cut_after=cut_after,
        headers=dict(headers or {}),
        delay=delay,
        chunk_delay=chunk_delay,
    )


def json_reply(
    body: Any,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
) -> Reply:
    """A raw JSON body served verbatim (whatever the request's `stream` flag says)."""
    return Reply(kind="json", status=status, body=body, headers=dict(headers or {}), delay=delay)


# -- SSE helpers -------------------------------------------------------------------------------


def encode_sse_data(item: JSON | str) -> bytes:
    """One SSE event in the OpenAI framing: `data: <json>\\n\\n` (strings pass through as-is)."""
    if isinstance(item, str):
        return item.encode()
    return b"data: " + json.dumps(item, separators=(",", ":")).encode() + b"\n\n"


def parse_sse_data(raw: bytes | str) -> list[JSON | str]:
    """Parse an OpenAI-style SSE body into its `data:` payloads: dicts, and `"[DONE]"`.

    Strict on framing: every event must be a single `data: ...` line ended by a blank line.
    Comment lines (starting with ':') are skipped.
    """
    text = raw.decode() if isinstance(raw, bytes) else raw
    if text and not text.endswith("\n\n"):
        raise ValueError(f"SSE body does not end with a blank line: {text[-40:]!r}")
    out: list[JSON | str] = []
    for event in text.split("\n\n")[:-1]:
        lines = [ln for ln in event.split("\n") if not ln.startswith(":")]
        if not lines:
            continue
        if len(lines) != 1 or not lines[0].startswith("data: "):
            raise ValueError(f"unexpected SSE event: {event!r}")
        payload = lines[0][len("data: ") :]
        out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


# -- the fake server ---------------------------------------------------------------------------


class FakeOpenAI(FakeUpstream[Reply]):
    """A scripted OpenAI-compatible upstream. See the module docstring.

    - `POST <any prefix>/chat/completions` answers from the script;
    - `GET <any prefix>/models` lists `models`;
    - with `api_key` set, a request without `Authorization: Bearer <api_key>` gets an
      OpenAI-shaped 401 (and does not consume the script);
    - every request (including rejected ones) is appended to `requests`;
    - problems the fake itself detects (script exhausted, body not JSON) are appended to
      `problems` and answered with a 500, so a test can assert `fake.problems == []`.
    The script queue, `app` and `serve_in_thread` (base URL `http://127.0.0.1:<port>/v1`) are
    `FakeUpstream`'s.
    """

    base_path = "/v1"
    thread_name = "fake-openai-upstream"

    def __init__(
        self,
        script: Script | None = None,
        *,
        api_key: str | None = None,
        models: Sequence[str] = ("fake/model",),
        always_include_usage: bool = False,
    ) -> None:
        super().__init__(script)
        self.api_key = api_key
        self.models = list(models)
        self.always_include_usage = always_include_usage

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded `chat/completions` requests, in arrival order."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _key_rejected(self, recorded: RecordedRequest) -> web.Response | None:
        """The 401 for a request without the Bearer key (when `api_key` is set), else None."""
        if self.api_key is None or recorded.header("Authorization") == f"Bearer {self.api_key}":
            return None
        return openai_error_response(
            401, "Incorrect API key provided.", "invalid_request_error", code="invalid_api_key"
        )

    async def _scripted(self, raw: bytes, parsed: Any, number: int) -> Any:
        """The script's reply for a request body (after the reply's `delay`), or the response
        already due: a 400 for a body that is not a JSON object and a 500 for an exhausted
        script (both recorded in `problems`; `number` is the request's, for the message), or a
        "json"/"error" reply's body."""
        if not isinstance(parsed, dict):
            self.problems.append(f"request body is not a JSON object: {raw[:200]!r}")
            return openai_error_response(
                400, "Request body must be a JSON object.", "invalid_request_error"
            )
        reply = self._next_reply(parsed)
        if reply is None:
            self.problems.append(f"script exhausted at request #{number}")
            return openai_error_response(500, "fake upstream: script exhausted", "server_error")
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.kind in ("json", "error"):
            return web.json_response(reply.body, status=reply.status, headers=dict(reply.headers))
        return reply

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw, parsed, recorded = await self._record(request)
        is_chat = request.path.endswith("/chat/completions")
        is_models = request.path.endswith("/models")
        if not (is_chat and request.method == "POST") and not (
            is_models and request.method == "GET"
        ):
            return openai_error_response(
                404,
                f"Unknown request URL: {request.method} {request.path}",
                "invalid_request_error",
            )
        rejected = self._key_rejected(recorded)
        if rejected is not None:
            return rejected
        if is_models:
            return web.json_response(
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": _CREATED, "owned_by": "fake"}
                        for m in self.models
                    ],
                }
            )
        reply = await self._scripted(raw, parsed, len(self.chat_requests))
        if isinstance(reply, web.StreamResponse):
            return reply

        if reply.kind == "completion" and not parsed.get("stream"):
            if reply.cut_after is not None:
                # No stream to cut into: the connection drops before any response byte.
                await _drop_connection(request, pause=0.0)
                return web.Response()
            return web.json_response(
                reply.completion_body(parsed), status=reply.status, headers=dict(reply.headers)
            )

        if reply.kind == "completion":
            options = parsed.get("stream_options")
            include_usage = self.always_include_usage or (
                isinstance(options, dict) and bool(options.get("include_usage"))
            )
            items: list[JSON | str] = list(reply.stream_chunks(parsed, include_usage=include_usage))
            done, truncate = True, False
        else:
            items, done, truncate = list(reply.raw_chunks), reply.done, reply.truncate
        if reply.cut_after is not None:
            items, truncate = items[: reply.cut_after], True

        response = await open_sse(
            request, status=reply.status, headers={**SSE_HEADERS, **reply.headers}
        )
        for item in items:
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
            await response.write(encode_sse_data(item))
        if truncate:
            if reply.cut_after is not None:
                await _drop_connection(request, pause=reply.cut_pause if items else 0.0)
            elif request.transport is not None:
                request.transport.close()
            return response
        if done:
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


async def _drop_connection(request: web.Request, *, pause: float) -> None:
    """Abort the TCP connection (no terminating chunk, no `[DONE]`) once what was already
    written has left the process and `pause` seconds have passed.

    The pause models a real cut, which comes after the bytes before it have arrived: without it
    the chunks and the loss of the connection reach the client in the same instant, and an
    aiohttp client then raises the payload error before handing over the buffered chunks
    (`StreamReader.readany` checks for an exception first), so "N chunks, then a cut" would
    sometimes be "a cut" only. Use `dataclasses.replace(reply, cut_pause=0)` to get that race.
    """
    transport = request.transport
    if transport is None:
        return
    deadline = time.monotonic() + 2.0
    while transport.get_write_buffer_size() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    if pause > 0:
        await asyncio.sleep(pause)
    if not transport.is_closing():
        transport.abort()
