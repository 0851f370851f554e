"""Finding and launching `claude` with ccroute's environment."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from ccroute.config import set_value
from ccroute.errors import CcrouteError, ClaudeNotFoundError
from ccroute.launcher import (
    CUSTOM_HEADERS_ENV,
    PROJECT_FILE,
    claude_env,
    find_claude,
    find_project_file,
    routing_headers,
    run_claude,
    take_profile,
)


def make_script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_claude_env_points_at_daemon_and_blanks_real_api_key() -> None:
    env = claude_env(
        "http://127.0.0.1:3456", "tok", {"ANTHROPIC_API_KEY": "sk-ant-real", "PATH": "/bin"}
    )
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:3456"
    assert env["ANTHROPIC_AUTH_TOKEN"] == "tok"
    assert env["ANTHROPIC_API_KEY"] == ""
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert env["PATH"] == "/bin"


def test_missing_claude_error_gives_npm_install_command(tmp_path: Path) -> None:
    with pytest.raises(ClaudeNotFoundError) as info:
        find_claude({"PATH": str(tmp_path)})
    assert "npm install -g @anthropic-ai/claude-code" in info.value.message
    assert info.value.exit_code == 127


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX script shebang")
def test_ccroute_claude_bin_overrides_path(tmp_path: Path) -> None:
    script = make_script(tmp_path / "my-claude", "print('hi')")
    assert find_claude({"CCROUTE_CLAUDE_BIN": str(script), "PATH": ""}) == str(script)


def test_ccroute_claude_bin_pointing_nowhere_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ClaudeNotFoundError) as info:
        find_claude({"CCROUTE_CLAUDE_BIN": str(tmp_path / "missing"), "PATH": ""})
    assert "CCROUTE_CLAUDE_BIN" in info.value.message


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX script shebang")
def test_run_claude_passes_args_verbatim_and_returns_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "argv.txt"
    script = make_script(
        tmp_path / "claude",
        "import os, sys\n"
        f"open({str(out)!r}, 'w').write('\\n'.join(sys.argv[1:]) + '|' + "
        "os.environ['ANTHROPIC_AUTH_TOKEN'])\n"
        "sys.exit(7)",
    )
    args = ["-p", "say hi", "--output-format", "json", "--help"]
    env = claude_env("http://127.0.0.1:1", "tok", os.environ)
    assert run_claude(str(script), args, env) == 7
    assert out.read_text() == "\n".join(args) + "|tok"


# --- profiles, project files, sessions (`ccroute code`) ---------------------------------------


def test_take_profile_consumes_only_ccroutes_flag() -> None:
    assert take_profile(["--profile", "cheap", "-p", "hi"]) == ("cheap", ["-p", "hi"])
    assert take_profile(["-p", "hi", "--profile=fast"]) == ("fast", ["-p", "hi"])
    assert take_profile(["-p", "--profile x is a prompt"]) == (
        None,
        ["-p", "--profile x is a prompt"],
    )
    assert take_profile(["--profile", "a", "--profile", "b"]) == ("a", ["--profile", "b"])


@pytest.mark.parametrize("args", [["--profile"], ["--profile="], ["--profile", " "]])
def test_take_profile_without_a_name_is_an_error(args: list[str]) -> None:
    with pytest.raises(CcrouteError) as info:
        take_profile(args)
    assert "--profile" in info.value.message


def test_find_project_file_walks_up_to_the_nearest(tmp_path: Path) -> None:
    outer = tmp_path / PROJECT_FILE
    outer.write_text("[router]\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project_file(deep) == outer.resolve()
    inner = tmp_path / "a" / PROJECT_FILE
    inner.write_text("[router]\n")
    assert find_project_file(deep) == inner.resolve()
    assert find_project_file(deep).is_absolute()  # type: ignore[union-attr]


def test_find_project_file_none_when_absent(tmp_path: Path) -> None:
    assert find_project_file(tmp_path) is None


def test_claude_env_adds_routing_headers_after_the_users_own() -> None:
    headers = routing_headers("cheap", Path("/work/p/.ccroute.toml"))
    env = claude_env(
        "http://127.0.0.1:1",
        "tok",
        {CUSTOM_HEADERS_ENV: "X-Team: infra\nX-Ccroute-Profile: stale"},
        headers,
    )
    assert env[CUSTOM_HEADERS_ENV].splitlines() == [
        "X-Team: infra",
        "X-Ccroute-Profile: cheap",
        "X-Ccroute-Project: /work/p/.ccroute.toml",
    ]
    assert CUSTOM_HEADERS_ENV not in claude_env("http://127.0.0.1:1", "tok", {}, {})


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX script shebang")
def test_run_claude_reports_the_child_pid(tmp_path: Path) -> None:
    out = tmp_path / "pid.txt"
    script = make_script(
        tmp_path / "claude", f"import os\nopen({str(out)!r}, 'w').write(str(os.getpid()))"
    )
    seen: list[int] = []
    assert run_claude(str(script), [], dict(os.environ), on_start=seen.append) == 0
    assert seen == [int(out.read_text())]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX script shebang")
def test_ccroute_code_records_its_session_sends_headers_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from ccroute import daemon, sessions
    from ccroute.cli import app
    from ccroute.daemon import DaemonInfo

    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / PROJECT_FILE).write_text("[router]\n")
    monkeypatch.chdir(project / "src")
    out = tmp_path / "seen.json"
    script = make_script(
        tmp_path / "claude",
        "import json, os, sys\n"
        f"folder = {str(sessions.sessions_dir())!r}\n"
        "files = {n: json.load(open(os.path.join(folder, n))) for n in os.listdir(folder)}\n"
        f"json.dump({{'argv': sys.argv[1:], 'pid': os.getpid(), 'files': files, "
        f"'headers': os.environ.get('ANTHROPIC_CUSTOM_HEADERS')}}, open({str(out)!r}, 'w'))\n",
    )
    monkeypatch.setenv("CCROUTE_CLAUDE_BIN", str(script))
    started: list[bool] = []

    def fake_ensure_running(config: object, p: object = None) -> DaemonInfo:
        # The session must be on record before a daemon that would watch it starts.
        started.append(bool(sessions.live_sessions()))
        return DaemonInfo(1, "127.0.0.1", 1, "0", 0.0, auto_started=True)

    monkeypatch.setattr(daemon, "ensure_running", fake_ensure_running)
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-key-0000")  # set up: no wizard
    daemon.read_token(create=True)
    result = CliRunner().invoke(app, ["code", "-p", "hi", "--profile", "cheap"])
    # An unknown profile is refused before anything starts.
    assert result.exit_code == 2
    assert "no profile 'cheap'" in result.output
    assert started == []
    set_value("profiles.cheap.router.default", "openrouter/cheap/model")
    result = CliRunner().invoke(app, ["code", "-p", "hi", "--profile", "cheap"])
    expected_headers = f"X-Ccroute-Profile: cheap\nX-Ccroute-Project: {project / PROJECT_FILE}"
    assert result.exit_code == 0, result.output
    assert started == [True]
    seen = json.loads(out.read_text())
    assert seen["argv"][0] == "--settings" and seen["argv"][2:] == ["-p", "hi"]
    assert seen["headers"] == expected_headers
    (record,) = seen["files"].values()
    assert record["pid"] == os.getpid()
    assert record["claude_pid"] == seen["pid"]
    assert list(sessions.sessions_dir().iterdir()) == []  # forgotten after claude exited
