"""The registry of upstream wires: how each one is addressed and authenticated.

Owns: the mapping from a provider's `wire` name to its translator module (the pure
`build_request` / `parse_response` / `StreamTranslator` / `parse_error` contract of
design.md §3) plus the two facts the server needs that are not translation: the endpoint URL
and the auth headers. The server looks a wire up here and never branches on its name.

Must not import: aiohttp, typer, rich, keyring. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import Any
from urllib.parse import urlsplit

from ccroute.config import ProviderConfig
from ccroute.errors import ConfigError
from ccroute.translate import openai
from ccroute.translate.target import ReasoningStyle, Target

OPENROUTER_HOST = "openrouter.ai"

CACHING_MODEL_PREFIXES = ("anthropic/", "google/")
"""OpenRouter models that honour Anthropic `cache_control` on content parts (protocol.md §4.12)."""


@dataclass(frozen=True, slots=True)
class Wire:
    """One upstream wire format.

    Attributes:
        name: the `wire` value in config (`openai`).
        translator: the module implementing the translator contract.
        url: `(base_url, upstream_model, stream) -> str`, the endpoint to POST to.
        auth_headers: `(key or None) -> headers`; no headers for a keyless local server.
    """

    name: str
    translator: ModuleType
    url: Callable[[str, str, bool], str]
    auth_headers: Callable[[str | None], dict[str, str]]


def _bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def _openai_url(base_url: str, model: str, stream: bool) -> str:
    # OpenAI Chat Completions: POST {base}/chat/completions (protocol.md §3, §4.1).
    return f"{base_url}/chat/completions"


WIRES: Mapping[str, Wire] = {
    "openai": Wire("openai", openai, _openai_url, _bearer),
}


def wire_for(name: str) -> Wire:
    """Return the wire called `name`; `ConfigError` naming the known wires if there is none."""
    try:
        return WIRES[name]
    except KeyError:
        known = ", ".join(sorted(WIRES))
        raise ConfigError(f"Unknown wire {name!r}; known wires: {known}.") from None


def is_openrouter(provider: ProviderConfig) -> bool:
    """True when the provider's base URL is OpenRouter's (any subdomain)."""
    host = (urlsplit(provider.base_url).hostname or "").lower()
    return host == OPENROUTER_HOST or host.endswith("." + OPENROUTER_HOST)


def target_for(provider: ProviderConfig, model: str) -> Target:
    """The translators' view of `model` on `provider`, with every "auto" setting resolved.

    - `reasoning = "auto"`: "openrouter" for OpenRouter, else "none" — a generic
      OpenAI-compatible server may reject `reasoning_effort` on a non-reasoning model, and
      Claude Code sends `thinking` on every request (protocol.md §1.3), so it is opt-in there.
    - `cache_control = "auto"`: kept for OpenRouter models under `CACHING_MODEL_PREFIXES`
      (§4.12, also with a leading `~` alias), stripped elsewhere; "keep"/"strip" force it.
    - `provider_routing` → body `provider`; `fallback_models` → body `models`, led by `model`
      itself (§4.5, §4.6).
    - `provider.models` overrides for `model` apply first (`ProviderConfig.for_model`).
    """
    provider = provider.for_model(model)
    openrouter = is_openrouter(provider)
    reasoning: ReasoningStyle
    match provider.reasoning:
        case "openrouter" | "effort" | "none" as chosen:
            reasoning = chosen
        case _:
            reasoning = "openrouter" if openrouter else "none"
    match provider.cache_control:
        case "keep":
            keep_cache = True
        case "strip":
            keep_cache = False
        case _:
            keep_cache = openrouter and model.lstrip("~").startswith(CACHING_MODEL_PREFIXES)
    extra: dict[str, Any] = {}
    if provider.provider_routing:
        extra["provider"] = provider.provider_routing
    if provider.fallback_models:
        # The primary model leads the list so OpenRouter tries it first whichever field it reads.
        extra["models"] = list(dict.fromkeys((model, *provider.fallback_models)))
    return Target(
        provider=provider.name,
        model=model,
        max_tokens=provider.max_tokens,
        reasoning=reasoning,
        return_reasoning=provider.return_reasoning,
        cache_control=keep_cache,
        send_user=provider.send_user,
        extra_body=MappingProxyType(extra),
    )
