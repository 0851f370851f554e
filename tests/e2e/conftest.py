"""End-to-end harness: the real `ccroute` CLI and the real `claude` binary, as subprocesses,
against the scripted fake OpenAI upstream served on loopback from a background thread.

Every test gets a fresh HOME, CCROUTE_HOME and project directory, and an environment built from
scratch (no inherited ANTHROPIC_*, CCROUTE_* or provider keys). The daemon is stopped and, if it
survives, killed after each test. On failure, `E2E.report()` puts the commands run, their output,
the daemon log and what the upstream received into the assertion message.
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
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ccroute.process import pid_alive
from tests.fakes.openai_upstream import FakeOpenAI

REPO = Path(__file__).resolve().parents[2]
TEST_KEY = "sk-or-e2e-test-key-0123456789"
MODEL = "test-vendor/e2e-model"
CLI_TIMEOUT = 30.0
CODE_TIMEOUT = 90.0

INSTALL_HINT = (
    "The end-to-end tests need the real Claude Code CLI. Install it into the repo cache with\n"
    "    npm install --prefix .cache/claude-code @anthropic-ai/claude-code\n"
    "(or set CCROUTE_TEST_CLAUDE_BIN=/path/to/claude, or put `claude` on PATH). "
    "`.ci/run` does this for you."
)

# Variables passed through from the outer environment; everything else is dropped.
_PASS_THROUGH = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "NODE_EXTRA_CA_CERTS")


def find_claude() -> str | None:
    """CCROUTE_TEST_CLAUDE_BIN, else the repo's npm cache, else PATH."""
    explicit = os.environ.get("CCROUTE_TEST_CLAUDE_BIN")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    cached = REPO / ".cache" / "claude-code" / "node_modules" / ".bin" / "claude"
    if os.access(cached, os.X_OK):
        return str(cached)
    return shutil.which("claude")


