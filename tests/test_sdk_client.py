"""The official `anthropic` Python SDK as a client of the real ccroute server, every golden case.

Each test starts, per golden case, one replay upstream and one ccroute app in front of it
(tests/golden_server.py) and talks to ccroute with `anthropic.AsyncAnthropic` over loopback.

What is asserted:

- Every golden case that has an upstream stream also has a non-stream answer
  (`response.in.json`), and the other way round: the SDK comparison below needs both.
- For each such case whose stream ends normally: `client.messages.stream(...)` consumed to
  `get_final_message()` equals `client.messages.create(...)` for the same request, compared as
  `model_dump()` after the normalisations listed in `normalised` (and nothing else). While
  streaming, the raw events the SDK parsed are well-formed (`assert_well_formed`) and come in
  the same order and kinds as the case's golden `expected.sse`. The replay upstream received one
  streaming and one non-streaming body for the routed model, with the same messages.
- For each case whose golden stream ends in an `error` event (an upstream error mid-stream):
  the SDK raises `APIStatusError` carrying the `error.type` of that event after the events that
  precede it, and the non-stream request fails with an Anthropic error of the same type, whose
  HTTP status is the one protocol.md §2.5 gives that type.
- A synthetic answer with a tool call that has no upstream id (no golden case has one) checks
  that the tool_use-id normalisation matches the ids ccroute mints, in both paths.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anthropic
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ccroute.server import create_app
from ccroute.translate.sse import SSEDecoder
from tests.golden_server import (
    TOKEN,
    UPSTREAM_KEY,
    ReplayUpstream,
    base_url,
    golden_config,
    upstream_model,
)
from tests.streamcheck import assert_well_formed, parse_sse
from tests.test_translate_golden import (
    CASES,
    GOLDEN,
    RESPONSE_CASES,
    STREAM_CASES,
    load_request,
    upstream_bytes,
)

ServerFactory = Callable[..., Awaitable[TestServer]]

# The SDK warns when a request names a model Anthropic has scheduled for retirement (some golden
# requests name claude-sonnet-4-5); ccroute routes any name, so the warning says nothing here.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:The model '[^']*' is deprecated:DeprecationWarning"
)

#: The Anthropic event types the SDK yields as parsed from the wire. The SDK interleaves its
#: own derived events (`text`, `input_json`, `citation`, `thinking`, `signature`).
RAW_EVENT_TYPES = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    }
)

#: HTTP status of each Anthropic `error.type` (protocol.md §2.5).
# protocol.md §2.5 and §3.4: the statuses each error.type may travel with.
STATUS_FOR_ERROR_TYPE = {
    "invalid_request_error": (400,),
    "authentication_error": (401,),
    "billing_error": (402,),
    "permission_error": (403,),
    "not_found_error": (404,),
    "request_too_large": (413,),
    "rate_limit_error": (429,),
    "api_error": (500, 502),
    "timeout_error": (408, 504),
    "overloaded_error": (529,),
}


def golden_events(case: str) -> list[dict[str, Any]]:
    return parse_sse((GOLDEN / case / "expected.sse").read_bytes())


def ends_in_error(case: str) -> bool:
    last: dict[str, Any] = golden_events(case)[-1]
    return bool(last["type"] == "error")


def upstream_stream_reports_usage(case: str) -> bool:
    """Whether any chunk of the case's upstream stream carries usage, in its wire's field:
    `usage` (OpenAI, Anthropic, and `response.usage` in Responses events) or `usageMetadata`
    (Gemini)."""
    decoder = SSEDecoder()
    for event in decoder.feed(upstream_bytes(case)) + decoder.close():
        if event.data != "[DONE]" and _has_usage(json.loads(event.data)):
            return True
    return False


def _has_usage(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if any(isinstance(value.get(key), dict) for key in ("usage", "usageMetadata")):
        return True
    return any(_has_usage(inner) for inner in value.values())


STREAM_FIELDS = ("stream", "stream_options")


def upstream_asked_to_stream(body: dict[str, Any], path: str) -> bool:
    """Whether an upstream request asked for a stream: `"stream": true` in the body, or Gemini's
    `:streamGenerateContent` method in the URL (protocol.md §5.1)."""
    return body.get("stream") is True or ":streamGenerateContent" in path


ERROR_CASES = [case for case in STREAM_CASES if ends_in_error(case)]
COMPARED_CASES = sorted((set(STREAM_CASES) & set(RESPONSE_CASES)) - set(ERROR_CASES))


# --- serving a case ----------------------------------------------------------------------------


@dataclass
class Served:
    """One golden case behind the real ccroute app, and an SDK client of that app."""

    case: str
    upstream: ReplayUpstream
    client: anthropic.AsyncAnthropic


@contextlib.asynccontextmanager
async def serve(upstream: ReplayUpstream, aiohttp_server: ServerFactory) -> AsyncIterator[Served]:
    """`upstream` behind the real ccroute app configured for its case, and an SDK client."""
    upstream_server = await aiohttp_server(upstream.app())
    app: web.Application = create_app(
        golden_config(upstream.case, base_url(upstream_server)),
        token=TOKEN,
        key_lookup=lambda provider: UPSTREAM_KEY,
    )
    proxy_server = await aiohttp_server(app)
    async with anthropic.AsyncAnthropic(
        base_url=str(proxy_server.make_url("")), api_key=TOKEN, max_retries=0
    ) as client:
        yield Served(upstream.case, upstream, client)


@pytest.fixture
async def served(
    request: pytest.FixtureRequest, aiohttp_server: ServerFactory
) -> AsyncIterator[Served]:
    """The golden case `request.param`, served (parametrize with `indirect=True`)."""
    async with serve(ReplayUpstream(request.param), aiohttp_server) as served:
        yield served


def sdk_kwargs(case: str, method: Callable[..., Any]) -> dict[str, Any]:
    """The case's request.in.json as keyword arguments of an SDK `messages` method.

    `stream` is dropped (the method decides it). Body fields the installed SDK does not name as
    parameters (e.g. Claude Code's `context_management`) go in `extra_body`, so the JSON ccroute
    receives is the golden request either way. An explicit `timeout` keeps the SDK from
    refusing a non-streaming call with Claude Code's large `max_tokens` ("Streaming is
    required for operations that may take longer than 10 minutes").
    """
    body = load_request(case)
    body.pop("stream", None)
    accepted = set(inspect.signature(method).parameters)
    kwargs = {name: value for name, value in body.items() if name in accepted}
    extra = {name: value for name, value in body.items() if name not in accepted}
    if extra:
        kwargs["extra_body"] = extra
    kwargs["timeout"] = 30.0
    return kwargs


async def stream_final_message(served: Served) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Stream the case through the SDK: (final message dump, raw events the SDK parsed)."""
    client = served.client
    raw_events: list[dict[str, Any]] = []
    async with client.messages.stream(**sdk_kwargs(served.case, client.messages.stream)) as stream:
        async for event in stream:
            if event.type in RAW_EVENT_TYPES:
                raw_events.append(event.model_dump())  # now: the SDK mutates its snapshot later
        final = await stream.get_final_message()
    return final.model_dump(), raw_events


async def create_message(served: Served) -> dict[str, Any]:
    client = served.client
    message = await client.messages.create(**sdk_kwargs(served.case, client.messages.create))
    dump: dict[str, Any] = message.model_dump()
    return dump


# --- normalisation -----------------------------------------------------------------------------


def minted_tool_use_id(message_id: str, position: int) -> str:
    """The id ccroute gives a tool call the upstream sent without an id: derived from the
    Anthropic message id and the block's position (protocol.md §7 item 3; ccroute's
    `tool_use_id` docstring)."""
    return "toolu_" + hashlib.sha256(f"{message_id}:{position}".encode()).hexdigest()[:24]


def normalised(message: dict[str, Any], *, input_tokens_estimated: bool) -> dict[str, Any]:
    """`message` with only what legitimately differs between two requests made uniform.

    1. `id`: ccroute mints a fresh `msg_<random>` id for every request, so the stream and the
       non-stream answer never share one. Replaced by a placeholder (after checking the prefix).
    2. A tool_use `id` equal to `minted_tool_use_id(message id, position)`: the upstream sent
       no id for that call, so ccroute derived one from the (per-request) message id. Replaced
       by a placeholder naming the block position, so both answers must still agree on which
       blocks got a minted id and where they are. Ids the upstream sent (kept or hashed from
       the upstream id) are compared as they are.
    3. `usage.input_tokens`, only when `input_tokens_estimated` (the case's upstream stream
       carries no usage): the streamed value is then ccroute's estimate from message_start
       (nothing later replaces it), while the non-stream answer reports what the
       `response.in.json` body says (no usage there either). The streamed estimate is checked
       to be a positive integer before it is replaced.
    Everything else, output_tokens and the cache counts included, is compared as it is.
    """
    out = copy.deepcopy(message)
    message_id = out["id"]
    assert isinstance(message_id, str)
    assert message_id.startswith("msg_"), message_id
    out["id"] = "msg_<per-request>"
    for position, block in enumerate(out["content"]):
        if block["type"] == "tool_use" and block["id"] == minted_tool_use_id(message_id, position):
            block["id"] = f"toolu_<minted from the message id, block {position}>"
    if input_tokens_estimated:
        assert isinstance(out["usage"]["input_tokens"], int)
        out["usage"]["input_tokens"] = "<no upstream usage>"
    return out


# --- tests -------------------------------------------------------------------------------------


def test_every_golden_stream_case_has_a_non_stream_answer() -> None:
    # The requirement is "every golden case": a case with an upstream stream but no
    # response.in.json (or the other way round) cannot be compared stream vs non-stream.
    # Cases with neither (request-only cases) have nothing for a client to consume.
    lacking = sorted(set(STREAM_CASES) ^ set(RESPONSE_CASES))
    assert not lacking, (
        "golden cases with only one of upstream.sse / response.in.json: " + ", ".join(lacking)
    )
    assert set(COMPARED_CASES) | set(ERROR_CASES) == set(STREAM_CASES) <= set(CASES)


@pytest.mark.parametrize("served", COMPARED_CASES, indirect=True)
async def test_sdk_stream_final_message_equals_the_non_stream_message(served: Served) -> None:
    case = served.case
    streamed, raw_events = await stream_final_message(served)
    created = await create_message(served)

    # The SDK saw a well-formed stream, event for event the one the golden file describes.
    assert_well_formed(raw_events)
    golden = [event["type"] for event in golden_events(case) if event["type"] != "ping"]
    assert [event["type"] for event in raw_events] == golden

    estimated = not upstream_stream_reports_usage(case)
    if estimated:
        assert streamed["usage"]["input_tokens"] > 0, "message_start must carry an estimate"
    assert normalised(streamed, input_tokens_estimated=estimated) == normalised(
        created, input_tokens_estimated=estimated
    )

    # The same upstream request both ways, but for asking to stream.
    (stream_body, plain_body), (stream_path, plain_path) = (
        served.upstream.bodies,
        served.upstream.paths,
    )
    assert upstream_asked_to_stream(stream_body, stream_path)
    assert not upstream_asked_to_stream(plain_body, plain_path)
    unstreamed = [
        {k: v for k, v in b.items() if k not in STREAM_FIELDS} for b in served.upstream.bodies
    ]
    assert unstreamed[0] == unstreamed[1]
    model = upstream_model(case)
    for body, path in zip(served.upstream.bodies, served.upstream.paths, strict=True):
        # The model is in the body, or (Gemini) in the URL.
        assert body.get("model") == model or f"/models/{model}:" in path


@pytest.mark.parametrize("served", ERROR_CASES, indirect=True)
async def test_upstream_error_reaches_the_sdk_as_the_same_anthropic_error(served: Served) -> None:
    case = served.case
    golden = golden_events(case)
    error_type = golden[-1]["error"]["type"]
    client = served.client

    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as streamed:
        async with client.messages.stream(**sdk_kwargs(case, client.messages.stream)) as stream:
            async for event in stream:
                if event.type in RAW_EVENT_TYPES:
                    seen.append(event.type)
    # The SDK raises on `event: error` with the body's error object; the HTTP status it reports
    # is the 200 of the stream that had already started.
    assert streamed.value.body["error"]["type"] == error_type  # type: ignore[index]
    assert streamed.value.status_code == 200
    assert seen == [event["type"] for event in golden[:-1] if event["type"] != "ping"]

    # Non-stream: the same upstream failure arrives before any byte was sent, so it is an HTTP
    # error with the same Anthropic error type and that type's status.
    with pytest.raises(anthropic.APIStatusError) as created:
        await client.messages.create(**sdk_kwargs(case, client.messages.create))
    assert created.value.body["error"]["type"] == error_type  # type: ignore[index]
    assert created.value.status_code in STATUS_FOR_ERROR_TYPE[error_type]
    asked = [
        upstream_asked_to_stream(body, path)
        for body, path in zip(served.upstream.bodies, served.upstream.paths, strict=True)
    ]
    assert asked == [True, False]


# No golden case has an upstream tool call without an id, so this checks normalisation 2 itself:
# both paths mint the id the way `minted_tool_use_id` says, for the same block position.
def _chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
    body = {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return "data: " + json.dumps({**body, "choices": choices, **extra}) + "\n\n"


_ARGUMENTS = json.dumps({"command": "ls"})
_USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
_NO_ID_STREAM = (
    _chunk([{"index": 0, "delta": {"role": "assistant", "content": "Listing."}}])
    + _chunk(
        [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {
                            "index": 0,
                            "type": "function",
                            "function": {"name": "Bash", "arguments": _ARGUMENTS},
                        }
                    ]
                },
            }
        ]
    )
    + _chunk([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])
    + _chunk([], usage=_USAGE)
    + "data: [DONE]\n\n"
)
_NO_ID_RESPONSE = {
    "id": "x",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Listing.",
                "tool_calls": [
                    {"type": "function", "function": {"name": "Bash", "arguments": _ARGUMENTS}}
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": _USAGE,
}


async def test_tool_use_ids_minted_without_an_upstream_id_are_normalised_by_position(
    aiohttp_server: ServerFactory,
) -> None:
    upstream = ReplayUpstream(
        "openai/plain_text",
        stream=_NO_ID_STREAM.encode(),
        response=json.dumps(_NO_ID_RESPONSE).encode(),
    )
    async with serve(upstream, aiohttp_server) as served:
        streamed, raw_events = await stream_final_message(served)
        created = await create_message(served)
    assert_well_formed(raw_events)
    for message in (streamed, created):
        assert message["content"][1]["id"] == minted_tool_use_id(message["id"], 1)
    assert streamed["content"][1]["id"] != created["content"][1]["id"]
    expected = normalised(created, input_tokens_estimated=False)
    assert expected["content"][1]["id"] == "toolu_<minted from the message id, block 1>"
    assert normalised(streamed, input_tokens_estimated=False) == expected
