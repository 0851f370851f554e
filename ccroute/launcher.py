"""Launching Claude Code against the daemon.

Owns: finding the `claude` binary, building the environment that points it at ccroute
(claude-code.md, protocol.md §6.1), and running it so that its exit status becomes ccroute's.

Must not import: aiohttp, typer, rich, keyring.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence

from ccroute.errors import ClaudeNotFoundError

#: Environment variable naming the `claude` binary to run instead of the one on PATH.
CLAUDE_BIN_ENV = "CCROUTE_CLAUDE_BIN"
NPM_INSTALL = "npm install -g @anthropic-ai/claude-code"


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


def claude_env(base_url: str, token: str, environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` plus the variables that send Claude Code to ccroute.

    Sets `ANTHROPIC_BASE_URL` (the daemon, no `/v1`), `ANTHROPIC_AUTH_TOKEN` (the local token,
    sent as `Authorization: Bearer`), `ANTHROPIC_API_KEY=""` (so a real Anthropic key in the
    user's environment is never sent to the proxy, claude-code.md) and
    `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`.
    """
    env = dict(environ)
    env["ANTHROPIC_BASE_URL"] = base_url
    env["ANTHROPIC_AUTH_TOKEN"] = token
    env["ANTHROPIC_API_KEY"] = ""
    env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
    return env


def run_claude(binary: str, args: Sequence[str], env: Mapping[str, str]) -> int:
    """Run `binary` with `args` verbatim in the foreground; return its exit status.

    The terminal's Ctrl-C reaches Claude Code (same process group) and is ignored here while it
    runs, so Claude Code decides what an interrupt means. A child killed by signal N gives
    128 + N, as shells report it.
    """
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc = subprocess.run([binary, *args], env=dict(env), check=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    code = proc.returncode
    if code < 0 and sys.platform != "win32":
        return 128 - code
    return code