@pytest.fixture(scope="session")
def claude_bin() -> str:
    path = find_claude()
    if path is None:
        explicit = os.environ.get("CCROUTE_TEST_CLAUDE_BIN")
        where = f"CCROUTE_TEST_CLAUDE_BIN={explicit!r} is not executable. " if explicit else ""
        pytest.fail(where + INSTALL_HINT, pytrace=False)
    try:
        out = subprocess.run(
            [path, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"{path} --version failed: {exc!r}\n{INSTALL_HINT}", pytrace=False)
    if out.returncode != 0:
        pytest.fail(
            f"{path} --version exited {out.returncode}: {out.stderr.strip()}\n{INSTALL_HINT}",
            pytrace=False,
        )
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(repr=False)
class Run:
    """One finished subprocess."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    def __repr__(self) -> str:
        return f"<Run {' '.join(self.argv[2:4])}... exit {self.returncode}>"

    def describe(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\n-> exit {self.returncode}"
            f"{' (TIMED OUT)' if self.timed_out else ''} in {self.seconds:.1f}s\n"
            f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}"
        )

    def result_json(self) -> dict[str, Any]:
        """Claude Code's `--output-format json` result (the last JSON object on stdout)."""
        for raw_line in reversed(self.stdout.strip().splitlines()):
            line = raw_line.strip()
            if line.startswith("{"):
                value = json.loads(line)
                if isinstance(value, dict):
                    return value
        raise AssertionError(f"no JSON result on stdout:\n{self.describe()}")


@dataclass(repr=False)
class E2E:
    """A sandbox for one test: directories, environment, the fake upstream, and helpers."""

    claude: str
    root: Path
    key: str = TEST_KEY
    fake: FakeOpenAI = field(default_factory=lambda: FakeOpenAI(api_key=TEST_KEY))
    runs: list[Run] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<E2E {self.root}>"

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.ccroute_home = self.root / "ccroute-home"
        self.project = self.root / "project"
        for d in (self.home, self.ccroute_home, self.project):
            d.mkdir(parents=True, exist_ok=True)
        self.project = self.project.resolve()
        self.port = 0  # chosen in configure(), once the fake upstream holds its own port

    # -- environment ----------------------------------------------------------------------------

    def env(self, *, with_key: bool = True, **extra: str) -> dict[str, str]:
        env = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
        env.update(
            HOME=str(self.home),
            CCROUTE_HOME=str(self.ccroute_home),
            CCROUTE_CLAUDE_BIN=self.claude,
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            DISABLE_TELEMETRY="1",
            DISABLE_ERROR_REPORTING="1",
            CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL="1",
            # never touch a real keychain from a test
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            PYTHONUNBUFFERED="1",
        )
        if with_key:
            env["OPENROUTER_API_KEY"] = self.key
        env.update(extra)
        return env

    # -- running things -------------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        timeout: float = CLI_TIMEOUT,
    ) -> Run:
        """Run a command with no stdin, in the project dir, in its own process group; on timeout
        the whole group is killed and the run is returned with `timed_out=True`."""
        argv = [str(a) for a in argv]
        started = time.monotonic()
        proc = subprocess.Popen(
            argv,
            cwd=self.project,
            env=env if env is not None else self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        timed_out = False
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate(timeout=10)
        run = Run(argv, proc.returncode, stdout, stderr, time.monotonic() - started, timed_out)
        self.runs.append(run)
        return run

    def ccroute(self, *args: str, env: dict[str, str] | None = None, timeout: float = CLI_TIMEOUT):
        return self.run([sys.executable, "-m", "ccroute", *args], env=env, timeout=timeout)

    def must(self, *args: str, env: dict[str, str] | None = None) -> Run:
        """`ccroute <args>` that must exit 0."""
        __tracebackhide__ = True
        run = self.ccroute(*args, env=env)
        assert run.returncode == 0, self.report(f"`ccroute {' '.join(args)}` failed")
        return run

    def configure(self, base_url: str, model: str = MODEL) -> None:
        """The three `ccroute config set` calls every e2e test starts with."""
        __tracebackhide__ = True
        self.port = free_port()
        self.must("config", "set", "providers.openrouter.base_url", base_url)
        self.must("config", "set", "router.default", f"openrouter/{model}")
        self.must("config", "set", "server.port", str(self.port))

    def code(self, prompt: str, *extra: str, env: dict[str, str] | None = None) -> Run:
        """`ccroute code -p <prompt> --allowedTools Write --output-format json [extra]`."""
        return self.ccroute(
            "code",
            "-p",
            prompt,
            "--allowedTools",
            "Write",
            "--output-format",
            "json",
            *extra,
            env=env,
            timeout=CODE_TIMEOUT,
        )

    # -- inspection -----------------------------------------------------------------------------

    def daemon_log(self) -> str:
        logs = self.ccroute_home / "logs"
        parts = []
        for path in sorted(logs.rglob("*")) if logs.exists() else []:
            if path.is_file():
                text = path.read_text(errors="replace")
                parts.append(f"--- {path} ---\n{text[-6000:]}")
        return "\n".join(parts) or "(no daemon log)"

    def daemon_log_text(self) -> str:
        """The whole current daemon log (`logs/daemon.log`), "" if there is none yet."""
        try:
            return (self.ccroute_home / "logs" / "daemon.log").read_text(errors="replace")
        except OSError:
            return ""

    def daemon_token(self) -> str:
        """The daemon's local auth token (`state/token`, created by `ccroute start`/`code`)."""
        return (self.ccroute_home / "state" / "token").read_text(encoding="ascii").strip()

    @property
    def daemon_url(self) -> str:
        """The daemon's base URL (no `/v1`), on the port chosen in `configure()`."""
        return f"http://127.0.0.1:{self.port}"

    def daemon_pid(self) -> int | None:
        state = self.ccroute_home / "state" / "daemon.json"
        try:
            pid = json.loads(state.read_text()).get("pid")
        except (OSError, ValueError, AttributeError):
            return None
        return pid if isinstance(pid, int) and pid > 0 else None

    def upstream_summary(self) -> str:
        lines = []
        for i, req in enumerate(self.fake.requests):
            body = req.json if isinstance(req.json, dict) else {}
            roles = [m.get("role") for m in body.get("messages", []) if isinstance(m, dict)]
            lines.append(
                f"#{i} {req.method} {req.path} model={body.get('model')!r} "
                f"stream={body.get('stream')!r} auth={'ok' if req.header('authorization') else '-'}"
                f" roles={roles}"
            )
        if self.fake.problems:
            lines.append(f"fake upstream problems: {self.fake.problems}")
        return "\n".join(lines) or "(the upstream received no requests)"

    def report(self, headline: str) -> str:
        runs = "\n\n".join(r.describe() for r in self.runs[-4:])
        return (
            f"{headline}\n\n=== commands ===\n{runs}\n\n=== upstream ===\n"
            f"{self.upstream_summary()}\n\n=== daemon log ===\n{self.daemon_log()}"
        )

    # -- teardown -------------------------------------------------------------------------------

    def cleanup(self) -> None:
        pid = self.daemon_pid()
        with contextlib.suppress(Exception):
            self.ccroute("stop", timeout=20)
        pid = pid or self.daemon_pid()
        if pid is not None and pid_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def e2e(claude_bin: str, tmp_path: Path) -> Iterator[E2E]:
    sandbox = E2E(claude=claude_bin, root=tmp_path / "e2e")
    try:
        yield sandbox
    finally:
        sandbox.cleanup()


@pytest.fixture
def upstream(e2e: E2E) -> Iterator[str]:
    """The fake upstream served from a thread; yields its base URL (`.../v1`)."""
    with e2e.fake.serve_in_thread() as base_url:
        yield base_url
