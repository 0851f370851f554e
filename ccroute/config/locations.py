"""Where ccroute keeps its files: `Paths` and `paths()`.

Owns: the config file, state, log and data directories, from platformdirs or re-rooted under
`CCROUTE_HOME`. Nothing here reads or creates files.

Must not import: typer, rich, aiohttp, keyring, or any other `ccroute.config` module.
platformdirs is imported only when `CCROUTE_HOME` is unset (it runs on every `ccroute status`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_APP = "ccroute"


@dataclass(frozen=True)
class Paths:
    """Where ccroute keeps its files; all absolute.

    Attributes:
        config_file: `<config dir>/config.toml` (may not exist).
        state_dir: the daemon's pid/port record (daemon.json) and local token.
        log_dir: daemon.log.
        data_dir: the usage store (usage.sqlite3 and its rotated generation).
    """

    config_file: Path
    state_dir: Path
    log_dir: Path
    data_dir: Path


def paths() -> Paths:
    """Return ccroute's paths: the platformdirs user config/state/log/data dirs for "ccroute".

    With `CCROUTE_HOME=D` they become `D/config/config.toml`, `D/state`, `D/logs` and `D/data`.
    Nothing is created here; writers create directories (0700) when they first write.
    """
    home = os.environ.get("CCROUTE_HOME")
    if home:
        root = Path(home).expanduser().absolute()
        return Paths(root / "config" / "config.toml", root / "state", root / "logs", root / "data")
    import platformdirs

    return Paths(
        config_file=platformdirs.user_config_path(_APP, appauthor=False) / "config.toml",
        state_dir=platformdirs.user_state_path(_APP, appauthor=False),
        log_dir=platformdirs.user_log_path(_APP, appauthor=False),
        data_dir=platformdirs.user_data_path(_APP, appauthor=False),
    )
