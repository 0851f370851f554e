"""Protocol edge cases end to end (protocol.md §2.4, §2.5, §4.4, §4.7, §6.3): rate limits with
`retry-after`, an upstream connection cut mid-stream, and reasoning carried through a tool loop.

Each test runs the real `ccroute` CLI and the real `claude` binary against the scripted fake
upstream (tests/e2e/conftest.py), or, where the point is ccroute's own output, talks to the
running daemon directly over HTTP with its local token. The behaviour asserted for Claude Code is
what 2.1.197 was observed to do; each test's docstring gives the evidence.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import CODE_TIMEOUT, E2E, Run
from tests.fakes.openai_upstream import (
    RecordedRequest,
    Reply,
    openrouter_error_reply,
    text_reply,
    tool_calls_reply,
)
from tests.streamcheck import assert_well_formed, parse_sse

pytestmark = pytest.mark.e2e

FILE_CONTENT = "thought it through\n"
DIRECT_TIMEOUT = 30.0


# -- helpers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogLine:
    """One request line of the daemon log (ccroute/server/proxy.py)."""

    message_id: str
    stream: bool
    status: str


_REQUEST_LINE = re.compile(
    r" (msg_\w+) model=\S+ route=\S+ reason=\S+ stream=(True|False) status=(.+) \d+ms$"
)


def request_lines(e2e: E2E) -> list[LogLine]:
    """The per-request lines of the daemon log, in order."""
    lines = []
    for raw in e2e.daemon_log_text().splitlines():
        match = _REQUEST_LINE.search(raw)
        if match:
            lines.append(LogLine(match[1], match[2] == "True", match[3]))
    return lines


def stream_failures(e2e: E2E) -> list[str]:
    """Daemon log lines saying an upstream stream broke after it started (server/relay.py)."""
    return [ln for ln in e2e.daemon_log_text().splitlines() if "upstream stream failed" in ln]


@dataclass(frozen=True)
class Direct:
    """A response from the daemon to a request made without Claude Code."""

    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


def post_messages(e2e: E2E, *, stream: bool) -> Direct:
    """`POST /v1/messages` to the running daemon with its local token; any status is returned."""
    body = {
        "model": "claude-opus-4-8",
        "max_tokens": 256,
        "stream": stream,
        "messages": [{"role": "user", "content": "say hi"}],
    }
    request = urllib.request.Request(
        e2e.daemon_url + "/v1/messages",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {e2e.daemon_token()}",
            "anthropic-version": "2023-06-01",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=DIRECT_TIMEOUT) as resp:
            return Direct(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as err:
        return Direct(err.code, dict(err.headers.items()), err.read())


def start_daemon(e2e: E2E) -> None:
    __tracebackhide__ = True
    run = e2e.ccroute("start", env=e2e.env(with_key=True))
    assert run.returncode == 0, e2e.report("ccroute start failed")


def stream_json_events(stdout: str) -> list[dict[str, Any]]:
    """The JSON objects Claude Code printed with `--output-format stream-json`, one a line."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip().startswith("{")]


def tool_call_message(request: RecordedRequest) -> dict[str, Any]:
    """The (only) assistant message with `tool_calls` in an upstream request."""
    found = [m for m in request.messages if m.get("role") == "assistant" and m.get("tool_calls")]
    assert len(found) == 1, [m.get("role") for m in request.messages]
    return found[0]


def has_tool_message(body: dict[str, Any]) -> bool:
    return any(m.get("role") == "tool" for m in body.get("messages", []))


# -- 429 with retry-after ----------------------------------------------------------------------

RATE_LIMITED = openrouter_error_reply(
    429, "Rate limit exceeded", error_type="rate_limit_exceeded", headers={"Retry-After": "1"}
)


def test_rate_limit_with_retry_after_is_waited_out_then_the_answer_arrives(e2e, upstream):
    """OpenRouter answers 429 + `Retry-After: 1`; ccroute passes it on as a 429
    `rate_limit_error` with `retry-after`, and Claude Code waits that long before retrying.

    Observed (2.1.197): the retry reached the upstream 1.02 s after the first request (without
    `retry-after` Claude Code's first retry comes after about 0.5 s, claude-code.md); the
    session then printed the answer and exited 0.
    """
    e2e.fake.set_script([RATE_LIMITED, text_reply("Answered after the wait.")])
    e2e.configure(upstream)
    # ccroute retries a 429 itself by default; this test is about Claude Code's own retry.
    e2e.must("config", "set", "providers.openrouter.max_retries", "0")

    run = e2e.code("say hi")

    assert run.returncode == 0, e2e.report("the 429 should have been retried")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Answered after the wait."
    first, retry = e2e.fake.chat_requests
    gap = retry.received_at - first.received_at
    assert gap >= 0.95, e2e.report(f"retried after {gap:.3f}s, before the 1 s retry-after")
    assert gap < 10, e2e.report(f"retried only after {gap:.3f}s")
    assert first.json["messages"] == retry.json["messages"], "the retry is the same request"
    lines = request_lines(e2e)
    assert [ln.status for ln in lines] == ["429 rate_limit_error", "200"], e2e.report(
        "the daemon log should show the 429 as rate_limit_error, then the success"
    )
    assert e2e.fake.problems == []


def test_rate_limit_reaches_the_client_as_429_with_retry_after(e2e, upstream):
    """What ccroute itself answers for the upstream 429: HTTP 429, `retry-after: 1`, and an
    Anthropic error body of type `rate_limit_error` that keeps the upstream message (§2.5)."""
    e2e.fake.set_script([RATE_LIMITED])
    e2e.configure(upstream)
    # ccroute retries a 429 itself by default; this test is about Claude Code's own retry.
    e2e.must("config", "set", "providers.openrouter.max_retries", "0")
    start_daemon(e2e)

    resp = post_messages(e2e, stream=True)

    assert resp.status == 429, resp
    assert resp.header("retry-after") == "1", resp.headers
    body = json.loads(resp.body)
    assert body["type"] == "error"
    assert body["error"]["type"] == "rate_limit_error"
    assert "Rate limit exceeded" in body["error"]["message"]
    assert len(e2e.fake.chat_requests) == 1
    assert [ln.status for ln in request_lines(e2e)] == ["429 rate_limit_error"]


# -- the upstream connection cut mid-stream ------------------------------------------------------

CUT_TEXT = "Partial answer that the upstream never gets to finish."
CUT_CHUNK = 8
CUT_AFTER = 4  # the role chunk and three content chunks
PARTIAL = CUT_TEXT[: (CUT_AFTER - 1) * CUT_CHUNK]  # "Partial answer that the "


def cut_reply() -> Reply:
    return text_reply(CUT_TEXT, chunk_size=CUT_CHUNK, cut_after=CUT_AFTER)


def test_cut_stream_sends_the_partial_text_then_exactly_one_error_event(e2e, upstream):
    """ccroute's own output when the upstream connection drops mid-stream (HTTP 200 already
    sent, some text streamed, no `[DONE]`): a well-formed Anthropic stream holding the partial
    text, ended by exactly one `event: error` (`overloaded_error`, naming the break) — no
    `content_block_stop`, no `message_stop` (§2.4, §2.5). The daemon logs the failure once."""
    e2e.fake.set_script([cut_reply()])
    e2e.configure(upstream)
    start_daemon(e2e)

    resp = post_messages(e2e, stream=True)

    assert resp.status == 200, resp
    assert (resp.header("content-type") or "").startswith("text/event-stream"), resp.headers
    events = parse_sse(resp.body)
    assert_well_formed(events)
    kinds = [e["type"] for e in events if e["type"] != "ping"]
    assert kinds.count("error") == 1, kinds
    assert kinds[-1] == "error", kinds
    assert "message_stop" not in kinds and "content_block_stop" not in kinds, kinds
    streamed = "".join(
        e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta"
    )
    assert streamed == PARTIAL
    error = events[-1]["error"]
    assert error["type"] == "overloaded_error"
    assert "broke off" in error["message"]
    assert len(e2e.fake.chat_requests) == 1
    assert len(stream_failures(e2e)) == 1, e2e.report("expected one 'upstream stream failed'")


def test_cut_stream_before_any_block_completes_falls_back_to_a_non_streaming_retry(e2e, upstream):
    """The upstream drops the connection after the role chunk and three text chunks.

    Observed (2.1.197): ccroute streams `message_start` and the partial text, then one SSE
    `error` event (`overloaded_error`); no content block had completed, so Claude Code
    discards the partial text and at once (≈30 ms after the error event) re-sends the same
    request with `stream` off — its non-streaming fallback (§2.5) — rather than retrying the
    stream, and prints no "The response above may be incomplete". The user sees only the
    fallback's complete answer; exit 0.
    """
    e2e.fake.set_script([cut_reply(), text_reply("Complete answer without streaming.")])
    e2e.configure(upstream)

    run = e2e.code("say hi")

    assert not run.timed_out, e2e.report("the session hung after the cut")
    assert run.returncode == 0, e2e.report("the fallback request should have succeeded")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Complete answer without streaming."
    assert PARTIAL not in run.stdout
    cut, fallback = e2e.fake.chat_requests
    assert cut.json["stream"] is True
    assert not fallback.json.get("stream"), e2e.report("the retry should be non-streaming")
    assert fallback.header("accept") == "application/json"
    assert fallback.json["messages"] == cut.json["messages"], "the fallback repeats the request"
    assert fallback.received_at - cut.received_at < 5
    lines = request_lines(e2e)
    assert [ln.stream for ln in lines] == [True, False], lines
    assert lines[0].status.startswith("200 "), lines  # 200, then the break (the log says how)
    assert lines[1].status == "200", lines
    [failure] = stream_failures(e2e)
    assert lines[0].message_id in failure
    assert e2e.fake.problems == []


def test_cut_stream_before_its_first_chunk_is_retried_as_a_stream(e2e, upstream):
    """The upstream answers 200 and drops the connection before sending any chunk.

    Observed (2.1.197): ccroute has nothing to translate, so Claude Code's stream holds only
    the `error` event (`overloaded_error`, no `message_start`); Claude Code treats that like an
    overloaded answer and retries the *stream* after its usual backoff (about 0.5 to 0.6 s), with no
    non-streaming fallback; the retry's answer is printed, exit 0.
    """
    e2e.fake.set_script(
        [text_reply(CUT_TEXT, cut_after=0), text_reply("Answered by the retried stream.")]
    )
    e2e.configure(upstream)

    run = e2e.code("say hi")

    assert not run.timed_out, e2e.report("the session hung after the cut")
    assert run.returncode == 0, e2e.report("the retried stream should have succeeded")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Answered by the retried stream."
    cut, retry = e2e.fake.chat_requests
    assert cut.json["stream"] is True
    assert retry.json["stream"] is True, e2e.report("the retry should stream again")
    assert retry.json["messages"] == cut.json["messages"], "the retry repeats the request"
    gap = retry.received_at - cut.received_at
    assert 0.3 <= gap < 10, e2e.report(f"retried after {gap:.3f}s, expected a backoff")
    assert [ln.stream for ln in request_lines(e2e)] == [True, True]
    assert len(stream_failures(e2e)) == 1
    assert e2e.fake.problems == []


def test_cut_stream_without_the_fallback_is_reported_as_an_api_error(e2e, upstream):
    """With `CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK=1` the same cut is final.

    Observed (2.1.197): no retry of any kind (one upstream request); Claude Code prints
    `API Error: The provider's stream broke off: ...` (ccroute's error event message) and
    exits 1.
    """
    e2e.fake.set_script([cut_reply()])
    e2e.configure(upstream)

    run = e2e.code("say hi", env=e2e.env(CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK="1"))

    assert not run.timed_out, e2e.report("the session hung after the cut")
    assert run.returncode == 1, e2e.report("the broken stream should end the session with 1")
    result = run.result_json()
    assert result["is_error"] is True
    assert "stream broke off" in result["result"], e2e.report("ccroute's error message lost")
    assert len(e2e.fake.chat_requests) == 1, e2e.report("nothing should be retried")
    assert len(stream_failures(e2e)) == 1


def test_cut_stream_after_a_completed_text_block_keeps_the_text_and_runs_no_tool(e2e, upstream):
    """The upstream streams a complete text, starts a Write call, and drops the connection in
    the middle of its arguments.

    Observed (2.1.197): ccroute has already closed the text block (the tool call opened the
    next one), so Claude Code keeps that text as an assistant message, does not retry or fall
    back (one upstream request), runs no tool (no file appears), prints
    `API Error: The provider's stream broke off: ...` and exits 1. (Its "The response above
    may be incomplete" notice belongs to a connection that closes without an error event.)
    """
    target = e2e.project / "never.txt"
    before = "I will write the file now."
    e2e.fake.set_script(
        [
            tool_calls_reply(
                [("Write", {"file_path": str(target), "content": "x\n" * 40})],
                text_before=before,
                chunk_size=8,
                fragments=4,
                # role chunk, 4 text chunks, the call's first fragment, 1 of 4 argument pieces
                cut_after=7,
            )
        ]
    )
    e2e.configure(upstream)

    run = e2e.ccroute(
        "code",
        "-p",
        "Write never.txt.",
        "--allowedTools",
        "Write",
        "--output-format",
        "stream-json",
        "--verbose",
        timeout=CODE_TIMEOUT,
    )

    assert not run.timed_out, e2e.report("the session hung after the cut")
    assert run.returncode == 1, e2e.report("the broken stream should end the session with 1")
    events = stream_json_events(run.stdout)
    texts = [
        block.get("text")
        for event in events
        if event.get("type") == "assistant"
        for block in event["message"]["content"]
        if block.get("type") == "text"
    ]
    assert texts[0] == before, e2e.report("the completed text block should be kept")
    assert "stream broke off" in texts[-1]
    result = run.result_json()
    assert result["type"] == "result" and result["is_error"] is True
    assert not target.exists(), "a half-streamed tool call must not run"
    assert len(e2e.fake.chat_requests) == 1, e2e.report("nothing should be retried")
    assert len(stream_failures(e2e)) == 1


# -- reasoning through a tool loop ---------------------------------------------------------------

REASONING_DETAILS = [
    {
        "type": "reasoning.text",
        "text": "The user wants a file. I should call Write with an absolute path, then stop.",
        "signature": "EqQBCkYIBxgCKkDfakeSignatureBytes0123456789abcdefABCDEF==",
        "format": "anthropic-claude-v1",
        "index": 0,
    },
    {
        "type": "reasoning.encrypted",
        "data": "gAAAAABopaqueEncryptedReasoningBlob-0123456789_abcdefXYZ==",
        "format": "anthropic-claude-v1",
        "index": 1,
    },
]
DEEPSEEK_REASONING = "Need a file: call Write once with the absolute path, then confirm briefly."


def reasoning_tool_loop(e2e: E2E, upstream: str, first: Reply) -> tuple[Run, list[RecordedRequest]]:
    """Turn 1 = `first` (reasoning + a Write call), turn 2 = final text; run Claude Code."""

    def script(body: dict[str, Any]) -> Reply:
        return text_reply("Wrote thought.txt.") if has_tool_message(body) else first

    e2e.fake.set_script(script)
    e2e.configure(upstream)
    return e2e.code("Create thought.txt."), e2e.fake.chat_requests


def assert_tool_loop_succeeded(e2e: E2E, run: Run, requests: list[RecordedRequest]) -> None:
    __tracebackhide__ = True
    assert run.returncode == 0, e2e.report("ccroute code failed")
    result = run.result_json()
    assert result["subtype"] == "success" and result["is_error"] is False, e2e.report(
        "Claude Code reported an error"
    )
    assert result["result"] == "Wrote thought.txt."
    assert (e2e.project / "thought.txt").read_text() == FILE_CONTENT
    assert len(requests) == 2, e2e.report("expected exactly two upstream requests")
    assert e2e.fake.problems == []


def test_openrouter_reasoning_details_come_back_intact_on_the_tool_call_turn(e2e, upstream):
    """An OpenRouter reasoning model thinks (a signed `reasoning.text` detail streamed in
    pieces, then a `reasoning.encrypted` one), calls Write, and on the next turn receives on
    its tool-call message exactly the merged `reasoning_details` it sent (§4.4).

    With `providers.openrouter.reasoning = "openrouter"`, Claude Code's `thinking` (adaptive,
    `output_config.effort: high` for the default model) goes upstream as the `reasoning`
    object, never also as `reasoning_effort` (§4.3).
    """
    target = e2e.project / "thought.txt"
    first = tool_calls_reply(
        [("Write", {"file_path": str(target), "content": FILE_CONTENT})],
        reasoning_details=REASONING_DETAILS,
        chunk_size=16,
    )
    e2e.must("config", "set", "providers.openrouter.reasoning", "openrouter")

    run, requests = reasoning_tool_loop(e2e, upstream, first)

    assert_tool_loop_succeeded(e2e, run, requests)
    turn1, turn2 = (r.json for r in requests)
    assert turn1["reasoning"] == {"effort": "high"}, e2e.report("wrong reasoning object")
    assert "reasoning_effort" not in turn1
    assistant = tool_call_message(requests[1])
    assert assistant["tool_calls"][0]["id"] == first.tool_calls[0].id
    assert json.dumps(assistant.get("reasoning_details"), sort_keys=True) == json.dumps(
        REASONING_DETAILS, sort_keys=True
    ), e2e.report("reasoning_details did not come back intact")
    assert "reasoning_content" not in assistant
    assert "reasoning_effort" not in turn2


def test_deepseek_reasoning_content_comes_back_intact_on_the_tool_call_turn(e2e, upstream):
    """A DeepSeek/vLLM-style model streams `delta.reasoning_content` before its Write call; on
    the next turn its tool-call message carries `reasoning_content` equal to the whole
    reasoning text (DeepSeek V3.2/Kimi thinking models require it, protocol.md §7 item 7)."""
    target = e2e.project / "thought.txt"
    first = tool_calls_reply(
        [("Write", {"file_path": str(target), "content": FILE_CONTENT})],
        reasoning=DEEPSEEK_REASONING,
        reasoning_style="deepseek",
        chunk_size=8,
    )

    run, requests = reasoning_tool_loop(e2e, upstream, first)

    assert_tool_loop_succeeded(e2e, run, requests)
    assistant = tool_call_message(requests[1])
    assert assistant["tool_calls"][0]["id"] == first.tool_calls[0].id
    assert assistant.get("reasoning_content") == DEEPSEEK_REASONING, e2e.report(
        "reasoning_content did not come back intact"
    )
    assert "reasoning_details" not in assistant
