"""ccroute's configuration: where it lives, what it may contain, and how it is read and changed.

A package of single-purpose modules; this file only re-exports their public names, so callers
keep writing `from ccroute.config import X`:

- `locations`: `Paths` and `paths()` (config file, state and log directories; `CCROUTE_HOME`
  re-roots them).
- `model`: the frozen dataclasses the rest of ccroute reads (`Config` and friends, including a
  provider's per-model `ModelOverrides` and `ProviderConfig.for_model`, and the router's
  `RouterConfig`, `RefEntry`, `RouteRule`), the built-in
  providers, `KNOWN_WIRES` and `split_model_ref`.
- `fields`: what each settable leaf may hold (type, normaliser, example) and command-line
  parsing of values.
- `router_fields`: what each leaf of the router tables may hold, and `_TABLES`.
- `schema`: validation of config.toml as a whole, whose every message names the file, the
  dotted key and the fix; `router_schema` does the `[router]`, `[router.models]`,
  `[router.fallbacks]`, `[[router.rules]]` and `[profiles.<name>.router]` tables for it.
- `load`: `load_config` — reading the file and applying environment overrides.
- `edit`: the `get_value` / `set_value` / `unset_value` / `settings` edits behind
  `ccroute config`.

Precedence: built-in defaults < config.toml < `CCROUTE_HOST` / `CCROUTE_PORT` < command-line
flags (the callers apply flags). Secrets never go in the file: keys live in the OS keyring or
an environment variable (`ccroute.keys`). Edits rewrite the file through tomllib → dict →
tomli_w, so comments and formatting in config.toml are not preserved.

Must not import (here or in any submodule): typer, rich, aiohttp, keyring. It runs on every
`ccroute status`/`code`, so it stays cheap: platformdirs, tomli_w and difflib are imported only
when needed, and the `edit` names below are loaded on first use (PEP 562 `__getattr__`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccroute.atomicfile import ensure_private_dir, write_atomic
from ccroute.config.load import load_config
from ccroute.config.locations import Paths, paths
from ccroute.config.model import (
    BUILTIN_PROVIDERS,
    KNOWN_WIRES,
    CodeConfig,
    Config,
    LogConfig,
    ModelOverrides,
    ProviderConfig,
    RouterConfig,
    ServerConfig,
    split_model_ref,
)

__all__ = [
    "BUILTIN_PROVIDERS",
    "KNOWN_WIRES",
    "CodeConfig",
    "Config",
    "LogConfig",
    "ModelOverrides",
    "Paths",
    "ProviderConfig",
    "RouterConfig",
    "ServerConfig",
    "Setting",
    "ensure_private_dir",
    "get_value",
    "load_config",
    "paths",
    "set_value",
    "settings",
    "split_model_ref",
    "unset_value",
    "write_atomic",
]

_EDIT_NAMES = frozenset({"Setting", "get_value", "set_value", "settings", "unset_value"})

if TYPE_CHECKING:
    from ccroute.config.edit import Setting, get_value, set_value, settings, unset_value


def __getattr__(name: str) -> Any:
    # The edit functions (and tomli_w behind them) load only for commands that edit.
    if name in _EDIT_NAMES:
        from ccroute.config import edit

        return getattr(edit, name)
    raise AttributeError(f"module 'ccroute.config' has no attribute {name!r}")
