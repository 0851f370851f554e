"""The hot commands, run without Typer: `status [--json]`, `statusline` and `code ...`.

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

from ccroute.errors import CcrouteError


def report_error(exc: CcrouteError) -> int:
    """Print `error: <message>` on stderr; return the error's exit code."""
    print(f"error: {exc.message}", file=sys.stderr)
    return exc.exit_code


def run_fast(argv: Sequence[str]) -> int | None:
    """Run `argv` if it is a hot command line; its exit code, or None to use the Typer app."""
    args = list(argv)
    if args in (["status"], ["status", "--json"]):
        from ccroute.cli.status_view import show_status

        return _guarded(lambda: show_status(as_json=len(args) == 2))
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
