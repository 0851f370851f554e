"""What `ccroute code [--profile NAME] [--statusline] [CLAUDE ARGS]...` does, without Typer.

Owns: `run_code(args) -> exit status`: records this launch as a session (`ccroute.sessions`),
sets ccroute up first when no provider can answer (`ccroute.firstrun.setup_reason`; the wizard
of `ccroute.cli.init_cmd` in a terminal, otherwise an error with the exact commands), ensures
the daemon runs (a daemon it has to start stops by itself after the last session ends), finds
the project's `.ccroute.toml`, and hands the terminal to `claude` with a private `--settings`
file (`ccroute.code_settings`) holding ccroute's environment, so a settings.json `env` block
cannot send Claude Code elsewhere; each settings source that fights ccroute gets one warning
line on stderr. ccroute takes `--profile NAME` and `--statusline` (ccroute's status line for
this run, like `code.statusline = true`) for itself; a user's own `--settings` is merged into
ccroute's; every other argument goes to Claude Code verbatim. The exit status is Claude Code's.

Both the Typer command (`ccroute.cli.code_cmd`) and a Typer-free fast path can call it: it
prints with `print` and raises `CcrouteError`s for the caller to report.

Must not import at module level: typer, rich, aiohttp, keyring (the wizard's imports load only
when it runs; the keyring only when no cheaper sign shows a usable provider).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ccroute import code_settings, daemon, firstrun, launcher, sessions
from ccroute.config import Config, ProviderConfig, load_config, paths
from ccroute.errors import CcrouteError, ConfigError

STATUSLINE_FLAG = "--statusline"


def run_code(argv: Sequence[str]) -> int:
    """Run Claude Code through ccroute with `argv` (ccroute's own options included); return
    Claude Code's exit status. Raises `CcrouteError` (nothing started) for a bad option, an
    unusable configuration, a refused or cancelled set-up, or a missing `claude`."""
    profile, args = launcher.take_profile(argv)
    statusline, args = launcher.take_flag(args, STATUSLINE_FLAG)
    cwd = Path.cwd()
    user_settings, args = code_settings.take_settings(args, cwd)
    config_exists = paths().config_file.exists()
    config = load_config()
    if profile is not None and profile not in config.profiles:
        names = ", ".join(sorted(config.profiles)) or "none are configured"
        raise ConfigError(
            f"There is no profile {profile!r} ({names}). Add one with "
            f"'ccroute config set profiles.{profile}.router.default PROVIDER/MODEL'."
        )
    binary = launcher.find_claude()  # before the wizard: no questions if claude is missing
    config, session_env = _ready_config(config, config_exists)
    project = launcher.find_project_file(cwd)
    # The session is on record before the daemon starts, so an auto-started daemon never sees
    # a moment without it.
    sessions.record()
    try:
        info = _ensure_daemon(config, session_env)
        headers = launcher.routing_headers(profile, project)
        env = launcher.claude_env(info.url, daemon.read_token(), os.environ, headers)
        doc = _settings_doc(env, user_settings, cwd, statusline or config.code.statusline)
        with code_settings.settings_file(doc, paths().state_dir) as settings_path:
            code = launcher.run_claude(
                binary,
                [code_settings.SETTINGS_FLAG, str(settings_path), *args],
                env,
                on_start=lambda pid: sessions.record(claude_pid=pid),
            )
    finally:
        sessions.forget()
    return code


def _ready_config(config: Config, config_exists: bool) -> tuple[Config, dict[str, str]]:
    """`config`, or the one the first-run wizard wrote if no provider could answer; plus keys
    to give only the daemon this run (the wizard's key when no keyring could store it)."""
    reason = firstrun.setup_reason(
        config,
        config_exists=config_exists,
        environ=os.environ,
        daemon_running=_daemon_running,
        stored_key=_stored_key,
    )
    if reason is None:
        return config, {}
    from ccroute.cli.init_cmd import setup_for_code

    return setup_for_code(config, reason, config_exists=config_exists)


def _daemon_running() -> bool:
    try:
        daemon.status()
    except CcrouteError:
        return False
    return True


def _stored_key(provider: ProviderConfig) -> bool:
    from ccroute import keys  # the keyring loads only when no cheaper answer was found

    return keys.key_source(provider)[0] == "keyring"


def _ensure_daemon(config: Config, session_env: Mapping[str, str]) -> daemon.DaemonInfo:
    """`daemon.ensure_running`, with `session_env` (a key the keyring could not store) in the
    environment a daemon started now inherits, and nowhere else."""
    if not session_env:
        return daemon.ensure_running(config)
    saved = {name: os.environ.get(name) for name in session_env}
    os.environ.update(session_env)
    try:
        return daemon.ensure_running(config)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _settings_doc(
    env: Mapping[str, str],
    user: code_settings.SettingsSource | None,
    cwd: Path,
    want_statusline: bool,
) -> dict[str, object]:
    """The `--settings` document, after one stderr warning per conflicting settings source."""
    files = code_settings.user_settings_files(Path.home(), cwd, os.environ)
    sources = code_settings.read_sources(files)
    managed = code_settings.read_sources(code_settings.managed_settings_files(), managed=True)
    everyone = [*sources, *([user] if user else [])]
    own_headers = env.get(code_settings.HEADERS_ENV) != os.environ.get(code_settings.HEADERS_ENV)
    for line in code_settings.conflicts([*everyone, *managed], own_headers=own_headers):
        print(f"warning: {line}", file=sys.stderr)
    command = None
    if want_statusline:
        theirs = code_settings.own_statusline(everyone)
        if theirs is None:
            command = code_settings.statusline_command()
        else:
            print(
                f"note: ccroute's status line is not installed: {theirs} has its own statusLine.",
                file=sys.stderr,
            )
    return code_settings.build(env, sources, user, own_headers=own_headers, statusline=command)
