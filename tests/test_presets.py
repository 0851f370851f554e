"""The provider presets: each one is a valid provider config, reaches the right endpoint, and
says where its facts come from."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ccroute import wires
from ccroute.config import BUILTIN_PROVIDERS, KNOWN_WIRES, load_config, set_value
from ccroute.config.edit import set_provider
from ccroute.errors import ConfigError
from ccroute.presets import ALIASES, PRESETS, Preset, find_preset

REQUIRED = (
    "openrouter",
    "openai",
    "anthropic",
    "deepseek",
    "moonshot",
    "zhipu",
    "minimax",
    "qwen",
    "groq",
    "mistral",
    "xai",
    "gemini",
    "ollama",
    "lmstudio",
    "vllm",
    "llamacpp",
)
LOCAL = ("ollama", "lmstudio", "vllm", "llamacpp")

ALL = pytest.mark.parametrize("preset", list(PRESETS.values()), ids=list(PRESETS))


def test_every_required_preset_exists() -> None:
    assert set(REQUIRED) <= set(PRESETS)
    for name, preset in PRESETS.items():
        assert preset.name == name


@ALL
def test_preset_is_accepted_by_the_config_loader_with_every_field_intact(preset: Preset) -> None:
    set_provider(preset.name, preset.provider_table())
    provider = load_config().providers[preset.name]
    assert provider.wire == preset.wire
    assert provider.base_url == preset.base_url
    assert provider.api_key_env == preset.api_key_env
    assert provider.max_tokens == preset.max_tokens
    assert provider.auth == preset.auth
    assert provider.betas == preset.betas
    assert provider.reasoning == preset.reasoning
    assert dict(provider.headers) == dict(preset.headers)


@ALL
def test_preset_suggested_route_is_a_valid_router_default(preset: Preset) -> None:
    set_provider(preset.name, preset.provider_table())
    assert preset.default_model.strip() == preset.default_model != ""
    set_value("router.default", f"{preset.name}/{preset.default_model}")
    assert load_config().router.default == f"{preset.name}/{preset.default_model}"


@ALL
def test_preset_wire_is_registered_and_builds_the_documented_endpoint(preset: Preset) -> None:
    assert preset.wire in KNOWN_WIRES
    wire = wires.wire_for(preset.wire)
    url = wire.url(preset.base_url, preset.default_model, True)
    assert url.startswith(preset.base_url + "/")
    match preset.wire:
        case "anthropic":
            # the base is what ANTHROPIC_BASE_URL would be: the wire appends /v1/messages
            assert not preset.base_url.endswith("/v1")
            assert url == f"{preset.base_url}/v1/messages"
        case "openai":
            assert url == f"{preset.base_url}/chat/completions"
        case "openai-responses":
            assert url == f"{preset.base_url}/responses"
        case "gemini":
            assert url.endswith(f"/models/{preset.default_model}:streamGenerateContent?alt=sse")


@ALL
def test_preset_names_where_its_facts_come_from(preset: Preset) -> None:
    assert len(preset.source) > 40, preset.source
    assert preset.title


@pytest.mark.parametrize("name", LOCAL)
def test_local_servers_need_no_key_and_live_on_localhost(name: str) -> None:
    preset = PRESETS[name]
    assert preset.api_key_env is None
    assert preset.local
    assert preset.base_url.startswith("http://localhost:")
    assert "api_key_env" not in preset.provider_table()


@pytest.mark.parametrize("name", [n for n in REQUIRED if n not in LOCAL])
def test_hosted_providers_name_a_key_variable_and_use_https(name: str) -> None:
    preset = PRESETS[name]
    assert preset.api_key_env is not None
    assert preset.api_key_env.endswith("_API_KEY")
    assert not preset.local
    assert preset.base_url.startswith("https://")


def test_openrouter_preset_matches_the_builtin_provider() -> None:
    preset, builtin = PRESETS["openrouter"], BUILTIN_PROVIDERS["openrouter"]
    assert (preset.wire, preset.base_url, preset.api_key_env, preset.max_tokens) == (
        builtin.wire,
        builtin.base_url,
        builtin.api_key_env,
        builtin.max_tokens,
    )
    assert dict(preset.headers) == dict(builtin.headers)


def test_provider_table_leaves_defaults_out_and_takes_overrides() -> None:
    deepseek = PRESETS["deepseek"]
    assert deepseek.provider_table() == {
        "wire": "anthropic",
        "base_url": "https://api.deepseek.com/anthropic",
        "api_key_env": "DEEPSEEK_API_KEY",
        "max_tokens": 384000,
        "betas": "strip",
    }
    table = PRESETS["ollama"].provider_table(base_url="http://gpu:11434/v1", key_env="OLLAMA_KEY")
    assert table == {
        "wire": "openai",
        "base_url": "http://gpu:11434/v1",
        "api_key_env": "OLLAMA_KEY",
    }
    assert PRESETS["moonshot"].provider_table()["auth"] == "bearer"


def test_third_party_anthropic_endpoints_strip_betas_and_anthropic_keeps_them() -> None:
    for preset in PRESETS.values():
        if preset.wire == "anthropic":
            expected = "keep" if preset.name == "anthropic" else "strip"
            assert preset.betas == expected, preset.name


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("kimi", "moonshot"), ("GLM", "zhipu"), ("dashscope", "qwen"), ("llama.cpp", "llamacpp")],
)
def test_aliases_and_case_find_the_preset(typed: str, expected: str) -> None:
    assert find_preset(typed).name == expected


def test_every_alias_points_at_a_preset() -> None:
    assert set(ALIASES.values()) <= set(PRESETS)
    assert not set(ALIASES) & set(PRESETS)


def test_unknown_preset_suggests_the_closest_and_lists_them_all() -> None:
    with pytest.raises(ConfigError) as info:
        find_preset("deepsek")
    assert "Did you mean 'deepseek'?" in info.value.message
    assert "llamacpp" in info.value.message
    with pytest.raises(ConfigError) as info:
        find_preset("zzzz")
    assert "Did you mean" not in info.value.message
    assert "providers.<name>.base_url" in info.value.message


def test_presets_module_imports_no_io_libraries() -> None:
    code = (
        "import sys, ccroute.presets\n"
        "bad = [m for m in ('aiohttp', 'typer', 'rich', 'keyring', 'ccroute.config') "
        "if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
