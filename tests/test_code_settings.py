"""`ccroute code`'s `--settings` file: content, privacy, removal, conflict warnings, the status
line, and a user's own `--settings` (ccroute.code_settings and ccroute.cli.code_cmd)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ccroute import code_settings, daemon
from ccroute.cli import app
from ccroute.code_settings import (
    SettingsSource,
    build,
    conflicts,
    statusline_command,
    sweep,
    take_settings,
)
from ccroute.config import paths, set_value
from ccroute.daemon import DaemonInfo
from ccroute.errors import CcrouteError

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="POSIX script shebang and modes")
OWN = {
    "ANTHROPIC_BASE_URL": "http://127.0.0.1:4567",
    "ANTHROPIC_AUTH_TOKEN": "local-token",
    "ANTHROPIC_API_KEY": "",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "PATH": "/bin",
}


def make_script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# --- pure parts ----------------------------------------------------------------------------------


def test_build_puts_ccroute_variables_in_env_and_nothing_else_from_the_process() -> None:
    doc = build(OWN, [], None, own_headers=False, statusline=None)
    assert doc == {"env": {k: v for k, v in OWN.items() if k != "PATH"}}


def test_build_merges_a_users_own_settings_with_ccroute_winning_its_variables() -> None:
    user = SettingsSource(
        "--settings",
        {"env": {"ANTHROPIC_BASE_URL": "http://elsewhere", "FOO": "1"}, "model": "opus"},
    )
    doc = build(OWN, [], user, own_headers=False, statusline="ccroute statusline")
    assert doc["env"]["ANTHROPIC_BASE_URL"] == OWN["ANTHROPIC_BASE_URL"]
    assert doc["env"]["FOO"] == "1"
    assert doc["model"] == "opus"
    assert doc["statusLine"] == {"type": "command", "command": "ccroute statusline"}
    assert user.doc["env"]["ANTHROPIC_BASE_URL"] == "http://elsewhere"  # not mutated


def test_build_keeps_the_winning_settings_files_header_lines_before_ccroutes() -> None:
    env = dict(OWN, ANTHROPIC_CUSTOM_HEADERS="X-Ccroute-Profile: cheap")
    user_file = SettingsSource("u", {"env": {"ANTHROPIC_CUSTOM_HEADERS": "X-Old: 1"}})
    local = SettingsSource(
        "l", {"env": {"ANTHROPIC_CUSTOM_HEADERS": "X-Team: a\nX-Ccroute-Profile: stale"}}
    )
    doc = build(env, [user_file, local], None, own_headers=True, statusline=None)
    assert doc["env"]["ANTHROPIC_CUSTOM_HEADERS"] == "X-Team: a\nX-Ccroute-Profile: cheap"
    # Without ccroute headers this run, a settings file's own headers are left in force.
    doc = build(
        dict(OWN, ANTHROPIC_CUSTOM_HEADERS="X-Mine: 1"),
        [local],
        None,
        own_headers=False,
        statusline=None,
    )
    assert "ANTHROPIC_CUSTOM_HEADERS" not in doc["env"]


def test_conflicts_give_one_line_per_problem_naming_the_file_and_the_fix() -> None:
    sources = [
        SettingsSource("/h/.claude/settings.json", {"env": {"ANTHROPIC_BASE_URL": "x"}}),
        SettingsSource("/p/.claude/settings.json", {"apiKeyHelper": "echo k"}),
        SettingsSource("/p/.claude/settings.local.json", {"env": {"ANTHROPIC_MODEL": "m"}}),
        SettingsSource("/p/clean.json", {"env": {"OTHER": "1"}}),
        SettingsSource(
            "/etc/claude-code/managed-settings.json",
            {"env": {"ANTHROPIC_AUTH_TOKEN": "t"}},
            managed=True,
        ),
    ]
    lines = conflicts(sources, own_headers=False)
    assert len(lines) == 4
    assert lines[0].startswith("/h/.claude/settings.json sets ANTHROPIC_BASE_URL")
    assert "remove it" in lines[0]
    assert lines[1].startswith("/p/.claude/settings.json sets apiKeyHelper")
    assert lines[2].startswith("/p/.claude/settings.local.json sets ANTHROPIC_MODEL")
    assert lines[3].startswith("managed settings /etc/claude-code/managed-settings.json")
    assert "beats ccroute's --settings" in lines[3]
    assert all("\n" not in line for line in lines)


def test_take_settings_reads_the_last_of_a_file_or_inline_json(tmp_path: Path) -> None:
    (tmp_path / "mine.json").write_text('{"model": "sonnet"}')
    found, rest = take_settings(
        ["-p", "hi", "--settings", '{"x": 1}', "--settings=mine.json", "--verbose"], tmp_path
    )
    assert rest == ["-p", "hi", "--verbose"]
    assert found is not None and found.doc == {"model": "sonnet"}
    assert take_settings(["-p", "hi"], tmp_path) == (None, ["-p", "hi"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--settings"], "needs a file or a JSON object"),
        (["--settings", "missing.json"], "cannot read it"),
        (["--settings", "{not json"], "not valid JSON"),
        (["--settings", "list.json"], "must be a JSON object"),
    ],
)
def test_take_settings_refuses_what_claude_code_would_refuse(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(CcrouteError, match=message):
        take_settings(args, tmp_path)


def test_statusline_command_runs_this_python_without_path() -> None:
    command = statusline_command("/opt/my python/bin/python3")
    if sys.platform == "win32":
        assert command == '"/opt/my python/bin/python3" -m ccroute statusline'
    else:
        assert command == "'/opt/my python/bin/python3' -m ccroute statusline"
    done = subprocess.run(  # the real command answers a status JSON on stdin
        statusline_command(),
        shell=True,
        input='{"model": {"id": "claude-x"}}',
        capture_output=True,
        text=True,
        env=dict(os.environ, NO_COLOR="1"),
        check=False,
    )
    assert done.returncode == 0
    assert "claude-x" in done.stdout


@POSIX_ONLY
def test_settings_file_is_private_and_removed_and_stale_ones_swept(tmp_path: Path) -> None:
    folder = tmp_path / "state" / code_settings.SETTINGS_DIR
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = folder / f"code-{dead.pid}-abc.json"
    stale.write_text("{}")
    mine = folder / f"code-{os.getpid()}-keep.json"
    mine.write_text("{}")
    with code_settings.settings_file(
        {"env": {"ANTHROPIC_AUTH_TOKEN": "t"}}, tmp_path / "state"
    ) as path:
        assert json.loads(path.read_text()) == {"env": {"ANTHROPIC_AUTH_TOKEN": "t"}}
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert not stale.exists()
        assert mine.exists()  # this process is alive
    assert not path.exists()
    assert sweep(folder) == []


# --- ccroute code end to end through the CLI, with a fake claude --------------------------------


@pytest.fixture
def launch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fake `claude` that records its argv, env and the --settings file; a fake daemon."""
    home = tmp_path / "home"
    project = tmp_path / "project"
    (home / ".claude").mkdir(parents=True)
    (project / ".claude").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.chdir(project)
    out = tmp_path / "seen.json"
    script = make_script(
        tmp_path / "claude",
        "import json, os, stat, sys\n"
        "args = sys.argv[1:]\n"
        "path = args[1] if args[:1] == ['--settings'] else None\n"
        "doc = json.load(open(path)) if path else None\n"
        "mode = stat.S_IMODE(os.stat(path).st_mode) if path else None\n"
        f"json.dump({{'argv': args, 'doc': doc, 'mode': mode, 'path': path, "
        f"'env_url': os.environ.get('ANTHROPIC_BASE_URL')}}, open({str(out)!r}, 'w'))\n",
    )
    monkeypatch.setenv("CCROUTE_CLAUDE_BIN", str(script))
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-key-0000")
    monkeypatch.setattr(
        daemon,
        "ensure_running",
        lambda config, p=None: DaemonInfo(1, "127.0.0.1", 4567, "0", 0.0, auto_started=True),
    )
    monkeypatch.setattr(
        code_settings, "managed_settings_files", lambda: [tmp_path / "managed.json"]
    )
    daemon.read_token(create=True)
    return {"home": home, "project": project, "out": out, "managed": tmp_path / "managed.json"}


