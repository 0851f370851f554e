"""`ccroute completions [SHELL]` and `ccroute completions install [SHELL]`: shell completion.

Owns: producing the bash/zsh/fish completion script from Typer's own completion machinery (the
script calls back into `ccroute` with `_CCROUTE_COMPLETE=complete_<shell>`, so completions
always follow the installed CLI) and writing it, atomically, to the shell's usual per-user
location. Importing this module registers Typer's completion classes, which the root app
(built with `add_completion=False`) otherwise never does, so those call-backs are answered.

Must not import aiohttp or rich, nor `ccroute.cli` at module level (the root app imports this
module; the root command is looked up when a script is generated).
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from typer._click.shell_completion import get_completion_class
from typer._completion_classes import completion_init

from ccroute.atomicfile import write_atomic

PROG_NAME = "ccroute"
COMPLETE_VAR = "_CCROUTE_COMPLETE"
"""The environment variable the scripts set when they ask `ccroute` for completions."""

completion_init()


class Shell(StrEnum):
    """The shells ccroute ships completion scripts for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


REPO_FILE_NAMES = {Shell.bash: "ccroute.bash", Shell.zsh: "_ccroute", Shell.fish: "ccroute.fish"}
"""File name of each shell's script in the repository's `completions/` directory."""

app = typer.Typer(
    name="completions",
    help="Print or install shell completion scripts (bash, zsh, fish).",
    invoke_without_command=True,
    no_args_is_help=False,
)


def completion_script(shell: Shell) -> str:
    """The completion script for `shell`, as text ending in one newline.

    Generated from the root command (`ccroute.cli.app`) by Typer's completion class for that
    shell, the same text `_CCROUTE_COMPLETE=<shell>_source ccroute` would print.
    """
    from typer.main import get_command

    from ccroute.cli import app as root_app

    cls = get_completion_class(shell.value)
    if cls is None:  # pragma: no cover - completion_init registered all three above
        raise RuntimeError(f"Typer has no completion class for {shell.value}")
    source = cls(get_command(root_app), {}, PROG_NAME, COMPLETE_VAR).source()
    return source.strip() + "\n"


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def install_path(shell: Shell) -> Path:
    """Where `install` puts the script for `shell`.

    bash: `$XDG_DATA_HOME/bash-completion/completions/ccroute` (bash-completion loads it on
    demand); zsh: `~/.zfunc/_ccroute` (a directory the user adds to `fpath`); fish:
    `$XDG_CONFIG_HOME/fish/completions/ccroute.fish`. XDG variables default to
    `~/.local/share` and `~/.config`.
    """
    if shell is Shell.bash:
        return _data_home() / "bash-completion" / "completions" / PROG_NAME
    if shell is Shell.zsh:
        return Path.home() / ".zfunc" / f"_{PROG_NAME}"
    return _config_home() / "fish" / "completions" / f"{PROG_NAME}.fish"


def _detect_shell() -> Shell:
    name = Path(os.environ.get("SHELL", "")).name
    try:
        return Shell(name)
    except ValueError:
        raise typer.BadParameter(
            f"cannot tell your shell from SHELL={os.environ.get('SHELL', '')!r}; "
            "name it: bash, zsh or fish.",
            param_hint="SHELL",
        ) from None


ShellArgument = Annotated[
    Shell | None,
    typer.Argument(help="bash, zsh or fish (default: the shell named by $SHELL)."),
]


@app.callback()
def completions(ctx: typer.Context) -> None:
    """Print the completion script for your shell ($SHELL), or for the one named
    (`ccroute completions zsh`); `ccroute completions install` puts it in place."""
    if ctx.invoked_subcommand is None:
        typer.echo(completion_script(_detect_shell()), nl=False)


def _printer(shell: Shell) -> None:
    def show() -> None:
        typer.echo(completion_script(shell), nl=False)

    show.__doc__ = f"Print the {shell.value} completion script."
    app.command(name=shell.value)(show)


for _shell in Shell:
    _printer(_shell)


@app.command()
def install(shell: ShellArgument = None) -> None:
    """Write the completion script to SHELL's standard per-user location and say where."""
    chosen = shell or _detect_shell()
    target = install_path(chosen)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, completion_script(chosen).encode(), mode=0o644)
    typer.echo(f"Installed {chosen.value} completion for ccroute in {target}")
    if chosen is Shell.zsh:
        typer.echo("Add these lines to ~/.zshrc (before any existing compinit) if absent:")
        typer.echo("  fpath=(~/.zfunc $fpath)")
        typer.echo("  autoload -Uz compinit && compinit")
    typer.echo("Open a new shell to use it.")
