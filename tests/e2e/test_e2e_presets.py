"""The issue's acceptance path as a new user would take it, with the real `claude`: `ccroute
providers add <preset> --base-url <loopback>`, `ccroute config set router.default
<preset>/<model>`, then `ccroute code -p`, against a DeepSeek-style strict Anthropic endpoint
(tests/fakes/anthropic_upstream.py) and the fake Gemini API (tests/fakes/gemini_upstream.py),
both on loopback.

Each test checks what Claude Code reported, what the upstream received, and what
`ccroute providers list` says about the provider.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import E2E, free_port
from tests.fakes.anthropic_upstream import FakeAnthropic, text_reply
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.gemini_upstream import text_reply as gemini_text_reply

pytestmark = pytest.mark.e2e

DEEPSEEK_KEY = "sk-deepseek-e2e-0123456789abcdef"
GEMINI_KEY = "gm-e2e-0123456789abcdefghij"


def add_and_route(e2e: E2E, preset: str, base_url: str, model: str) -> None:
    e2e.port = free_port()
    added = e2e.must("providers", "add", preset, "--base-url", base_url)
    assert f"ccroute config set router.default {preset}/" in added.stdout, added.stdout
    e2e.must("config", "set", "router.default", f"{preset}/{model}")
    e2e.must("config", "set", "server.port", str(e2e.port))


def checks(e2e: E2E, env: dict[str, str]) -> dict[str, Any]:
    listed = e2e.must("providers", "list", "--json", env=env)
    return {row["name"]: row for row in json.loads(listed.stdout)}


# --- DeepSeek through the anthropic wire -------------------------------------------------------


@pytest.fixture
def deepseek_fake() -> FakeAnthropic:
    # strict: DeepSeek's documented core field list; Anthropic extras get a 400 (§6.5)
    return FakeAnthropic(api_key=DEEPSEEK_KEY, strict=True, models=("deepseek-v4-pro",))


@pytest.fixture
def deepseek_upstream(deepseek_fake: FakeAnthropic) -> Iterator[str]:
    with deepseek_fake.serve_in_thread() as base_url:
        yield base_url + "/anthropic"


def test_deepseek_preset_runs_claude_code_through_the_anthropic_wire(
    e2e: E2E, deepseek_fake: FakeAnthropic, deepseek_upstream: str
) -> None:
    deepseek_fake.set_script([text_reply("Hi from the DeepSeek preset!")])
    add_and_route(e2e, "deepseek", deepseek_upstream, "deepseek-v4-pro")
    env = e2e.env(with_key=False, DEEPSEEK_API_KEY=DEEPSEEK_KEY)

    run = e2e.code("say hi", env=env)

    assert run.returncode == 0, e2e.report("ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Hi from the DeepSeek preset!"
    [request] = deepseek_fake.message_requests
    assert request.path == "/anthropic/v1/messages"
    assert request.header("x-api-key") == DEEPSEEK_KEY
    assert request.json["model"] == "deepseek-v4-pro"
    assert request.header("anthropic-beta") is None  # the preset strips betas
    assert "context_management" not in request.json
    assert deepseek_fake.problems == []
    row = checks(e2e, env)["deepseek"]
    assert row["key"]["source"] == "env:DEEPSEEK_API_KEY"
    assert row["check"]["summary"] == "ok (1 model)"
    assert DEEPSEEK_KEY not in run.stdout + run.stderr


# --- Gemini through the gemini wire ------------------------------------------------------------


@pytest.fixture
def gemini_fake() -> FakeGemini:
    return FakeGemini(api_key=GEMINI_KEY, models=("gemini-2.5-pro",))


@pytest.fixture
def gemini_upstream(gemini_fake: FakeGemini) -> Iterator[str]:
    with gemini_fake.serve_in_thread() as base_url:  # ".../v1beta"
        yield base_url


def test_gemini_preset_runs_claude_code_through_the_gemini_wire(
    e2e: E2E, gemini_fake: FakeGemini, gemini_upstream: str
) -> None:
    gemini_fake.set_script([gemini_text_reply("Hi from the Gemini preset!")])
    add_and_route(e2e, "gemini", gemini_upstream, "gemini-2.5-pro")
    env = e2e.env(with_key=False, GEMINI_API_KEY=GEMINI_KEY)

    run = e2e.code("say hi", env=env)

    assert run.returncode == 0, e2e.report("ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "Hi from the Gemini preset!"
    [request] = gemini_fake.generate_requests
    assert request.model == "gemini-2.5-pro" and request.streaming
    assert request.header("x-goog-api-key") == GEMINI_KEY
    # Claude Code asks for 64000 output tokens; the preset's 65536 cap leaves that alone
    assert request.json["generationConfig"]["maxOutputTokens"] == 64000
    assert gemini_fake.problems == []
    assert checks(e2e, env)["gemini"]["check"]["summary"] == "ok (1 model)"
