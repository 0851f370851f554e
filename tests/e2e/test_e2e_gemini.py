"""The gemini wire end to end: `ccroute code` runs the real `claude` binary through the ccroute
daemon, configured with `ccroute config set` for a provider of wire "gemini" whose base URL
points at the scripted fake Gemini API on loopback (tests/fakes/gemini_upstream.py, which checks
requests the way Gemini does: key header, field names, call/response pairing, schema subset and,
as for Gemini 3, thought signatures on the current turn's function calls). Each test checks what
Claude Code reported and what the upstream received (protocol.md §5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import E2E, Run, free_port
from tests.fakes.gemini_upstream import FakeGemini, Reply, calls_reply, error_reply, text_reply

pytestmark = pytest.mark.e2e

GEMINI_KEY = "AIzaSy-e2e-test-key-0123456789abcdefghij"
MODEL = "gemini-3-flash-preview"
FILE_CONTENT = "hello from gemini\n"


@pytest.fixture
def gemini(e2e: E2E) -> Iterator[tuple[FakeGemini, str]]:
    """The fake Gemini API (Gemini 3 rules) served from a thread, and its base URL."""
    fake = FakeGemini(api_key=GEMINI_KEY, models=[MODEL], require_signatures=True)
    with fake.serve_in_thread() as base_url:
        yield fake, base_url


def configure(e2e: E2E, base_url: str) -> None:
    """The provider and route as a user sets them up: base URL first (a provider ccroute does
    not know needs one), then its wire and key variable, then the default route."""
    __tracebackhide__ = True
    e2e.port = free_port()
    e2e.must("config", "set", "providers.gemini.base_url", base_url)
    e2e.must("config", "set", "providers.gemini.wire", "gemini")
    e2e.must("config", "set", "providers.gemini.api_key_env", "GEMINI_API_KEY")
    e2e.must("config", "set", "router.default", f"gemini/{MODEL}")
    e2e.must("config", "set", "server.port", str(e2e.port))


def code(e2e: E2E, prompt: str) -> Run:
    return e2e.code(prompt, env=e2e.env(with_key=False, GEMINI_API_KEY=GEMINI_KEY))


def report(e2e: E2E, fake: FakeGemini, headline: str) -> str:
    lines = [
        f"#{i} {r.method} {r.path}?{r.query} key={'ok' if r.header('x-goog-api-key') else '-'} "
        f"roles={[c.get('role') for c in (r.json or {}).get('contents', [])]}"
        for i, r in enumerate(fake.requests)
    ]
    return (
        e2e.report(headline)
        + "\n\n=== gemini upstream ===\n"
        + ("\n".join(lines) or "(no requests)")
        + f"\nproblems: {fake.problems}"
    )


def model_parts(body: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The parts of every `model` turn of a generateContent body, in order."""
    return [content["parts"] for content in body["contents"] if content["role"] == "model"]


def has_function_response(body: dict[str, Any]) -> bool:
    last = body["contents"][-1]
    return last["role"] == "user" and any("functionResponse" in p for p in last["parts"])


