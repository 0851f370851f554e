"""Several config edits that land together or not at all: `staged_edits`.

Owns: rehearsing a series of `ccroute.config.edit` calls on a scratch copy of config.toml and
installing the result in one atomic write, so a refused value in the middle of an import or a
first-run set-up leaves the user's file exactly as it was. Used by `ccroute import ccr` and the
first-run wizard (`ccroute.firstrun`).

Must not import: typer, rich, aiohttp, keyring.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ccroute.atomicfile import write_atomic
from ccroute.config.locations import Paths, paths
from ccroute.errors import ConfigError


@contextmanager
def staged_edits(real: Paths | None = None) -> Iterator[Paths]:
    """Yield `Paths` whose config file is a scratch copy of the real one; when the block ends
    normally, the copy replaces config.toml in one atomic write.

    Raises:
        ConfigError: an edit in the block was refused (its message names the real file, not the
            scratch copy; nothing was written), or the file cannot be written ("nothing
            changed"). Any other exception from the block also leaves the file untouched.
    """
    real = real or paths()
    with tempfile.TemporaryDirectory(prefix="ccroute-edit-") as scratch:
        staged = dataclasses.replace(real, config_file=Path(scratch) / "config.toml")
        if real.config_file.exists():
            staged.config_file.write_bytes(real.config_file.read_bytes())
        try:
            yield staged
        except ConfigError as exc:
            message = exc.message.replace(str(staged.config_file), str(real.config_file))
            raise ConfigError(message) from None
        if not staged.config_file.exists():
            return  # nothing was edited and there was no file: nothing to install
        data = staged.config_file.read_bytes()
    try:
        write_atomic(real.config_file, data)
    except OSError as exc:
        message = f"{real.config_file}: cannot write it ({exc}); nothing changed."
        raise ConfigError(message) from None
