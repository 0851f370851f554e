"""`python -m benchmarks --profile`: where the proxy's CPU goes, and what the CLI imports.

Owns: running `ccroute serve` under a sampling profiler for one load case at a time — the
~78 KB non-streaming request, a tiny one (the fixed cost of any request), 200-chunk streams
with chunks 1 ms apart (as a model sends them) and 500-chunk streams back to back — and
summarising each profile (top functions by own and by inclusive samples, the idle event-loop
wait and the daemon's start-up left out); and `python -X importtime` of `ccroute status` and
`ccroute code` (top imports by cumulative time). Everything is written to benchmarks/results/
(`profile-<case>.txt` raw output, `*-summary.txt`, `importtime-*.txt`) and the summaries are
printed.

The profiler is py-spy when its executable is found (it starts the daemon as its own child, so
it needs no root on Linux; macOS needs root for py-spy), else pyinstrument (pure Python, no
privileges). Both are in the `bench` extra. Must not import ccroute.
"""

from __future__ import annotations

import collections
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import load, pinning, report, startup
from benchmarks.stack import Stack, ccroute_argv

MESSAGES = "/v1/messages"
#: Leaf frames that mean "waiting", left out of the rankings (py-spy leaves out idle threads
#: itself; the event loop's own wait can still show).
_IDLE = ("select (selectors.py", "poll (selectors.py")
#: The main thread's stacks with none of the _LOOP frames are the daemon's start-up and
#: shutdown (typer, imports, building the app), not the requests; other threads always count.
#: _LOOP names asyncio's loop and aiohttp's protocol frames, so a C event loop (uvloop), which
#: hides asyncio's frames, still leaves the request work counted.
_MAIN = "(ccroute/__main__.py"
_LOOP = (
    "BaseEventLoop._run_once (",
    "Handle._run (",
    "(aiohttp/web_protocol.py",
    "(aiohttp/client_proto.py",
    "(aiohttp/client.py",
    "(aiohttp/web_app.py",
)
_LINE = re.compile(r":\d+\)$")


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / ("py-spy.exe" if sys.platform == "win32" else "py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _wait_healthy(s: Stack, proc: subprocess.Popen[bytes], limit_s: float = 30.0) -> int:
    state = s.home / "state" / "daemon.json"
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the profiled daemon exited ({proc.returncode})")
        if state.exists() and s.ccroute("status").returncode == 0:
            return int(json.loads(state.read_text())["pid"])
        time.sleep(0.1)
    raise RuntimeError("the profiled daemon did not become healthy")


def profile_case(s: Stack, case: str, body: bytes, n: int, out: Path) -> Path:
    """Serve `n` requests of `body` under the profiler; the raw profile file."""
    spy = _py_spy()
    serve = [sys.executable, "-m", "ccroute", "serve"]
    if spy:
        raw = out / f"profile-{case}.txt"
        argv = [
            spy,
            "record",
            "--gil",
            "--rate",
            "500",
            "--format",
            "raw",
            "--output",
            str(raw),
            "--",
        ]
        argv += serve
    else:
        raw = out / f"profile-{case}-pyinstrument.txt"
        argv = [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(raw), "-m"]
        argv += serve[2:]
    log = out / f"profile-{case}.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            argv, env=s.env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file
        )
    s.track(proc)
    pid = _wait_healthy(s, proc)
    pinning.pin_pid(pid, s.cores.proxy)
    headers = s.headers()
    if case.startswith("stream"):
        for _ in range(n):
            load.stream(s.port, MESSAGES, body, headers)
    else:
        load.saturate(s.port, MESSAGES, body, headers, concurrency=4, total=n, limit_s=120.0)
    s.ccroute("stop")
    proc.wait(timeout=60)
    if not raw.exists():
        raise RuntimeError(f"the profiler wrote nothing; see {log}")
    return raw


