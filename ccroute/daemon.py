"""The daemon's life cycle from outside: start, stop, status, reload, and the state files.

Owns: the state directory — `daemon.json` (pid, host, port, version, started_at, auto_started;
written by the daemon once it is listening, removed when it stops) and `token` (the random local
auth token, mode 0600, created once and reused so running Claude Code sessions survive a
restart) — the detached spawn of `python -m ccroute serve`, the `/health` probe, stale-state
cleanup, asking a running daemon to reload its config (`reload`), and the auto-stop of a daemon
`ccroute code` started (it ends once no session in `ccroute.sessions` is alive, unless
`server.stay`). The daemon process itself (`ccroute serve`) is `ccroute.daemon_serve`.

Must not import: typer or rich (it reports through return values and `DaemonError`s), or aiohttp
(`status` must stay fast). The `/health` probe, which `ccroute status` and every `ccroute code`
make, speaks one HTTP/1.0 GET over a socket (http.client and the email parser behind it would
cost more than the whole probe); the POSTs use `http.client`, imported when needed.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccroute import sessions
from ccroute.atomicfile import ensure_private_dir
from ccroute.config import Config, Paths, paths, write_atomic
from ccroute.errors import DaemonError, DaemonNotRunningError
from ccroute.process import pid_alive, release, spawn_detached, terminate

#: Seconds `start` waits for the spawned daemon to answer `/health`.
START_TIMEOUT = 15.0
#: Seconds in-flight requests get to finish when the daemon stops.
SHUTDOWN_GRACE = 10.0


@dataclass(frozen=True, slots=True)
class DaemonInfo:
    """A running daemon as recorded in `daemon.json`.

    Attributes:
        pid: the daemon's process id.
        host, port: where it listens.
        version: the ccroute version it runs.
        started_at: Unix time (seconds) it started listening.
        auto_started: started by `ccroute code` (it stops when its last session ends) rather
            than by `ccroute start` / `ccroute serve`.
    """

    pid: int
    host: str
    port: int
    version: str
    started_at: float
    auto_started: bool = False

    @property
    def url(self) -> str:
        """The base URL for `ANTHROPIC_BASE_URL` (no `/v1`, protocol.md §6.1)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def _state_file(p: Paths) -> Path:
    return p.state_dir / "daemon.json"


def _token_file(p: Paths) -> Path:
    return p.state_dir / "token"


def read_token(p: Paths | None = None, *, create: bool = False) -> str:
    """The local auth token; with `create`, make one (32 random bytes, hex, mode 0600) if absent.

    Raises:
        DaemonError: no token exists and `create` is False.
    """
    p = p or paths()
    path = _token_file(p)
    try:
        token = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        token = ""
    if token:
        return token
    if not create:
        raise DaemonError(f"No local token at {path}. Run 'ccroute start' to create one.")
    import secrets

    token = secrets.token_hex(32)
    write_atomic(path, token.encode("ascii"), mode=0o600)
    return token


