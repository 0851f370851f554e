"""The real product path: `ccroute code` runs the real `claude` binary through the ccroute daemon,
which translates to a (fake) OpenAI-compatible upstream. Each test checks both what Claude Code
reported and what the upstream received."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes.openai_upstream import Reply, error_reply, text_reply, tool_calls_reply

pytestmark = pytest.mark.e2e

FILE_CONTENT = "hello from ccroute\n"


def system_texts(body: dict[str, Any]) -> list[str]:
    """The text of every system (or developer) message in an OpenAI request body."""
    texts = []
    for message in body.get("messages", []):
        if message.get("role") not in ("system", "developer"):
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return texts


def has_tool_message(body: dict[str, Any]) -> bool:
    return any(m.get("role") == "tool" for m in body.get("messages", []))


def tool_exchange(body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The last assistant message with `tool_calls` and the `tool` messages right after it."""
    messages = body["messages"]
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "assistant" and messages[i].get("tool_calls"):
            answers = []
            for follower in messages[i + 1 :]:
                if follower.get("role") != "tool":
                    break
                answers.append(follower)
            return messages[i], answers
    raise AssertionError(
        f"no assistant message with tool_calls in {[m.get('role') for m in messages]}"
    )


def test_plain_prompt_returns_the_upstream_text_with_configured_model_and_key(e2e, upstream):
    usage = {"prompt_tokens": 1234, "completion_tokens": 42, "total_tokens": 1276}
    e2e.fake.set_script([text_reply("Hi from the fake upstream!", chunk_size=4, usage=usage)])
    e2e.configure(upstream)

    run = e2e.code("say hi")

    assert run.returncode == 0, e2e.report("ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Hi from the fake upstream!", e2e.report("wrong result text")
    # the upstream's usage (sent after finish_reason) reaches Claude Code's accounting
    assert result["usage"]["output_tokens"] == 42, result["usage"]
    assert result["usage"]["input_tokens"] == 1234, result["usage"]
    [request] = e2e.fake.chat_requests
    body = request.json
    assert request.path == "/v1/chat/completions"
    assert request.header("authorization") == f"Bearer {e2e.key}"
    assert body["model"] == "test-vendor/e2e-model"
    assert body["stream"] is True
    assert body.get("stream_options", {}).get("include_usage") is True
    user_text = json.dumps([m for m in body["messages"] if m.get("role") == "user"])
    assert "say hi" in user_text
    systems = system_texts(body)
    assert systems, "Claude Code's system prompt should reach the upstream as system messages"
    for text in systems:
        assert "x-anthropic-billing-header" not in text
    assert e2e.fake.problems == []


def test_write_tool_round_trip_creates_the_file(e2e, upstream):
    target = e2e.project / "hello.txt"
    first = tool_calls_reply(
        [("Write", {"file_path": str(target), "content": FILE_CONTENT})],
        text_before="I'll create the file.",
    )

    def script(body: dict[str, Any]) -> Reply:
        return text_reply("Created hello.txt.") if has_tool_message(body) else first

    e2e.fake.set_script(script)
    e2e.configure(upstream)

    run = e2e.code("Create hello.txt containing a greeting.")

    assert run.returncode == 0, e2e.report("ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Created hello.txt.", e2e.report("wrong final text")
    assert target.read_text() == FILE_CONTENT
    requests = e2e.fake.chat_requests
    assert len(requests) == 2, e2e.report("expected exactly two upstream requests")
    assert not has_tool_message(requests[0].json)
    assistant, answers = tool_exchange(requests[1].json)
    [call] = assistant["tool_calls"]
    assert call["id"] == first.tool_calls[0].id
    assert call["type"] == "function"
    assert call["function"]["name"] == "Write"
    assert json.loads(call["function"]["arguments"]) == {
        "file_path": str(target),
        "content": FILE_CONTENT,
    }
    [answer] = answers
    assert answer["tool_call_id"] == call["id"]
    assert answer["content"]
    assert all(r.header("authorization") == f"Bearer {e2e.key}" for r in requests)
    assert e2e.fake.problems == []


def test_two_parallel_tool_calls_in_one_response_both_execute(e2e, upstream):
    first_file = e2e.project / "one.txt"
    second_file = e2e.project / "two.txt"
    calls = tool_calls_reply(
        [
            ("Write", {"file_path": str(first_file), "content": "first\n"}),
            ("Write", {"file_path": str(second_file), "content": "second\n"}),
        ]
    )

    def script(body: dict[str, Any]) -> Reply:
        return text_reply("Both written.") if has_tool_message(body) else calls

    e2e.fake.set_script(script)
    e2e.configure(upstream)

    run = e2e.code("Write one.txt and two.txt.")

    assert run.returncode == 0, e2e.report("ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Both written."
    assert first_file.read_text() == "first\n"
    assert second_file.read_text() == "second\n"
    requests = e2e.fake.chat_requests
    assert len(requests) == 2, e2e.report("expected exactly two upstream requests")
    assistant, answers = tool_exchange(requests[1].json)
    issued = {c.id for c in calls.tool_calls}
    assert {c["id"] for c in assistant["tool_calls"]} == issued
    assert sorted(a["tool_call_id"] for a in answers) == sorted(issued), e2e.report(
        "the second request must answer both tool calls with tool messages"
    )
    assert e2e.fake.problems == []


def test_upstream_400_reaches_claude_code_as_an_api_error_without_retries(e2e, upstream):
    e2e.fake.set_script(
        [error_reply(400, "Invalid parameter: bogus-marker-7731", code="invalid_parameter")]
    )
    e2e.configure(upstream)

    run = e2e.code("say hi")

    assert run.returncode == 1, e2e.report("a 400 should make Claude Code exit 1")
    result = run.result_json()
    assert result["is_error"] is True
    assert result["api_error_status"] == 400, e2e.report("the status should stay 400")
    assert "bogus-marker-7731" in result["result"], e2e.report("upstream message lost")
    assert len(e2e.fake.chat_requests) == 1, e2e.report("a 400 must not be retried")


def test_transient_upstream_failure_is_retried_and_then_succeeds(e2e, upstream):
    e2e.fake.set_script(
        [
            error_reply(503, "No provider available right now", error_type="server_error"),
            text_reply("Recovered."),
        ]
    )
    e2e.configure(upstream)

    run = e2e.code("say hi")

    assert run.returncode == 0, e2e.report("a transient 503 should be retried")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Recovered."
    assert len(e2e.fake.chat_requests) == 2
    assert e2e.fake.problems == []


def test_acceptance_sequence_start_status_code_stop(e2e, upstream):
    target = e2e.project / "accept.txt"
    write = tool_calls_reply([("Write", {"file_path": str(target), "content": FILE_CONTENT})])
    e2e.fake.set_script(lambda body: text_reply("Accepted.") if has_tool_message(body) else write)
    e2e.configure(upstream)

    start = e2e.ccroute("start", env=e2e.env(with_key=True))
    assert start.returncode == 0, e2e.report("ccroute start failed")
    status = e2e.ccroute("status")
    assert status.returncode == 0, e2e.report("ccroute status should exit 0 while running")
    assert str(e2e.port) in status.stdout + status.stderr, e2e.report("status should name the port")

    # The key was only given to `ccroute start`: the running daemon must use it.
    run = e2e.code("Write accept.txt.", env=e2e.env(with_key=False))
    assert run.returncode == 0, e2e.report("ccroute code failed against the running daemon")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Accepted."
    assert target.read_text() == FILE_CONTENT
    assert all(r.header("authorization") == f"Bearer {e2e.key}" for r in e2e.fake.chat_requests)

    stop = e2e.ccroute("stop")
    assert stop.returncode == 0, e2e.report("ccroute stop failed")
    after = e2e.ccroute("status")
    assert after.returncode == 3, e2e.report("ccroute status should exit 3 once stopped")
