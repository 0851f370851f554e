"""ccroute benchmarks: what the proxy adds, measured on loopback against a fast fake upstream.

    python benchmarks/run.py [--requests 200] [--repeats 3] [--json]

Starts `benchmarks/fake_upstream.py` and a ccroute daemon (in a temporary CCROUTE_HOME), then
measures, each as the median over `--repeats` runs:

- added latency p50/p99 of a non-streaming request: through ccroute minus direct to the
  upstream, for a tiny body and the ~78 KB Claude Code body from tests/fixtures;
- time to first text delta and total time of a 50-chunk stream;
- daemon CPU time per request (Linux /proc), RSS idle, after 100 requests with the 78 KB
  body on a fresh daemon, and after the whole load;
- `ccroute start` to healthy and `ccroute status` wall time.

Every loop is bounded in count; all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "claude_code" / "print_say_hi_opus_default.json"
sys.path.insert(0, str(ROOT))

from ccroute.translate import openai  # noqa: E402
from ccroute.translate.messages import validate_request  # noqa: E402


def ccroute(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccroute", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def start_upstream() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "fake_upstream.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"fake upstream did not start: {line!r}")
    return proc, int(line.split()[1])


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_stat(pid: int) -> tuple[float, float]:
    """(CPU seconds used, RSS in MiB) of `pid`; Linux /proc, `ps` elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks
        rss_kb = next(
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmRSS:")
        )
        return cpu, rss_kb / 1024
    except OSError:
        out = subprocess.run(
            ["ps", "-o", "rss=,time=", "-p", str(pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        return float("nan"), int(out[0]) / 1024 if out else float("nan")


def timed_posts(port: int, path: str, body: bytes, headers: dict[str, str], n: int) -> list[float]:
    """POST `body` n times over one keep-alive connection; per-request seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times: list[float] = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            times.append(time.perf_counter() - t0)
            if resp.status != 200:
                raise SystemExit(f"POST {path} -> {resp.status}: {data[:300]!r}")
    finally:
        conn.close()
    return times


def stream_once(port: int, body: bytes, headers: dict[str, str]) -> tuple[float, float]:
    """(seconds to the first text delta, total seconds) of one streamed request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        t0 = time.perf_counter()
        conn.request("POST", "/v1/messages", body=body, headers=headers)
        resp = conn.getresponse()
        first = None
        buf = b""
        while True:
            piece = resp.read1(65536)
            if not piece:
                break
            buf += piece
            if first is None and b"text_delta" in buf:
                first = time.perf_counter() - t0
        total = time.perf_counter() - t0
        if b"message_stop" not in buf:
            raise SystemExit(f"stream did not finish: {buf[-300:]!r}")
        return first if first is not None else total, total
    finally:
        conn.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wall(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(requests: int, repeats: int) -> dict[str, float]:
    fixture = json.loads(FIXTURE.read_text())["body"]
    big = dict(fixture, stream=False)
    tiny = {
        "model": "claude-opus-4-8",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "say hi"}],
    }
    streamed = dict(tiny, stream=True)
    upstream, up_port = start_upstream()
    home = tempfile.mkdtemp(prefix="ccroute-bench-")
    env = {**os.environ, "CCROUTE_HOME": home, "OPENROUTER_API_KEY": "sk-bench"}
    port = free_port()
    results: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    try:
        for key, value in (
            ("providers.openrouter.base_url", f"http://127.0.0.1:{up_port}/v1"),
            ("router.default", "openrouter/bench/model"),
            ("server.port", str(port)),
        ):
            done = ccroute("config", "set", key, value, env=env)
            if done.returncode != 0:
                raise SystemExit(f"config set failed: {done.stderr}")
        token_headers: dict[str, str] = {}
        for _ in range(repeats):
            ccroute("stop", env=env)
            add("start_to_healthy_ms", wall(lambda: ccroute("start", env=env)) * 1000)
            status = json.loads(ccroute("status", "--json", env=env).stdout)
            pid = int(status["pid"])
            token = (Path(home) / "state" / "token").read_text().strip()
            token_headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "anthropic-version": "2023-06-01",
            }
            add(
                "status_wall_ms",
                statistics.median(
                    wall(lambda: ccroute("status", env=env)) * 1000 for _ in range(10)
                ),
            )
            add("rss_idle_mib", proc_stat(pid)[1])
            raw_big = json.dumps(big).encode()
            timed_posts(port, "/v1/messages", raw_big, token_headers, 100)
            add("rss_after_100_78kb_mib", proc_stat(pid)[1])

            for name, body in (("tiny", tiny), ("78kb", big)):
                raw = json.dumps(body).encode()
                req = validate_request(body)
                direct = json.dumps(
                    openai.build_request(
                        req,
                        target=openai.Target(
                            provider="bench", model="bench/model", max_tokens=32000
                        ),
                        stream=False,
                    )
                ).encode()
                json_headers = {"Content-Type": "application/json"}
                timed_posts(up_port, "/v1/chat/completions", direct, json_headers, 20)  # warm-up
                timed_posts(port, "/v1/messages", raw, token_headers, 20)
                base = timed_posts(up_port, "/v1/chat/completions", direct, json_headers, requests)
                cpu0 = proc_stat(pid)[0]
                via = timed_posts(port, "/v1/messages", raw, token_headers, requests)
                cpu1 = proc_stat(pid)[0]
                add(f"{name}_added_p50_ms", (pct(via, 0.5) - pct(base, 0.5)) * 1000)
                add(f"{name}_added_p99_ms", (pct(via, 0.99) - pct(base, 0.99)) * 1000)
                add(f"{name}_proxy_p50_ms", pct(via, 0.5) * 1000)
                add(f"{name}_cpu_ms_per_request", (cpu1 - cpu0) / requests * 1000)
            add("rss_after_load_mib", proc_stat(pid)[1])

            raw_stream = json.dumps(streamed).encode()
            stream_once(port, raw_stream, token_headers)
            firsts, totals = zip(
                *(stream_once(port, raw_stream, token_headers) for _ in range(50)), strict=True
            )
            add("stream50_first_text_ms", statistics.median(firsts) * 1000)
            add("stream50_total_ms", statistics.median(totals) * 1000)
    finally:
        ccroute("stop", env=env)
        upstream.terminate()
        upstream.wait(timeout=10)
    return {name: statistics.median(values) for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="repeats (medians reported)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    figures = run(max(1, min(args.requests, 5000)), max(1, min(args.repeats, 10)))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    width = max(map(len, figures))
    print(f"ccroute benchmarks (medians of {args.repeats} repeats, {args.requests} requests each)")
    for name, value in figures.items():
        print(f"  {name:<{width}}  {value:9.2f}")


if __name__ == "__main__":
    main()
