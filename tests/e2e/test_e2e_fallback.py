"""Fallback with the real `claude`: the first provider fails, the second finishes the session.

The default route's provider answers 503 to every request; `[router.fallbacks] default` names a
second provider (another fake OpenAI-compatible upstream with its own key). `ccroute code -p`
must complete with the second provider's text, after ccroute retried the first one within its
retry settings and then fell back, without Claude Code seeing an error.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_upstream import FakeOpenAI, error_reply, text_reply

pytestmark = pytest.mark.e2e

BACKUP_KEY = "sk-backup-e2e-key-0123456789"


@pytest.fixture
def backup() -> Iterator[tuple[FakeOpenAI, str]]:
    """The second provider: another fake upstream with its own key."""
    fake = FakeOpenAI(api_key=BACKUP_KEY)
    with fake.serve_in_thread() as base_url:
        yield fake, base_url


def test_a_503_provider_falls_back_to_the_second_and_the_session_completes(e2e, upstream, backup):
    backup_fake, backup_url = backup
    e2e.fake.set_script(
        lambda body: error_reply(503, "Service Unavailable", error_type="server_error")
    )
    backup_fake.set_script(lambda body: text_reply("the backup provider answered"))
    e2e.configure(upstream)
    e2e.must("config", "set", "providers.backup.base_url", backup_url)
    e2e.must("config", "set", "providers.backup.api_key_env", "BACKUP_API_KEY")
    e2e.must("config", "set", "providers.openrouter.max_retries", "1")
    # `ccroute config set` has no key for a fallback list yet: the table goes in the file.
    config_file = e2e.ccroute_home / "config" / "config.toml"
    with config_file.open("a") as f:
        f.write('\n[router.fallbacks]\ndefault = ["backup/backup-vendor/backup-model"]\n')

    run = e2e.code("say hi", env=e2e.env(BACKUP_API_KEY=BACKUP_KEY))

    assert run.returncode == 0, e2e.report("ccroute code failed")
    result = run.result_json()
    assert result["is_error"] is False, e2e.report("Claude Code reported an error")
    assert result["result"] == "the backup provider answered", e2e.report("wrong result text")
    main_calls = len(e2e.fake.chat_requests)
    backup_calls = backup_fake.chat_requests
    assert backup_calls, e2e.report("the backup provider was never asked")
    assert backup_calls[0].json["model"] == "backup-vendor/backup-model"
    # Claude Code's request was tried on the first provider (once, then one retry after a
    # backoff), then answered by the backup; Claude Code itself saw no error to retry.
    assert main_calls >= 2, e2e.report("the first provider was not tried and retried")
    log = e2e.daemon_log_text()
    assert "backup/backup-vendor/backup-model: ok" in log, e2e.report("no fallback in the log")
    print(e2e.report(f"fallback: main provider calls={main_calls}, backup={len(backup_calls)}"))
