"""`ccroute config ...`: read and edit config.toml from the command line.

Owns: the get/set/unset/show/path commands and how their results are printed (plain text for
people and shell scripts, `--json` for programs). All reading, validation and writing is
`ccroute.config`'s; errors are raised as `CcrouteError` and printed once by the root app.

Must not import: aiohttp or keyring (keys are `ccroute keys`' business).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import typer

from ccroute import config

app = typer.Typer(
    help=(
        "Read and change ccroute's settings in config.toml. Edits keep your settings but not "
        "comments in the file. API keys never go here: use 'ccroute keys set'."
    ),
    no_args_is_help=True,
)


def _toml_scalar(value: object) -> str:
    """A value as one line of TOML, e.g. 3456, "127.0.0.1", ["a", "b"] or { by = "price" }."""
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(str(k))} = {_toml_scalar(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_scalar(v) for v in value) + "]"
    import tomli_w

    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")


def _toml_key(key: str) -> str:
    """A table key as TOML text, quoted when it is not a bare key."""
    import tomli_w

    return tomli_w.dumps({key: 0}).rsplit(" = ", 1)[0]


@app.command("get")
def get(
    key: str = typer.Argument(..., help="Dotted key, e.g. server.port or providers.openrouter."),
    as_json: bool = typer.Option(False, "--json", help="Print the value as JSON."),
) -> None:
    """Print a setting's effective value (defaults included); a table prints as TOML."""
    value = config.get_value(key)
    if as_json:
        typer.echo(json.dumps(value, indent=2 if isinstance(value, dict) else None))
    elif isinstance(value, dict):
        import tomli_w

        typer.echo(tomli_w.dumps(value).rstrip("\n"))
    elif value is not None:
        typer.echo(str(value))


@app.command("set")
def set_(
    key: str = typer.Argument(..., help="Dotted key, e.g. providers.local.base_url."),
    value: str = typer.Argument(..., help="The new value; numbers for ports and max_tokens."),
) -> None:
    """Set a value in config.toml after checking the whole resulting config."""
    stored = config.set_value(key, value)
    typer.echo(f"{key} = {_toml_scalar(stored)}  (written to {config.paths().config_file})")
    _reload_daemon()


@app.command("unset")
def unset(
    key: str = typer.Argument(..., help="Dotted key or table, e.g. server.port or providers.x."),
) -> None:
    """Remove a value (or table) from config.toml so its default applies again."""
    config.unset_value(key)
    typer.echo(f"Removed {key} from {config.paths().config_file}.")
    _reload_daemon()


def _reload_daemon() -> None:
    """Tell a running daemon to reload now (it would within a second by itself); quiet when
    none runs or it does not answer."""
    from ccroute import daemon
    from ccroute.errors import DaemonError

    try:
        answer = daemon.reload()
    except DaemonError:
        return
    if answer.get("reloaded"):
        typer.echo("The running daemon now uses it.")


@app.command("show")
def show(
    as_json: bool = typer.Option(
        False,
        "--json",
        help='Print {"file": path, "config": {...}, "origins": {key: origin}} as JSON.',
    ),
) -> None:
    """Print the effective configuration as TOML, marking values that are defaults."""
    items = config.settings()
    source = config.paths().config_file
    if as_json:
        tree: dict[str, Any] = {}
        for item in items:
            node = tree
            *tables, leaf = item.path
            for table in tables:
                node = node.setdefault(table, {})
            node[leaf] = item.value
        origins = {item.key: item.origin for item in items}
        typer.echo(json.dumps({"file": str(source), "config": tree, "origins": origins}, indent=2))
        return

    # rich is slow to import and only `show` needs it, so every other command skips it.
    from rich.console import Console
    from rich.text import Text

    out = Text()
    exists = "" if source.exists() else " (does not exist yet: all defaults)"
    out.append(f"# Effective configuration. File: {source}{exists}\n", style="dim")
    current: str | None = None
    for item in items:
        *tables, leaf = item.path
        header = ".".join(_toml_key(t) for t in tables)
        if header != current:
            out.append(f"{'' if current is None else chr(10)}[{header}]\n", style="bold")
            current = header
        if item.value is None:
            out.append(f"# {_toml_key(leaf)} is not set\n", style="dim")
            continue
        out.append(f"{_toml_key(leaf)} = {_toml_scalar(item.value)}")
        if item.origin != "file":
            note = "default" if item.origin == "default" else f"from {item.origin}"
            out.append(f"  # {note}", style="dim")
        out.append("\n")
    Console(soft_wrap=True, highlight=False).print(out, end="")


@app.command("path")
def path() -> None:
    """Print the path of config.toml (it may not exist until the first 'config set')."""
    typer.echo(str(config.paths().config_file))
