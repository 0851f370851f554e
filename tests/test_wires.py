"""`wires.target_for`: provider config → what the translators are told about the upstream."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from ccroute.config import ModelOverrides, ProviderConfig
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


def with_models(base: ProviderConfig, **models: ModelOverrides) -> ProviderConfig:
    return replace(base, models=MappingProxyType(models))


def test_model_overrides_reach_the_target() -> None:
    routed = with_models(
        provider(max_tokens=32000),
        r1=ModelOverrides(reasoning="none", max_tokens=8192),
        gpt=ModelOverrides(reasoning="effort", send_user=False),
        claude=ModelOverrides(cache_control="strip", return_reasoning=False),
        other=ModelOverrides(cache_control="keep"),
    )
    r1 = target_for(routed, "r1")
    assert (r1.reasoning, r1.max_tokens, r1.send_user) == ("none", 8192, True)
    gpt = target_for(routed, "gpt")
    assert (gpt.reasoning, gpt.max_tokens, gpt.send_user) == ("effort", 32000, False)
    claude = target_for(routed, "claude")
    assert (claude.cache_control, claude.return_reasoning, claude.reasoning) == (
        False,
        False,
        "openrouter",
    )
    assert target_for(routed, "other").cache_control is True


def test_a_model_without_overrides_gets_the_provider_settings() -> None:
    base = provider(
        "http://localhost:8000/v1",
        max_tokens=4096,
        reasoning="effort",
        cache_control="keep",
        send_user=False,
        return_reasoning=False,
    )
    routed = with_models(base, elsewhere=ModelOverrides(reasoning="none", max_tokens=1))
    assert target_for(routed, "qwen3") == target_for(base, "qwen3")
    # An entry that sets nothing (or only some fields) inherits the rest.
    partial = with_models(base, qwen3=ModelOverrides(max_tokens=100))
    target = target_for(partial, "qwen3")
    assert (target.max_tokens, target.reasoning, target.cache_control) == (100, "effort", True)
    assert (target.send_user, target.return_reasoning) == (False, False)
    assert target_for(with_models(base, qwen3=ModelOverrides()), "qwen3") == target_for(
        base, "qwen3"
    )


def test_overrides_match_the_model_without_tilde_or_variant_after_an_exact_entry() -> None:
    routed = with_models(
        provider(),
        **{
            "deepseek/deepseek-r1": ModelOverrides(reasoning="none"),
            "deepseek/deepseek-r1:free": ModelOverrides(reasoning="effort"),
            "anthropic/claude-sonnet-latest": ModelOverrides(cache_control="strip"),
        },
    )
    assert target_for(routed, "deepseek/deepseek-r1:nitro").reasoning == "none"
    assert target_for(routed, "deepseek/deepseek-r1:free").reasoning == "effort"
    assert target_for(routed, "deepseek/deepseek-r1-0528").reasoning == "openrouter"
    tilde = target_for(routed, "~anthropic/claude-sonnet-latest")
    assert tilde.cache_control is False
    assert tilde.model == "~anthropic/claude-sonnet-latest"  # the model sent is unchanged


def test_auto_settings_in_an_override_resolve_like_the_providers() -> None:
    # "auto" in a model table means what it means for the provider, not "inherit".
    base = provider(reasoning="effort", cache_control="strip")
    routed = with_models(
        base, **{"anthropic/claude-x": ModelOverrides(reasoning="auto", cache_control="auto")}
    )
    target = target_for(routed, "anthropic/claude-x")
    assert (target.reasoning, target.cache_control) == ("openrouter", True)
