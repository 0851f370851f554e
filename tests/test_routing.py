"""The pure routing decision: requested model name → provider and upstream model."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccroute.config import (
    Config,
    ProviderConfig,
    RouterConfig,
    ServerConfig,
    split_model_ref,
)
from ccroute.errors import ConfigError
from ccroute.routing import resolve


def config(default: str = "openrouter/anthropic/claude-sonnet-4.5") -> Config:
    providers = {
        name: ProviderConfig(name=name, wire="openai", base_url=f"http://{name}.test/v1")
        for name in ("openrouter", "local")
    }
    return Config(
        server=ServerConfig(),
        providers=providers,
        router=RouterConfig(default=default),
        source=Path("/cfg/config.toml"),
    )


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("openrouter/anthropic/claude-sonnet-4.5", ("openrouter", "anthropic/claude-sonnet-4.5")),
        ("openrouter,deepseek/deepseek-chat", ("openrouter", "deepseek/deepseek-chat")),
        ("local/qwen3:32b", ("local", "qwen3:32b")),
        ("claude-opus-4-8", None),
        ("/model", None),
        ("provider/", None),
    ],
)
def test_split_model_ref_cuts_at_the_first_separator(
    ref: str, expected: tuple[str, str] | None
) -> None:
    assert split_model_ref(ref) == expected


@pytest.mark.parametrize(
    "model", ["claude-opus-4-8", "claude-haiku-4-5-20251001", "claude-sonnet-5", "sonnet"]
)
def test_claude_model_names_take_the_default_route(model: str) -> None:
    route = resolve(model, config())
    assert route.provider.name == "openrouter"
    assert route.model == "anthropic/claude-sonnet-4.5"
    assert route.reason == "default"


def test_reference_to_a_configured_provider_is_routed_there_verbatim() -> None:
    route = resolve("local/qwen3-coder:30b", config())
    assert (route.provider.name, route.model, route.reason) == (
        "local",
        "qwen3-coder:30b",
        "explicit",
    )


def test_claude_code_router_comma_reference_is_accepted() -> None:
    route = resolve("openrouter,moonshotai/kimi-k2", config())
    assert (route.provider.name, route.model) == ("openrouter", "moonshotai/kimi-k2")


def test_reference_to_unknown_provider_falls_back_to_default() -> None:
    route = resolve("anthropic/claude-opus-4-8", config())
    assert route.provider.name == "openrouter"
    assert route.reason == "default"


def test_default_naming_unknown_provider_is_a_config_error_naming_the_fix() -> None:
    with pytest.raises(ConfigError) as info:
        resolve("claude-opus-4-8", config(default="nowhere/model"))
    assert "router.default" in info.value.message
    assert "ccroute config set router.default" in info.value.message
