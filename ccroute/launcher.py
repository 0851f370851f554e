"""Launching Claude Code against the daemon.

Owns: finding the `claude` binary, finding the project's `.ccroute.toml`, taking ccroute's own
`--profile NAME` and flags (`--statusline`) out of Claude Code's arguments, building the
environment that points Claude Code at ccroute (claude-code.md, protocol.md §6.1) — including
the `X-Ccroute-Profile` and `X-Ccroute-Project` request headers it sends through
`ANTHROPIC_CUSTOM_HEADERS` — and running it so that its exit status becomes ccroute's. The
`--settings` file carrying the same variables is `ccroute.code_settings`'.

Must not import: aiohttp, typer, rich, keyring.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ccroute.errors import CcrouteError, ClaudeNotFoundError

#: Environment variable naming the `claude` binary to run instead of the one on PATH.
CLAUDE_BIN_ENV = "CCROUTE_CLAUDE_BIN"
NPM_INSTALL = "npm install -g @anthropic-ai/claude-code"
#: The per-project configuration file, looked for in the working directory and its parents.
PROJECT_FILE = ".ccroute.toml"
#: Request header naming the profile (`ccroute code --profile NAME`).
PROFILE_HEADER = "X-Ccroute-Profile"
#: Request header carrying the absolute path of the project's `.ccroute.toml`.
PROJECT_HEADER = "X-Ccroute-Project"
#: Claude Code's variable of extra request headers: `Name: Value` lines (protocol.md §6.1).
CUSTOM_HEADERS_ENV = "ANTHROPIC_CUSTOM_HEADERS"


def find_claude(environ: Mapping[str, str] | None = None) -> str:
    """The path of the `claude` binary: `$CCROUTE_CLAUDE_BIN`, else the first on PATH.

    Raises:
        ClaudeNotFoundError: neither exists; the message gives the npm install command.
    """
    env = os.environ if environ is None else environ
    override = env.get(CLAUDE_BIN_ENV, "").strip()
    if override:
        found = shutil.which(override, path=env.get("PATH"))
        if found is None:
            raise ClaudeNotFoundError(
                f"{CLAUDE_BIN_ENV} is set to {override!r}, which is not an executable file."
            )
        return found
    found = shutil.which("claude", path=env.get("PATH"))
    if found is None:
        raise ClaudeNotFoundError(
            f"Claude Code ('claude') was not found on PATH. Install it with '{NPM_INSTALL}', "
            f"or point {CLAUDE_BIN_ENV} at the binary."
        )
    return found


def find_project_file(start: Path) -> Path | None:
    """The absolute path of the nearest `.ccroute.toml` in `start` or a parent, or None."""
    here = start.resolve()
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def take_profile(args: Sequence[str]) -> tuple[str | None, list[str]]:
    """Split ccroute's `--profile NAME` / `--profile=NAME` off Claude Code's arguments.

    Only the first occurrence is ccroute's (Claude Code has no `--profile`); every other
    argument is returned in order, untouched. Returns (profile or None, remaining args).

    Raises:
        CcrouteError: `--profile` is last, without a name.
    """
    rest = list(args)
    for i, arg in enumerate(rest):
        if arg == "--profile":
            if i + 1 >= len(rest) or not rest[i + 1].strip():
                raise CcrouteError("--profile needs a profile name, e.g. --profile cheap.")
            return rest[i + 1], rest[:i] + rest[i + 2 :]
        if arg.startswith("--profile="):
            name = arg.removeprefix("--profile=")
            if not name.strip():
                raise CcrouteError("--profile needs a profile name, e.g. --profile=cheap.")
            return name, rest[:i] + rest[i + 1 :]
    return None, rest


def take_flag(args: Sequence[str], flag: str) -> tuple[bool, list[str]]:
    """Remove every bare `flag` (one of ccroute's own, e.g. `--statusline`) from Claude Code's
    arguments; returns (whether it was there, the other arguments in order)."""
    rest = [arg for arg in args if arg != flag]
    return len(rest) != len(args), rest


def routing_headers(profile: str | None, project_file: Path | None) -> dict[str, str]:
    """The ccroute request headers for a profile and a project file (either may be absent)."""
    headers: dict[str, str] = {}
    if profile:
        headers[PROFILE_HEADER] = profile
    if project_file is not None:
        headers[PROJECT_HEADER] = str(project_file)
    return headers


def claude_env(
    base_url: str,
    token: str,
    environ: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`environ` plus the variables that send Claude Code to ccroute.

    Sets `ANTHROPIC_BASE_URL` (the daemon, no `/v1`), `ANTHROPIC_AUTH_TOKEN` (the local token,
    sent as `Authorization: Bearer`), `ANTHROPIC_API_KEY=""` (so a real Anthropic key in the
    user's environment is never sent to the proxy, claude-code.md) and
    `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`. `headers` are added to
    `ANTHROPIC_CUSTOM_HEADERS` (`Name: Value` lines, protocol.md §6.1) after the user's own
    lines, replacing a user line of the same name.
    """
    env = dict(environ)
    env["ANTHROPIC_BASE_URL"] = base_url
    env["ANTHROPIC_AUTH_TOKEN"] = token
    env["ANTHROPIC_API_KEY"] = ""
    env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
    if headers:
        names = {name.lower() for name in headers}
        kept = [
            line
            for line in env.get(CUSTOM_HEADERS_ENV, "").splitlines()
            if line.strip() and line.split(":", 1)[0].strip().lower() not in names
        ]
        env[CUSTOM_HEADERS_ENV] = "\n".join(
            [*kept, *(f"{name}: {value}" for name, value in headers.items())]
        )
    return env


def run_claude(
    binary: str,
    args: Sequence[str],
    env: Mapping[str, str],
    on_start: Callable[[int], object] | None = None,
) -> int:
    """Run `binary` with `args` verbatim in the foreground; return its exit status.

    `on_start(pid)` runs once the child exists (`ccroute code` records it in its session file).
    The terminal's Ctrl-C reaches Claude Code (same process group) and is ignored here while it
    runs, so Claude Code decides what an interrupt means. A child killed by signal N gives
    128 + N, as shells report it.
    """
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with subprocess.Popen([binary, *args], env=dict(env)) as proc:
            if on_start is not None:
                on_start(proc.pid)
            code = proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if code < 0 and sys.platform != "win32":
        return 128 - code
    return code
