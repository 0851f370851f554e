"""`ccroute env`: the exports that send plain `claude` to the daemon, quoted for each shell."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from ccroute import daemon, launcher
from ccroute.cli import env_cmd
from ccroute.cli.env_cmd import EnvShell, claude_variables, format_exports

runner = CliRunner()

EXPECTED_NAMES = [
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_API_KEY",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
]


def cli() -> typer.Typer:
    app = typer.Typer()
    env_cmd.register(app)

    @app.command()
    def _other() -> None:  # a second command keeps `env` a named subcommand
        """Unused."""

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stop_daemon() -> Iterator[None]:
    """Make sure no daemon outlives the test."""
    yield
    daemon.stop()


def test_variables_are_the_ones_ccroute_code_sets() -> None:
    variables = claude_variables("http://127.0.0.1:3456", "tok")
    assert list(variables) == EXPECTED_NAMES
    full = launcher.claude_env("http://127.0.0.1:3456", "tok", {"HOME": "/h"})
    assert {name: full[name] for name in variables} == variables
    assert variables["ANTHROPIC_API_KEY"] == ""
    assert variables["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"


AWKWARD = {"PLAIN": "abc", "EMPTY": "", "QUOTE": "it's $HOME `x` \\n"}


def test_sh_exports_survive_a_real_shell_unchanged() -> None:
    text = format_exports(AWKWARD, EnvShell.sh)
    assert text.splitlines()[0] == "export PLAIN=abc"
    assert text.splitlines()[1] == "export EMPTY=''"
    done = subprocess.run(
        ["sh", "-c", text + 'printf "%s|%s|%s" "$PLAIN" "$EMPTY" "$QUOTE"'],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert done.stdout == "abc||it's $HOME `x` \\n"


def test_fish_and_powershell_quoting() -> None:
    assert format_exports(AWKWARD, EnvShell.fish) == (
        "set -gx PLAIN 'abc'\nset -gx EMPTY ''\nset -gx QUOTE 'it\\'s $HOME `x` \\\\n'\n"
    )
    assert format_exports(AWKWARD, EnvShell.powershell) == (
        "$env:PLAIN = 'abc'\n$env:EMPTY = ''\n$env:QUOTE = 'it''s $HOME `x` \\n'\n"
    )


def test_env_starts_a_lasting_daemon_and_prints_its_url_and_token(
    stop_daemon: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("CCROUTE_PORT", str(port))
    result = runner.invoke(cli(), ["env"])
    assert result.exit_code == 0, result.output
    info = daemon.status()
    assert info.port == port
    assert not info.auto_started  # plain `claude` sessions are not recorded, so it must stay
    done = subprocess.run(
        [
            "sh",
            "-c",
            result.output + 'printf "%s\\n" "$ANTHROPIC_BASE_URL" "$ANTHROPIC_AUTH_TOKEN"'
            ' "${ANTHROPIC_API_KEY-unset}" "$CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"',
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert done.stdout.splitlines() == [info.url, daemon.read_token(), "", "1"]

    again = runner.invoke(cli(), ["env", "--shell", "fish"])
    assert again.exit_code == 0, again.output
    assert daemon.status().pid == info.pid  # reused, not restarted
    assert f"set -gx ANTHROPIC_BASE_URL '{info.url}'" in again.output.splitlines()


def test_unknown_shell_is_refused() -> None:
    result = runner.invoke(cli(), ["env", "--shell", "tcsh"])
    assert result.exit_code == 2
