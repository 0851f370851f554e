"""Wall times of the CLI as a user feels them: `ccroute status`, and `ccroute code` up to the
moment `claude` starts, with the daemon warm.

Owns: a fake `claude` (set through CCROUTE_CLAUDE_BIN) that writes `time.time_ns()` to the file
named by `CCROUTE_BENCH_STAMP` and exits; `code_to_exec` times from spawning `ccroute code` to
that stamp, minus the same span measured by spawning the fake `claude` directly (the fake's
own interpreter start-up), so what is left is ccroute's own time before it starts `claude`.
The `ccroute start` wall time is `Stack.start_daemon`'s.

Must not import ccroute.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.stack import Stack, ccroute_argv

STAMP_ENV = "CCROUTE_BENCH_STAMP"


def fake_claude(directory: Path) -> Path:
    """Write the fake `claude` into `directory` and return its path."""
    script = directory / "fake_claude.py"
    script.write_text(
        "import os, sys, time\n"
        f"open(os.environ[{STAMP_ENV!r}], 'w').write(str(time.time_ns()))\n"
        "sys.exit(0)\n"
    )
    if sys.platform == "win32":
        launcher = directory / "claude.cmd"
        launcher.write_text(f'@"{sys.executable}" -S -E "{script}" %*\r\n')
        return launcher
    launcher = directory / "claude"
    launcher.write_text(f"#!{sys.executable} -SE\nexec(open({str(script)!r}).read())\n")
    launcher.chmod(0o755)
    return launcher


def _stamped_run(argv: list[str], env: dict[str, str], stamp: Path) -> float:
    """Seconds from spawning `argv` to the stamp the fake `claude` wrote."""
    stamp.unlink(missing_ok=True)
    t0 = time.time_ns()
    done = subprocess.run(
        argv, env=env, capture_output=True, timeout=60, check=False, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0 or not stamp.exists():
        raise RuntimeError(
            f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}"
        )
    return (int(stamp.read_text()) - t0) / 1e9


def code_to_exec(s: Stack, runs: int) -> float:
    """Median seconds `ccroute code -p hi` spends before `claude` starts (daemon running)."""
    bindir = s.home / "bin"
    bindir.mkdir(exist_ok=True)
    claude = fake_claude(bindir)
    stamp = bindir / "stamp"
    env = {**s.env, "CCROUTE_CLAUDE_BIN": str(claude), STAMP_ENV: str(stamp)}
    cwd = os.getcwd()
    os.chdir(s.home)  # no project .ccroute.toml from the user's checkout
    try:
        _stamped_run([*ccroute_argv(), "code", "-p", "hi"], env, stamp)  # warm the disk cache
        own = [_stamped_run([str(claude)], env, stamp) for _ in range(runs)]
        via = [_stamped_run([*ccroute_argv(), "code", "-p", "hi"], env, stamp) for _ in range(runs)]
    finally:
        os.chdir(cwd)
    return max(0.0, statistics.median(via) - statistics.median(own))


def status_wall(s: Stack, runs: int) -> float:
    """Median wall seconds of `ccroute status` (daemon running)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s.ccroute("status", check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
