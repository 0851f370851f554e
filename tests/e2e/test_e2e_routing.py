"""Routing with the real `claude`: Claude Code's own model choices land on the configured routes.

`--model haiku` goes to the background route, a long prompt (over a low
`router.long_context_threshold`) to the long_context route, and `--model provider/model` to
that provider. Two fake OpenAI-compatible upstreams stand for two providers, so the test sees
which one each request reached and under which upstream model name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.fakes.openai_upstream import FakeOpenAI, text_reply

pytestmark = pytest.mark.e2e

OTHER_KEY = "sk-other-e2e-key-0123456789"
# Claude Code 2.1's plain print-mode request estimates at about 15k input tokens (system prompt
# and tools); this threshold sits above that and below a prompt with ~65 KB of extra text. Its
# haiku requests are larger (about 26k: a longer system prompt), so the haiku test keeps the
# default threshold (60000): long_context comes before background in the precedence.
THRESHOLD = 25000


@pytest.fixture
def other() -> Iterator[tuple[FakeOpenAI, str]]:
    """A second provider: another fake upstream with its own key."""
    fake = FakeOpenAI(api_key=OTHER_KEY)
    with fake.serve_in_thread() as base_url:
        yield fake, base_url


def configure_routes(e2e, upstream: str, other_url: str, threshold: int = THRESHOLD) -> None:
    e2e.configure(upstream)
    e2e.must("config", "set", "providers.other.base_url", other_url)
    e2e.must("config", "set", "providers.other.api_key_env", "OTHER_API_KEY")
    e2e.must("config", "set", "router.background", "openrouter/bg-vendor/small-model")
    e2e.must("config", "set", "router.long_context", "other/long-vendor/long-model")
    e2e.must("config", "set", "router.long_context_threshold", str(threshold))


def run_code(e2e, prompt: str, *extra: str):
    return e2e.code(prompt, *extra, env=e2e.env(OTHER_API_KEY=OTHER_KEY))


def answered(e2e, run, text: str) -> None:
    __tracebackhide__ = True
    assert run.returncode == 0, e2e.report("ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == text, e2e.report("wrong result text")


def test_model_haiku_takes_the_background_route(e2e, upstream, other):
    other_fake, other_url = other
    e2e.fake.set_script([text_reply("small model here")])
    configure_routes(e2e, upstream, other_url, threshold=60000)

    run = run_code(e2e, "say hi", "--model", "haiku")

    answered(e2e, run, "small model here")
    [request] = e2e.fake.chat_requests
    assert request.json["model"] == "bg-vendor/small-model", e2e.report("not the background model")
    assert other_fake.requests == []


def test_a_long_prompt_takes_the_long_context_route_and_a_short_one_does_not(e2e, upstream, other):
    other_fake, other_url = other
    e2e.fake.set_script([text_reply("default here")])
    other_fake.set_script([text_reply("long context here")])
    configure_routes(e2e, upstream, other_url)

    short = run_code(e2e, "say hi")
    answered(e2e, short, "default here")
    [default_request] = e2e.fake.chat_requests
    assert default_request.json["model"] == "test-vendor/e2e-model"

    filler = " ".join(
        f"line {i}: the quick brown fox jumps over the lazy dog." for i in range(1200)
    )
    long = run_code(e2e, f"Summarise this text in one word.\n{filler}")

    answered(e2e, long, "long context here")
    [long_request] = other_fake.chat_requests
    assert long_request.json["model"] == "long-vendor/long-model", e2e.report("wrong model")
    assert long_request.header("authorization") == f"Bearer {OTHER_KEY}"
    assert "line 1199:" in json.dumps(long_request.json["messages"])
    assert len(e2e.fake.chat_requests) == 1, e2e.report("the long prompt reached the default")


def test_model_provider_slash_model_switches_provider(e2e, upstream, other):
    other_fake, other_url = other
    other_fake.set_script([text_reply("switched")])
    configure_routes(e2e, upstream, other_url)

    run = run_code(e2e, "say hi", "--model", "other/switch-vendor/picked-model")

    answered(e2e, run, "switched")
    [request] = other_fake.chat_requests
    assert request.json["model"] == "switch-vendor/picked-model"
    assert request.header("authorization") == f"Bearer {OTHER_KEY}"
    assert e2e.fake.requests == []
