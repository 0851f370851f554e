"""`ccroute.atomicfile`: private directories and atomic writes."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from ccroute.atomicfile import ensure_private_dir, write_atomic

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@POSIX_ONLY
def test_every_directory_it_creates_is_private(tmp_path: Path) -> None:
    # The state directory holds the local token: when a subdirectory of it is made first, the
    # state directory itself must not be left world-readable.
    leaf = tmp_path / "state" / "ccroute" / "claude-settings"
    assert ensure_private_dir(leaf) == leaf
    for folder in (leaf, leaf.parent, leaf.parent.parent):
        assert _mode(folder) == 0o700, folder


@POSIX_ONLY
def test_existing_directories_keep_their_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    ensure_private_dir(shared / "mine")
    assert _mode(shared) == 0o755
    assert _mode(shared / "mine") == 0o700


@POSIX_ONLY
def test_write_atomic_replaces_the_file_with_the_given_mode(tmp_path: Path) -> None:
    target = tmp_path / "state" / "token"
    write_atomic(target, b"one", mode=0o600)
    write_atomic(target, b"two", mode=0o600)
    assert target.read_bytes() == b"two"
    assert _mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["token"]  # no temporary file left
