"""The figures' names, targets (issue 7) and units; the printed table; the JSON result file;
and the smoke verdict against benchmarks/baseline.json.

Owns: `FIGURES` (every reported figure, in table order, with its label, unit and target, if
any), `table` (text with PASS/FAIL per target), `write_json` and `smoke_failures` (figures
more than `factor` times their recorded value; only the CPU-time and RSS figures are compared,
because wall-clock figures move with machine noise).

Must not import ccroute.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
BASELINE = Path(__file__).resolve().parent / "baseline.json"


@dataclass(frozen=True)
class Figure:
    """One reported figure.

    Attributes:
        key: its name in the JSON files.
        label: its row in the table.
        unit: "ms", "MiB" or "req/s".
        target: the issue's bound, or None for information only.
        higher_is_better: True for throughput (target is a minimum), else target is a maximum.
        smoke: compared against the baseline in `--smoke` mode.
        floor: the smallest baseline value the smoke limit is computed from, so that a figure
            recorded near zero does not fail on noise.
    """

    key: str
    label: str
    unit: str
    target: float | None = None
    higher_is_better: bool = False
    smoke: bool = False
    floor: float = 0.0

    def passes(self, value: float) -> bool | None:
        """True/False against the target; None without a target or a value."""
        if self.target is None or math.isnan(value):
            return None
        return value >= self.target if self.higher_is_better else value <= self.target


FIGURES: tuple[Figure, ...] = (
    Figure("tiny_added_p50_ms", "added latency p50, tiny body", "ms"),
    Figure("tiny_added_p99_ms", "added latency p99, tiny body", "ms"),
    Figure("78kb_added_p50_ms", "added latency p50, 78 KB body", "ms"),
    Figure("78kb_added_p99_ms", "added latency p99, 78 KB body", "ms"),
    Figure("tiny_direct_p50_ms", "  direct to upstream p50, tiny", "ms"),
    Figure("78kb_direct_p50_ms", "  direct to upstream p50, 78 KB", "ms"),
    Figure("stream50_first_text_ms", "50-chunk stream: first text delta", "ms"),
    Figure("stream50_total_ms", "50-chunk stream: total", "ms"),
    Figure("stream50_direct_first_text_ms", "  direct: first text delta", "ms"),
    Figure("stream50_direct_total_ms", "  direct: total", "ms"),
    Figure("78kb_rps", "requests/s at saturation, 78 KB", "req/s", 400, higher_is_better=True),
    Figure("78kb_rps_direct", "  direct to upstream (client limit)", "req/s"),
    Figure("78kb_rps_proxy_core_pct", "  proxy CPU use during it", "%"),
    Figure(
        "tiny_cpu_ms_per_request", "proxy CPU per request, tiny", "ms", 0.5, smoke=True, floor=0.2
    ),
    Figure(
        "78kb_cpu_ms_per_request", "proxy CPU per request, 78 KB", "ms", 2, smoke=True, floor=0.5
    ),
    Figure(
        "stream_cpu_ms_per_chunk",
        "proxy CPU per streamed chunk (1 ms apart)",
        "ms",
        0.05,
        smoke=True,
        floor=0.02,
    ),
    Figure("stream_cpu_ms_per_chunk_back_to_back", "  per chunk, chunks back to back", "ms"),
    Figure(
        "stream50_cpu_ms_per_request",
        "  proxy CPU per 50-chunk stream",
        "ms",
        smoke=True,
        floor=1.0,
    ),
    Figure("idle_cpu_ms_per_s", "  proxy CPU when idle, per second", "ms"),
    Figure("rss_idle_mib", "RSS idle", "MiB", 45, smoke=True),
    Figure("rss_after_load_mib", "RSS after the load", "MiB", 80, smoke=True),
    Figure("start_to_healthy_ms", "ccroute start to healthy", "ms", 500),
    Figure("status_wall_ms", "ccroute status wall", "ms", 120),
    Figure("code_to_exec_ms", "ccroute code to exec of claude (warm)", "ms", 300),
)


def table(figures: dict[str, float], meta: dict[str, Any]) -> str:
    """The result table: figure, median value, target, PASS/FAIL."""
    lines = [
        f"ccroute benchmark — {meta.get('mode', 'full')} mode, medians of "
        f"{meta.get('repeats')} repeats; {meta.get('pinning', '')}",
        f"  RSS after the load = after {meta.get('load_requests', '?')} requests",
        f"{'figure':<42} {'value':>10}  {'unit':<6} {'target':>10}  result",
    ]
    for fig in FIGURES:
        value = figures.get(fig.key, math.nan)
        target = ""
        if fig.target is not None:
            target = f"{'>=' if fig.higher_is_better else '<='} {fig.target:g}"
        verdict = {True: "PASS", False: "FAIL", None: ""}[fig.passes(value)]
        shown = "n/a" if math.isnan(value) else f"{value:10.3f}" if value < 10 else f"{value:10.1f}"
        lines.append(f"{fig.label:<42} {shown:>10}  {fig.unit:<6} {target:>10}  {verdict}")
    return "\n".join(lines)


def write_json(path: Path, figures: dict[str, float], meta: dict[str, Any]) -> None:
    """Write `{"meta": ..., "figures": ...}` to `path` (NaN written as null)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = {k: (None if math.isnan(v) else round(v, 4)) for k, v in figures.items()}
    path.write_text(json.dumps({"meta": meta, "figures": clean}, indent=2) + "\n")


def read_figures(path: Path) -> dict[str, float]:
    """The figures of a JSON result file written by `write_json` (null read as NaN)."""
    data = json.loads(path.read_text())
    return {k: math.nan if v is None else float(v) for k, v in data["figures"].items()}


def smoke_failures(
    figures: dict[str, float], baseline: dict[str, float], factor: float = 3.0
) -> list[str]:
    """One line per smoke figure more than `factor` times its baseline value (or missing)."""
    failures = []
    for fig in FIGURES:
        if not fig.smoke or fig.key not in baseline or math.isnan(baseline[fig.key]):
            continue
        value = figures.get(fig.key, math.nan)
        limit = factor * max(baseline[fig.key], fig.floor)
        if math.isnan(value) or value > limit:
            failures.append(
                f"{fig.label.strip()}: {value:.3f} {fig.unit} > {limit:.3f} {fig.unit} "
                f"({factor:g} x baseline {baseline[fig.key]:.3f}, floor {fig.floor:g})"
            )
    return failures
