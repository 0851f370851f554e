"""The registry of upstream wires: how each one is addressed and authenticated.

Owns: the mapping from a provider's `wire` name to its translator module (the pure contract of
design.md §3: `build_request`, `tool_names_for`, `forward_headers`, `parse_response`,
`StreamTranslator`, `parse_error`) plus the facts the server needs that are not translation:
the endpoint URL, the header the key travels in, and whether the upstream's SSE is relayed as
it is (`passthrough`). `target_for` turns a provider's config into the translators' `Target`.
The server looks a wire up here and never branches on its name.

Must not import: aiohttp, typer, rich, keyring. No I/O. Translator modules are imported on
first use, so commands that never translate do not pay for them.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import Any
from urllib.parse import quote, urlsplit

from ccroute.config import ProviderConfig
from ccroute.errors import ConfigError
from ccroute.translate.target import ReasoningStyle, Target

OPENROUTER_HOST = "openrouter.ai"

CACHING_MODEL_PREFIXES = ("anthropic/", "google/")
"""OpenRouter models that honour Anthropic `cache_control` on content parts (protocol.md §4.12)."""


@dataclass(frozen=True, slots=True)
class Wire:
    """One upstream wire format.

    Attributes:
        name: the `wire` value in config ("openai", "anthropic", "gemini", "openai-responses").
        module: the dotted name of the module implementing the translator contract.
        url: `(base_url, upstream_model, stream) -> str`, the endpoint to POST to.
        auth: the header the key goes in when the provider's `auth` is "auto": "bearer",
            "x-api-key" or "x-goog-api-key".
        passthrough: the upstream already speaks Anthropic SSE, so a stream is relayed byte
            for byte (pings only between its events) instead of through a `StreamTranslator`.
        models_url: `base_url -> str`, the provider's model-list endpoint (GET), used by the
            model catalogue and the `ccroute providers` reachability check.
        count_tokens_url: `base_url -> str`, the provider's token-counting endpoint (POST) when
            the wire has one, else None (ccroute then estimates, protocol.md §2.6). A wire with
            one has a translator exposing `build_count_tokens_request(req, *, target) -> dict`;
            the endpoint answers `{"input_tokens": N}`.
    """

    name: str
    module: str
    url: Callable[[str, str, bool], str]
    auth: str
    passthrough: bool = False
    models_url: Callable[[str], str] = lambda base_url: f"{base_url}/models"
    count_tokens_url: Callable[[str], str] | None = None

    @property
    def translator(self) -> ModuleType:
        """The translator module (imported once, on first use)."""
        return importlib.import_module(self.module)

    def auth_headers(self, provider: ProviderConfig, key: str | None) -> dict[str, str]:
        """The header carrying `key` for `provider` (none for a keyless local server)."""
        if not key:
            return {}
        match provider.auth if provider.auth != "auto" else self.auth:
            case "x-api-key":
                return {"x-api-key": key}
            case "x-goog-api-key":
                return {"x-goog-api-key": key}
            case _:
                return {"Authorization": f"Bearer {key}"}


def _openai_url(base_url: str, model: str, stream: bool) -> str:
    # OpenAI Chat Completions: POST {base}/chat/completions (protocol.md §3, §4.1).
    return f"{base_url}/chat/completions"


def _responses_url(base_url: str, model: str, stream: bool) -> str:
    # OpenAI Responses: POST {base}/responses, streaming chosen by the body's `stream`.
    return f"{base_url}/responses"


def _anthropic_url(base_url: str, model: str, stream: bool) -> str:
    # Anthropic Messages: the base is what ANTHROPIC_BASE_URL would be (no /v1), e.g.
    # https://api.deepseek.com/anthropic; a base that already ends in /v1 is accepted too.
    base = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url
    return f"{base}/v1/messages"


def _gemini_url(base_url: str, model: str, stream: bool) -> str:
    # Gemini: POST {base}/models/{model}:generateContent, or :streamGenerateContent?alt=sse
    # (protocol.md §5.1). A "models/" prefix on the configured name is tolerated.
    name = quote(model.removeprefix("models/"), safe="-._~")
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"{base_url}/models/{name}:{method}"


WIRES: Mapping[str, Wire] = MappingProxyType(
    {
        "openai": Wire("openai", "ccroute.translate.openai", _openai_url, "bearer"),
        "anthropic": Wire(
            "anthropic",
            "ccroute.translate.anthropic",
            _anthropic_url,
            "x-api-key",
            passthrough=True,
            models_url=lambda base_url: _anthropic_url(base_url, "", False).replace(
                "/v1/messages", "/v1/models"
            ),
            count_tokens_url=lambda base_url: _anthropic_url(base_url, "", False) + "/count_tokens",
        ),
        "gemini": Wire("gemini", "ccroute.translate.gemini", _gemini_url, "x-goog-api-key"),
        "openai-responses": Wire(
            "openai-responses", "ccroute.translate.responses", _responses_url, "bearer"
        ),
    }
)


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


_GEMINI_VERSION = re.compile(r"(?:^|/)gemini-(\d+)(?:\.(\d+))?")


def gemini_thinks(model: str) -> bool:
    """True for Gemini models that take `thinkingConfig`: version 2.5 and later, the `-latest`
    aliases (which point at those) and the `thinking` experiments (§5.2). Gemini 2.0, Gemma and
    the image models answer it with 400 "thinking_config is not supported" (peer evidence:
    googleapis/js-genai#681, epam/ai-dial-adapter-vertexai#407)."""
    name = model.lower()
    if "image" in name:
        return False
    if "thinking" in name or (name.startswith(("gemini-", "models/gemini-")) and "latest" in name):
        return True
    match = _GEMINI_VERSION.search(name)
    return match is not None and (int(match[1]), int(match[2] or 0)) >= (2, 5)


def target_for(provider: ProviderConfig, model: str) -> Target:
    """The translators' view of `model` on `provider`, with every "auto" setting resolved.

    - `reasoning = "auto"`: "openrouter" for OpenRouter, else "none" — a generic
      OpenAI-compatible server may reject `reasoning_effort` on a non-reasoning model, and
      Claude Code sends `thinking` on every request (protocol.md §1.3), so it is opt-in there.
      On the "gemini" wire "auto" is "effort" for thinking models (`gemini_thinks`): Gemini's own
      `thinkingConfig` (§5.2, §8; `ccroute.translate.gemini_request`); older Gemini and Gemma
      models reject it, so "none" for them.
      On the "openai-responses" wire "auto" is "effort": `reasoning.effort` is that API's own
      control and the models served on it are mostly reasoning models; a model that is not
      needs `reasoning = "none"` (`ccroute.translate.responses_request`).
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
        case _ if provider.wire == "openai-responses":
            reasoning = "effort"
        case _ if provider.wire == "gemini":
            reasoning = "effort" if gemini_thinks(model) else "none"
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
        strip_betas=provider.betas == "strip",
    )
