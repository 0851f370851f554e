"""The `--settings` file `ccroute code` hands Claude Code, and the settings that fight it.

Owns: taking a user's own `--settings FILE|JSON` off Claude Code's arguments (`take_settings`),
reading Claude Code's settings files for what overrides ccroute (`conflicts`), building the
settings document (`build`: ccroute's environment in `env`, optionally ccroute's `statusLine`)
and the private temporary file that carries it (`settings_file`).

Claude Code facts this rests on (verified with Claude Code 2.1.197, protocol.md §6.9):
- A settings file's `env` block beats the process environment, so a user's
  `~/.claude/settings.json` with `env.ANTHROPIC_BASE_URL` would silently send plain environment
  variables elsewhere. Precedence, highest first: managed settings, `--settings` (flagSettings),
  `.claude/settings.local.json`, `.claude/settings.json`, `~/.claude/settings.json`.
- Given `--settings` twice, Claude Code reads only the last one; so a user's own `--settings`
  is merged into ccroute's document (ccroute's variables win) rather than passed along.
- A missing `--settings` file is an error for Claude Code ("Settings file not found").
- With `ANTHROPIC_AUTH_TOKEN` set, an `apiKeyHelper` in a settings file was not used.

The file holds the local token: it is created with `tempfile.mkstemp` (mode 0600; on Windows the
file is inside ccroute's state directory, which is in the user's profile) in a 0700 directory
under the state dir, named after the ccroute process, removed when Claude Code exits, and swept
by the next `ccroute code` when the process that made it is gone (a crash or a kill).

Must not import: typer, rich, aiohttp, keyring.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccroute.atomicfile import ensure_private_dir
from ccroute.claude_settings import BYPASS_ENV, MODEL_ENV, settings_files
from ccroute.errors import CcrouteError
from ccroute.process import pid_alive

SETTINGS_FLAG = "--settings"
SETTINGS_DIR = "claude-settings"
"""The directory under ccroute's state dir that holds the temporary settings files."""
OWN_ENV = (
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_API_KEY",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
    "ANTHROPIC_CUSTOM_HEADERS",
)
"""The variables `launcher.claude_env` sets that go into the settings file's `env` block."""
HEADERS_ENV = "ANTHROPIC_CUSTOM_HEADERS"


def managed_settings_files() -> list[Path]:
    """Where an administrator's managed settings live on this platform (Claude Code's docs)."""
    if sys.platform == "win32":
        return [Path(r"C:\ProgramData\ClaudeCode\managed-settings.json")]
    if sys.platform == "darwin":
        return [Path("/Library/Application Support/ClaudeCode/managed-settings.json")]
    return [Path("/etc/claude-code/managed-settings.json")]


def user_settings_files(home: Path, cwd: Path, environ: Mapping[str, str]) -> list[Path]:
    """The user's, project's and local settings files, lowest precedence first
    (`ccroute.claude_settings.settings_files`, with `CLAUDE_CONFIG_DIR` moving the user's)."""
    found = settings_files(home, cwd)
    config_dir = environ.get("CLAUDE_CONFIG_DIR", "").strip()
    if config_dir:
        found[0] = Path(config_dir).expanduser() / "settings.json"
    return found


@dataclass(frozen=True, slots=True)
class SettingsSource:
    """One settings document: `label` names it for messages (a path or "--settings")."""

    label: str
    doc: Mapping[str, Any]
    managed: bool = False

    @property
    def env(self) -> Mapping[str, Any]:
        env = self.doc.get("env")
        return env if isinstance(env, Mapping) else {}


def read_sources(paths: Sequence[Path], *, managed: bool = False) -> list[SettingsSource]:
    """The settings files among `paths` that exist and hold a JSON object (others: skipped;
    `ccroute doctor` reports unreadable ones)."""
    sources = []
    for path in dict.fromkeys(paths):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict):
            sources.append(SettingsSource(str(path), doc, managed))
    return sources


def take_settings(args: Sequence[str], cwd: Path) -> tuple[SettingsSource | None, list[str]]:
    """Split the user's `--settings FILE|JSON` (or `--settings=...`) off Claude Code's arguments.

    Every occurrence is removed; the last one is read, as Claude Code itself reads only the
    last. A value starting with "{" is inline JSON, anything else a path (relative to `cwd`).

    Raises:
        CcrouteError: `--settings` has no value, the file cannot be read, or it is not a JSON
            object (Claude Code would refuse it too).
    """
    rest: list[str] = []
    value: str | None = None
    items = list(args)
    i = 0
    while i < len(items):
        arg = items[i]
        if arg == SETTINGS_FLAG:
            if i + 1 >= len(items):
                raise CcrouteError(
                    "--settings needs a file or a JSON object, e.g. --settings x.json."
                )
            value, i = items[i + 1], i + 2
            continue
        if arg.startswith(SETTINGS_FLAG + "="):
            value = arg.removeprefix(SETTINGS_FLAG + "=")
        else:
            rest.append(arg)
        i += 1
    if value is None:
        return None, rest
    return _read_user_settings(value, cwd), rest


