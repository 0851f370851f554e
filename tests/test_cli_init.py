"""The first-run wizard (`ccroute init`, and `ccroute code` with no usable provider), driven with
CliRunner input against a fake OpenAI-compatible upstream on loopback (ccroute.cli.init_cmd,
ccroute.firstrun)."""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
import typer
from keyring.backends import null
from typer.testing import CliRunner

from ccroute import daemon, firstrun
from ccroute.catalogue.model import ModelInfo
from ccroute.cli import app as root_app
from ccroute.cli import init_cmd
from ccroute.config import load_config, paths
from ccroute.daemon import DaemonInfo
from tests.conftest import MemoryKeyring
from tests.fakes.openai_upstream import FakeOpenAI

KEY = "sk-custom-test-key-0123456789"
MODELS = ("vendor/alpha", "vendor/beta", "vendor/cheap")


def init_app() -> typer.Typer:
    from ccroute.cli import _CcrouteGroup  # the root's CcrouteError → message + exit code

    root = typer.Typer(cls=_CcrouteGroup)
    root.add_typer(init_cmd.app, name="init")

    @root.command("noop")
    def _noop() -> None:  # a second command keeps `init` a named subcommand
        pass

    return root


@pytest.fixture
def interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(init_cmd, "is_interactive", lambda: True)


@pytest.fixture
def fake() -> Iterator[tuple[FakeOpenAI, str]]:
    upstream = FakeOpenAI(api_key=KEY, models=MODELS)
    with upstream.serve_in_thread() as base_url:
        yield upstream, base_url