def summarise_raw(raw: Path, top: int = 20) -> str:
    """Top functions of a py-spy raw (collapsed stacks) profile, by own and inclusive samples."""
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = idle = outside = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        if any(mark in frames[-1] for mark in _IDLE):
            idle += count
            continue
        if any(_MAIN in frame for frame in frames) and not any(
            mark in frame for frame in frames for mark in _LOOP
        ):
            outside += count
            continue
        functions = [_LINE.sub(")", frame) for frame in frames]
        own[functions[-1]] += count
        for function in set(functions):
            incl[function] += count
    busy = max(1, total - idle - outside)
    # Functions on (nearly) every stack — the CLI, the event loop — say nothing.
    inner = [(f, c) for f, c in incl.most_common() if c < 0.9 * busy]
    lines = [
        f"{raw.name}: {total} samples; {busy} busy, {idle} waiting in the event loop, "
        f"{outside} in start-up and shutdown left out"
    ]
    lines.append(f"-- top {top} functions by own samples (% of busy samples)")
    lines += [f"{100 * c / busy:6.1f}%  {f}" for f, c in own.most_common(top)]
    lines.append(f"-- top {top} by inclusive samples, under 90% (% of busy samples)")
    lines += [f"{100 * c / busy:6.1f}%  {f}" for f, c in inner[:top]]
    return "\n".join(lines)


def importtime(s: Stack, args: list[str], env: dict[str, str], top: int = 15) -> str:
    """`python -X importtime -m ccroute ARGS`: wall ms, and the top imports by cumulative µs."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ccroute", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        cwd=s.home,
    )
    wall = (time.perf_counter() - t0) * 1000
    rows: list[tuple[int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own_text, cumulative_text, module = (part.strip() for part in line[12:].split("|", 2))
        rows.append((int(cumulative_text), int(own_text), module))
    total_us = sum(own for _, own, _ in rows)
    lines = [
        f"ccroute {' '.join(args)}: {wall:.0f} ms wall (with -X importtime), "
        f"{total_us / 1000:.0f} ms in {len(rows)} imports",
        f"-- top {top} by cumulative ms (self ms, module)",
    ]
    for cumulative, own, module in sorted(rows, reverse=True)[:top]:
        lines.append(f"{cumulative / 1000:8.1f} {own / 1000:7.1f}  {module}")
    return "\n".join(lines)


def main() -> None:
    """Write the profiles and import-time summaries; print the summaries."""
    from benchmarks.run import bodies

    out = report.RESULTS
    out.mkdir(parents=True, exist_ok=True)
    cores = pinning.plan()
    pinning.pin_self(cores.others)
    b = bodies()
    summaries: list[str] = []
    with Stack(cores) as s:
        cases = (
            ("78kb", b["78kb"], 2000),
            ("tiny", b["tiny"], 3000),
            ("stream200-spaced", b["spaced200"], 100),
            ("stream500", b["stream500"], 200),
        )
        for case, body, n in cases:
            print(f"  profiling {case} ...", file=sys.stderr, flush=True)
            raw = profile_case(s, case, body, n, out)
            text = summarise_raw(raw) if raw.name.endswith(f"{case}.txt") else raw.read_text()
            (out / f"profile-{case}-summary.txt").write_text(text + "\n")
            summaries.append(text)
        s.start_daemon()
        bindir = s.home / "bin"
        bindir.mkdir(exist_ok=True)
        claude = startup.fake_claude(bindir)
        env = {
            **s.env,
            "CCROUTE_CLAUDE_BIN": str(claude),
            startup.STAMP_ENV: str(bindir / "stamp"),
        }
        for name, args in (("status", ["status"]), ("code", ["code", "-p", "hi"])):
            importtime(s, args, env)  # warm the disk cache
            text = importtime(s, args, env)
            (out / f"importtime-{name}.txt").write_text(text + "\n")
            summaries.append(text)
    print("\n\n".join(summaries))
    print(
        f"\nwritten to {out}/ (profile-*.txt, *-summary.txt, importtime-*.txt); argv: "
        f"{' '.join(ccroute_argv())}"
    )
