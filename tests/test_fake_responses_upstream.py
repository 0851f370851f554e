"""The fake Responses API upstream must speak the wire format ccroute/translate/responses.py
documents (openai-python `types/responses/`): typed SSE events, response objects, errors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.fakes.responses_upstream import (
    FakeResponses,
    Reasoning,
    call_reply,
    error_reply,
    iter_items,
    json_reply,
    parse_events,
    sse_reply,
    text_reply,
)

RESPONSE_KEYS = {"id", "object", "created_at", "status", "error", "incomplete_details", "model"}


def body(*, stream: bool = True, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"model": "gpt-5.5", "input": [{"role": "user", "content": "hi"}]}
    if stream:
        out["stream"] = True
    out.update(extra)
    return out


async def post(client: Any, payload: dict[str, Any], **headers: str) -> tuple[Any, bytes]:
    resp = await client.post("/v1/responses", json=payload, headers=headers)
    return resp, await resp.read()


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["type"] == kind]


async def test_streamed_text_is_typed_events_with_sequence_numbers_and_no_done(aiohttp_client):
    fake = FakeResponses([text_reply("Hello there, world!", chunk_size=5)])
    client = await aiohttp_client(fake.app)

    resp, raw = await post(client, body())

    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert b"[DONE]" not in raw
    events = parse_events(raw)
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert events[0]["type"] == "response.created"
    assert events[0]["response"]["status"] == "in_progress"
    assert events[0]["response"]["output"] == []
    assert set(events[0]["response"]) >= RESPONSE_KEYS
    last = events[-1]
    assert last["type"] == "response.completed"
    assert last["response"]["id"] == events[0]["response"]["id"]
    assert last["response"]["status"] == "completed"
    assert set(last["response"]["usage"]) >= {"input_tokens", "output_tokens", "total_tokens"}
    deltas = of_type(events, "response.output_text.delta")
    assert [d["delta"] for d in deltas] == ["Hello", " ther", "e, wo", "rld!"]
    assert {(d["output_index"], d["content_index"]) for d in deltas} == {(0, 0)}
    [done] = of_type(events, "response.output_text.done")
    assert done["text"] == "Hello there, world!"
    [item] = list(iter_items(events))
    assert item["type"] == "message"
    assert item["role"] == "assistant"
    assert item["content"] == [
        {"type": "output_text", "text": "Hello there, world!", "annotations": []}
    ]
    assert last["response"]["output"] == [item]
    assert fake.problems == []


async def test_function_calls_stream_arguments_between_added_and_done(aiohttp_client):
    reply = call_reply(
        [("Write", {"file_path": "/a.txt", "content": "hé"}), ("Bash", {"command": "ls"})],
        text_before="Doing it.",
        fragments=3,
    )
    client = await aiohttp_client(FakeResponses([reply]).app)

    _, raw = await post(client, body())

    events = parse_events(raw)
    added = of_type(events, "response.output_item.added")
    assert [e["item"]["type"] for e in added] == ["message", "function_call", "function_call"]
    assert [e["output_index"] for e in added] == [0, 1, 2]
    for call, index in zip(reply.calls, (1, 2), strict=True):
        assert call.call_id.startswith("call_")
        [start] = [e for e in added if e["output_index"] == index]
        assert start["item"]["arguments"] == ""
        assert (start["item"]["call_id"], start["item"]["name"]) == (call.call_id, call.name)
        pieces = [
            e["delta"]
            for e in of_type(events, "response.function_call_arguments.delta")
            if e["output_index"] == index
        ]
        assert len(pieces) == 3
        assert "".join(pieces) == call.arguments
        [args_done] = [
            e
            for e in of_type(events, "response.function_call_arguments.done")
            if e["output_index"] == index
        ]
        assert args_done["arguments"] == call.arguments
        assert args_done["item_id"] == start["item"]["id"] == call.id
    assert json.loads(reply.calls[0].arguments) == {"file_path": "/a.txt", "content": "hé"}
    items = list(iter_items(events))
    assert [i.get("status") for i in items] == ["completed"] * 3
    assert events[-1]["response"]["output"] == items


async def test_reasoning_items_complete_their_encrypted_content_only_when_done(aiohttp_client):
    thought = Reasoning(summary=("**Plan**", "Then act."), encrypted_content="gAAAA-enc")
    client = await aiohttp_client(FakeResponses([text_reply("ok", reasoning=[thought])]).app)

    _, raw = await post(client, body(include=["reasoning.encrypted_content"]))

    events = parse_events(raw)
    first = of_type(events, "response.output_item.added")[0]
    assert first["item"] == {"id": thought.id, "type": "reasoning", "summary": []}
    parts: dict[int, str] = {}
    for event in of_type(events, "response.reasoning_summary_text.delta"):
        parts[event["summary_index"]] = parts.get(event["summary_index"], "") + event["delta"]
    assert parts == {0: "**Plan**", 1: "Then act."}
    assert len(of_type(events, "response.reasoning_summary_part.added")) == 2
    done = next(iter_items(events))
    assert done == {
        "id": thought.id,
        "type": "reasoning",
        "summary": [
            {"type": "summary_text", "text": "**Plan**"},
            {"type": "summary_text", "text": "Then act."},
        ],
        "encrypted_content": "gAAAA-enc",
    }


async def test_non_stream_request_gets_the_final_response_object(aiohttp_client):
    usage = {"input_tokens": 9, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 2}
    fake = FakeResponses([text_reply("Hi", incomplete="max_output_tokens", usage=usage)])
    client = await aiohttp_client(fake.app)

    resp, raw = await post(client, body(stream=False))

    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    response = json.loads(raw)
    assert response["object"] == "response"
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["usage"] == usage
    assert [item["type"] for item in response["output"]] == ["message"]


async def test_incomplete_stream_ends_with_response_incomplete(aiohttp_client):
    client = await aiohttp_client(
        FakeResponses([text_reply("cut", incomplete="content_filter")]).app
    )

    _, raw = await post(client, body())

    last = parse_events(raw)[-1]
    assert last["type"] == "response.incomplete"
    assert last["response"]["incomplete_details"] == {"reason": "content_filter"}


async def test_wrong_key_gets_a_401_and_does_not_consume_the_script(aiohttp_client):
    fake = FakeResponses([text_reply("secret")], api_key="sk-right")
    client = await aiohttp_client(fake.app)

    resp, raw = await post(client, body(), Authorization="Bearer sk-wrong")
    assert resp.status == 401
    assert json.loads(raw)["error"]["code"] == "invalid_api_key"

    resp, raw = await post(client, body(), Authorization="Bearer sk-right")
    assert resp.status == 200
    assert of_type(parse_events(raw), "response.output_text.delta")
    assert len(fake.response_requests) == 2
    assert fake.response_requests[1].header("authorization") == "Bearer sk-right"


async def test_unknown_paths_and_an_exhausted_script_are_recorded_as_problems(aiohttp_client):
    fake = FakeResponses([])
    client = await aiohttp_client(fake.app)

    resp = await client.post("/v1/chat/completions", json=body())
    assert resp.status == 404
    resp, raw = await post(client, body())
    assert resp.status == 500
    assert json.loads(raw)["error"]["type"] == "server_error"
    assert len(fake.problems) == 2


async def test_raw_replies_are_served_verbatim(aiohttp_client):
    events = [{"type": "response.created", "sequence_number": 0}, ": keep-alive\n\n"]
    fake = FakeResponses(
        [
            sse_reply(events),
            json_reply({"weird": True}, status=202),
            error_reply(
                429,
                "Slow down",
                error_type="requests",
                code="rate_limit_exceeded",
                headers={"retry-after": "2"},
            ),
        ]
    )
    client = await aiohttp_client(fake.app)

    _, raw = await post(client, body())
    created = b'event: response.created\ndata: {"type":"response.created","sequence_number":0}\n\n'
    assert raw == created + b": keep-alive\n\n"
    resp, raw = await post(client, body())
    assert (resp.status, json.loads(raw)) == (202, {"weird": True})
    resp, raw = await post(client, body())
    assert resp.status == 429
    assert resp.headers["retry-after"] == "2"
    assert json.loads(raw) == {
        "error": {
            "message": "Slow down",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


async def test_a_callable_script_answers_from_the_request(aiohttp_client):
    fake = FakeResponses(lambda request: text_reply(f"model={request['model']}"))
    client = await aiohttp_client(fake.app)

    _, raw = await post(client, body(stream=False))

    assert json.loads(raw)["output"][0]["content"][0]["text"] == "model=gpt-5.5"


def test_served_in_a_thread_over_loopback() -> None:
    fake = FakeResponses([text_reply("threaded")], api_key="k")
    with fake.serve_in_thread() as base_url:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        request = urllib.request.Request(
            f"{base_url}/responses",
            data=json.dumps(body(stream=False)).encode(),
            headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            answer = json.loads(resp.read())
        bad = urllib.request.Request(f"{base_url}/responses", data=b"{}", headers={})
        try:
            urllib.request.urlopen(bad, timeout=10)
            raise AssertionError("a request without the key must fail")
        except urllib.error.HTTPError as err:
            assert err.code == 401
    assert answer["output"][0]["content"][0]["text"] == "threaded"
    assert [r.path for r in fake.requests] == ["/v1/responses", "/v1/responses"]
