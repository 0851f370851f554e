"""Per-request routing context: the profile and project file `ccroute code` names in headers.

Owns: reading `X-Ccroute-Profile: NAME` and `X-Ccroute-Project: <absolute path of .ccroute.toml>`
(sent by Claude Code from `ANTHROPIC_CUSTOM_HEADERS`, set by `ccroute.launcher`), loading and
validating a project file (cached by path, mtime and size), and `request_profile`, which gives
the server the `Config` and profile name to pass to `routing.decide`.

A project file may hold one table, `[router]`, with the keys of config.toml's `[router]`; they
override the user's `[router]` key by key, as a profile's do. A named profile then applies over
that (a `--profile` is the more specific, per-launch choice). Problems are `TranslationError`s
(HTTP 400) naming the file and the dotted key, so Claude Code shows the fix.

Must not import other `ccroute.server` modules except `state`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web

from ccroute.config import Config
from ccroute.config.load import _read_doc
from ccroute.config.schema import _build
from ccroute.errors import ConfigError, TranslationError

#: Header naming the routing profile (`ccroute code --profile NAME`).
PROFILE_HEADER = "X-Ccroute-Profile"
#: Header carrying the absolute path of the project's `.ccroute.toml`.
PROJECT_HEADER = "X-Ccroute-Project"

_Key = tuple[str, int, int, int, int]
_CACHE: dict[_Key, Config] = {}
_CACHE_SIZE = 32


def _signature(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError as exc:
        raise TranslationError(
            f"{path}: cannot read the project file named by {PROJECT_HEADER} "
            f"({exc.strerror or exc}). Run 'ccroute code' from the project again."
        ) from None
    return st.st_mtime_ns, st.st_size


def _project_doc(path: Path) -> dict[str, Any]:
    try:
        doc = _read_doc(path)
    except ConfigError as exc:
        raise TranslationError(exc.message) from None
    for name in doc:
        if name != "router":
            raise TranslationError(
                f"{path}: {name}: a project file may only hold a [router] table. Move "
                f"'{name}' to config.toml ('ccroute config path'), or remove it."
            )
    router = doc.get("router", {})
    if not isinstance(router, dict):
        raise TranslationError(f"{path}: router must be a table, got {router!r}.")
    return router


def project_config(path: Path, config: Config) -> Config:
    """`config` with the project file's `[router]` merged over its `[router]`, key by key.

    The user's document is read again from `config.source` (the merge works on the tables, as
    profiles do); the result is cached per (path, mtime, size) of both files.

    Raises:
        TranslationError: the file is missing, not TOML, holds anything but `[router]`, or a
            key is invalid (the message names the project file and the key).
    """
    if not path.is_absolute():
        raise TranslationError(f"{PROJECT_HEADER} must be an absolute path, got {str(path)!r}.")
    mtime, size = _signature(path)
    user_mtime, user_size = _signature(config.source) if config.source.exists() else (0, 0)
    key = (str(path), mtime, size, user_mtime, user_size)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    router = _project_doc(path)
    try:
        user_doc = _read_doc(config.source)
    except ConfigError as exc:
        raise TranslationError(exc.message) from None
    # First on its own, so every problem names the project file and its own keys...
    _, problems = _build({"providers": user_doc.get("providers", {}), "router": router}, path)
    if problems:
        raise TranslationError("\n".join(problems))
    # ...then merged into the user's document, so profiles apply over the project's router.
    merged = {**user_doc, "router": {**_table(user_doc.get("router")), **router}}
    built, problems = _build(merged, config.source)
    if problems:
        raise TranslationError("\n".join(problems))
    result = replace(
        config, providers=built.providers, router=built.router, profiles=built.profiles
    )
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[key] = result
    return result


def _table(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def request_profile(request: web.Request, config: Config) -> tuple[Config, str | None]:
    """The config and profile name for `routing.decide`, from the request's ccroute headers.

    Without headers: `(config, None)`. With `X-Ccroute-Project`: the project's config
    (`project_config`). With `X-Ccroute-Profile`: its name, checked against the config's
    `[profiles.<name>.router]` tables.

    Raises:
        TranslationError: an unknown profile or a bad project file (HTTP 400, naming the fix).
    """
    project = request.headers.get(PROJECT_HEADER, "").strip()
    if project:
        config = project_config(Path(project), config)
    profile = request.headers.get(PROFILE_HEADER, "").strip() or None
    if profile is not None and profile not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none are configured"
        raise TranslationError(
            f"{config.source}: profiles.{profile}: no such profile ({known}). Add it with "
            f"'ccroute config set profiles.{profile}.router.default PROVIDER/MODEL'."
        )
    return config, profile
