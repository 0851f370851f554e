"""Sessions and the auto-stop of a daemon `ccroute code` started: session files are per PID and
judged by live processes (stale ones removed), an auto-started daemon stops once none is alive,
and a daemon from `ccroute start` (or with `server.stay = true`) does not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from ccroute import daemon, sessions
from ccroute.config import load_config, paths
from ccroute.errors import DaemonNotRunningError
from tests.test_daemon import free_port


def dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process standing in for a `ccroute code` launcher."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def stop_daemon() -> Iterator[None]:
    yield
    daemon.stop()


def test_record_writes_one_private_file_per_pid() -> None:
    session = sessions.record(claude_pid=12345)
    path = sessions.sessions_dir() / str(os.getpid())
    body = json.loads(path.read_text())
    assert body == {"pid": os.getpid(), "claude_pid": 12345, "started_at": session.started_at}
    if sys.platform != "win32":
        assert path.stat().st_mode & 0o777 == 0o600
    sessions.forget()
    assert not path.exists()
    sessions.forget()  # absent is fine


def test_live_sessions_keeps_live_ones_and_removes_stale_files(
    sleeper: subprocess.Popen[bytes],
) -> None:
    sessions.record(pid=sleeper.pid)
    gone = dead_pid()
    sessions.record(pid=gone)
    live = sessions.live_sessions()
    assert [s.pid for s in live] == [sleeper.pid]
    assert not (sessions.sessions_dir() / str(gone)).exists()
    assert (sessions.sessions_dir() / str(sleeper.pid)).exists()


def test_a_session_lives_while_its_claude_child_runs(sleeper: subprocess.Popen[bytes]) -> None:
    # The launcher was killed (no clean-up), but Claude Code still uses the daemon.
    sessions.record(pid=dead_pid(), claude_pid=sleeper.pid)
    assert [s.claude_pid for s in sessions.live_sessions()] == [sleeper.pid]


def test_unreadable_file_of_a_dead_pid_is_removed_and_of_a_live_one_kept() -> None:
    folder = sessions.sessions_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(dead_pid())).write_text("{half")
    (folder / str(os.getpid())).write_text("{half")  # e.g. being written right now
    assert sessions.live_sessions() == []
    assert [p.name for p in folder.iterdir()] == [str(os.getpid())]


def test_is_idle_follows_live_sessions_and_server_stay(sleeper: subprocess.Popen[bytes]) -> None:
    config = load_config()
    assert daemon.is_idle(config) is True
    sessions.record(pid=sleeper.pid)
    assert daemon.is_idle(config) is False
    sleeper.kill()
    sleeper.wait()
    assert daemon.is_idle(config) is True
    staying = replace(config, server=replace(config.server, stay=True))
    assert daemon.is_idle(staying) is False


def _wait_stopped(info: daemon.DaemonInfo, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            daemon.status()
        except DaemonNotRunningError:
            return True
        time.sleep(0.1)
    return False


def test_auto_started_daemon_stops_after_its_last_session_ends(
    sleeper: subprocess.Popen[bytes], stop_daemon: None
) -> None:
    sessions.record(pid=sleeper.pid)
    info = daemon.start(load_config(), port=free_port(), auto=True)  # as `ccroute code` does
    assert info.auto_started is True
    assert json.loads((paths().state_dir / "daemon.json").read_text())["auto_started"] is True
    time.sleep(2.5)  # at least one idle check while the session lives
    assert daemon.status().pid == info.pid
    sleeper.kill()
    sleeper.wait()
    assert _wait_stopped(info)
    assert (
        "no ccroute code session is running any more"
        in (paths().log_dir / "daemon.log").read_text()
    )


def test_daemon_from_ccroute_start_ignores_sessions(stop_daemon: None) -> None:
    info = daemon.start(load_config(), port=free_port())
    assert info.auto_started is False
    time.sleep(2.5)  # an idle check would have stopped an auto-started one
    assert daemon.status().pid == info.pid