def answers(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def file_doc() -> dict[str, Any]:
    return tomllib.loads(paths().config_file.read_text())


def test_wizard_other_server_stores_key_and_writes_chosen_models(
    interactive: None, fake: tuple[FakeOpenAI, str], memory_keyring: MemoryKeyring
) -> None:
    upstream, base_url = fake
    result = CliRunner().invoke(
        init_app(),
        ["init"],
        input=answers("other", base_url, "", "y", "wrong-key-0000000000", KEY, "1", "", "beta"),
    )
    assert result.exit_code == 0, result.output
    assert "rejected this key" in result.output  # the wrong key was refused, then asked again
    assert KEY not in result.output and "wrong-key" not in result.output
    doc = file_doc()
    assert doc["providers"]["custom"] == {
        "wire": "openai",
        "base_url": base_url,
        "api_key_env": "CUSTOM_API_KEY",
    }
    assert doc["router"]["default"] == "custom/vendor/alpha"
    assert doc["router"]["think"] == "custom/vendor/beta"  # "beta" matched one listed id
    assert "background" not in doc["router"]  # "same" (the default answer) leaves it unset
    assert memory_keyring.get_password("ccroute", "custom") == KEY
    assert "Next: run 'ccroute code'" in result.output
    listed = [r for r in upstream.requests if r.path.endswith("/models")]
    assert listed and all(r.header("Authorization") == f"Bearer {KEY}" for r in listed[-1:])


def test_wizard_local_preset_takes_a_url_and_a_typed_model(
    interactive: None, memory_keyring: MemoryKeyring
) -> None:
    upstream = FakeOpenAI(models=MODELS)
    with upstream.serve_in_thread() as base_url:
        result = CliRunner().invoke(
            init_app(),
            ["init"],
            input=answers("ollama", base_url, "qwen3-coder", "vendor/cheap", "same"),
        )
    assert result.exit_code == 0, result.output
    doc = file_doc()
    assert doc["providers"]["ollama"]["base_url"] == base_url
    assert "api_key_env" not in doc["providers"]["ollama"]
    assert doc["router"]["default"] == "ollama/qwen3-coder"
    assert doc["router"]["background"] == "ollama/vendor/cheap"
    assert "not in the provider's list; using it as typed" in result.output
    assert "Paste" not in result.output  # a local server is never asked for a key
    assert memory_keyring.get_password("ccroute", "ollama") is None


def test_wizard_falls_back_to_typing_when_the_list_cannot_be_fetched(interactive: None) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    result = CliRunner().invoke(
        init_app(), ["init"], input=answers("other", dead, "box", "n", "my/model", "", "")
    )
    assert result.exit_code == 0, result.output
    assert "type model ids instead" in result.output
    doc = file_doc()
    assert doc["providers"]["box"] == {"wire": "openai", "base_url": dead}
    assert doc["router"] == {"default": "box/my/model"}


def test_wizard_preset_number_uses_the_key_already_in_the_environment(
    interactive: None, fake: tuple[FakeOpenAI, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setattr(init_cmd, "_fetch_models", lambda console, provider, key: None)
    result = CliRunner().invoke(
        init_app(), ["init"], input=answers("1", "", "deepseek/deepseek-r1", "")
    )
    assert result.exit_code == 0, result.output
    assert "Using the key in $OPENROUTER_API_KEY" in result.output
    doc = file_doc()
    assert doc["router"]["default"] == "openrouter/anthropic/claude-sonnet-4.5"  # the suggestion
    assert doc["router"]["background"] == "openrouter/deepseek/deepseek-r1"


def test_wizard_without_a_keyring_prints_the_export_line_and_not_the_key(
    interactive: None, fake: tuple[FakeOpenAI, str]
) -> None:
    _, base_url = fake
    keyring.set_keyring(null.Keyring())
    result = CliRunner().invoke(
        init_app(), ["init"], input=answers("other", base_url, "", "y", KEY, "2", "", "")
    )
    assert result.exit_code == 0, result.output
    assert "export CUSTOM_API_KEY=<your key>" in result.output
    assert "Before 'ccroute code', export CUSTOM_API_KEY" in result.output
    assert KEY not in result.output
    assert KEY not in paths().config_file.read_text()
    assert file_doc()["router"]["default"] == "custom/vendor/beta"


@pytest.mark.parametrize("stop_after", [0, 2, 5])
def test_eof_at_any_question_leaves_config_and_keyring_untouched(
    interactive: None,
    fake: tuple[FakeOpenAI, str],
    memory_keyring: MemoryKeyring,
    stop_after: int,
) -> None:
    _, base_url = fake
    paths().config_file.parent.mkdir(parents=True, exist_ok=True)
    before = b"[server]\nport = 4000\n# my comment\n"
    paths().config_file.write_bytes(before)
    lines = ["other", base_url, "", "y", KEY, "1", "", ""][:stop_after]
    result = CliRunner().invoke(init_app(), ["init"], input=answers(*lines) if lines else "")
    assert result.exit_code == 1, result.output
    assert "Set-up cancelled; nothing was written." in result.output
    assert paths().config_file.read_bytes() == before
    assert memory_keyring.get_password("ccroute", "custom") is None


def test_init_without_a_terminal_fails_with_the_exact_commands() -> None:
    result = CliRunner().invoke(init_app(), ["init"], input="1\n")
    assert result.exit_code == 2
    assert "needs a terminal" in result.output
    for command in (
        "ccroute providers add openrouter",
        "ccroute keys set openrouter",
        "export OPENROUTER_API_KEY=<your key>",
        "ccroute config set router.default openrouter/anthropic/claude-sonnet-4.5",
    ):
        assert command in result.output
    assert not paths().config_file.exists()


def test_the_commands_it_prints_are_real_commands() -> None:
    steps = firstrun.manual_steps(load_config(), config_exists=False)
    providers = CliRunner().invoke(root_app, ["providers", "add", steps[0].split()[-1]])
    assert providers.exit_code == 0, providers.output
    keys = CliRunner().invoke(root_app, ["keys", "set", "openrouter", "--stdin"], input=KEY)
    assert keys.exit_code == 0, keys.output
    ref = steps[2].split()[-1]
    routed = CliRunner().invoke(root_app, ["config", "set", "router.default", ref])
    assert routed.exit_code == 0, routed.output
    assert firstrun.manual_steps(load_config(), config_exists=True) == [
        "ccroute keys set openrouter    (or: export OPENROUTER_API_KEY=<your key>)"
    ]


def test_is_interactive_needs_two_terminals_and_no_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert init_cmd.is_interactive()
    monkeypatch.setenv("CI", "true")
    assert not init_cmd.is_interactive()
    monkeypatch.setenv("CI", "")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert not init_cmd.is_interactive()


# --- firstrun's decisions ------------------------------------------------------------------------


def test_setup_reason_is_cheap_first_and_names_what_is_missing(
    memory_keyring: MemoryKeyring,
) -> None:
    config = load_config()
    asked: list[str] = []

    def stored(provider: Any) -> bool:
        asked.append(provider.name)
        return False

    def reason(env: dict[str, str], running: bool = False) -> str | None:
        return firstrun.setup_reason(
            config,
            config_exists=False,
            environ=env,
            daemon_running=lambda: running,
            stored_key=stored,
        )

    assert reason({"OPENROUTER_API_KEY": "k"}) is None
    assert asked == []  # an environment key settles it without the keyring
    assert reason({}, running=True) is None
    assert asked == []
    found = reason({})
    assert found is not None and "does not exist" in found and str(config.source) in found
    assert asked == ["openrouter"]


def test_shortlist_drops_models_without_tools_and_orders_by_role() -> None:
    def m(model_id: str, **kw: Any) -> ModelInfo:
        return ModelInfo("p", model_id, **kw)

    models = [
        m("old", supports_tools=True, created=1, input_price=5.0),
        m("new", supports_tools=True, created=9, input_price=9.0),
        m("notools", supports_tools=False, created=10),
        m("unknown", created=20, input_price=0.1),
        m("thinker", supports_tools=True, supports_reasoning=True, created=2, input_price=3.0),
    ]
    assert [x.id for x in firstrun.shortlist(models, "default")] == [
        "new",
        "thinker",
        "old",
        "unknown",
    ]
    assert [x.id for x in firstrun.shortlist(models, "background")][:2] == ["thinker", "old"]
    assert firstrun.shortlist(models, "think")[0].id == "thinker"
    assert len(firstrun.shortlist(models, "default", limit=2)) == 2


# --- ccroute code runs the wizard, then Claude Code ----------------------------------------------


def make_script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def fake_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "claude-saw.json"
    script = make_script(
        tmp_path / "claude",
        "import json, os, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'env': dict(os.environ)}}, open({str(out)!r}, 'w'))\n",
    )
    monkeypatch.setenv("CCROUTE_CLAUDE_BIN", str(script))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    daemon.read_token(create=True)
    return out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX script shebang")
def test_code_without_a_terminal_refuses_with_the_commands_and_starts_nothing(
    fake_claude: Path,
) -> None:
    result = CliRunner().invoke(root_app, ["code", "-p", "hi"])
    assert result.exit_code == 2
    assert "ccroute is not set up yet" in result.output
    assert "ccroute providers add openrouter" in result.output
    assert not fake_claude.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX script shebang")
def test_code_runs_the_wizard_then_claude_with_a_keyless_session_key_only_in_the_daemon(
    interactive: None,
    fake: tuple[FakeOpenAI, str],
    fake_claude: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, base_url = fake
    keyring.set_keyring(null.Keyring())
    daemon_env: list[str | None] = []

    def ensure_running(config: Any, p: Any = None) -> DaemonInfo:
        daemon_env.append(os.environ.get("CUSTOM_API_KEY"))
        assert config.router.default == "custom/vendor/alpha"
        return DaemonInfo(1, "127.0.0.1", 4567, "0", 0.0, auto_started=True)

    monkeypatch.setattr(daemon, "ensure_running", ensure_running)
    result = CliRunner().invoke(
        root_app,
        ["code", "-p", "hi"],
        input=answers("other", base_url, "", "y", KEY, "1", "", ""),
    )
    assert result.exit_code == 0, result.output
    assert "Starting Claude Code" in result.output
    assert daemon_env == [KEY]  # the daemon started now got the key...
    assert "CUSTOM_API_KEY" not in os.environ  # ...and this process no longer has it
    saw = json.loads(fake_claude.read_text())
    assert saw["argv"][0] == "--settings" and saw["argv"][2:] == ["-p", "hi"]
    assert "CUSTOM_API_KEY" not in saw["env"]  # never handed to Claude Code or its tools


def test_rerunning_keeps_other_settings_and_drops_a_route_left_to_the_default(
    interactive: None, fake: tuple[FakeOpenAI, str]
) -> None:
    _, base_url = fake
    paths().config_file.parent.mkdir(parents=True, exist_ok=True)
    paths().config_file.write_text(
        '[server]\nport = 4000\n[router]\ndefault = "openrouter/a/b"\nthink = "openrouter/c/d"\n'
    )
    result = CliRunner().invoke(
        init_app(), ["init"], input=answers("other", base_url, "", "y", KEY, "1", "", "")
    )
    assert result.exit_code == 0, result.output
    doc = file_doc()
    assert doc["server"] == {"port": 4000}
    assert doc["router"] == {"default": "custom/vendor/alpha"}
    assert "Your other providers and settings were kept." in result.output