def _seen(launch: dict[str, Any]) -> dict[str, Any]:
    return json.loads(launch["out"].read_text())  # type: ignore[no-any-return]


@POSIX_ONLY
def test_code_passes_a_private_settings_file_with_ccroutes_env_and_removes_it(
    launch: dict[str, Any],
) -> None:
    result = CliRunner().invoke(app, ["code", "-p", "hi"])
    assert result.exit_code == 0, result.output
    seen = _seen(launch)
    assert seen["argv"][2:] == ["-p", "hi"]
    env = seen["doc"]["env"]
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4567" == seen["env_url"]
    assert env["ANTHROPIC_AUTH_TOKEN"] == daemon.read_token()
    assert env["ANTHROPIC_API_KEY"] == ""
    assert "statusLine" not in seen["doc"]
    assert seen["mode"] == 0o600
    assert Path(seen["path"]).parent == paths().state_dir / code_settings.SETTINGS_DIR
    assert not Path(seen["path"]).exists()
    assert "warning" not in result.output


@POSIX_ONLY
@pytest.mark.parametrize("where", ["user", "project", "local", "managed"])
def test_code_warns_once_per_settings_file_that_overrides_ccroute(
    launch: dict[str, Any], where: str
) -> None:
    target = {
        "user": launch["home"] / ".claude" / "settings.json",
        "project": launch["project"] / ".claude" / "settings.json",
        "local": launch["project"] / ".claude" / "settings.local.json",
        "managed": launch["managed"],
    }[where]
    target.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "http://wrong.invalid"}}))
    result = CliRunner().invoke(app, ["code", "-p", "hi"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert str(target) in warnings[0] and "ANTHROPIC_BASE_URL" in warnings[0]
    if where == "managed":
        assert "administrator" in warnings[0]
    else:
        assert "remove it" in warnings[0]
    # ccroute's value is what Claude Code is given, whatever the file says.
    assert _seen(launch)["doc"]["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4567"


@POSIX_ONLY
def test_code_statusline_flag_and_config_key_install_ccroutes_status_line(
    launch: dict[str, Any],
) -> None:
    result = CliRunner().invoke(app, ["code", "--statusline", "-p", "hi"])
    assert result.exit_code == 0, result.output
    seen = _seen(launch)
    assert "--statusline" not in seen["argv"]
    line = seen["doc"]["statusLine"]
    assert line["type"] == "command"
    assert sys.executable in line["command"] and line["command"].endswith("-m ccroute statusline")
    set_value("code.statusline", "true")
    assert CliRunner().invoke(app, ["code", "-p", "hi"]).exit_code == 0
    assert _seen(launch)["doc"]["statusLine"] == line


@POSIX_ONLY
def test_code_never_replaces_the_users_own_status_line(launch: dict[str, Any]) -> None:
    user = launch["home"] / ".claude" / "settings.json"
    user.write_text(json.dumps({"statusLine": {"type": "command", "command": "mine.sh"}}))
    result = CliRunner().invoke(app, ["code", "--statusline", "-p", "hi"])
    assert result.exit_code == 0, result.output
    assert "statusLine" not in _seen(launch)["doc"]
    assert f"{user} has its own statusLine" in result.output


@POSIX_ONLY
def test_code_merges_a_user_passed_settings_file(launch: dict[str, Any]) -> None:
    mine = launch["project"] / "mine.json"
    mine.write_text(
        json.dumps({"env": {"ANTHROPIC_AUTH_TOKEN": "theirs", "FOO": "bar"}, "model": "opus"})
    )
    result = CliRunner().invoke(app, ["code", "--settings", "mine.json", "-p", "hi"])
    assert result.exit_code == 0, result.output
    seen = _seen(launch)
    assert seen["argv"].count("--settings") == 1
    assert seen["argv"][2:] == ["-p", "hi"]
    assert seen["doc"]["model"] == "opus"
    assert seen["doc"]["env"]["FOO"] == "bar"
    assert seen["doc"]["env"]["ANTHROPIC_AUTH_TOKEN"] == daemon.read_token()
    assert "--settings" in result.output and "ANTHROPIC_AUTH_TOKEN" in result.output  # warned
    bad = CliRunner().invoke(app, ["code", "--settings", "nope.json", "-p", "hi"])
    assert bad.exit_code != 0
    assert "--settings nope.json: cannot read it" in bad.output


def test_user_settings_follow_claude_config_dir(tmp_path: Path) -> None:
    files = code_settings.user_settings_files(tmp_path / "home", tmp_path / "proj", {})
    assert files[0] == tmp_path / "home" / ".claude" / "settings.json"
    assert files[1:] == [
        tmp_path / "proj" / ".claude" / "settings.json",
        tmp_path / "proj" / ".claude" / "settings.local.json",
    ]
    moved = code_settings.user_settings_files(
        tmp_path / "home", tmp_path / "proj", {"CLAUDE_CONFIG_DIR": str(tmp_path / "cfg")}
    )
    assert moved[0] == tmp_path / "cfg" / "settings.json"
