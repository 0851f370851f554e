"""Claude Code's own settings files, as far as ccroute cares: where they are and which `env`
variables in them fight `ccroute code`.

Owns: `settings_files` (user, project and local `settings.json` for a working directory),
`BYPASS_ENV` (variables that send Claude Code past ccroute or replace its local token) and
`MODEL_ENV` (variables that change what ccroute is asked for). `ccroute doctor` reports them;
`ccroute code` warns about them and overrides them with its `--settings` file (protocol.md §6.9,
claude-code.md). Plain data and paths: no file access.

Must not import anything from ccroute (both `ccroute code`'s start-up and the doctor load it).
"""

from __future__ import annotations

from pathlib import Path

BYPASS_ENV = ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")
"""Settings `env` variables that send Claude Code past ccroute or replace its local token."""

MODEL_ENV = (
    "ANTHROPIC_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_CUSTOM_HEADERS",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
)
"""Settings `env` variables that change what ccroute is asked for (models, headers, backend)."""


def settings_files(home: Path, cwd: Path) -> list[Path]:
    """Claude Code's settings files that apply in `cwd`: the user's, then the project's."""
    return [
        home / ".claude" / "settings.json",
        cwd / ".claude" / "settings.json",
        cwd / ".claude" / "settings.local.json",
    ]
