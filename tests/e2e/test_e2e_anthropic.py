"""The real `claude` binary through `ccroute code` to Anthropic-format upstreams
(`wire = "anthropic"`): a real-Anthropic-style provider (x-api-key, betas kept) and a
DeepSeek-style one (Bearer key, betas stripped, a strict endpoint that rejects Anthropic's
extras, §6.5 and §7 item 16), both played by tests/fakes/anthropic_upstream.py on loopback.

Each test checks what Claude Code reported and what the upstream received.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import E2E, free_port
from tests.fakes.anthropic_upstream import (
    FakeAnthropic,
    Reply,
    error_reply,
    text_reply,
    tool_use_reply,
)

pytestmark = pytest.mark.e2e

UPSTREAM_KEY = "sk-ant-e2e-upstream-key-0123456789"
KEY_ENV = "CCROUTE_E2E_UPSTREAM_KEY"
SIGNATURE = "EqQBCkYIBxgCKkBZ2FzdGhpbmtpbmctc2lnbmF0dXJlLWZyb20tdGhlLWZha2U="
FILE_CONTENT = "hello through the anthropic wire\n"


def configure(e2e: E2E, base_url: str, *, model: str, **fields: str) -> None:
    """Provider `up` on the anthropic wire at `base_url`, routed to by default, plus `fields`
    (`auth`, `betas`, `max_tokens`, ...) set with `ccroute config set`."""
    e2e.port = free_port()
    e2e.must("config", "set", "providers.up.base_url", base_url)
    e2e.must("config", "set", "providers.up.wire", "anthropic")
    e2e.must("config", "set", "providers.up.api_key_env", KEY_ENV)
    for name, value in fields.items():
        e2e.must("config", "set", f"providers.up.{name}", value)
    e2e.must("config", "set", "router.default", f"up/{model}")
    e2e.must("config", "set", "server.port", str(e2e.port))


def code(e2e: E2E, prompt: str) -> Any:
    return e2e.code(prompt, env=e2e.env(with_key=False, **{KEY_ENV: UPSTREAM_KEY}))


def summary(fake: FakeAnthropic) -> str:
    lines = []
    for i, req in enumerate(fake.requests):
        body = req.json if isinstance(req.json, dict) else {}
        roles = [m.get("role") for m in body.get("messages", []) if isinstance(m, dict)]
        lines.append(f"#{i} {req.method} {req.path} model={body.get('model')!r} roles={roles}")
    return "\n".join([*lines, f"problems: {fake.problems}"])


def report(e2e: E2E, fake: FakeAnthropic, headline: str) -> str:
    return e2e.report(headline) + "\n\n=== anthropic upstream ===\n" + summary(fake)


def has_tool_result(body: dict[str, Any]) -> bool:
    return any(
        isinstance(block, dict) and block.get("type") == "tool_result"
        for message in body.get("messages", [])
        if isinstance(message.get("content"), list)
        for block in message["content"]
    )


@pytest.fixture
def anthropic_fake() -> FakeAnthropic:
    return FakeAnthropic(api_key=UPSTREAM_KEY)


@pytest.fixture
def anthropic_upstream(anthropic_fake: FakeAnthropic) -> Iterator[str]:
    with anthropic_fake.serve_in_thread() as base_url:
        yield base_url


@pytest.fixture
def deepseek_fake() -> FakeAnthropic:
    return FakeAnthropic(api_key=UPSTREAM_KEY, auth="bearer", strict=True)


@pytest.fixture
def deepseek_upstream(deepseek_fake: FakeAnthropic) -> Iterator[str]:
    with deepseek_fake.serve_in_thread() as base_url:
        yield base_url + "/anthropic"


def test_text_from_an_anthropic_provider_with_claude_codes_betas_forwarded(
    e2e: E2E, anthropic_fake: FakeAnthropic, anthropic_upstream: str
) -> None:
    usage = {
        "input_tokens": 321,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 17,
    }
    anthropic_fake.set_script(
        [
            text_reply(
                "Hi from the Anthropic upstream!",
                thinking="A greeting.",
                signature=SIGNATURE,
                usage=usage,
            )
        ]
    )
    configure(e2e, anthropic_upstream, model="claude-sonnet-5")

    run = code(e2e, "say hi")

    assert run.returncode == 0, report(e2e, anthropic_fake, "ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, report(e2e, anthropic_fake, "Claude Code reported an error")
    assert result["result"] == "Hi from the Anthropic upstream!"
    assert result["usage"]["input_tokens"] == 321
    assert result["usage"]["output_tokens"] == 17
    [request] = anthropic_fake.message_requests
    body = request.json
    assert request.path == "/v1/messages"
    assert request.header("x-api-key") == UPSTREAM_KEY
    assert request.header("authorization") is None
    assert request.header("anthropic-version") == "2023-06-01"
    assert "claude-code-20250219" in (request.header("anthropic-beta") or "")
    assert body["model"] == "claude-sonnet-5"
    assert body["stream"] is True
    # Passthrough: Claude Code's own fields travel as they are (§6.2)...
    assert "context_management" in body
    assert body["system"][0]["text"].startswith("x-anthropic-billing-header")
    assert any(m["role"] == "system" for m in body["messages"])
    # ...but the user id is made safe for every provider (§7 item 16).
    assert re.fullmatch(r"[0-9a-f]{32}", body["metadata"]["user_id"])
    assert anthropic_fake.problems == []


def test_write_tool_round_trip_sends_the_thinking_signature_back(
    e2e: E2E, anthropic_fake: FakeAnthropic, anthropic_upstream: str
) -> None:
    target = e2e.project / "hello.txt"
    first = tool_use_reply(
        [("Write", {"file_path": str(target), "content": FILE_CONTENT})],
        text_before="I'll write the file.",
        thinking="The Write tool creates it.",
        signature=SIGNATURE,
    )

    def script(body: dict[str, Any]) -> Reply:
        return text_reply("Wrote hello.txt.") if has_tool_result(body) else first

    anthropic_fake.set_script(script)
    configure(e2e, anthropic_upstream, model="claude-opus-4-8")

    run = code(e2e, "Create hello.txt containing a greeting.")

    assert run.returncode == 0, report(e2e, anthropic_fake, "ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, report(e2e, anthropic_fake, "Claude Code reported an error")
    assert result["result"] == "Wrote hello.txt."
    assert target.read_text() == FILE_CONTENT
    requests = anthropic_fake.message_requests
    assert len(requests) == 2, report(e2e, anthropic_fake, "expected two upstream requests")
    messages = requests[1].json["messages"]
    assistant = next(m for m in reversed(messages) if m["role"] == "assistant")
    call_id = first.tool_uses[0].id
    thinking = [b for b in assistant["content"] if b["type"] == "thinking"]
    assert thinking == [
        {"type": "thinking", "thinking": "The Write tool creates it.", "signature": SIGNATURE}
    ], report(e2e, anthropic_fake, "the thinking block must come back unchanged (§1.3)")
    [call] = [b for b in assistant["content"] if b["type"] == "tool_use"]
    assert (call["id"], call["name"]) == (call_id, "Write")
    assert call["input"] == {"file_path": str(target), "content": FILE_CONTENT}
    results = [
        b
        for m in messages
        if m["role"] == "user" and isinstance(m["content"], list)
        for b in m["content"]
        if b["type"] == "tool_result"
    ]
    assert [r["tool_use_id"] for r in results] == [call_id]
    assert anthropic_fake.problems == []


def test_overloaded_anthropic_upstream_is_retried_by_claude_code(
    e2e: E2E, anthropic_fake: FakeAnthropic, anthropic_upstream: str
) -> None:
    anthropic_fake.set_script(
        [error_reply(529, "overloaded_error", "Overloaded"), text_reply("Back again.")]
    )
    configure(e2e, anthropic_upstream, model="claude-sonnet-5")

    run = code(e2e, "say hi")

    assert run.returncode == 0, report(e2e, anthropic_fake, "a 529 should be retried")
    assert run.result_json()["result"] == "Back again."
    assert len(anthropic_fake.message_requests) == 2


def test_deepseek_style_endpoint_answers_a_prompt(
    e2e: E2E, deepseek_fake: FakeAnthropic, deepseek_upstream: str
) -> None:
    deepseek_fake.set_script([text_reply("Hello from DeepSeek!", model="deepseek-chat")])
    configure(
        e2e,
        deepseek_upstream,
        model="deepseek-chat",
        auth="bearer",
        betas="strip",
        max_tokens="8192",
    )

    run = code(e2e, "say hi")

    assert run.returncode == 0, report(e2e, deepseek_fake, "ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, report(e2e, deepseek_fake, "Claude Code reported an error")
    assert result["result"] == "Hello from DeepSeek!"
    [request] = deepseek_fake.message_requests
    assert request.path == "/anthropic/v1/messages"
    assert request.header("authorization") == f"Bearer {UPSTREAM_KEY}"
    assert request.header("x-api-key") is None
    assert request.header("anthropic-beta") is None
    body = request.json
    assert body["model"] == "deepseek-chat"
    assert body["max_tokens"] == 8192
    assert {m["role"] for m in body["messages"]} <= {"user", "assistant"}
    user_text = str(body["messages"])
    assert "say hi" in user_text
    assert deepseek_fake.problems == []


def test_deepseek_style_endpoint_runs_a_write_tool_round_trip(
    e2e: E2E, deepseek_fake: FakeAnthropic, deepseek_upstream: str
) -> None:
    target = e2e.project / "deepseek.txt"
    first = tool_use_reply(
        [("Write", {"file_path": str(target), "content": FILE_CONTENT})], text_before="Writing."
    )

    def script(body: dict[str, Any]) -> Reply:
        return text_reply("Done.") if has_tool_result(body) else first

    deepseek_fake.set_script(script)
    configure(e2e, deepseek_upstream, model="deepseek-chat", auth="bearer", betas="strip")

    run = code(e2e, "Write deepseek.txt.")

    assert run.returncode == 0, report(e2e, deepseek_fake, "ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, report(e2e, deepseek_fake, "Claude Code reported an error")
    assert result["result"] == "Done."
    assert target.read_text() == FILE_CONTENT
    assert len(deepseek_fake.message_requests) == 2
    assert has_tool_result(deepseek_fake.message_requests[1].json)
    assert deepseek_fake.problems == []


def test_keeping_betas_towards_a_strict_endpoint_shows_its_400_without_retrying(
    e2e: E2E, deepseek_fake: FakeAnthropic, deepseek_upstream: str
) -> None:
    deepseek_fake.set_script([text_reply("never sent")])
    configure(e2e, deepseek_upstream, model="deepseek-chat", auth="bearer")

    run = code(e2e, "say hi")

    assert run.returncode == 1, report(e2e, deepseek_fake, "a 400 should make Claude Code exit 1")
    result = run.result_json()
    assert result["is_error"] is True
    assert result["api_error_status"] == 400
    assert "Extra inputs are not permitted" in result["result"]
    assert len(deepseek_fake.message_requests) == 1