def test_plain_prompt_answers_with_geminis_text_and_usage(e2e, gemini):
    fake, base_url = gemini
    usage = {
        "promptTokenCount": 1500,
        "cachedContentTokenCount": 1000,
        "candidatesTokenCount": 7,
        "thoughtsTokenCount": 30,
        "totalTokenCount": 1537,
    }
    fake.set_script([text_reply("Hi from Gemini!", signature="c2lnLXRleHQ=", usage=usage)])
    configure(e2e, base_url)

    run = code(e2e, "say hi")

    assert run.returncode == 0, report(e2e, fake, "ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, report(e2e, fake, "Claude Code reported an error")
    assert result["result"] == "Hi from Gemini!", report(e2e, fake, "wrong result text")
    # cached tokens are excluded from input_tokens and reported as cache reads (§5.6)
    assert result["usage"]["input_tokens"] == 500, result["usage"]
    assert result["usage"]["cache_read_input_tokens"] == 1000, result["usage"]
    assert result["usage"]["output_tokens"] == 37, result["usage"]
    [request] = fake.generate_requests
    assert request.path == f"/v1beta/models/{MODEL}:streamGenerateContent"
    assert request.query == "alt=sse"
    assert request.header("x-goog-api-key") == GEMINI_KEY
    assert request.header("authorization") is None
    body = request.json
    assert "say hi" in json.dumps(body["contents"][0])
    system = json.dumps(body["systemInstruction"])
    assert "x-anthropic-billing-header" not in system
    assert len(body["systemInstruction"]["parts"]) >= 1
    config = body["generationConfig"]
    assert config["thinkingConfig"] == {"thinkingLevel": "HIGH", "includeThoughts": True}
    assert config["maxOutputTokens"] > 0
    assert fake.problems == []


def test_write_tool_round_trip_creates_the_file_and_sends_the_signature_back(e2e, gemini):
    fake, base_url = gemini
    target = e2e.project / "hello.txt"
    signature = "V3JpdGUtc2lnbmF0dXJl"
    first = calls_reply(
        [("Write", {"file_path": str(target), "content": FILE_CONTENT})],
        text_before="I'll create the file.",
        signatures=[signature],
    )

    def script(body: dict[str, Any]) -> Reply:
        return text_reply("Created hello.txt.") if has_function_response(body) else first

    fake.set_script(script)
    configure(e2e, base_url)

    run = code(e2e, "Create hello.txt containing a greeting.")

    assert run.returncode == 0, report(e2e, fake, "ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, report(e2e, fake, "Claude Code reported an error")
    assert result["result"] == "Created hello.txt.", report(e2e, fake, "wrong final text")
    assert target.read_text() == FILE_CONTENT
    requests = fake.generate_requests
    assert len(requests) == 2, report(e2e, fake, "expected exactly two upstream requests")
    assert model_parts(requests[0].json) == []
    [turn] = model_parts(requests[1].json)
    assert turn == [
        {"text": "I'll create the file."},
        {
            "functionCall": {
                "name": "Write",
                "args": {"file_path": str(target), "content": FILE_CONTENT},
            },
            "thoughtSignature": signature,
        },
    ]
    answer = requests[1].json["contents"][-1]["parts"][0]["functionResponse"]
    assert answer["name"] == "Write"
    assert set(answer["response"]) == {"output"}
    assert answer["response"]["output"]
    assert fake.problems == [], report(e2e, fake, "the upstream rejected a request")


def test_a_two_step_tool_session_carries_each_signature_back_on_its_call(e2e, gemini):
    fake, base_url = gemini
    one, two = e2e.project / "one.txt", e2e.project / "two.txt"
    signatures = ["c3RlcC1vbmU=", "c3RlcC10d28="]
    steps = [
        calls_reply(
            [("Write", {"file_path": str(one), "content": "first\n"})],
            thoughts="**Planning**\n\nOne file, then the other.",
            signatures=[signatures[0]],
        ),
        calls_reply(
            [("Write", {"file_path": str(two), "content": "second\n"})],
            signatures=[signatures[1]],
        ),
        text_reply("Both files written."),
    ]

    def script(body: dict[str, Any]) -> Reply:
        return steps[len(model_parts(body))]

    fake.set_script(script)
    configure(e2e, base_url)

    run = code(e2e, "Write one.txt, then two.txt.")

    assert run.returncode == 0, report(e2e, fake, "ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, report(e2e, fake, "Claude Code reported an error")
    assert result["result"] == "Both files written."
    assert one.read_text() == "first\n"
    assert two.read_text() == "second\n"
    requests = fake.generate_requests
    assert len(requests) == 3, report(e2e, fake, "expected three upstream requests")

    def call_signatures(body: dict[str, Any]) -> list[str | None]:
        return [
            part.get("thoughtSignature")
            for parts in model_parts(body)
            for part in parts
            if "functionCall" in part
        ]

    # The second request carries the first step's signature back; the third carries both.
    assert call_signatures(requests[1].json) == signatures[:1]
    assert call_signatures(requests[2].json) == signatures
    # The unsigned thought summary is shown to Claude Code but not sent back (§5.7).
    assert '"thought": true' not in json.dumps(requests[2].json)
    assert fake.problems == [], report(e2e, fake, "the upstream rejected a request")


def test_an_invalid_gemini_key_stops_claude_code_at_once_with_googles_message(e2e, gemini):
    """Claude Code 2.1.197 retries a 401 with backoff for minutes (seen while writing this test:
    8 attempts in 90 s), so Gemini's 400 API_KEY_INVALID stays a 400, which it does not retry."""
    fake, base_url = gemini
    fake.set_script([text_reply("never sent")])
    configure(e2e, base_url)

    run = e2e.code(
        "say hi", env=e2e.env(with_key=False, GEMINI_API_KEY="AIzaSy-wrong-key-000000000000")
    )

    assert run.returncode == 1, report(e2e, fake, "a rejected key should make Claude Code exit 1")
    result = run.result_json()
    assert result["is_error"] is True
    assert result["api_error_status"] == 400, report(e2e, fake, "the key error should stay 400")
    assert "API key not valid" in result["result"], report(e2e, fake, "Google's message lost")
    assert len(fake.generate_requests) == 1, report(e2e, fake, "a 400 must not be retried")


def test_a_gemini_quota_error_is_retried_after_googles_delay(e2e, gemini):
    fake, base_url = gemini
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}
    fake.set_script(
        [
            error_reply(
                429, "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED", retry
            ),
            text_reply("Back after the quota wait."),
        ]
    )
    configure(e2e, base_url)

    run = code(e2e, "say hi")

    assert run.returncode == 0, report(e2e, fake, "a 429 should be retried by Claude Code")
    assert run.result_json()["result"] == "Back after the quota wait."
    assert len(fake.generate_requests) == 2
    assert fake.problems == []
