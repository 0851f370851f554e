"""The fake OpenAI upstream must speak the real Chat Completions wire format (protocol.md §3)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import pytest

from tests.fakes.openai_upstream import (
    FakeOpenAI,
    Reply,
    error_reply,
    json_reply,
    openrouter_error_reply,
    parse_sse_data,
    sse_reply,
    text_reply,
    tool_calls_reply,
)

CHUNK_KEYS = {"id", "object", "created", "model", "choices"}


def chat_body(*, stream: bool = True, include_usage: bool = True, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "vendor/some-model",
        "messages": [{"role": "user", "content": "hi"}],
        **extra,
    }
    if stream:
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    return body


async def post_stream(client: Any, body: dict[str, Any], path: str = "/v1/chat/completions"):
    resp = await client.post(path, json=body)
    raw = await resp.read()
    return resp, raw


def choice_chunks(events: list[Any]) -> list[dict[str, Any]]:
    return [e for e in events if isinstance(e, dict) and e["choices"]]


async def test_streamed_text_reply_has_exact_chunk_shape_usage_chunk_and_done(aiohttp_client):
    fake = FakeOpenAI([text_reply("Hello there, world!", chunk_size=5)])
    client = await aiohttp_client(fake.app)

    resp, raw = await post_stream(client, chat_body())

    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    text = raw.decode()
    # every event is exactly one `data: ...` line followed by a blank line
    for event in text.split("\n\n")[:-1]:
        assert event.startswith("data: ") and "\n" not in event
    events = parse_sse_data(raw)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(isinstance(c, dict) for c in chunks)
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and next(iter(ids)).startswith("chatcmpl-")
    for c in chunks:
        assert set(c) == CHUNK_KEYS | {"usage"}
        assert c["object"] == "chat.completion.chunk"
        assert isinstance(c["created"], int)
        assert c["model"] == "vendor/some-model"
    *with_choices, usage_chunk = chunks
    for c in with_choices:
        assert c["usage"] is None
        [choice] = c["choices"]
        assert set(choice) == {"index", "delta", "finish_reason"}
        assert choice["index"] == 0
    assert with_choices[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in with_choices)
    assert content == "Hello there, world!"
    assert [c["choices"][0]["delta"].get("content") for c in with_choices[1:-1]] == [
        "Hello",
        " ther",
        "e, wo",
        "rld!",
    ]
    finishes = [c["choices"][0]["finish_reason"] for c in with_choices]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert with_choices[-1]["choices"][0]["delta"] == {}
    assert usage_chunk["choices"] == []
    usage = usage_chunk["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}


async def test_stream_without_include_usage_has_no_usage_chunk_or_field(aiohttp_client):
    fake = FakeOpenAI([text_reply("ok")])
    client = await aiohttp_client(fake.app)

    _, raw = await post_stream(client, chat_body(include_usage=False))

    events = parse_sse_data(raw)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(isinstance(c, dict) and c["choices"] and "usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_always_include_usage_sends_usage_chunk_like_openrouter(aiohttp_client):
    fake = FakeOpenAI(
        [text_reply("ok", usage={"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8})],
        always_include_usage=True,
    )
    client = await aiohttp_client(fake.app)

    _, raw = await post_stream(client, chat_body(include_usage=False))

    events = parse_sse_data(raw)
    assert events[-2] == {
        "id": events[0]["id"],  # type: ignore[index]
        "object": "chat.completion.chunk",
        "created": events[0]["created"],  # type: ignore[index]
        "model": "vendor/some-model",
        "choices": [],
        "usage": {"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8},
    }


async def test_streamed_tool_calls_follow_the_fragment_rules(aiohttp_client):
    args_a = {"file_path": "/tmp/a.txt", "content": "alpha content\n"}
    args_b = {"file_path": "/tmp/b.txt", "content": "beta"}
    reply = tool_calls_reply([("Write", args_a), ("Write", args_b)], fragments=3)
    fake = FakeOpenAI([reply])
    client = await aiohttp_client(fake.app)

    _, raw = await post_stream(client, chat_body())

    events = parse_sse_data(raw)
    chunks = choice_chunks(events)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    fragments: dict[int, list[dict[str, Any]]] = {}
    for c in chunks:
        for tc in c["choices"][0]["delta"].get("tool_calls", []):
            fragments.setdefault(tc["index"], []).append(tc)
    assert sorted(fragments) == [0, 1]
    for index, expected_args in ((0, args_a), (1, args_b)):
        first, *rest = fragments[index]
        assert first["id"].startswith("call_") and len(first["id"]) == 29
        assert first["id"] == reply.tool_calls[index].id
        assert first["type"] == "function"
        assert first["function"] == {"name": "Write", "arguments": ""}
        assert len(rest) == 3
        for frag in rest:
            assert set(frag) == {"index", "function"}
            assert set(frag["function"]) == {"arguments"}
            assert frag["function"]["arguments"]
        joined = "".join(f["function"]["arguments"] for f in rest)
        assert json.loads(joined) == expected_args
    # calls do not interleave: all of call 0 precedes call 1
    order = [tc["index"] for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])]
    assert order == sorted(order)
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "tool_calls"}
    assert events[-2]["choices"] == []  # type: ignore[index]
    assert events[-1] == "[DONE]"


async def test_tool_call_with_text_before_streams_text_first(aiohttp_client):
    fake = FakeOpenAI([tool_calls_reply([("Read", {"path": "x"})], text_before="Let me look.")])
    client = await aiohttp_client(fake.app)

    _, raw = await post_stream(client, chat_body())

    deltas = [c["choices"][0]["delta"] for c in choice_chunks(parse_sse_data(raw))]
    kinds = [
        "tool" if "tool_calls" in d else "text"
        for d in deltas
        if d.get("content") or "tool_calls" in d
    ]
    assert kinds[0] == "text" and kinds[-1] == "tool"
    assert kinds == sorted(kinds, key=lambda k: k == "tool")
    assert "".join(d.get("content") or "" for d in deltas) == "Let me look."


async def test_non_streaming_request_gets_one_chat_completion_body(aiohttp_client):
    reply = tool_calls_reply([("Write", {"file_path": "/x", "content": "y"})], text_before="ok")
    fake = FakeOpenAI([text_reply("plain answer"), reply])
    client = await aiohttp_client(fake.app)

    resp = await client.post("/v1/chat/completions", json=chat_body(stream=False))
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    body = await resp.json()
    assert set(body) == {"id", "object", "created", "model", "choices", "usage"}
    assert body["object"] == "chat.completion"
    assert body["model"] == "vendor/some-model"
    [choice] = body["choices"]
    assert choice["message"] == {"role": "assistant", "content": "plain answer"}
    assert choice["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] > 0

    resp = await client.post("/v1/chat/completions", json=chat_body(stream=False))
    body = await resp.json()
    message = body["choices"][0]["message"]
    assert message["content"] == "ok"
    [call] = message["tool_calls"]
    assert call["id"] == reply.tool_calls[0].id
    assert call["type"] == "function"
    assert call["function"]["name"] == "Write"
    assert isinstance(call["function"]["arguments"], str)
    assert json.loads(call["function"]["arguments"]) == {"file_path": "/x", "content": "y"}
    assert body["choices"][0]["finish_reason"] == "tool_calls"


async def test_tool_only_non_streaming_reply_has_null_content(aiohttp_client):
    fake = FakeOpenAI([tool_calls_reply([("Bash", {"command": "ls"})])])
    client = await aiohttp_client(fake.app)

    body = await (await client.post("/v1/chat/completions", json=chat_body(stream=False))).json()

    assert body["choices"][0]["message"]["content"] is None


async def test_error_reply_is_openai_shaped_and_keeps_headers_even_for_stream_requests(
    aiohttp_client,
):
    fake = FakeOpenAI(
        [
            error_reply(
                429,
                "Rate limit exceeded",
                error_type="rate_limit_error",
                code="rate_limit_exceeded",
                headers={"retry-after": "3"},
            )
        ]
    )
    client = await aiohttp_client(fake.app)

    resp = await client.post("/v1/chat/completions", json=chat_body())

    assert resp.status == 429
    assert resp.headers["Retry-After"] == "3"
    assert await resp.json() == {
        "error": {
            "message": "Rate limit exceeded",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


async def test_wrong_or_missing_key_gets_401_and_does_not_consume_the_script(aiohttp_client):
    fake = FakeOpenAI([text_reply("secret ok")], api_key="sk-test-123")
    client = await aiohttp_client(fake.app)

    missing = await client.post("/v1/chat/completions", json=chat_body(stream=False))
    wrong = await client.post(
        "/v1/chat/completions",
        json=chat_body(stream=False),
        headers={"Authorization": "Bearer sk-other"},
    )
    right = await client.post(
        "/v1/chat/completions",
        json=chat_body(stream=False),
        headers={"Authorization": "Bearer sk-test-123"},
    )

    for resp in (missing, wrong):
        assert resp.status == 401
        err = (await resp.json())["error"]
        assert err["code"] == "invalid_api_key" and err["message"]
    assert right.status == 200
    assert (await right.json())["choices"][0]["message"]["content"] == "secret ok"
    assert [r.header("authorization") for r in fake.requests] == [
        None,
        "Bearer sk-other",
        "Bearer sk-test-123",
    ]


async def test_requests_are_recorded_under_any_base_prefix(aiohttp_client):
    fake = FakeOpenAI([text_reply("a")])
    client = await aiohttp_client(fake.app)

    resp = await client.post(
        "/api/v1/chat/completions?x=1", json=chat_body(), headers={"X-Title": "ccroute"}
    )
    await resp.read()

    assert resp.status == 200
    [req] = fake.requests
    assert req.method == "POST"
    assert req.path == "/api/v1/chat/completions"
    assert req.query == "x=1"
    assert req.header("x-title") == "ccroute"
    assert req.json == chat_body()
    assert req.messages == [{"role": "user", "content": "hi"}]
    assert fake.chat_requests == [req]


async def test_models_endpoint_lists_configured_models_and_unknown_paths_404(aiohttp_client):
    fake = FakeOpenAI(models=["a/one", "b/two"])
    client = await aiohttp_client(fake.app)

    models = await (await client.get("/api/v1/models")).json()
    missing = await client.get("/v1/nothing")

    assert models["object"] == "list"
    assert [m["id"] for m in models["data"]] == ["a/one", "b/two"]
    assert all(m["object"] == "model" for m in models["data"])
    assert missing.status == 404
    assert "error" in await missing.json()


async def test_callable_script_answers_from_the_conversation(aiohttp_client):
    def respond(body: dict[str, Any]) -> Reply:
        if body["messages"][-1]["role"] == "tool":
            return text_reply("tool said " + body["messages"][-1]["content"])
        return tool_calls_reply([("Bash", {"command": "echo hi"})], ids=["call_fixed"])

    fake = FakeOpenAI(respond)
    client = await aiohttp_client(fake.app)

    first = await (await client.post("/v1/chat/completions", json=chat_body(stream=False))).json()
    follow_up = chat_body(
        stream=False,
        messages=[
            {"role": "user", "content": "hi"},
            first["choices"][0]["message"],
            {"role": "tool", "tool_call_id": "call_fixed", "content": "hi\n"},
        ],
    )
    second = await (await client.post("/v1/chat/completions", json=follow_up)).json()

    assert first["choices"][0]["message"]["tool_calls"][0]["id"] == "call_fixed"
    assert second["choices"][0]["message"]["content"] == "tool said hi\n"
    assert len(fake.chat_requests) == 2


async def test_exhausted_script_answers_500_and_records_a_problem(aiohttp_client):
    fake = FakeOpenAI([text_reply("only one")])
    client = await aiohttp_client(fake.app)

    first = await client.post("/v1/chat/completions", json=chat_body(stream=False))
    second = await client.post("/v1/chat/completions", json=chat_body(stream=False))

    assert first.status == 200
    assert second.status == 500
    assert (await second.json())["error"]["type"] == "server_error"
    assert fake.problems and "exhausted" in fake.problems[0]


async def test_raw_sse_reply_writes_strings_verbatim_and_can_omit_done(aiohttp_client):
    chunk = {
        "id": "gen-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}],
    }
    fake = FakeOpenAI([sse_reply([": OPENROUTER PROCESSING\n\n", chunk], done=False)])
    client = await aiohttp_client(fake.app)

    resp = await client.post("/v1/chat/completions", json=chat_body(stream=False))
    raw = await resp.read()

    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert raw.startswith(b": OPENROUTER PROCESSING\n\ndata: {")
    assert parse_sse_data(raw) == [chunk]


async def test_truncated_sse_reply_breaks_the_connection_mid_stream(aiohttp_client):
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "partial"}, "finish_reason": None}],
    }
    fake = FakeOpenAI([sse_reply([chunk], truncate=True)])
    client = await aiohttp_client(fake.app)

    resp = await client.post("/v1/chat/completions", json=chat_body())
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()


async def test_json_reply_is_served_verbatim(aiohttp_client):
    fake = FakeOpenAI([json_reply({"weird": True}, status=202)])
    client = await aiohttp_client(fake.app)

    resp = await client.post("/v1/chat/completions", json=chat_body())

    assert resp.status == 202
    assert await resp.json() == {"weird": True}


def test_serve_in_thread_serves_on_loopback_and_stops_on_exit():
    fake = FakeOpenAI([text_reply("threaded")], api_key="k")
    with fake.serve_in_thread() as base_url:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        request = urllib.request.Request(
            base_url + "/chat/completions",
            data=json.dumps(chat_body(stream=False)).encode(),
            headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            body = json.load(resp)
    assert body["choices"][0]["message"]["content"] == "threaded"
    assert fake.requests[0].path == "/v1/chat/completions"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base_url + "/models", timeout=2)


# -- reasoning (protocol.md §3.2, §4.4) ----------------------------------------------------------

DETAILS = [
    {
        "type": "reasoning.text",
        "text": "First I consider the question, then I answer it.",
        "signature": "sig-abc123==",
        "format": "anthropic-claude-v1",
        "index": 0,
    },
    {
        "type": "reasoning.encrypted",
        "data": "opaque-blob-xyz",
        "format": "anthropic-claude-v1",
        "index": 1,
    },
]


def merge_details(fragments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reference merge of streamed `reasoning_details` (§4.4): same `index` ⇒ same detail, its
    `text` pieces concatenated, other keys from the fragments (later ones win)."""
    merged: dict[int, dict[str, Any]] = {}
    for fragment in fragments:
        item = merged.setdefault(fragment["index"], {})
        for key, value in fragment.items():
            item[key] = item.get(key, "") + value if key == "text" else value
    return [merged[i] for i in sorted(merged)]


