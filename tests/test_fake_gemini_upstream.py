"""The fake Gemini upstream must speak the real wire format and reject what Gemini rejects
(protocol.md §5), or the e2e tests built on it prove nothing."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tests.fakes.gemini_upstream import (
    SKIP_SIGNATURE,
    FakeGemini,
    calls_reply,
    error_reply,
    parse_sse,
    raw_reply,
    text_reply,
)

KEY = "AIza-test-key"
STREAM = "/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse"
PLAIN = "/v1beta/models/gemini-3-flash-preview:generateContent"
HEADERS = {"x-goog-api-key": KEY}


def body(*contents: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"contents": list(contents) or [{"role": "user", "parts": [{"text": "hi"}]}], **extra}


async def test_a_streamed_text_reply_is_crlf_framed_generate_content_responses(aiohttp_client):
    fake = FakeGemini([text_reply("Hello there!", chunk_size=5, signature="c2ln")], api_key=KEY)
    client = await aiohttp_client(fake.app)

    resp = await client.post(STREAM, json=body(), headers=HEADERS)
    raw = await resp.read()

    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    chunks = parse_sse(raw)
    assert b"[DONE]" not in raw
    parts = [p for c in chunks for p in c["candidates"][0]["content"]["parts"]]
    assert "".join(p["text"] for p in parts) == "Hello there!"
    assert parts[-1] == {"text": "", "thoughtSignature": "c2ln"}
    assert [c["candidates"][0].get("finishReason") for c in chunks] == [None, None, None, "STOP"]
    assert all(
        set(c) == {"candidates", "usageMetadata", "modelVersion", "responseId"} for c in chunks
    )
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] > 0
    assert chunks[0]["modelVersion"] == "gemini-3-flash-preview"
    assert fake.problems == []


async def test_the_same_reply_without_streaming_is_one_merged_response(aiohttp_client):
    reply = calls_reply(
        [("Read", {"file_path": "/a"}), ("Read", {"file_path": "/b"})],
        text_before="Reading.",
        thoughts="Plan",
        signatures=["c2ln", None],
        ids=["fc_1", "fc_2"],
    )
    fake = FakeGemini([reply], api_key=KEY)
    client = await aiohttp_client(fake.app)

    resp = await client.post(PLAIN, json=body(), headers=HEADERS)
    answer = await resp.json()

    candidate = answer["candidates"][0]
    assert candidate["finishReason"] == "STOP"
    assert candidate["content"]["parts"] == [
        {"text": "Plan", "thought": True},
        {"text": "Reading."},
        {
            "functionCall": {"id": "fc_1", "name": "Read", "args": {"file_path": "/a"}},
            "thoughtSignature": "c2ln",
        },
        {"functionCall": {"id": "fc_2", "name": "Read", "args": {"file_path": "/b"}}},
    ]
    assert fake.issued_signatures == {"c2ln"}


async def test_a_wrong_key_is_geminis_400_api_key_invalid(aiohttp_client):
    fake = FakeGemini([text_reply("never")], api_key=KEY)
    client = await aiohttp_client(fake.app)

    resp = await client.post(PLAIN, json=body(), headers={"x-goog-api-key": "wrong"})
    error = (await resp.json())["error"]

    assert resp.status == 400
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    assert len(fake.generate_requests) == 1


async def test_requests_gemini_would_reject_get_a_google_400(aiohttp_client):
    fake = FakeGemini([text_reply("x")] * 5, api_key=KEY)
    client = await aiohttp_client(fake.app)
    call = {"role": "model", "parts": [{"functionCall": {"id": "x", "name": "Bash", "args": {}}}]}
    bad_bodies = [
        {**body(), "model": "gemini"},  # unknown top-level field
        body({"role": "assistant", "parts": [{"text": "hi"}]}),
        body(
            {"role": "user", "parts": [{"text": "go"}]},
            call,
            {"role": "user", "parts": [{"functionResponse": {"name": "Bash", "response": {}}}]},
        ),
        body(
            tools=[
                {
                    "functionDeclarations": [
                        {
                            "name": "T",
                            "parameters": {
                                "type": "object",
                                "properties": {},
                                "additionalProperties": False,
                            },
                        }
                    ]
                }
            ]
        ),
        body(generationConfig={"max_tokens": 5}),
    ]
    for bad in bad_bodies:
        resp = await client.post(PLAIN, json=bad, headers=HEADERS)
        assert resp.status == 400
        assert (await resp.json())["error"]["status"] == "INVALID_ARGUMENT"
    assert len(fake.problems) == 5
    assert 'Unknown name "model"' in fake.problems[0]
    assert 'Unknown name "id"' in fake.problems[2]
    assert "should be non-empty for OBJECT type" in fake.problems[3]


async def test_a_missing_function_response_breaks_the_pairing_rule(aiohttp_client):
    fake = FakeGemini([text_reply("x")], api_key=KEY)
    client = await aiohttp_client(fake.app)
    contents = [
        {"role": "user", "parts": [{"text": "go"}]},
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "A", "args": {}}},
                {"functionCall": {"name": "B", "args": {}}},
            ],
        },
        {"role": "user", "parts": [{"functionResponse": {"name": "A", "response": {}}}]},
    ]
    resp = await client.post(PLAIN, json=body(*contents), headers=HEADERS)
    assert resp.status == 400
    assert "number of function response parts" in fake.problems[0]


async def test_gemini_3_mode_wants_issued_signatures_on_the_current_turns_calls(aiohttp_client):
    fake = FakeGemini(
        [calls_reply([("Bash", {})], signatures=["aXNzdWVk"])] + [text_reply("ok")] * 3,
        api_key=KEY,
        require_signatures=True,
    )
    client = await aiohttp_client(fake.app)
    await client.post(PLAIN, json=body(), headers=HEADERS)  # the fake issues "aXNzdWVk"

    def turn(signature: str | None) -> dict[str, Any]:
        part: dict[str, Any] = {"functionCall": {"name": "Bash", "args": {}}}
        if signature is not None:
            part["thoughtSignature"] = signature
        answer = {"functionResponse": {"name": "Bash", "response": {"output": "ok"}}}
        return body(
            {"role": "user", "parts": [{"text": "go"}]},
            {"role": "model", "parts": [part]},
            {"role": "user", "parts": [answer, {"text": "<system-reminder/>"}]},
        )

    results = []
    for signature in ("aXNzdWVk", SKIP_SIGNATURE, None, "Zm9yZ2Vk"):
        resp = await client.post(PLAIN, json=turn(signature), headers=HEADERS)
        results.append(resp.status)
    assert results == [200, 200, 400, 400]
    assert "missing a thought_signature" in fake.problems[0]
    assert "Corrupted thought signature" in fake.problems[1]


async def test_error_and_raw_replies_are_served_verbatim(aiohttp_client):
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}
    blocked = {"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": "m"}
    fake = FakeGemini(
        [error_reply(429, "Quota exceeded", "RESOURCE_EXHAUSTED", retry), raw_reply(blocked)],
        api_key=KEY,
    )
    client = await aiohttp_client(fake.app)

    first = await client.post(PLAIN, json=body(), headers=HEADERS)
    second = await client.post(STREAM, json=body(), headers=HEADERS)

    assert first.status == 429
    assert (await first.json())["error"]["details"] == [retry]
    assert parse_sse(await second.read()) == [blocked]


async def test_streaming_without_alt_sse_is_a_problem_and_unknown_paths_404(aiohttp_client):
    fake = FakeGemini([text_reply("x")], api_key=KEY)
    client = await aiohttp_client(fake.app)
    no_sse = await client.post(STREAM.split("?", maxsplit=1)[0], json=body(), headers=HEADERS)
    missing = await client.post("/v1beta/chat/completions", json=body(), headers=HEADERS)
    assert no_sse.status == 400
    assert missing.status == 404
    assert fake.problems == ["streamGenerateContent without alt=sse (ccroute reads SSE)"]


def test_the_fake_serves_from_a_thread_with_its_model_list() -> None:
    fake = FakeGemini(api_key=KEY, models=["gemini-2.5-pro", "gemini-3-flash-preview"])
    with fake.serve_in_thread() as base_url:
        assert base_url.endswith("/v1beta")
        request = urllib.request.Request(f"{base_url}/models", headers=HEADERS)
        with urllib.request.urlopen(request, timeout=5) as resp:
            listing = json.loads(resp.read())
    names = [model["name"] for model in listing["models"]]
    assert names == ["models/gemini-2.5-pro", "models/gemini-3-flash-preview"]
    assert listing["models"][0]["supportedGenerationMethods"][0] == "generateContent"
