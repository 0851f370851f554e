"""Operating-system process primitives the daemon needs, with a branch per platform.

Owns: spawning a detached background process, asking whether a PID is alive, and terminating
one. POSIX uses sessions and signals; Windows uses creation flags and the Win32 process API.

Must not import: aiohttp, typer, rich, keyring, or other ccroute modules.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any


def spawn_detached(
    argv: Sequence[str], *, output: IO[bytes], env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `argv` detached from this terminal, stdout and stderr going to `output`.

    The child survives the parent's exit and does not receive the terminal's Ctrl-C: on POSIX
    it leads a new session; on Windows it gets its own process group and no console window.
    """
    detach: dict[str, Any]
    if sys.platform == "win32":
        flags = (
            subprocess.CREATE_NEW_PROCESS_GROUP
            | subprocess.DETACHED_PROCESS
            | subprocess.CREATE_NO_WINDOW
        )
        detach = {"creationflags": flags}
    else:
        detach = {"start_new_session": True}
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        close_fds=True,
        **detach,
    )


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID is running (exited-but-unreaped counts as gone)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _win_pid_alive(pid)
    with contextlib.suppress(ChildProcessError, OSError):
        # Our own child that has exited is reaped here (and so reported gone, not a zombie).
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    # An exited process whose parent (often init, for a daemon whose starter has exited) has not
    # reaped it yet still answers kill(pid, 0). Linux shows state Z in /proc; elsewhere we cannot
    # tell cheaply and report it alive.
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    end = stat.rfind(b")")
    return stat[end + 2 : end + 3] == b"Z"


def release(proc: subprocess.Popen[bytes]) -> None:
    """Let go of a detached child's handle without waiting for it.

    The daemon outlives the command that started it, so nobody waits for it here; its exit is
    reaped later by `pid_alive` (POSIX) or needs no reaping (Windows). Marking the handle done
    stops `Popen.__del__` from warning about a process that is still running.
    """
    if proc.returncode is None:
        proc.returncode = 0


def terminate(pid: int) -> None:
    """Ask the process to end: SIGTERM on POSIX, TerminateProcess on Windows. Gone is fine."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)


def _win_pid_alive(pid: int) -> bool:  # pragma: no cover - exercised on Windows only
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
    process_query_limited_information = 0x1000
    still_active = 259
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return bool(code.value == still_active)
    finally:
        kernel32.CloseHandle(handle)
