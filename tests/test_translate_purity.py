"""The translation core stays pure: importing it loads no framework, CLI or keyring code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.importcheck import modules_loaded_by, of_packages

FORBIDDEN = ("aiohttp", "typer", "rich", "keyring", "platformdirs")
CORE_MODULES = (
    "ccroute.translate",
    "ccroute.translate.messages",
    "ccroute.translate.events",
    "ccroute.translate.sse",
    "ccroute.translate.tokens",
    "ccroute.translate.openai",
    "ccroute.translate.anthropic",
    "ccroute.translate.gemini",
    "ccroute.translate.responses",
)


def test_importing_the_translation_core_loads_no_forbidden_package() -> None:
    loaded = modules_loaded_by(CORE_MODULES)
    assert "ccroute.translate.openai" in loaded
    assert of_packages(loaded, FORBIDDEN) == []


@pytest.mark.parametrize("name", ["uuid", "random", "secrets", "socket", "asyncio"])
def test_translation_core_source_does_not_import_io_or_randomness(name: str) -> None:
    core = Path(__file__).parent.parent / "ccroute" / "translate"
    for path in core.glob("*.py"):
        lines = path.read_text().splitlines()
        imports = [line for line in lines if line.startswith(("import ", "from "))]
        assert not any(line.split()[1].split(".")[0] == name for line in imports), (
            f"{path.name} imports {name}"
        )
