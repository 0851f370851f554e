"""Crash-safe file writes and private directories.

Owns: `write_atomic` (a reader sees either the old file or the new one, never a torn write) and
`ensure_private_dir` (state/config directories readable by the owner only). Used for
config.toml, the daemon's state files and its token.

Must not import anything from ccroute or third parties; stdlib only, and every call has to work
on Windows as well as POSIX (chmod is harmless there; directory fsync is POSIX-only).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

_REPLACE_ATTEMPTS = 5  # Windows: a reader holding the target open makes os.replace fail briefly


def ensure_private_dir(path: Path) -> Path:
    """Create `path` and its missing parents if needed; every directory it creates gets mode
    0700 (`mkdir(parents=True)` alone would leave the parents at the umask's 0755, e.g. the state
    directory holding the local token when a subdirectory of it is made first).

    An existing directory is left as it is, so a user's deliberate permissions survive. Returns
    `path`. Raises `OSError` when the directory cannot be created.
    """
    missing: list[Path] = []
    folder = path
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        # mkdir's mode is filtered through the umask; make it private explicitly.
        os.chmod(folder, 0o700)
    return path


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace the file at `path` with `data` atomically.

    Writes a temporary file in the same directory, fsyncs it, sets `mode` (POSIX permission bits;
    only the read-only bit means anything on Windows) and renames it over `path` with
    `os.replace`. The parent directory is created private (0700) if missing. On any failure the
    previous file is untouched, the temporary file is removed and the `OSError` propagates.
    """
    ensure_private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode)
        _replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def _replace(src: str, dst: Path) -> None:
    for attempt in range(_REPLACE_ATTEMPTS):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if os.name != "nt" or attempt == _REPLACE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself (POSIX); Windows cannot open a directory for fsync."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
