"""The daemon's life cycle with a real background process: start, status, stop, stale state."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccroute import daemon
from ccroute.cli import app
from ccroute.config import load_config, paths
from ccroute.errors import DaemonError, DaemonNotRunningError

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stop_daemon() -> Iterator[None]:
    """Make sure no daemon outlives the test."""
    yield
    daemon.stop()


def test_status_when_nothing_runs_raises_not_running() -> None:
    with pytest.raises(DaemonNotRunningError):
        daemon.status()


def test_cli_status_exits_3_when_not_running() -> None:
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 3
    assert "not running" in result.output


def test_cli_status_json_reports_not_running_with_exit_3() -> None:
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["running"] is False


def test_stale_state_file_of_dead_process_is_cleaned_up() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(proc.stdout)
    state = paths().state_dir / "daemon.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(
        json.dumps(
            {
                "pid": dead_pid,
                "host": "127.0.0.1",
                "port": free_port(),
                "version": "0",
                "started_at": 0,
            }
        )
    )
    with pytest.raises(DaemonNotRunningError) as info:
        daemon.status()
    assert "stale" in info.value.message
    assert not state.exists()


def test_start_status_stop_round_trip(stop_daemon: None) -> None:
    port = free_port()
    info = daemon.start(load_config(), port=port)
    assert info.port == port
    assert info.url == f"http://127.0.0.1:{port}"
    again = daemon.start(load_config(), port=port)
    assert again.pid == info.pid  # already running: no second daemon
    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    report = json.loads(status.stdout)
    assert report["running"] is True
    assert report["pid"] == info.pid
    assert report["port"] == port
    assert report["config_file"] == str(paths().config_file)
    stopped = daemon.stop()
    assert stopped is not None and stopped.pid == info.pid
    with pytest.raises(DaemonNotRunningError):
        daemon.status()
    assert daemon.stop() is None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_token_file_is_private_and_reused_across_restarts(stop_daemon: None) -> None:
    port = free_port()
    daemon.start(load_config(), port=port)
    token_file = paths().state_dir / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    first = daemon.read_token()
    daemon.stop()
    daemon.start(load_config(), port=port)
    assert daemon.read_token() == first
    assert len(first) >= 32


def test_taken_port_gives_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DaemonError) as info:
            daemon.start(load_config(), port=port)
    message = info.value.message
    assert str(port) in message
    assert "server.port" in message
    with pytest.raises(DaemonNotRunningError):
        daemon.status()


def test_cli_start_prints_url_and_warns_about_missing_key(stop_daemon: None) -> None:
    port = free_port()
    result = runner.invoke(app, ["start", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert f"http://127.0.0.1:{port}" in result.stdout
    assert "ccroute keys set openrouter" in result.stderr
    assert runner.invoke(app, ["stop"]).exit_code == 0
    assert runner.invoke(app, ["status"]).exit_code == 3


def test_cli_start_and_stop_json(stop_daemon: None) -> None:
    port = free_port()
    result = runner.invoke(app, ["start", "--port", str(port), "--json"])
    assert result.exit_code == 0, result.output
    started = json.loads(result.stdout)
    assert started["running"] is True and started["url"] == f"http://127.0.0.1:{port}"
    assert started["pid"] == daemon.status().pid
    stopped = json.loads(runner.invoke(app, ["stop", "--json"]).stdout)
    assert stopped == {"running": False, "pid": started["pid"], "url": started["url"]}
    assert json.loads(runner.invoke(app, ["stop", "--json"]).stdout) == {"running": False}


def test_serve_refuses_to_run_twice(stop_daemon: None) -> None:
    port = free_port()
    info = daemon.start(load_config(), port=port)
    result = subprocess.run(
        [sys.executable, "-m", "ccroute", "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        env=os.environ.copy(),
        check=False,
    )
    assert result.returncode != 0
    assert f"pid {info.pid}" in result.stderr


def test_daemon_log_records_requests_without_secrets(stop_daemon: None) -> None:
    port = free_port()
    daemon.start(load_config(), port=port)
    daemon.stop()
    log = (paths().log_dir / "daemon.log").read_text()
    assert "listening on" in log
    assert daemon.read_token() not in log


def test_state_files_live_under_ccroute_home(isolated_home: Path) -> None:
    p = paths()
    assert p.state_dir.is_relative_to(isolated_home)
    assert p.log_dir.is_relative_to(isolated_home)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="zombie state read from /proc")
def test_exited_but_unreaped_process_counts_as_gone() -> None:
    from ccroute.process import pid_alive

    # A grandchild whose parent exits is re-parented; a child we never wait for stays a zombie.
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{proc.pid}/stat").read_bytes()
        if stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] == b"Z":
            break
        time.sleep(0.01)
    assert proc.returncode is None  # not reaped by us: the kernel still lists the pid
    # pid_alive reaps our own child via waitpid; either way it must report the process gone.
    assert pid_alive(proc.pid) is False
    proc.returncode = 0


def test_stop_of_a_daemon_started_by_an_exited_cli_is_quick(stop_daemon: None) -> None:
    # `ccroute start` exits at once, so the daemon's parent becomes init, which may reap it late;
    # stop must not wait for that.
    port = free_port()
    subprocess.run(
        [sys.executable, "-m", "ccroute", "start", "--port", str(port)],
        capture_output=True,
        timeout=30,
        check=True,
        env=os.environ.copy(),
    )
    started = time.monotonic()
    assert daemon.stop() is not None
    assert time.monotonic() - started < 1.0