def _read_user_settings(value: str, cwd: Path) -> SettingsSource:
    text, label = value, "--settings"
    if not value.lstrip().startswith("{"):
        path = (cwd / value).expanduser()
        label = f"--settings {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CcrouteError(
                f"--settings {value}: cannot read it ({exc.strerror or exc}). Give an existing "
                "settings JSON file or an inline JSON object."
            ) from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise CcrouteError(f"{label}: not valid JSON ({exc}). Fix it or leave it out.") from None
    if not isinstance(doc, dict):
        raise CcrouteError(f'{label}: must be a JSON object such as {{"env": {{}}}}.')
    return SettingsSource(label, doc)


def conflicts(sources: Sequence[SettingsSource], *, own_headers: bool) -> list[str]:
    """One warning line per settings source that changes what `ccroute code` sets up.

    `own_headers`: ccroute sets `ANTHROPIC_CUSTOM_HEADERS` this run (its value then replaces a
    settings file's, whose header lines are carried over by `build`).
    """
    lines = []
    for src in sources:
        bypass = [k for k in BYPASS_ENV if k in src.env]
        helper = "apiKeyHelper" in src.doc
        model = [k for k in MODEL_ENV if k in src.env and (k != HEADERS_ENV or not own_headers)]
        if src.managed and (bypass or helper or model):
            names = ", ".join([*bypass, *(["apiKeyHelper"] if helper else []), *model])
            lines.append(
                f"managed settings {src.label} set {names}, which beats ccroute's --settings: "
                "Claude Code may not use ccroute. Ask your administrator to remove them."
            )
            continue
        if bypass:
            lines.append(
                f'{src.label} sets {", ".join(bypass)} in "env"; ccroute overrides it for this '
                "run, but plain 'claude' still goes there. Fix: remove it from that \"env\" block."
            )
        if helper:
            lines.append(
                f"{src.label} sets apiKeyHelper; ccroute's token is sent instead, but Claude Code "
                "versions may differ. Fix: remove apiKeyHelper from that file if requests fail."
            )
        if model:
            lines.append(
                f'{src.label} sets {", ".join(model)} in "env", which changes the models or '
                'headers ccroute routes on. Fix: remove it from that "env" block.'
            )
    return lines


def own_statusline(sources: Sequence[SettingsSource]) -> str | None:
    """The label of the highest-precedence source defining a `statusLine`, or None."""
    for src in reversed(sources):
        if src.doc.get("statusLine") is not None:
            return src.label
    return None


def statusline_command(executable: str | None = None) -> str:
    """The shell command that runs `ccroute statusline` with this very Python (no PATH needed)."""
    argv = [executable or sys.executable, "-m", "ccroute", "statusline"]
    if sys.platform == "win32":
        return subprocess.list2cmdline(argv)
    return shlex.join(argv)


def build(
    env: Mapping[str, str],
    sources: Sequence[SettingsSource],
    user: SettingsSource | None,
    *,
    own_headers: bool,
    statusline: str | None,
) -> dict[str, Any]:
    """The document for Claude Code's `--settings`.

    Starts from the user's own `--settings` document (`user`), then sets ccroute's variables
    (`OWN_ENV` present in `env`, the environment `launcher.claude_env` built) in its `env`;
    `ANTHROPIC_CUSTOM_HEADERS` only when ccroute adds headers this run (`own_headers`), and then
    the header lines of the settings source that
    would otherwise win (the last in `sources`, then `user`, that sets it) are kept in front of
    ccroute's, minus lines of the same names. `statusline` (a command) becomes
    `{"type": "command", "command": statusline}` unless None.
    """
    doc: dict[str, Any] = json.loads(json.dumps(user.doc)) if user is not None else {}
    merged_env = dict(doc.get("env") or {}) if isinstance(doc.get("env"), dict) else {}
    for name in OWN_ENV:
        if name in env and (name != HEADERS_ENV or own_headers):
            merged_env[name] = env[name]
    if own_headers and HEADERS_ENV in env:
        winners = [s for s in [*sources, *([user] if user else [])] if HEADERS_ENV in s.env]
        if winners:
            merged_env[HEADERS_ENV] = _merge_headers(str(winners[-1].env[HEADERS_ENV]), env)
    doc["env"] = merged_env
    if statusline is not None:
        doc["statusLine"] = {"type": "command", "command": statusline}
    return doc


def _merge_headers(theirs: str, env: Mapping[str, str]) -> str:
    ours = [line for line in env[HEADERS_ENV].splitlines() if line.strip()]
    names = {line.split(":", 1)[0].strip().lower() for line in ours}
    kept = [
        line
        for line in theirs.splitlines()
        if line.strip() and line.split(":", 1)[0].strip().lower() not in names
    ]
    return "\n".join([*kept, *ours])


@contextlib.contextmanager
def settings_file(doc: Mapping[str, Any], state_dir: Path) -> Iterator[Path]:
    """A private file holding `doc` as JSON for as long as the block runs, then removed.

    Created in `<state_dir>/claude-settings/` (0700) with mode 0600; files left there by a
    ccroute process that is gone are removed first.
    """
    folder = ensure_private_dir(state_dir / SETTINGS_DIR)
    sweep(folder)
    fd, name = tempfile.mkstemp(dir=folder, prefix=f"code-{os.getpid()}-", suffix=".json")
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(doc, out, indent=2)
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def sweep(folder: Path) -> list[Path]:
    """Remove settings files whose ccroute process (the pid in `code-<pid>-...`) is gone."""
    removed = []
    for path in folder.glob("code-*.json"):
        pid_text = path.name.split("-")[1] if path.name.count("-") >= 2 else ""
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not pid_alive(int(pid_text)):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed
