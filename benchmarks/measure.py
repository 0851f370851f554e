"""Process CPU time and resident memory of the daemon, and small statistics.

Owns: `cpu_seconds(pid)` (user + system CPU of the whole process, every thread, in seconds) and
`rss_mib(pid)` (resident set size in MiB), read with psutil when installed (Linux, macOS,
Windows) and from Linux /proc otherwise; `percentile` and `median`. CPU clocks tick at 100 Hz
on Linux (10 ms), so callers measure phases long enough for that not to matter.

Must not import ccroute.
"""

from __future__ import annotations

import math
import os
import statistics
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process `pid` (NaN if it cannot be read)."""
    try:
        import psutil

        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except ImportError:
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return math.nan


def rss_mib(pid: int) -> float:
    """Resident set size of process `pid` in MiB (NaN if it cannot be read)."""
    try:
        import psutil

        return float(psutil.Process(pid).memory_info().rss) / 2**20
    except ImportError:
        pass
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank `q` quantile (0 < q <= 1) of non-empty `values`."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def median(values: list[float]) -> float:
    """The median of `values`, ignoring NaNs; NaN if none is left."""
    kept = [v for v in values if not math.isnan(v)]
    return statistics.median(kept) if kept else math.nan
