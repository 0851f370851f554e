"""Reading the effective configuration: the TOML file, then environment overrides.

Owns: `load_config` (built-in defaults < config.toml < `CCROUTE_HOST` / `CCROUTE_PORT`; the
callers apply command-line flags on top), reading and parsing the file with its read/UTF-8/TOML
error messages (`_read_doc`), and the environment overrides (`_ENV_OVERRIDES`).

Must not import: typer, rich, aiohttp, keyring, tomli_w, or `ccroute.config.edit`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from ccroute.config.fields import _SERVER, _check, _parse_raw
from ccroute.config.locations import Paths, paths
from ccroute.config.model import Config, ServerConfig
from ccroute.config.schema import _build, _raise
from ccroute.errors import ConfigError


def _read_doc(source: Path) -> dict[str, Any]:
    """The parsed config file ({} when it does not exist); ConfigError when unreadable."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(
            f"{source}: cannot read the config file ({exc.strerror or exc}). Check its "
            "permissions, or run 'ccroute config path' to see where it is."
        ) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(
            f"{source}: the config file is not valid UTF-8. Re-save it as UTF-8 "
            "(run 'ccroute config path' to find it)."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source}: invalid TOML: {exc}. Open the file (run 'ccroute config path' to see "
            "where it is) and fix the syntax."
        ) from None


_ENV_OVERRIDES = {"CCROUTE_HOST": "host", "CCROUTE_PORT": "port"}


def _env_server(server: ServerConfig) -> ServerConfig:
    """Apply CCROUTE_HOST / CCROUTE_PORT on top of the file's [server] table."""
    changes: dict[str, Any] = {}
    for env, name in _ENV_OVERRIDES.items():
        raw = os.environ.get(env)
        if raw is None or raw == "":
            continue
        spec = _SERVER[name]
        try:
            changes[name] = _check(spec, _parse_raw(spec, raw))
        except ValueError:
            raise ConfigError(
                f"environment variable {env} (overrides server.{name}) must be {spec.expected}, "
                f"got {raw!r}. Fix it with '{env}={spec.example}', or unset it."
            ) from None
    return replace(server, **changes)


def load_config(p: Paths | None = None) -> Config:
    """Read the effective configuration: defaults < config file < CCROUTE_HOST/CCROUTE_PORT.

    The built-in provider "openrouter" always exists; a `[providers.openrouter]` table overrides
    its fields one by one. Raises `ConfigError` (all problems, one per line, each naming the
    file, the dotted key and the fix) when the file is unreadable, not TOML, or invalid.
    """
    source = (p or paths()).config_file
    config, problems = _build(_read_doc(source), source)
    _raise(problems)
    return replace(config, server=_env_server(config.server))
