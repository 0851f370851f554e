"""Errors as the real client experiences them: a provider that rejects ccroute's key must stop
Claude Code at once with a message naming the fix, not leave it retrying (Claude Code 2.1.197
retries a 401 as its own expired credential: 8 attempts over 90 s before this mapping)."""

from __future__ import annotations

import pytest

from tests.fakes.openai_upstream import error_reply

pytestmark = pytest.mark.e2e


def test_a_rejected_provider_key_stops_claude_code_at_once_with_the_fix(e2e, upstream):
    e2e.fake.set_script([error_reply(401, "Incorrect API key provided") for _ in range(10)])
    e2e.configure(upstream)

    run = e2e.code("say hi")

    assert run.returncode != 0, e2e.report("a rejected key must be an error")
    assert len(e2e.fake.chat_requests) == 1, e2e.report("Claude Code retried a rejected key")
    output = run.stdout + run.stderr
    assert "ccroute keys set openrouter" in output, e2e.report("the fix is not shown")