def _read_state(p: Paths) -> DaemonInfo | None:
    try:
        raw = json.loads(_state_file(p).read_text(encoding="utf-8"))
        return DaemonInfo(
            pid=int(raw["pid"]),
            host=str(raw["host"]),
            port=int(raw["port"]),
            version=str(raw["version"]),
            started_at=float(raw["started_at"]),
            auto_started=bool(raw.get("auto_started", False)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remove_state(p: Paths, pid: int | None = None) -> None:
    """Remove `daemon.json`, but only if it still belongs to `pid` (when given)."""
    if pid is not None:
        current = _read_state(p)
        if current is not None and current.pid != pid:
            return
    with contextlib.suppress(FileNotFoundError):
        _state_file(p).unlink()


def probe(info: DaemonInfo, timeout: float = 1.0) -> dict[str, Any] | None:
    """GET `/health` on the recorded address; the parsed body, or None if nothing sane answers.

    One HTTP/1.0 request (the server closes the connection after its answer, so the body is
    everything after the blank line); an answer other than `200` with a JSON object is None.
    """
    request = f"GET /health HTTP/1.0\r\nHost: 127.0.0.1:{info.port}\r\n\r\n".encode()
    try:
        with socket.create_connection((info.host, info.port), timeout=timeout) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return None
    head, _, raw = b"".join(chunks).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or status_line[1] != b"200":
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def status(p: Paths | None = None) -> DaemonInfo:
    """The running daemon, verified by `/health` answering with the recorded pid.

    A state file whose process is gone (a crash) is removed.

    Raises:
        DaemonNotRunningError: no daemon is running.
        DaemonError: the recorded process is alive but does not answer on its port.
    """
    p = p or paths()
    info = _read_state(p)
    if info is None:
        raise DaemonNotRunningError(
            "The ccroute daemon is not running. Start it with 'ccroute start'."
        )
    health = probe(info)
    if health is not None and health.get("pid") == info.pid:
        return info
    if not pid_alive(info.pid):
        _remove_state(p, info.pid)
        raise DaemonNotRunningError(
            "The ccroute daemon is not running (a stale state file from a crash was cleaned up). "
            "Start it with 'ccroute start'."
        )
    raise DaemonError(
        f"The daemon (pid {info.pid}) is alive but not answering on {info.url}. "
        "Try 'ccroute restart'; the log is in 'ccroute config path' → logs."
    )


def _log_paths(p: Paths) -> tuple[Path, Path]:
    return p.log_dir / "daemon.log", p.log_dir / "daemon.out"


def start(
    config: Config, *, port: int | None = None, p: Paths | None = None, auto: bool = False
) -> DaemonInfo:
    """Start the daemon in the background unless one is running; return the running one.

    Spawns `python -m ccroute serve` detached, then waits up to `START_TIMEOUT` seconds for
    `daemon.json` and `/health`. With `auto` (`ccroute code`), the daemon stops by itself once
    no recorded session is alive, unless `server.stay` is true.

    Raises:
        DaemonError: the daemon exited during start-up (the message quotes its reason, e.g. a
            taken port) or did not become healthy in time.
    """
    p = p or paths()
    with contextlib.suppress(DaemonNotRunningError):
        running = status(p)
        health = probe(running)
        if health is None or health.get("status") != "stopping":
            return running
        # It is draining its last requests (a stop or an auto-stop): wait, then start anew.
        _wait_gone(running.pid, SHUTDOWN_GRACE + 10)
    read_token(p, create=True)
    log_file, out_file = _log_paths(p)
    ensure_private_dir(out_file.parent)
    argv = [sys.executable, "-m", "ccroute", "serve", "--log-file", str(log_file)]
    if port is not None:
        argv += ["--port", str(port)]
    if auto:
        argv.append("--auto-started")
    with out_file.open("wb") as out:
        proc = spawn_detached(argv, output=out)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        info = _read_state(p)
        if info is not None and info.pid == proc.pid and probe(info, timeout=0.5) is not None:
            release(proc)
            return info
        if proc.poll() is not None:
            with contextlib.suppress(DaemonNotRunningError):
                return status(p)  # another start won the race
            raise DaemonError(_startup_failure(out_file, proc.returncode))
        time.sleep(0.02)
    terminate(proc.pid)
    import subprocess

    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    release(proc)
    raise DaemonError(
        f"The daemon did not become healthy within {START_TIMEOUT:.0f}s; see {out_file}."
    )


def _startup_failure(out_file: Path, code: int | None) -> str:
    try:
        lines = out_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        lines = []
    reasons = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    if reasons:
        return reasons[-1]
    tail = "\n".join(lines[-5:])
    return f"The daemon exited during start-up (code {code}). Output:\n{tail}"


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def stop(p: Paths | None = None, *, timeout: float = SHUTDOWN_GRACE + 10) -> DaemonInfo | None:
    """Stop the daemon gracefully; the stopped daemon's info, or None if none was running.

    Asks `/ccroute/shutdown` (in-flight streams get `SHUTDOWN_GRACE` seconds), then terminates
    the process if it is still there after `timeout` seconds.
    """
    p = p or paths()
    info = _read_state(p)
    if info is None:
        return None
    if not pid_alive(info.pid):
        _remove_state(p, info.pid)
        return None
    _request_shutdown(info, p)
    deadline = time.monotonic() + timeout
    while pid_alive(info.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if pid_alive(info.pid):
        terminate(info.pid)
        end = time.monotonic() + 5
        while pid_alive(info.pid) and time.monotonic() < end:
            time.sleep(0.05)
    _remove_state(p, info.pid)
    return info


def _post(info: DaemonInfo, token: str, path: str, timeout: float) -> tuple[int, bytes]:
    """POST to the daemon with the local token; (status, body). Raises OSError/HTTPException."""
    import http.client

    conn = http.client.HTTPConnection(info.host, info.port, timeout=timeout)
    try:
        conn.request(
            "POST",
            path,
            headers={"Host": f"127.0.0.1:{info.port}", "Authorization": f"Bearer {token}"},
        )
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _http_exception() -> type[Exception]:
    import http.client

    return http.client.HTTPException


def _request_shutdown(info: DaemonInfo, p: Paths) -> None:
    try:
        _post(info, read_token(p), "/ccroute/shutdown", timeout=2)
    except (DaemonError, OSError, _http_exception()):
        terminate(info.pid)


def reload(p: Paths | None = None) -> dict[str, Any]:
    """Ask the running daemon to reload config.toml now (`POST /ccroute/reload`).

    Returns its answer: `{"reloaded": bool, "config_error": str | None, "config_loaded_at":
    float}`; when `reloaded` is false the daemon kept its previous config for the reason given.

    Raises:
        DaemonNotRunningError: no daemon is running.
        DaemonError: it did not answer.
    """
    p = p or paths()
    info = status(p)
    try:
        code, raw = _post(info, read_token(p), "/ccroute/reload", timeout=10)
        body = json.loads(raw)
    except (OSError, ValueError, _http_exception()) as exc:
        raise DaemonError(f"The daemon at {info.url} did not answer the reload: {exc}") from None
    if code not in (200, 422) or not isinstance(body, dict):
        raise DaemonError(f"The daemon at {info.url} refused the reload (HTTP {code}).")
    return body


def ensure_running(config: Config, p: Paths | None = None) -> DaemonInfo:
    """The running daemon, starting one first if needed (used by `ccroute code`; a daemon it
    starts is auto-started: it stops once no `ccroute code` session is alive)."""
    return start(config, p=p, auto=True)


def is_idle(config: Config, p: Paths | None = None) -> bool:
    """Whether an auto-started daemon may stop: no recorded session is alive and the config
    does not say `server.stay = true`."""
    if config.server.stay:
        return False
    return not sessions.live_sessions(p)
