"""The daemon's life cycle with the real `claude`: a daemon `ccroute code` starts stops by itself
once the session is over, and `ccroute config set` on a running daemon changes the next
session's routing without a restart."""

from __future__ import annotations

import json
import time

import pytest

from tests.fakes.openai_upstream import text_reply

pytestmark = pytest.mark.e2e


def models_sent(e2e) -> list[str]:
    return [r.json.get("model") for r in e2e.fake.requests if isinstance(r.json, dict)]


def test_daemon_started_by_ccroute_code_stops_after_the_session(e2e, upstream):
    e2e.fake.set_script([text_reply("Hello from the auto-started daemon.") for _ in range(4)])
    e2e.configure(upstream)
    assert e2e.ccroute("status").returncode == 3  # nothing runs before the session

    run = e2e.code("say hello")

    assert run.returncode == 0, e2e.report("ccroute code failed")
    assert run.result_json()["result"] == "Hello from the auto-started daemon.", e2e.report(
        "unexpected answer"
    )
    assert "--auto-started" not in run.stdout
    deadline = time.monotonic() + 15
    status = e2e.ccroute("status", "--json")
    while status.returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        status = e2e.ccroute("status", "--json")
    assert status.returncode == 3, e2e.report("the auto-started daemon is still running")
    assert json.loads(status.stdout)["running"] is False
    log = e2e.daemon_log_text()
    assert "no ccroute code session is running any more" in log, e2e.report("no auto-stop")
    assert not list((e2e.ccroute_home / "state" / "sessions").iterdir())


def test_config_set_on_a_running_daemon_routes_the_next_session(e2e, upstream):
    e2e.fake.set_script([text_reply(f"answer {i}") for i in range(8)])
    e2e.configure(upstream, model="test/model-before")
    e2e.must("start")
    pid = e2e.daemon_pid()

    first = e2e.code("first question")
    assert first.returncode == 0, e2e.report("first session failed")
    assert set(models_sent(e2e)) == {"test/model-before"}, e2e.report("first routing")

    changed = e2e.must("config", "set", "router.default", "openrouter/test/model-after")
    assert "running daemon now uses it" in changed.stdout
    seen = len(e2e.fake.requests)
    second = e2e.code("second question")

    assert second.returncode == 0, e2e.report("second session failed")
    assert set(models_sent(e2e)[seen:]) == {"test/model-after"}, e2e.report("second routing")
    assert e2e.daemon_pid() == pid  # the same daemon: no restart
    status = json.loads(e2e.must("status", "--json").stdout)
    assert status["auto_started"] is False
    assert status["config_error"] is None
