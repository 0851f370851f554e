"""CPU pinning for the benchmark: the proxy daemon on one core, the load client and the fake
upstream on the others.

Owns: choosing the cores (`plan`), pinning this process, a `preexec_fn` that pins a child before
it runs (so a daemon it spawns inherits the pin), and pinning a running process's every thread.
Linux uses `os.sched_setaffinity`; Windows uses psutil's `cpu_affinity` when psutil is
installed; macOS has no CPU affinity API, so everything there reports "not pinned".

Must not import ccroute.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CorePlan:
    """Which cores run what; empty sets mean "not pinned".

    Attributes:
        proxy: cores for the ccroute daemon (one core when pinning is possible).
        others: cores for the load client and the fake upstream.
        note: a one-line description for the report.
    """

    proxy: frozenset[int]
    others: frozenset[int]
    note: str


def _available() -> set[int] | None:
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    if sys.platform == "win32":
        try:
            import psutil
        except ImportError:
            return None
        return set(psutil.Process().cpu_affinity() or [])
    return None


def plan() -> CorePlan:
    """The core plan for this machine: the last available core for the proxy, the rest for
    everything else; not pinned with fewer than two cores or no affinity API."""
    cores = _available()
    if cores is None:
        return CorePlan(frozenset(), frozenset(), f"not pinned (no CPU affinity on {sys.platform})")
    if len(cores) < 2:
        return CorePlan(frozenset(), frozenset(), "not pinned (one core available)")
    proxy = max(cores)
    others = frozenset(cores - {proxy})
    return CorePlan(
        frozenset({proxy}),
        others,
        f"proxy on core {proxy}; load client and upstream on cores {sorted(others)}",
    )


def pin_self(cores: frozenset[int]) -> None:
    """Pin this process (and the children it starts afterwards) to `cores`; no-op if empty."""
    if cores:
        _set(os.getpid(), cores)


def preexec(cores: frozenset[int]) -> Callable[[], None] | None:
    """A POSIX `preexec_fn` pinning the child to `cores`, or None where that cannot work."""
    if not cores or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, cores)


def pin_pid(pid: int, cores: frozenset[int]) -> bool:
    """Pin every thread of process `pid` to `cores`; True if it was pinned."""
    if not cores:
        return False
    try:
        if sys.platform.startswith("linux"):
            for task in Path(f"/proc/{pid}/task").iterdir():
                os.sched_setaffinity(int(task.name), cores)
            return True
        _set(pid, cores)
        return True
    except (OSError, ImportError):
        return False


def _set(pid: int, cores: frozenset[int]) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, cores)
        return
    import psutil

    psutil.Process(pid).cpu_affinity(sorted(cores))
