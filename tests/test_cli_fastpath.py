"""The entry point runs `status`, `statusline` (and hands everything else to Typer) without
importing Typer, rich or aiohttp, and with the same output and exit codes as the Typer app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccroute.cli import app
from ccroute.cli.fastpath import run_fast

REPO = Path(__file__).resolve().parents[1]

_PROBE = """
import sys
from ccroute.cli import fastpath
code = fastpath.run_fast(sys.argv[1:])
heavy = sorted(m for m in ("typer", "click", "rich", "aiohttp", "pydantic") if m in sys.modules)
print("RESULT", code, ",".join(heavy), file=sys.stderr)
"""


def _fresh(args: list[str], stdin: str = "", **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **extra_env}
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "stdin"),
    [(["status"], ""), (["status", "--json"], ""), (["statusline"], '{"model":{"id":"m"}}')],
)
def test_hot_commands_load_no_framework(args: list[str], stdin: str) -> None:
    result = _fresh(args, stdin)
    line = next(x for x in result.stderr.splitlines() if x.startswith("RESULT"))
    _, code, heavy = line.split(" ")
    assert heavy == "", f"{args} imported {heavy}"
    assert code in ("0", "3")


def test_code_runs_on_the_fast_path(tmp_path: Path) -> None:
    # With no `claude` to run, `ccroute code` stops at its first check: exit 127, no Typer.
    missing = str(tmp_path / "no-such-claude")
    result = _fresh(["code", "-p", "hi"], CCROUTE_CLAUDE_BIN=missing)
    line = next(x for x in result.stderr.splitlines() if x.startswith("RESULT"))
    assert line == "RESULT 127 "
    assert f"error: CCROUTE_CLAUDE_BIN is set to {missing!r}" in result.stderr


def test_status_when_stopped_matches_the_typer_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_fast(["status", "--json"]) == 3
    fast = json.loads(capsys.readouterr().out)
    typed = CliRunner().invoke(app, ["status", "--json"])
    assert typed.exit_code == 3
    assert json.loads(typed.output) == fast
    assert fast == {"running": False, "config_file": fast["config_file"]}
    assert run_fast(["status"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "ccroute start" in err


def test_other_command_lines_go_to_typer() -> None:
    for args in (["status", "--help"], ["status", "--json", "x"], ["stop"], [], ["--version"]):
        assert run_fast(args) is None, args


def test_statusline_prints_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"cost": {"total_cost_usd": 0.5}}'))
    assert run_fast(["statusline"]) == 0
    assert capsys.readouterr().out == "$0.50\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--log-file", "/tmp/d.log"], ("/tmp/d.log", None, False)),
        (["--log-file", "d.log", "--port", "4000", "--auto-started"], ("d.log", 4000, True)),
        ([], (None, None, False)),
    ],
)
def test_serve_as_the_daemon_spawns_it_is_recognised(
    args: list[str], expected: tuple[str | None, int | None, bool]
) -> None:
    from ccroute.cli.fastpath import _serve_options

    assert _serve_options(args) == expected


@pytest.mark.parametrize(
    "args",
    [["--port", "x"], ["--port", "0"], ["--log-file"], ["--help"], ["--port", "1", "--port", "2"]],
)
def test_other_serve_lines_go_to_typer(args: list[str]) -> None:
    assert run_fast(["serve", *args]) is None


def test_start_lines_recognised_and_others_left_to_typer() -> None:
    from ccroute.cli.fastpath import _start_options

    assert _start_options([]) == (None, False)
    assert _start_options(["--port", "4001", "--json"]) == (4001, True)
    for args in (["--port"], ["--port", "99999"], ["--help"], ["--json", "--json"]):
        assert _start_options(args) is None, args


def test_shell_completion_is_never_taken_by_the_fast_path() -> None:
    # Completion scripts call back into ccroute with _CCROUTE_COMPLETE set; a shell may pass the
    # words as arguments too. Typer must answer, not `status` itself.
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "_CCROUTE_COMPLETE": "complete_bash",
        "COMP_WORDS": "ccroute status --",
        "COMP_CWORD": "2",
    }
    # The console script: click names the completion variable after the program ("ccroute").
    script = Path(sys.executable).parent / ("ccroute.exe" if sys.platform == "win32" else "ccroute")
    result = subprocess.run(
        [str(script), "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--json" in result.stdout.split()
    assert "not running" not in result.stdout + result.stderr
