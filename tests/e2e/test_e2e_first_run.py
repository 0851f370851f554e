"""End to end: `ccroute code` against settings files that fight it, and the first-run wizard in
a real terminal (tmux), with the real `claude` binary and the fake OpenAI upstream."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import E2E, MODEL, REPO, free_port
from tests.fakes.file_keyring import FILE_ENV
from tests.fakes.openai_upstream import text_reply

pytestmark = pytest.mark.e2e

REPLY = "Hello through ccroute."
PROMPT_TIMEOUT = 30.0


def test_user_settings_env_pointing_elsewhere_cannot_bypass_ccroute(
    e2e: E2E, upstream: str
) -> None:
    e2e.fake.set_script([text_reply(REPLY)])
    e2e.configure(upstream)
    settings = e2e.home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.write_text(
        json.dumps({"env": {"ANTHROPIC_BASE_URL": nowhere, "ANTHROPIC_AUTH_TOKEN": "wrong"}})
    )
    run = e2e.code("say hi")
    assert run.returncode == 0, e2e.report("ccroute code should still reach ccroute")
    assert run.result_json()["result"] == REPLY, e2e.report("the answer should come via ccroute")
    assert len(e2e.fake.chat_requests) == 1, e2e.report("the fake upstream should get the request")
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, e2e.report("one warning line for the settings file")
    assert str(settings) in warnings[0]
    assert "ANTHROPIC_BASE_URL, ANTHROPIC_AUTH_TOKEN" in warnings[0]
    leftovers = list((e2e.ccroute_home / "state" / "claude-settings").glob("*.json"))
    assert leftovers == [], e2e.report("the settings file holding the token must be removed")


# --- the wizard in a terminal --------------------------------------------------------------------


class Tmux:
    """One tmux server (its own socket) running one command in a 200x50 pane."""

    def __init__(self, root: Path) -> None:
        self.socket = f"ccroute-e2e-{time.monotonic_ns()}"
        self.root = root

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        return done.stdout

    def start(self, script: Path) -> None:
        self.tmux("new-session", "-d", "-s", "w", "-x", "200", "-y", "50", f"sh {script}")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-500", "-t", "w")

    def wait_for(self, text: str, count: int = 1, timeout: float = PROMPT_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen.count(text) >= count:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} (x{count}) never appeared; the screen:\n{self.screen()}")

    def answer(self, text: str) -> None:
        if text:
            self.tmux("send-keys", "-t", "w", "-l", text)
        self.tmux("send-keys", "-t", "w", "Enter")

    def close(self) -> None:
        self.tmux("kill-server")


@pytest.fixture
def tmux(e2e: E2E) -> Iterator[Tmux]:
    if shutil.which("tmux") is None or sys.platform == "win32":
        pytest.fail("the wizard acceptance test needs tmux (apt-get install tmux)", pytrace=False)
    pane = Tmux(e2e.root)
    try:
        yield pane
    finally:
        pane.close()


def test_wizard_in_a_terminal_stores_the_key_and_claude_reaches_the_upstream(
    e2e: E2E, upstream: str, tmux: Tmux
) -> None:
    e2e.fake.set_script([text_reply(REPLY)])
    keyring_file = e2e.root / "keyring.json"
    env = e2e.env(
        with_key=False,
        PYTHON_KEYRING_BACKEND="tests.fakes.file_keyring.FileKeyring",
        PYTHONPATH=str(REPO),
        CCROUTE_PORT=str(free_port()),
        TERM="xterm-256color",
        **{FILE_ENV: str(keyring_file)},
    )
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    argv = [sys.executable, "-m", "ccroute", "code", "-p", "say hi", "--output-format", "json"]
    script = e2e.root / "run.sh"
    # A person at a terminal: the tmux server inherits the test run's environment, and under
    # .ci/run that has CI=true, which (rightly) makes ccroute refuse to ask questions.
    script.write_text(
        f"unset CI\n{exports}cd {shlex.quote(str(e2e.project))}\n"
        f"{shlex.join(argv)}\necho CCROUTE-EXIT:$?\nsleep 600\n"
    )
    tmux.start(script)

    tmux.wait_for("Provider (number or name)")
    tmux.answer("other")
    tmux.wait_for("Base URL of its OpenAI-compatible API")
    tmux.answer(upstream)
    tmux.wait_for("A name for it in ccroute")
    tmux.answer("")
    tmux.wait_for("Does it need an API key?")
    tmux.answer("y")
    tmux.wait_for("Paste your API key")
    tmux.answer(e2e.key)
    tmux.wait_for("Number or model id")
    tmux.answer("1")
    tmux.wait_for("Number or model id", count=2)
    tmux.answer("")
    tmux.wait_for("Number or model id", count=3)
    tmux.answer("")
    screen = tmux.wait_for("CCROUTE-EXIT:", timeout=90)

    assert "CCROUTE-EXIT:0" in screen, f"{screen}\n{e2e.report('ccroute code failed')}"
    assert e2e.key not in screen  # the key was typed hidden and never printed
    assert REPLY in screen
    assert "Stored the key for 'custom' in the OS keyring" in screen
    stored = json.loads(keyring_file.read_text())
    assert stored == {"ccroute\tcustom": e2e.key}
    assert len(e2e.fake.chat_requests) == 1, e2e.report("the routed request should arrive")
    request = e2e.fake.chat_requests[0]
    assert request.header("authorization") == f"Bearer {e2e.key}"
    assert request.json["model"] == "fake/model"
    config = (e2e.ccroute_home / "config" / "config.toml").read_text()
    assert 'default = "custom/fake/model"' in config
    assert e2e.key not in config


def test_code_statusline_shows_ccroutes_status_line_in_the_claude_code_tui(
    e2e: E2E, upstream: str, tmux: Tmux
) -> None:
    e2e.configure(upstream)
    (e2e.home / ".claude.json").write_text(
        json.dumps(
            {
                "hasCompletedOnboarding": True,
                "projects": {str(e2e.project): {"hasTrustDialogAccepted": True}},
            }
        )
    )
    env = e2e.env(TERM="xterm-256color")
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    argv = [sys.executable, "-m", "ccroute", "code", "--statusline"]
    script = e2e.root / "tui.sh"
    script.write_text(f"{exports}cd {shlex.quote(str(e2e.project))}\n{shlex.join(argv)}\n")
    tmux.start(script)
    # `ccroute statusline` names the route the model goes to: only it prints "→ openrouter/".
    screen = tmux.wait_for(f"→ openrouter/{MODEL}", timeout=60)
    assert "in /" in screen and "out" in screen
