"""The `ccroute code` sessions a daemon serves, recorded as one file per live launcher.

Owns: the `sessions/` directory in the state dir — one file per running `ccroute code`, named
by its PID and holding `{"pid", "claude_pid", "started_at"}` (written atomically) — and the
question "is any session still alive?". Liveness is read from the processes themselves
(`ccroute.process.pid_alive`, which has a Windows branch), never from a counter, so a launcher
that crashed or was killed cannot keep a daemon alive: its file is removed as stale at the next
look. A session counts as alive while either the launcher or its `claude` child runs.

Must not import: aiohttp, typer, rich, keyring.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ccroute.config import Paths, paths, write_atomic
from ccroute.process import pid_alive


@dataclass(frozen=True, slots=True)
class Session:
    """One recorded `ccroute code`: its own `pid`, its `claude` child's (None until started),
    and `started_at` (Unix seconds)."""

    pid: int
    claude_pid: int | None
    started_at: float

    @property
    def alive(self) -> bool:
        """Whether the launcher or its `claude` child still runs."""
        return pid_alive(self.pid) or (self.claude_pid is not None and pid_alive(self.claude_pid))


def sessions_dir(p: Paths | None = None) -> Path:
    """The directory of session files (`<state dir>/sessions`)."""
    return (p or paths()).state_dir / "sessions"


def record(
    p: Paths | None = None, *, pid: int | None = None, claude_pid: int | None = None
) -> Session:
    """Write (or rewrite) the session file of `pid` (default: this process); return it."""
    pid = os.getpid() if pid is None else pid
    session = Session(pid=pid, claude_pid=claude_pid, started_at=time.time())
    body = {"pid": session.pid, "claude_pid": claude_pid, "started_at": session.started_at}
    write_atomic(sessions_dir(p) / str(pid), json.dumps(body).encode(), mode=0o600)
    return session


def forget(p: Paths | None = None, *, pid: int | None = None) -> None:
    """Remove the session file of `pid` (default: this process); absent is fine."""
    pid = os.getpid() if pid is None else pid
    with contextlib.suppress(FileNotFoundError):
        (sessions_dir(p) / str(pid)).unlink()


def _read(path: Path) -> Session | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        claude = raw.get("claude_pid")
        return Session(
            pid=int(raw["pid"]),
            claude_pid=int(claude) if claude is not None else None,
            started_at=float(raw["started_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def live_sessions(p: Paths | None = None) -> list[Session]:
    """The recorded sessions still alive, oldest first; files of dead ones are removed.

    A file that cannot be read is left alone unless its name is a dead PID (it may be one
    being written right now).
    """
    found: list[Session] = []
    try:
        entries = list(sessions_dir(p).iterdir())
    except OSError:
        return found
    for path in entries:
        if not path.name.isdigit():
            continue
        session = _read(path)
        alive = session.alive if session is not None else pid_alive(int(path.name))
        if session is not None and alive:
            found.append(session)
        elif not alive:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return sorted(found, key=lambda s: s.started_at)