async def test_openrouter_reasoning_details_stream_as_fragments_before_content(aiohttp_client):
    reply = text_reply("The answer.", reasoning_details=DETAILS, chunk_size=10)
    fake = FakeOpenAI([reply])
    client = await aiohttp_client(fake.app)

    _, raw = await post_stream(client, chat_body())

    events = parse_sse_data(raw)
    assert events[-1] == "[DONE]"
    chunks = choice_chunks(events)
    for c in chunks:
        assert set(c) == CHUNK_KEYS | {"usage"}
        assert set(c["choices"][0]) == {"index", "delta", "finish_reason"}
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": ""}
    reasoning = [d for d in deltas if "reasoning" in d or "reasoning_details" in d]
    content_at = next(i for i, d in enumerate(deltas) if d.get("content"))
    assert deltas[1 : 1 + len(reasoning)] == reasoning  # all reasoning first, contiguous
    assert content_at == 1 + len(reasoning)
    for d in reasoning:
        assert set(d) <= {"reasoning", "reasoning_details"}
        assert len(d["reasoning_details"]) == 1
    fragments = [d["reasoning_details"][0] for d in reasoning]
    text_fragments = [f for f in fragments if f["index"] == 0]
    # the text in 10-character pieces, each with `delta.reasoning` equal to its piece
    *pieces, signed = text_fragments
    assert [f["text"] for f in pieces] == [
        "First I co",
        "nsider the",
        " question,",
        " then I an",
        "swer it.",
    ]
    for d, f in zip(reasoning, pieces, strict=False):
        assert f == {
            "type": "reasoning.text",
            "text": d["reasoning"],
            "format": "anthropic-claude-v1",
            "index": 0,
        }
    # then the signature alone (no `delta.reasoning`), then the encrypted item whole
    assert reasoning[len(pieces)] == {"reasoning_details": [signed]}
    assert signed == {
        "type": "reasoning.text",
        "text": "",
        "signature": "sig-abc123==",
        "format": "anthropic-claude-v1",
        "index": 0,
    }
    assert reasoning[-1] == {"reasoning_details": [DETAILS[1]]}
    assert merge_details(fragments) == DETAILS
    assert "".join(d.get("reasoning", "") for d in reasoning) == DETAILS[0]["text"]
    assert "".join(d.get("content") or "" for d in deltas) == "The answer."


