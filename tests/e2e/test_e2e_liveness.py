"""Liveness with the real client: an upstream that takes longer than ccroute's ping interval to
answer (a reasoning model "thinking" before its first byte, a cold local server) must not cost
the user their turn. ccroute opens the SSE response and sends `ping` events before the upstream
has answered at all (protocol.md §6.3); Claude Code must accept pings ahead of `message_start`.
"""

from __future__ import annotations

import pytest

from ccroute.server.relay import PING_INTERVAL
from tests.fakes.openai_upstream import text_reply

pytestmark = pytest.mark.e2e


def test_upstream_silent_past_the_ping_interval_still_answers_the_prompt(e2e, upstream):
    delay = PING_INTERVAL + 2.0
    e2e.fake.set_script([text_reply("worth the wait", delay=delay)])
    e2e.configure(upstream)

    run = e2e.code("say something")

    assert run.returncode == 0, e2e.report("ccroute code failed after a slow upstream")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "worth the wait", e2e.report("wrong result text")
    # One upstream request: the wait was bridged by pings, not by a client retry.
    assert len(e2e.fake.chat_requests) == 1, e2e.report("Claude Code retried the slow request")
    assert e2e.fake.problems == []
