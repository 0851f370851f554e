"""Spinners for the commands that wait on the network or on the daemon.

Owns: `working(message)`, a context manager showing a rich spinner with `message` on stderr
while its block runs — only when stderr is a terminal (never in pipes, `--json` runs, tests or
CI logs) and without colour when `NO_COLOR` is set (rich reads it). Commands use it around
anything that may take over a second: fetching model lists, probing providers, starting the
daemon, the doctor's network checks.

Must not import rich at module level (it loads only when a spinner is shown).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def working(message: str, *, quiet: bool = False) -> Iterator[None]:
    """Show a spinner with `message` on stderr while the block runs, unless `quiet` or stderr
    is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield
