"""The configuration as the rest of ccroute reads it: frozen dataclasses and built-ins.

Owns: `ServerConfig`, `ProviderConfig`, `RouterConfig`, `Config`, the built-in providers
(`BUILTIN_PROVIDERS`), the wires a provider may use (`KNOWN_WIRES`) and `split_model_ref`.
Plain data only: no file access, no validation messages.

Must not import: typer, rich, aiohttp, keyring, or any other `ccroute.config` module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

KNOWN_WIRES: tuple[str, ...] = ("openai",)
"""Values `providers.<name>.wire` may take; add a wire here when its translator lands."""


@dataclass(frozen=True)
class ServerConfig:
    """The local proxy's listening address: `host` (name or IP), `port` (1-65535)."""

    host: str = "127.0.0.1"
    port: int = 3456


@dataclass(frozen=True)
class ProviderConfig:
    """One upstream provider.

    Attributes:
        name: the `[providers.<name>]` table name; also the keyring username for its key.
        wire: the upstream protocol, one of `KNOWN_WIRES`.
        base_url: http(s) URL without a trailing slash, e.g. "https://openrouter.ai/api/v1".
        api_key_env: env var holding the key; None = the provider needs no key (local server).
        max_tokens: clamp for a request's max_tokens; None = no clamp.
        headers: extra request headers (never secrets).
    """

    name: str
    wire: str
    base_url: str
    api_key_env: str | None = None
    max_tokens: int | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class RouterConfig:
    """Routing: `default` is the model reference "provider/model" for Claude Code's own names."""

    default: str = "openrouter/anthropic/claude-sonnet-4.5"


@dataclass(frozen=True)
class Config:
    """The effective configuration; `source` is the file it was read from (may not exist)."""

    server: ServerConfig
    providers: Mapping[str, ProviderConfig]
    router: RouterConfig
    source: Path


BUILTIN_PROVIDERS: Mapping[str, ProviderConfig] = MappingProxyType(
    {
        "openrouter": ProviderConfig(
            name="openrouter",
            wire="openai",
            base_url="https://openrouter.ai/api/v1",
            api_key_env="OPENROUTER_API_KEY",
            max_tokens=32000,
        )
    }
)


def split_model_ref(ref: str) -> tuple[str, str] | None:
    """Split a model reference into `(provider, model)`.

    Accepts `provider/model` and claude-code-router's `provider,model`, split at whichever
    separator comes first: `openrouter/anthropic/claude-x` gives `("openrouter",
    "anthropic/claude-x")`. Returns None when that does not give two non-empty parts.
    """
    cut = min((i for i in (ref.find("/"), ref.find(",")) if i >= 0), default=-1)
    if cut <= 0:
        return None
    provider, model = ref[:cut].strip(), ref[cut + 1 :].strip()
    return (provider, model) if provider and model else None