async def test_reasoning_streams_before_tool_calls(aiohttp_client):
    reply = tool_calls_reply([("Write", {"file_path": "/x", "content": "y"})], reasoning="Hmm.")
    fake = FakeOpenAI([reply])
    client = await aiohttp_client(fake.app)

    _, raw = await post_stream(client, chat_body())

    deltas = [c["choices"][0]["delta"] for c in choice_chunks(parse_sse_data(raw))]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"reasoning": "Hmm."}
    assert "tool_calls" in deltas[2]
    assert choice_chunks(parse_sse_data(raw))[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_plain_openrouter_reasoning_streams_as_delta_reasoning(aiohttp_client):
    fake = FakeOpenAI([text_reply("ok", reasoning="Think twice.", chunk_size=6)])
    client = await aiohttp_client(fake.app)

    _, raw = await post_stream(client, chat_body())

    deltas = [c["choices"][0]["delta"] for c in choice_chunks(parse_sse_data(raw))]
    assert deltas[1:3] == [{"reasoning": "Think "}, {"reasoning": "twice."}]
    assert not any("reasoning_details" in d or "reasoning_content" in d for d in deltas)


async def test_deepseek_reasoning_streams_as_delta_reasoning_content(aiohttp_client):
    reply = tool_calls_reply(
        [("Bash", {"command": "ls"})],
        reasoning="Look at the files.",
        reasoning_style="deepseek",
        chunk_size=7,
    )
    fake = FakeOpenAI([reply])
    client = await aiohttp_client(fake.app)

    _, raw = await post_stream(client, chat_body())

    deltas = [c["choices"][0]["delta"] for c in choice_chunks(parse_sse_data(raw))]
    reasoning = [d for d in deltas if "reasoning_content" in d]
    assert reasoning == [
        {"reasoning_content": "Look at"},
        {"reasoning_content": " the fi"},
        {"reasoning_content": "les."},
    ]
    assert deltas[1 : 1 + len(reasoning)] == reasoning
    assert not any("reasoning" in d or "reasoning_details" in d for d in deltas)


async def test_non_streaming_reasoning_is_on_the_message(aiohttp_client):
    fake = FakeOpenAI(
        [
            text_reply("a", reasoning_details=DETAILS),
            text_reply("b", reasoning="plain", reasoning_style="deepseek"),
            text_reply("c", reasoning="plain"),
        ]
    )
    client = await aiohttp_client(fake.app)

    bodies = [
        await (await client.post("/v1/chat/completions", json=chat_body(stream=False))).json()
        for _ in range(3)
    ]

    openrouter, deepseek, plain = (b["choices"][0]["message"] for b in bodies)
    assert openrouter == {
        "role": "assistant",
        "content": "a",
        "reasoning": DETAILS[0]["text"],
        "reasoning_details": DETAILS,
    }
    assert deepseek == {"role": "assistant", "content": "b", "reasoning_content": "plain"}
    assert plain == {"role": "assistant", "content": "c", "reasoning": "plain"}


def test_reasoning_details_need_the_openrouter_style():
    with pytest.raises(ValueError):
        text_reply("x", reasoning_details=DETAILS, reasoning_style="deepseek")
    with pytest.raises(ValueError):
        text_reply("x", cut_after=-1)


# -- failure injection, timing, OpenRouter errors --------------------------------------------------


async def read_until_broken(resp: Any) -> tuple[bytes, BaseException | None]:
    """Read a response body chunk by chunk; return what arrived and the error that ended it."""
    received = b""
    try:
        async for data in resp.content.iter_any():
            received += data
    except aiohttp.ClientError as exc:
        return received, exc
    return received, None


async def test_cut_after_sends_n_chunks_then_drops_the_connection(aiohttp_client):
    reply = text_reply("abcdefghijklmnop", chunk_size=4, cut_after=3)
    fake = FakeOpenAI([reply])
    client = await aiohttp_client(fake.app)

    resp = await client.post("/v1/chat/completions", json=chat_body())
    received, error = await read_until_broken(resp)

    assert resp.status == 200
    assert isinstance(error, aiohttp.ClientPayloadError)
    events = parse_sse_data(received)
    assert "[DONE]" not in events
    assert [e["choices"][0]["delta"] for e in events] == [  # type: ignore[index]
        {"role": "assistant", "content": ""},
        {"content": "abcd"},
        {"content": "efgh"},
    ]


async def test_cut_comes_a_pause_after_the_last_chunk_and_can_precede_any_chunk(aiohttp_client):
    fake = FakeOpenAI(
        [text_reply("abcdefgh", chunk_size=4, cut_after=2), text_reply("x", cut_after=0)]
    )
    client = await aiohttp_client(fake.app)

    resp = await client.post("/v1/chat/completions", json=chat_body())
    first = await resp.content.readany()  # the role chunk and "abcd", before the cut
    started = time.monotonic()
    rest, error = await read_until_broken(resp)
    assert isinstance(error, aiohttp.ClientPayloadError)
    assert time.monotonic() - started >= 0.2  # Reply.cut_pause (0.25 s) minus scheduling slack
    events = parse_sse_data(first + rest)
    assert [e["choices"][0]["delta"] for e in events] == [  # type: ignore[index]
        {"role": "assistant", "content": ""},
        {"content": "abcd"},
    ]

    resp = await client.post("/v1/chat/completions", json=chat_body())
    received, error = await read_until_broken(resp)
    assert resp.status == 200
    assert isinstance(error, aiohttp.ClientPayloadError)
    assert received == b""


async def test_cut_after_on_a_raw_sse_reply_and_on_a_non_streaming_request(aiohttp_client):
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}],
    }
    fake = FakeOpenAI([sse_reply([chunk, chunk, chunk], cut_after=2), text_reply("y", cut_after=1)])
    client = await aiohttp_client(fake.app)

    resp = await client.post("/v1/chat/completions", json=chat_body())
    received, error = await read_until_broken(resp)
    assert isinstance(error, aiohttp.ClientPayloadError)
    assert parse_sse_data(received) == [chunk, chunk]

    with pytest.raises(aiohttp.ClientError):
        resp = await client.post("/v1/chat/completions", json=chat_body(stream=False))
        await resp.read()
    assert len(fake.chat_requests) == 2


async def test_requests_record_when_they_arrived(aiohttp_client):
    fake = FakeOpenAI([text_reply("a", delay=0.2), text_reply("b")])
    client = await aiohttp_client(fake.app)

    before = time.monotonic()
    await (await client.post("/v1/chat/completions", json=chat_body(stream=False))).read()
    await (await client.post("/v1/chat/completions", json=chat_body(stream=False))).read()

    first, second = fake.requests
    assert before <= first.received_at < second.received_at <= time.monotonic()
    assert second.received_at - first.received_at >= 0.2


async def test_openrouter_error_reply_has_openrouter_shape_and_retry_after(aiohttp_client):
    reply = openrouter_error_reply(
        429, "Rate limit exceeded", error_type="rate_limit_exceeded", headers={"Retry-After": "1"}
    )
    fake = FakeOpenAI([reply])
    client = await aiohttp_client(fake.app)

    resp = await client.post("/v1/chat/completions", json=chat_body())

    assert resp.status == 429
    assert resp.headers["retry-after"] == "1"
    assert await resp.json() == {
        "error": {
            "code": 429,
            "message": "Rate limit exceeded",
            "metadata": {"error_type": "rate_limit_exceeded"},
        }
    }
