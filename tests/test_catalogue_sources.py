"""Which endpoints list a provider's models, and with which headers (ccroute.catalogue.sources)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from ccroute.catalogue.sources import (
    Listing,
    listings_for,
    local_server,
    ollama_show_url,
    request_headers,
)
from ccroute.config import BUILTIN_PROVIDERS, ProviderConfig
from ccroute.errors import ConfigError


def provider(name: str, wire: str, base_url: str, **kw: object) -> ProviderConfig:
    return ProviderConfig(name=name, wire=wire, base_url=base_url, **kw)  # type: ignore[arg-type]


def test_openrouter_lists_its_models_in_openrouter_format() -> None:
    (listing,) = listings_for(BUILTIN_PROVIDERS["openrouter"])
    assert listing == Listing("openrouter", "https://openrouter.ai/api/v1/models")


def test_other_openai_servers_use_the_openai_format() -> None:
    (listing,) = listings_for(provider("deepseek", "openai", "https://api.deepseek.com/v1"))
    assert listing == Listing("openai", "https://api.deepseek.com/v1/models")
    (responses,) = listings_for(provider("oai", "openai-responses", "https://api.openai.com/v1/"))
    assert responses == Listing("openai", "https://api.openai.com/v1/models")


def test_anthropic_wire_asks_v1_models_with_a_version_header_and_a_page_size() -> None:
    (listing,) = listings_for(provider("ds", "anthropic", "https://api.deepseek.com/anthropic"))
    assert listing.format == "anthropic"
    assert listing.url == "https://api.deepseek.com/anthropic/v1/models"
    assert dict(listing.query) == {"limit": "1000"}
    assert dict(listing.headers) == {"anthropic-version": "2023-06-01"}


def test_gemini_wire_asks_models_with_the_largest_page() -> None:
    (listing,) = listings_for(
        provider("gemini", "gemini", "https://generativelanguage.googleapis.com/v1beta")
    )
    assert listing.url == "https://generativelanguage.googleapis.com/v1beta/models"
    assert (listing.format, dict(listing.query)) == ("gemini", {"pageSize": "1000"})


@pytest.mark.parametrize(
    ("name", "base_url", "kind"),
    [
        ("local", "http://localhost:11434/v1", "ollama"),
        ("ollama", "http://127.0.0.1:8080/v1", "ollama"),
        ("box", "http://ollama.internal:80/v1", "ollama"),
        ("local", "http://localhost:1234/v1", "lmstudio"),
        ("lm-studio", "http://10.0.0.5:9000/v1", "lmstudio"),
        ("vllm", "http://localhost:8000/v1", None),
        ("openrouter", "https://openrouter.ai/api/v1", None),
    ],
)
def test_local_servers_are_recognised_by_port_name_or_host(
    name: str, base_url: str, kind: str | None
) -> None:
    assert local_server(provider(name, "openai", base_url)) == kind


def test_ollama_is_asked_its_native_list_first_then_the_openai_one() -> None:
    listings = listings_for(provider("local", "openai", "http://localhost:11434/v1"))
    assert listings == (
        Listing("ollama", "http://localhost:11434/api/tags"),
        Listing("openai", "http://localhost:11434/v1/models"),
    )
    assert ollama_show_url(listings[0].url) == "http://localhost:11434/api/show"


def test_lmstudio_is_asked_its_v0_list_first() -> None:
    listings = listings_for(provider("lmstudio", "openai", "http://127.0.0.1:1234/v1"))
    assert [(x.format, x.url) for x in listings] == [
        ("lmstudio", "http://127.0.0.1:1234/api/v0/models"),
        ("openai", "http://127.0.0.1:1234/v1/models"),
    ]


def test_ollama_behind_the_anthropic_wire_uses_the_server_root() -> None:
    listings = listings_for(provider("ollama", "anthropic", "http://localhost:11434"))
    assert listings[0] == Listing("ollama", "http://localhost:11434/api/tags")
    assert listings[1].url == "http://localhost:11434/v1/models"


def test_unknown_wire_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="Unknown wire 'carrier-pigeon'"):
        listings_for(provider("x", "carrier-pigeon", "http://localhost:1/v1"))


def test_headers_carry_provider_headers_fixed_headers_and_the_key_in_the_wire_header() -> None:
    openrouter = BUILTIN_PROVIDERS["openrouter"]
    (listing,) = listings_for(openrouter)
    headers = request_headers(openrouter, listing, "sk-or-1")
    assert headers["Authorization"] == "Bearer sk-or-1"
    assert headers["X-OpenRouter-Title"] == "ccroute"

    gemini = provider("g", "gemini", "https://generativelanguage.googleapis.com/v1beta")
    assert request_headers(gemini, listings_for(gemini)[0], "AIza") == {"x-goog-api-key": "AIza"}

    anthropic = provider("a", "anthropic", "https://api.anthropic.com")
    assert request_headers(anthropic, listings_for(anthropic)[0], "sk-ant") == {
        "anthropic-version": "2023-06-01",
        "x-api-key": "sk-ant",
    }


def test_headers_without_a_key_have_no_auth_and_empty_provider_headers_are_not_sent() -> None:
    local = provider(
        "local",
        "openai",
        "http://localhost:8000/v1",
        headers=MappingProxyType({"X-Team": "core", "X-Off": ""}),
        auth="x-api-key",
    )
    listing = listings_for(local)[0]
    assert request_headers(local, listing, None) == {"X-Team": "core"}
    assert request_headers(local, listing, "k") == {"X-Team": "core", "x-api-key": "k"}
