"""`wires.target_for`: provider config → what the translators are told about the upstream."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from ccroute.config import ProviderConfig
from ccroute.wires import is_openrouter, target_for


def provider(base_url: str = "https://openrouter.ai/api/v1", **fields: object) -> ProviderConfig:
    return ProviderConfig(name="p", wire="openai", base_url=base_url, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://openrouter.ai/api/v1", True),
        ("https://eu.openrouter.ai/api/v1", True),
        ("https://openrouter.ai.evil.example/v1", False),
        ("http://127.0.0.1:8000/v1", False),
        ("https://api.deepseek.com", False),
    ],
)
def test_openrouter_is_recognised_by_host(url: str, expected: bool) -> None:
    assert is_openrouter(provider(url)) is expected


def test_auto_reasoning_is_openrouter_style_on_openrouter_and_off_elsewhere() -> None:
    assert target_for(provider(), "deepseek/deepseek-r1").reasoning == "openrouter"
    assert target_for(provider("http://localhost:8000/v1"), "qwen").reasoning == "none"
    explicit = provider("http://localhost:8000/v1", reasoning="effort")
    assert target_for(explicit, "gpt-oss").reasoning == "effort"


@pytest.mark.parametrize(
    ("model", "kept"),
    [
        ("anthropic/claude-sonnet-4.5", True),
        ("google/gemini-2.5-pro", True),
        ("~anthropic/claude-sonnet-latest", True),
        ("deepseek/deepseek-chat", False),
        ("openai/gpt-5", False),
    ],
)
def test_auto_cache_control_is_kept_only_for_openrouter_anthropic_and_google(
    model: str, kept: bool
) -> None:
    assert target_for(provider(), model).cache_control is kept
    assert target_for(provider("http://localhost/v1"), model).cache_control is False
    assert target_for(provider(cache_control="keep"), model).cache_control is True
    assert target_for(provider(cache_control="strip"), model).cache_control is False


def test_routing_and_fallbacks_become_body_fields_with_the_primary_first() -> None:
    routed = provider(
        provider_routing=MappingProxyType({"order": ("anthropic",), "allow_fallbacks": False}),
        fallback_models=("openai/gpt-5", "anthropic/claude-x"),
    )
    target = target_for(routed, "anthropic/claude-x")
    assert target.scope == "p/anthropic/claude-x"
    assert dict(target.extra_body)["models"] == ["anthropic/claude-x", "openai/gpt-5"]
    assert dict(target.extra_body["provider"]) == {
        "order": ("anthropic",),
        "allow_fallbacks": False,
    }
    assert dict(target_for(provider(), "m").extra_body) == {}


def test_limits_and_switches_are_carried_over() -> None:
    target = target_for(provider(max_tokens=8192, send_user=False, return_reasoning=False), "m")
    assert (target.max_tokens, target.send_user, target.return_reasoning) == (8192, False, False)
