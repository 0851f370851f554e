"""`ccroute completions`: the shipped scripts are current, they work in bash, and `install`
writes them where each shell looks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ccroute.cli import completions_cmd
from ccroute.cli.completions_cmd import REPO_FILE_NAMES, Shell, completion_script

REPO_COMPLETIONS = Path(__file__).resolve().parent.parent / "completions"

runner = CliRunner()


def cli() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(completions_cmd.app, name="completions")
    return app


@pytest.mark.parametrize("shell", list(Shell))
def test_shipped_script_matches_the_current_cli(shell: Shell) -> None:
    shipped = (REPO_COMPLETIONS / REPO_FILE_NAMES[shell]).read_text(encoding="utf-8")
    assert completion_script(shell) == shipped, (
        f"completions/{REPO_FILE_NAMES[shell]} is stale; regenerate it (completions/README.md)"
    )


def test_scripts_call_back_into_ccroute_with_its_completion_variable() -> None:
    assert "_CCROUTE_COMPLETE=complete_bash" in completion_script(Shell.bash)
    assert "complete -o default -F _ccroute_completion ccroute" in completion_script(Shell.bash)
    assert completion_script(Shell.zsh).startswith("#compdef ccroute\n")
    assert "_CCROUTE_COMPLETE=complete_zsh" in completion_script(Shell.zsh)
    assert "complete --command ccroute" in completion_script(Shell.fish)
    assert "_CCROUTE_COMPLETE=complete_fish" in completion_script(Shell.fish)


@pytest.mark.parametrize("shell", list(Shell))
def test_named_shell_prints_its_script(shell: Shell) -> None:
    result = runner.invoke(cli(), ["completions", shell.value])
    assert result.exit_code == 0, result.output
    assert result.output == completion_script(shell)


def test_without_a_shell_the_one_in_SHELL_is_used() -> None:
    result = runner.invoke(cli(), ["completions"], env={"SHELL": "/usr/bin/zsh"})
    assert result.exit_code == 0, result.output
    assert result.output == completion_script(Shell.zsh)


def test_unknown_SHELL_asks_for_a_name() -> None:
    result = runner.invoke(cli(), ["completions"], env={"SHELL": "/bin/tcsh"})
    assert result.exit_code == 2
    assert "bash, zsh or fish" in result.output


def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return home


@pytest.mark.parametrize(
    ("shell", "relative"),
    [
        (Shell.bash, ".local/share/bash-completion/completions/ccroute"),
        (Shell.zsh, ".zfunc/_ccroute"),
        (Shell.fish, ".config/fish/completions/ccroute.fish"),
    ],
)
def test_install_writes_the_script_to_the_standard_place(
    shell: Shell, relative: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _home(tmp_path, monkeypatch)
    result = runner.invoke(cli(), ["completions", "install", shell.value])
    assert result.exit_code == 0, result.output
    target = home / relative
    assert target.read_text(encoding="utf-8") == completion_script(shell)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert str(target) in result.output
    assert ("fpath=(~/.zfunc $fpath)" in result.output) == (shell is Shell.zsh)
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary left


def test_install_follows_xdg_directories_and_replaces_an_old_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _home(tmp_path, monkeypatch)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    target = tmp_path / "xdg-config" / "fish" / "completions" / "ccroute.fish"
    target.parent.mkdir(parents=True)
    target.write_text("old\n")
    result = runner.invoke(cli(), ["completions", "install"], env={"SHELL": "/usr/bin/fish"})
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == completion_script(Shell.fish)


def test_bash_script_completes_ccroute_commands(tmp_path: Path) -> None:
    # A `ccroute` on PATH that is the real root app with the completions group registered.
    program = (
        "import typer; from ccroute.cli import app, completions_cmd; "
        "names = [g.name for g in app.registered_groups]; "
        "'completions' in names or app.add_typer(completions_cmd.app, name='completions'); "
        "app(prog_name='ccroute')"
    )
    wrapper = tmp_path / "bin" / "ccroute"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -c "{program}" "$@"\n')
    wrapper.chmod(0o755)
    script = REPO_COMPLETIONS / "ccroute.bash"
    probe = (
        f"source {script}; "
        "COMP_WORDS=(ccroute co); COMP_CWORD=1; _ccroute_completion ccroute; "
        'echo "${COMPREPLY[*]}"; '
        'COMP_WORDS=(ccroute completions ""); COMP_CWORD=2; _ccroute_completion ccroute; '
        'echo "${COMPREPLY[*]}"'
    )
    env = {**os.environ, "PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    first, second = done.stdout.splitlines()
    assert set(first.split()) == {"code", "completions", "config"}
    assert set(second.split()) == {"install", "bash", "zsh", "fish"}
