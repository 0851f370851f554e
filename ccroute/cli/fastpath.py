"""The hot commands, run without Typer: `status [--json]`, `start [--port N] [--json]`,
`statusline`, `code ...` and the
daemon's own `serve --log-file PATH [--port N] [--auto-started]` (how `ccroute start` and
`ccroute code` spawn it, so the daemon is listening sooner).

Owns: recognising a command line one of those commands handles exactly as its Typer command
would (anything else, `--help` included, goes to the Typer app), running it, and
`report_error`, the one way a `CcrouteError` becomes an `error: ...` line on stderr and an exit
code (the Typer app's root group uses it too). Claude Code runs `ccroute statusline` after every
message and `ccroute code` sits between the user and Claude Code, so these pay only for what
they use (issue 7: `ccroute status` <= 120 ms, `ccroute code` to `claude` <= 300 ms).

Must not import at module level: typer, rich, aiohttp, or any command module.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from ccroute.errors import CcrouteError


def report_error(exc: CcrouteError) -> int:
    """Print `error: <message>` on stderr; return the error's exit code."""
    print(f"error: {exc.message}", file=sys.stderr)
    return exc.exit_code


def run_fast(argv: Sequence[str]) -> int | None:
    """Run `argv` if it is a hot command line; its exit code, or None to use the Typer app."""
    args = list(argv)
    if args in (["status"], ["status", "--json"]):
        from ccroute.cli.daemon_view import show_status

        return _guarded(lambda: show_status(as_json=len(args) == 2))
    if args[:1] == ["start"]:
        start = _start_options(args[1:])
        if start is not None:
            from ccroute.cli.daemon_view import start_daemon

            port, as_json = start
            return _guarded(lambda: start_daemon(port=port, as_json=as_json))
    if args[:1] == ["serve"]:
        options = _serve_options(args[1:])
        if options is not None:
            return _guarded(lambda: _serve(*options))
    if args[:1] == ["code"]:
        # Every `code` line: ccroute takes only --profile/--statusline, the rest is Claude Code's.
        from ccroute.cli.code_run import run_code

        return _guarded(lambda: run_code(args[1:]))
    if args == ["statusline"]:
        from ccroute.cli.statusline_cmd import print_statusline

        print_statusline()
        return 0
    return None


def _guarded(run: Callable[[], int]) -> int:
    try:
        return run()
    except CcrouteError as exc:
        return report_error(exc)


def _start_options(args: list[str]) -> tuple[int | None, bool] | None:
    """(port, --json) of a plain `start` command line; None for anything else."""
    found = _options(args, flags={"--json"}, values={"--port": _port})
    return None if found is None else (found.get("--port"), "--json" in found)


def _serve_options(args: list[str]) -> tuple[str | None, int | None, bool] | None:
    """(log file, port, auto-started) of a `serve` command line written as `ccroute.daemon`
    spawns it; None for anything else (Typer then parses it and reports mistakes)."""
    found = _options(args, flags={"--auto-started"}, values={"--log-file": _text, "--port": _port})
    if found is None:
        return None
    return found.get("--log-file"), found.get("--port"), "--auto-started" in found


def _options(
    args: list[str], *, flags: set[str], values: dict[str, Callable[[str], Any]]
) -> dict[str, Any] | None:
    """The options of a command line made only of `flags` and of `values` options followed by
    a value their parser accepts (returns not None), each at most once; None for anything else."""
    found: dict[str, Any] = {}
    rest = iter(args)
    for arg in rest:
        if arg in found:
            return None
        if arg in flags:
            found[arg] = True
        elif arg in values:
            value = values[arg](next(rest, ""))
            if value is None:
                return None
            found[arg] = value
        else:
            return None
    return found


def _port(value: str) -> int | None:
    return int(value) if value.isdigit() and 1 <= int(value) <= 65535 else None


def _text(value: str) -> str | None:
    return value or None


def _serve(log_file: str | None, port: int | None, auto: bool) -> int:
    from pathlib import Path

    from ccroute.config import load_config
    from ccroute.daemon_serve import serve

    serve(
        load_config(),
        port=port,
        log_file=Path(log_file) if log_file else None,
        auto_started=auto,
    )
    return 0
