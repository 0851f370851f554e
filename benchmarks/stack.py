"""The system under test: the fake upstream and a ccroute daemon in an isolated CCROUTE_HOME.

Owns: a temporary CCROUTE_HOME configured through the real CLI (`ccroute config set`) with one
provider pointing at the fake upstream and a random free port; starting and stopping the
daemon with `ccroute start` / `ccroute stop` (the daemon pinned to the proxy core from birth);
the local token and request headers; and cleaning up every process it started — on normal
exit, on an exception and on Ctrl-C or SIGTERM (turned into KeyboardInterrupt) — then removing
the temporary home. The user's own config, keys and daemon are never touched: every ccroute
command runs with CCROUTE_HOME set and with the user's ANTHROPIC_* / CCROUTE_* variables
removed.

Must not import ccroute (the daemon and CLI are driven as processes, as a user drives them).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from benchmarks import pinning

ROOT = Path(__file__).resolve().parent.parent
#: The ~78 KB Claude Code request (24 tools, a tool_result turn), captured from Claude Code.
FIXTURE = ROOT / "tests" / "fixtures" / "claude_code" / "write_tool_turn2_tool_result.json"


def ccroute_argv() -> list[str]:
    """How a user runs ccroute here: the `ccroute` script beside this Python if installed,
    else `python -m ccroute`."""
    script = Path(sys.executable).parent / ("ccroute.exe" if sys.platform == "win32" else "ccroute")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ccroute"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """The fake upstream plus an isolated daemon; use as a context manager.

    Attributes:
        home: the temporary CCROUTE_HOME.
        env: the environment every ccroute command runs with.
        port: the daemon's port; upstream_port: the fake upstream's.
        cores: the core plan; pid: the running daemon's pid (0 when stopped).
    """

    def __init__(self, cores: pinning.CorePlan) -> None:
        self.cores = cores
        self.home = Path(tempfile.mkdtemp(prefix="ccroute-bench-"))
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ANTHROPIC_", "CCROUTE_", "OPENROUTER_"))
        }
        self.env = {**base, "CCROUTE_HOME": str(self.home), "OPENROUTER_API_KEY": "sk-bench"}
        self.port = free_port()
        self.upstream_port = 0
        self.pid = 0
        self._upstream: subprocess.Popen[str] | None = None
        self._children: list[subprocess.Popen[bytes]] = []
        self._old_term: Callable[[int, FrameType | None], object] | int | None = None

    # -- life cycle ---------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        if sys.platform != "win32":
            self._old_term = signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._start_upstream()
            for key, value in (
                ("providers.openrouter.base_url", f"http://127.0.0.1:{self.upstream_port}/v1"),
                ("router.default", "openrouter/bench/model"),
                ("server.port", str(self.port)),
            ):
                self.ccroute("config", "set", key, value, check=True)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the daemon, the upstream and any child still running; remove the home."""
        with contextlib.suppress(Exception):
            self.stop_daemon()
        for proc in [*self._children, self._upstream]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        if self._old_term is not None and sys.platform != "win32":
            signal.signal(signal.SIGTERM, self._old_term)
            self._old_term = None
        shutil.rmtree(self.home, ignore_errors=True)

    def _start_upstream(self) -> None:
        self._upstream = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "fake_upstream.py"), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        assert self._upstream.stdout is not None
        line = self._upstream.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the fake upstream did not start: {line!r}")
        self.upstream_port = int(line.split()[1])

    # -- ccroute commands ---------------------------------------------------------------------
    def ccroute(
        self, *args: str, check: bool = False, pin_proxy: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run `ccroute ARGS` in the isolated home (timeout 60 s); with `pin_proxy` the command
        (and the daemon it spawns) runs on the proxy core."""
        done = subprocess.run(
            [*ccroute_argv(), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
            preexec_fn=pinning.preexec(self.cores.proxy) if pin_proxy else None,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"ccroute {' '.join(args)} failed: {done.stderr.strip()}")
        return done

    def start_daemon(self) -> float:
        """`ccroute start` on the proxy core; its wall seconds (it returns once healthy)."""
        t0 = time.perf_counter()
        self.ccroute("start", check=True, pin_proxy=True)
        elapsed = time.perf_counter() - t0
        state = json.loads((self.home / "state" / "daemon.json").read_text())
        self.pid = int(state["pid"])
        pinning.pin_pid(self.pid, self.cores.proxy)
        return elapsed

    def stop_daemon(self) -> None:
        """`ccroute stop`; kill the daemon if it is somehow still alive."""
        if not self.pid:
            self.ccroute("stop")
            return
        pid, self.pid = self.pid, 0
        self.ccroute("stop")
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL if sys.platform != "win32" else signal.SIGTERM)

    def headers(self) -> dict[str, str]:
        """The headers Claude Code sends the daemon (local token as a bearer token)."""
        token = (self.home / "state" / "token").read_text().strip()
        return {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "anthropic-version": "2023-06-01",
        }

    def track(self, proc: subprocess.Popen[bytes]) -> None:
        """Kill `proc` on close if it is still running."""
        self._children.append(proc)


@contextlib.contextmanager
def stack(cores: pinning.CorePlan) -> Iterator[Stack]:
    """`with stack(cores) as s:` — a started `Stack`, closed on every exit."""
    with Stack(cores) as s:
        yield s


def _alive(pid: int) -> bool:
    try:
        import psutil

        return bool(psutil.pid_exists(pid)) and psutil.Process(pid).status() != "zombie"
    except ImportError:
        pass
    except Exception:
        return False
    if sys.platform == "win32":
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
