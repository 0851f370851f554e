"""Route warnings from the catalogue (ccroute.catalogue.warnings): pure, config + lists in."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.warnings import (
    CLAUDE_CODE_MAX_TOKENS,
    MIN_CONTEXT_TOKENS,
    find_model,
    route_warnings,
)
from ccroute.config import Config, ModelOverrides, ProviderConfig, RouterConfig, ServerConfig


def config(
    *, or_max_tokens: int | None = 32000, overrides: dict[str, ModelOverrides] | None = None
) -> Config:
    return Config(
        server=ServerConfig(),
        providers={
            "openrouter": ProviderConfig(
                name="openrouter",
                wire="openai",
                base_url="https://openrouter.ai/api/v1",
                max_tokens=or_max_tokens,
                models=MappingProxyType(overrides or {}),
            ),
            "local": ProviderConfig(name="local", wire="openai", base_url="http://x:11434/v1"),
        },
        router=RouterConfig(default="openrouter/anthropic/claude-sonnet-4.5"),
        source=Path("config.toml"),
    )


def model(provider: str, model_id: str, **kw: object) -> ModelInfo:
    return ModelInfo(provider=provider, id=model_id, **kw)  # type: ignore[arg-type]


GOOD = model(
    "openrouter",
    "anthropic/claude-sonnet-4.5",
    context_length=1_000_000,
    max_output_tokens=64000,
    supports_tools=True,
)


def kinds(routes: list[str], cfg: Config, catalogue: dict[str, list[ModelInfo]]) -> list[str]:
    return [w.kind for w in route_warnings(routes, cfg, catalogue)]


def test_a_capable_listed_model_gets_no_warning() -> None:
    assert (
        route_warnings(["openrouter/anthropic/claude-sonnet-4.5"], config(), {"openrouter": [GOOD]})
        == []
    )


def test_model_missing_from_the_providers_list_is_not_listed() -> None:
    (warning,) = route_warnings(
        ["openrouter/anthropic/claude-sonet-4.5"], config(), {"openrouter": [GOOD]}
    )
    assert warning.kind == "not_listed"
    assert (warning.provider, warning.model) == ("openrouter", "anthropic/claude-sonet-4.5")
    assert "ccroute models --provider openrouter claude-sonet-4.5" in warning.message


def test_provider_without_a_list_gets_no_model_warnings() -> None:
    assert kinds(["local/anything"], config(), {"openrouter": [GOOD]}) == []


def test_route_to_an_unconfigured_provider_is_flagged_even_without_lists() -> None:
    (warning,) = route_warnings(["nowhere/model-x", "claude-sonnet"], config(), {})[:1]
    assert warning.kind == "unknown_provider"
    assert "'nowhere'" in warning.message and "openrouter, local" in warning.message
    assert kinds(["claude-sonnet"], config(), {}) == ["unknown_provider"]


def test_model_without_tool_support_is_flagged() -> None:
    llama = model("openrouter", "meta-llama/llama-3-8b", supports_tools=False)
    (warning,) = route_warnings(
        ["openrouter/meta-llama/llama-3-8b"], config(or_max_tokens=None), {"openrouter": [llama]}
    )
    assert warning.kind == "no_tools"
    assert "tool" in warning.message


def test_unknown_tool_support_is_not_flagged() -> None:
    unknown = model("openrouter", "x/y", supports_tools=None)
    assert kinds(["openrouter/x/y"], config(), {"openrouter": [unknown]}) == []


def test_output_limit_below_the_provider_clamp_is_flagged_with_the_fix() -> None:
    small = model("openrouter", "deepseek/deepseek-chat", max_output_tokens=8192)
    (warning,) = route_warnings(
        ["openrouter/deepseek/deepseek-chat"], config(), {"openrouter": [small]}
    )
    assert warning.kind == "max_output"
    assert "8192" in warning.message and "32000" in warning.message
    assert (
        "ccroute config set 'providers.openrouter.models.\"deepseek/deepseek-chat\".max_tokens' "
        "8192" in warning.message
    )


def test_a_per_model_clamp_at_or_below_the_limit_silences_the_warning() -> None:
    small = model("openrouter", "deepseek/deepseek-chat", max_output_tokens=8192)
    cfg = config(overrides={"deepseek/deepseek-chat": ModelOverrides(max_tokens=8192)})
    assert kinds(["openrouter/deepseek/deepseek-chat"], cfg, {"openrouter": [small]}) == []


def test_without_a_clamp_claude_codes_default_request_is_the_yardstick() -> None:
    below = model("local", "m1", max_output_tokens=CLAUDE_CODE_MAX_TOKENS - 1)
    at = model("local", "m2", max_output_tokens=CLAUDE_CODE_MAX_TOKENS)
    lists = {"local": [below, at]}
    assert kinds(["local/m1"], config(), lists) == ["max_output"]
    assert kinds(["local/m2"], config(), lists) == []
    assert (
        "Claude Code's default of 32000" in route_warnings(["local/m1"], config(), lists)[0].message
    )


def test_a_generous_clamp_still_flags_a_model_below_it() -> None:
    m = model("openrouter", "a/b", max_output_tokens=40000)
    assert kinds(["openrouter/a/b"], config(or_max_tokens=64000), {"openrouter": [m]}) == [
        "max_output"
    ]
    assert kinds(["openrouter/a/b"], config(or_max_tokens=32000), {"openrouter": [m]}) == []


def test_small_context_window_is_flagged() -> None:
    small = model("local", "qwen3:8b", context_length=40960, supports_tools=True)
    (warning,) = route_warnings(["local/qwen3:8b"], config(), {"local": [small]})
    assert warning.kind == "small_context"
    assert "40960" in warning.message and str(MIN_CONTEXT_TOKENS) in warning.message
    at_threshold = model("local", "big", context_length=MIN_CONTEXT_TOKENS)
    assert kinds(["local/big"], config(), {"local": [at_threshold]}) == []


def test_several_problems_of_one_route_are_all_reported_in_a_stable_order() -> None:
    bad = model("local", "tiny", supports_tools=False, max_output_tokens=2048, context_length=8192)
    assert kinds(["local/tiny"], config(), {"local": [bad]}) == [
        "no_tools",
        "max_output",
        "small_context",
    ]


def test_routes_are_checked_once_each_in_order() -> None:
    bad = model("local", "tiny", supports_tools=False)
    warnings = route_warnings(
        ["local/tiny", "openrouter/anthropic/claude-sonnet-4.5", "local/tiny", "local/gone"],
        config(),
        {"local": [bad], "openrouter": [GOOD]},
    )
    assert [(w.route, w.kind) for w in warnings] == [
        ("local/tiny", "no_tools"),
        ("local/gone", "not_listed"),
    ]


def test_claude_code_router_comma_references_are_understood() -> None:
    assert kinds(["openrouter,anthropic/claude-sonnet-4.5"], config(), {"openrouter": [GOOD]}) == []


@pytest.mark.parametrize(
    ("wanted", "listed"),
    [
        ("anthropic/claude-sonnet-4.5", "anthropic/claude-sonnet-4.5"),
        ("models/gemini-2.5-pro", "gemini-2.5-pro"),
        ("~anthropic/claude-sonnet-4.5", "anthropic/claude-sonnet-4.5"),
        ("deepseek/deepseek-r1:nitro", "deepseek/deepseek-r1"),
        ("qwen3", "qwen3:latest"),
    ],
)
def test_lookup_tolerates_prefixes_variants_and_ollamas_latest_tag(
    wanted: str, listed: str
) -> None:
    found = find_model([model("p", "other"), model("p", listed)], wanted)
    assert found is not None and found.id == listed


def test_lookup_prefers_the_exact_id_over_a_variants_base() -> None:
    free = model("p", "deepseek/deepseek-r1:free", input_price=0.0)
    paid = model("p", "deepseek/deepseek-r1", input_price=0.55)
    assert find_model([paid, free], "deepseek/deepseek-r1:free") == free


def test_lookup_does_not_match_another_ollama_tag() -> None:
    assert find_model([model("p", "qwen3:latest")], "qwen3:14b") is None


def test_warning_json_has_route_provider_model_kind_and_message() -> None:
    (warning,) = route_warnings(["local/x"], config(), {"local": []})
    assert warning.to_json() == {
        "route": "local/x",
        "provider": "local",
        "model": "x",
        "kind": "not_listed",
        "message": warning.message,
    }
