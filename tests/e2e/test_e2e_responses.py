"""The openai-responses wire end to end: `ccroute code` runs the real `claude` binary through the
ccroute daemon, which translates to a fake OpenAI Responses API upstream (tests/fakes/
responses_upstream.py) served on loopback. Each test checks what Claude Code reported and what
the upstream received at `POST /v1/responses`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import E2E, Run, free_port
from tests.fakes.responses_upstream import FakeResponses, Reasoning, Reply, call_reply, text_reply

pytestmark = pytest.mark.e2e

PROVIDER = "oai"
MODEL = "gpt-5.5"
KEY_ENV = "CCROUTE_E2E_OPENAI_KEY"
FILE_CONTENT = "hello from the responses wire\n"


@pytest.fixture
def responses_upstream(e2e: E2E) -> Iterator[FakeResponses]:
    """A fake Responses API upstream in a background thread, configured as provider `oai`
    (wire openai-responses, key in `KEY_ENV`) and as the default route. It is also the
    harness's `fake`, so `e2e.report()` lists what it received."""
    fake = FakeResponses(api_key=e2e.key)
    e2e.fake = fake
    with fake.serve_in_thread() as base_url:
        e2e.port = free_port()
        for key, value in (
            (f"providers.{PROVIDER}.base_url", base_url),
            (f"providers.{PROVIDER}.wire", "openai-responses"),
            (f"providers.{PROVIDER}.api_key_env", KEY_ENV),
            ("router.default", f"{PROVIDER}/{MODEL}"),
            ("server.port", str(e2e.port)),
        ):
            e2e.must("config", "set", key, value)
        yield fake


def code(e2e: E2E, prompt: str) -> Run:
    return e2e.code(prompt, env=e2e.env(with_key=False, **{KEY_ENV: e2e.key}))


def items_of(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in body["input"] if item.get("type") == kind]


def user_text(body: dict[str, Any]) -> str:
    return json.dumps([m for m in items_of(body, "message") if m.get("role") == "user"])


def has_function_output(body: dict[str, Any]) -> bool:
    return bool(items_of(body, "function_call_output"))


def test_plain_prompt_returns_the_upstream_text_with_reasoning_and_usage(e2e, responses_upstream):
    usage = {
        "input_tokens": 23000,
        "input_tokens_details": {"cached_tokens": 20000},
        "output_tokens": 77,
        "output_tokens_details": {"reasoning_tokens": 40},
        "total_tokens": 23077,
    }
    thought = Reasoning(summary=("**Greeting**\n\nKeep it short.",), encrypted_content="gAAAA-e2e")
    responses_upstream.set_script(
        [text_reply("Hi from the Responses API!", reasoning=[thought], usage=usage)]
    )

    run = code(e2e, "say hi")

    assert run.returncode == 0, e2e.report("ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Hi from the Responses API!", e2e.report("wrong result text")
    # uncached input, cache reads and output reach Claude Code's accounting (protocol.md §2.3)
    assert result["usage"]["input_tokens"] == 3000, result["usage"]
    assert result["usage"]["cache_read_input_tokens"] == 20000, result["usage"]
    assert result["usage"]["output_tokens"] == 77, result["usage"]
    [request] = responses_upstream.response_requests
    body = request.json
    assert request.path == "/v1/responses"
    assert request.header("authorization") == f"Bearer {e2e.key}"
    assert body["model"] == MODEL
    assert body["stream"] is True
    assert body["store"] is False
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert "messages" not in body and "max_tokens" not in body
    assert body["max_output_tokens"] >= 16
    assert body["instructions"] and "x-anthropic-billing-header" not in body["instructions"]
    assert "say hi" in user_text(body)
    assert body["tools"], "Claude Code's tools should reach the upstream"
    for tool in body["tools"]:
        assert set(tool) <= {"type", "name", "description", "parameters", "strict"}
        assert (tool["type"], tool["strict"]) == ("function", False)
    assert responses_upstream.problems == []


def test_write_tool_round_trip_creates_the_file_and_returns_the_reasoning_item(
    e2e, responses_upstream
):
    target = e2e.project / "hello.txt"
    thought = Reasoning(
        summary=("**Writing the file**\n\nOne Write call with the absolute path.",),
        encrypted_content="gAAAA-e2e-encrypted-reasoning-state",
    )
    first = call_reply(
        [("Write", {"file_path": str(target), "content": FILE_CONTENT})],
        text_before="I'll create the file.",
        reasoning=[thought],
    )

    def script(body: dict[str, Any]) -> Reply:
        return text_reply("Created hello.txt.") if has_function_output(body) else first

    responses_upstream.set_script(script)

    run = code(e2e, "Create hello.txt containing a greeting.")

    assert run.returncode == 0, e2e.report("ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Created hello.txt.", e2e.report("wrong final text")
    assert target.read_text() == FILE_CONTENT
    requests = responses_upstream.response_requests
    assert len(requests) == 2, e2e.report("expected exactly two upstream requests")
    assert not has_function_output(requests[0].json)
    turn2 = requests[1].json
    [call] = items_of(turn2, "function_call")
    issued = first.calls[0]
    assert call["call_id"] == issued.call_id
    assert call["name"] == "Write"
    assert json.loads(call["arguments"]) == {"file_path": str(target), "content": FILE_CONTENT}
    [output] = items_of(turn2, "function_call_output")
    assert output["call_id"] == issued.call_id
    assert output["output"]
    # the reasoning item the model produced comes back whole, right before its turn's items
    [returned] = items_of(turn2, "reasoning")
    assert returned == thought.item(final=True), e2e.report("reasoning item not returned intact")
    kinds = [item["type"] for item in turn2["input"]]
    at = kinds.index("reasoning")
    assert kinds[at : at + 4] == [
        "reasoning",
        "message",
        "function_call",
        "function_call_output",
    ], kinds
    assert turn2["input"][at + 1]["role"] == "assistant"
    assert all(r.header("authorization") == f"Bearer {e2e.key}" for r in requests)
    assert responses_upstream.problems == []
