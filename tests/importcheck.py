"""What importing some of ccroute's modules loads, seen from a fresh interpreter.

Import from any test:

    from tests.importcheck import modules_loaded_by, of_packages
    loaded = modules_loaded_by(["ccroute.translate"])
    assert of_packages(loaded, ("aiohttp", "rich")) == []

A fresh `python -c` (run from the repository root) is the only place where `sys.modules` shows
what an import pulls in: the test process has loaded everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).parent.parent


def modules_loaded_by(modules: Iterable[str]) -> list[str]:
    """The names in `sys.modules`, sorted, once a fresh interpreter has imported `modules`."""
    script = (
        f"import json, sys\nimport {', '.join(modules)}\nprint(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def of_packages(names: Iterable[str], packages: Iterable[str]) -> list[str]:
    """The module `names` that belong to one of `packages` (top-level names)."""
    wanted = tuple(packages)
    return [name for name in names if name.split(".")[0] in wanted]
