"""ccroute benchmarks: what the proxy adds, measured on loopback against a fast fake upstream.

    python -m benchmarks            # full run (a few minutes), prints the table
    python -m benchmarks --smoke    # seconds; exit 1 on a gross regression vs baseline.json
    python -m benchmarks --profile  # py-spy / pyinstrument profiles into benchmarks/results/
    python -m benchmarks --record   # full run, then write benchmarks/baseline.json
    python -m benchmarks --smoke --baseline FILE   # compare with another recorded run

(`python benchmarks/run.py ...` is the same.) Needs ccroute installed (`pip install -e
'.[bench]'`; psutil reads process CPU and RSS, py-spy / pyinstrument profile).

Starts `benchmarks/fake_upstream.py` and a ccroute daemon in a temporary CCROUTE_HOME on a
random free port (`benchmarks.stack`), the daemon pinned to its own core where the OS allows
(`benchmarks.pinning`), and measures in each repeat, on a fresh daemon:

- `ccroute start` to healthy, `ccroute status` wall, `ccroute code` to the start of `claude`;
- RSS and CPU of the idle daemon;
- latency p50/p99 of non-streaming requests, tiny and the ~78 KB Claude Code body, through the
  proxy and direct to the upstream (the same bytes), and the proxy's CPU per request;
- time to first text delta and total time of a 50-chunk stream (proxy and direct), the proxy's
  CPU per stream and per streamed chunk: the extra CPU of 200-chunk over 20-chunk streams whose
  chunks arrive 1 ms apart (each chunk read, translated and written on its own, as with a real
  model), and of 500-chunk over 50-chunk streams sent back to back (the proxy can batch);
- requests/s at saturation with the 78 KB body (16 connections; direct too, which shows what
  the client and upstream can do), and the proxy's CPU use meanwhile;
- RSS after the daemon served `--load` requests in total (the issue's 10,000).

CPU figures subtract the idle daemon's CPU. Each figure is the median over `--repeats`; the
table gives the issue 7 targets, and the JSON goes to benchmarks/results/latest.json. Every loop
is bounded in count and time; all traffic stays on 127.0.0.1; every process started is stopped
on exit, on errors and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import load, measure, pinning, report, startup  # noqa: E402
from benchmarks.stack import FIXTURE, Stack  # noqa: E402

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"


@dataclass(frozen=True)
class Counts:
    """How much each phase does (every phase is also bounded in time)."""

    repeats: int
    requests: int  # per latency phase (tiny, 78 KB), proxy and direct each
    streams: int  # per stream phase (50-chunk, 500-chunk)
    saturation: int  # requests in the saturation phase
    concurrency: int
    load: int  # total requests the daemon serves before "RSS after the load"
    cli_runs: int  # runs of `ccroute status` and of `ccroute code`
    idle_s: float
    phase_limit_s: float


FULL = Counts(3, 500, 50, 3000, 16, 10_000, 10, 2.0, 120.0)
SMOKE = Counts(1, 150, 10, 300, 16, 1000, 3, 1.0, 20.0)


def bodies() -> dict[str, bytes]:
    """The request bodies: tiny and 78 KB non-streaming, 50/500-chunk streams back to back, and
    20/200-chunk streams with chunks 1 ms apart (the fake upstream reads `chunks=N` and
    `gap_ms=M` from the prompt)."""
    fixture = json.loads(FIXTURE.read_text())["body"]

    def tiny(text: str, stream: bool) -> bytes:
        return json.dumps(
            {
                "model": "claude-opus-4-8",
                "max_tokens": 100,
                "stream": stream,
                "messages": [{"role": "user", "content": text}],
            }
        ).encode()

    return {
        "tiny": tiny("say hi", False),
        "78kb": json.dumps(dict(fixture, stream=False)).encode(),
        "stream50": tiny("say hi chunks=50", True),
        "stream500": tiny("say hi chunks=500", True),
        "spaced20": tiny("say hi chunks=20 gap_ms=1", True),
        "spaced200": tiny("say hi chunks=200 gap_ms=1", True),
    }


def one_repeat(s: Stack, c: Counts, add: Callable[[str, float], None]) -> int:
    """Measure everything once on a fresh daemon; the number of requests it served."""
    b = bodies()
    direct_headers = {"Content-Type": "application/json"}
    add("start_to_healthy_ms", s.start_daemon() * 1000)
    headers = s.headers()
    pid = s.pid
    time.sleep(0.3)
    cpu0, t0 = measure.cpu_seconds(pid), time.perf_counter()
    time.sleep(c.idle_s)
    idle_rate = max(0.0, (measure.cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0))
    add("idle_cpu_ms_per_s", idle_rate * 1000)
    add("rss_idle_mib", measure.rss_mib(pid))
    add("status_wall_ms", startup.status_wall(s, c.cli_runs) * 1000)
    add("code_to_exec_ms", startup.code_to_exec(s, c.cli_runs) * 1000)

    def cpu_ms(fn: Callable[[], object]) -> tuple[float, object]:
        """(proxy CPU ms spent while fn ran, less idle, fn's result)."""
        cpu_a, wall_a = measure.cpu_seconds(pid), time.perf_counter()
        result = fn()
        used = measure.cpu_seconds(pid) - cpu_a - idle_rate * (time.perf_counter() - wall_a)
        return used * 1000, result

    served = 0
    for name in ("tiny", "78kb"):
        body = b[name]
        load.sequential(s.upstream_port, CHAT, body, direct_headers, 20)
        served += len(load.sequential(s.port, MESSAGES, body, headers, 20))
        direct = load.sequential(
            s.upstream_port, CHAT, body, direct_headers, c.requests, c.phase_limit_s
        )
        used, via = cpu_ms(
            lambda body=body: load.sequential(  # type: ignore[misc]
                s.port, MESSAGES, body, headers, c.requests, c.phase_limit_s
            )
        )
        assert isinstance(via, list)
        served += len(via)
        add(f"{name}_cpu_ms_per_request", used / len(via))
        add(f"{name}_direct_p50_ms", measure.percentile(direct, 0.5) * 1000)
        for q in (50, 99):
            added = measure.percentile(via, q / 100) - measure.percentile(direct, q / 100)
            add(f"{name}_added_p{q}_ms", added * 1000)

    direct_streams = [
        load.stream(s.upstream_port, CHAT, b["stream50"], direct_headers) for _ in range(c.streams)
    ]
    add("stream50_direct_first_text_ms", measure.median([f for f, _ in direct_streams]) * 1000)
    add("stream50_direct_total_ms", measure.median([t for _, t in direct_streams]) * 1000)
    load.stream(s.port, MESSAGES, b["stream50"], headers)
    used50, streams50 = cpu_ms(
        lambda: [load.stream(s.port, MESSAGES, b["stream50"], headers) for _ in range(c.streams)]
    )
    used500, _ = cpu_ms(
        lambda: [load.stream(s.port, MESSAGES, b["stream500"], headers) for _ in range(c.streams)]
    )
    used20, _ = cpu_ms(
        lambda: [load.stream(s.port, MESSAGES, b["spaced20"], headers) for _ in range(c.streams)]
    )
    used200, _ = cpu_ms(
        lambda: [load.stream(s.port, MESSAGES, b["spaced200"], headers) for _ in range(c.streams)]
    )
    served += 1 + 4 * c.streams
    assert isinstance(streams50, list)
    add("stream50_first_text_ms", measure.median([f for f, _ in streams50]) * 1000)
    add("stream50_total_ms", measure.median([t for _, t in streams50]) * 1000)
    add("stream50_cpu_ms_per_request", used50 / c.streams)
    add("stream_cpu_ms_per_chunk", (used200 - used20) / c.streams / 180)
    add("stream_cpu_ms_per_chunk_back_to_back", (used500 - used50) / c.streams / 450)

    n, wall = load.saturate(
        s.upstream_port,
        CHAT,
        b["78kb"],
        direct_headers,
        concurrency=c.concurrency,
        total=c.saturation,
        limit_s=c.phase_limit_s / 4,
    )
    add("78kb_rps_direct", n / wall)
    cpu_a = measure.cpu_seconds(pid)
    n, wall = load.saturate(
        s.port,
        MESSAGES,
        b["78kb"],
        headers,
        concurrency=c.concurrency,
        total=c.saturation,
        limit_s=c.phase_limit_s / 2,
    )
    served += n
    add("78kb_rps", n / wall)
    add("78kb_rps_proxy_core_pct", (measure.cpu_seconds(pid) - cpu_a) / wall * 100)

    if served < c.load:
        n, _ = load.saturate(
            s.port,
            MESSAGES,
            b["78kb"],
            headers,
            concurrency=c.concurrency,
            total=c.load - served,
            limit_s=c.phase_limit_s,
        )
        served += n
    add("rss_after_load_mib", measure.rss_mib(pid))
    s.stop_daemon()
    return served


def run(c: Counts, mode: str) -> tuple[dict[str, float], dict[str, object]]:
    """Run `c.repeats` repeats; (median figures, metadata)."""
    cores = pinning.plan()
    pinning.pin_self(cores.others)
    results: dict[str, list[float]] = {}
    served: list[int] = []

    def add(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    with Stack(cores) as s:
        for i in range(c.repeats):
            print(f"  repeat {i + 1}/{c.repeats} ...", file=sys.stderr, flush=True)
            served.append(one_repeat(s, c, add))
    figures = {name: measure.median(values) for name, values in results.items()}
    meta: dict[str, object] = {
        "mode": mode,
        "repeats": c.repeats,
        "counts": asdict(c),
        "load_requests": min(served),
        "pinning": cores.note,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "fixture": FIXTURE.name,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "per_repeat": results,
    }
    return figures, meta


def main(argv: list[str] | None = None) -> None:
    """The `python -m benchmarks` command; exits 1 when `--smoke` finds a gross regression."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="quick run; fail on > 3x baseline")
    parser.add_argument("--profile", action="store_true", help="write profiles, no table")
    parser.add_argument("--record", action="store_true", help="write benchmarks/baseline.json")
    parser.add_argument("--repeats", type=int, help="repeats (default 3; smoke 1)")
    parser.add_argument("--requests", type=int, help="requests per latency phase (default 500)")
    parser.add_argument(
        "--output", type=Path, default=report.RESULTS / "latest.json", help="JSON result file"
    )
    parser.add_argument(
        "--baseline", type=Path, default=report.BASELINE, help="figures --smoke compares with"
    )
    args = parser.parse_args(argv)
    if args.profile:
        from benchmarks import profiling

        profiling.main()
        return
    counts = SMOKE if args.smoke else FULL
    if args.repeats is not None:
        counts = Counts(**{**asdict(counts), "repeats": max(1, min(args.repeats, 10))})
    if args.requests is not None:
        counts = Counts(**{**asdict(counts), "requests": max(20, min(args.requests, 5000))})
    mode = "smoke" if args.smoke else "full"
    try:
        figures, meta = run(counts, mode)
    except KeyboardInterrupt:
        print("interrupted; every process it started was stopped", file=sys.stderr)
        raise SystemExit(130) from None
    print(report.table(figures, meta))
    report.write_json(args.output, figures, meta)
    print(f"\nJSON: {args.output}")
    if args.record:
        report.write_json(args.baseline, figures, meta)
        print(f"baseline recorded: {args.baseline}")
    if args.smoke:
        if not args.baseline.exists():
            raise SystemExit(f"no baseline to compare with: {args.baseline}")
        failures = report.smoke_failures(figures, report.read_figures(args.baseline))
        if failures:
            print("\nsmoke: FAIL (gross regression)\n  " + "\n  ".join(failures))
            raise SystemExit(1)
        print(f"\nsmoke: ok (CPU and RSS figures within 3x of {args.baseline})")
    nan = [k for k, v in figures.items() if math.isnan(v)]
    if nan:
        print(f"not measured on this platform: {', '.join(nan)}")


if __name__ == "__main__":
    main()
