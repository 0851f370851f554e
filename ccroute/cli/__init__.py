"""The ccroute command line: the `ccroute` entry point.

Owns: `main`, which runs the commands that must start fastest — `ccroute status`, `ccroute
statusline` (Claude Code runs it after every message) and `ccroute code` — through
`ccroute.cli.fastpath`, without importing Typer (importing and building the Typer app costs
more than 100 ms), and hands every other command line to the Typer app in `ccroute.cli.root`.
`app` and `_CcrouteGroup` are importable from here as before (loaded on first use).

Must not import at module level: typer, rich, aiohttp, or any command module.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def main() -> None:
    """Console-script entry point (`ccroute`, `python -m ccroute`)."""
    # Shell completion (the scripts in completions/ call back with _CCROUTE_COMPLETE set) is
    # always the Typer app's.
    if "_CCROUTE_COMPLETE" not in os.environ:
        from ccroute.cli.fastpath import run_fast

        code = run_fast(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    from ccroute.cli.root import app

    app()


def __getattr__(name: str) -> Any:
    if name in ("app", "_CcrouteGroup"):
        from ccroute.cli import root as module

        return getattr(module, name)
    raise AttributeError(f"module 'ccroute.cli' has no attribute {name!r}")
