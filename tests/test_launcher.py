"""Finding and launching `claude` with ccroute's environment."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from ccroute.errors import ClaudeNotFoundError
from ccroute.launcher import claude_env, find_claude, run_claude


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
