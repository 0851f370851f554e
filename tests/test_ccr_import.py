"""`ccroute.ccr_import.plan_import`: a claude-code-router config mapped to ccroute's tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ccroute.ccr_import import interpolate, plan_import, provider_name, strip_json5
from ccroute.errors import ConfigError

CCR: dict[str, Any] = {
    "LOG": True,
    "PORT": 3457,
    "HOST": "0.0.0.0",
    "APIKEY": "local-secret",
    "CUSTOM_ROUTER_PATH": "/home/u/.claude-code-router/custom-router.js",
    "Providers": [
        {
            "name": "openrouter",
            "api_base_url": "https://openrouter.ai/api/v1/chat/completions",
            "api_key": "$OPENROUTER_API_KEY",
            "models": ["google/gemini-2.5-pro-preview", "anthropic/claude-sonnet-4"],
            "transformer": {"use": [["openrouter", {"provider": {"only": ["anthropic"]}}]]},
        },
        {
            "name": "deepseek",
            "api_base_url": "https://api.deepseek.com/chat/completions",
            "api_key": "sk-deepseek-literal-1234",
            "models": ["deepseek-chat", "deepseek-reasoner"],
            "transformer": {"use": ["deepseek"], "deepseek-chat": {"use": ["tooluse"]}},
        },
        {
            "name": "gemini",
            "api_base_url": "https://generativelanguage.googleapis.com/v1beta/models/",
            "api_key": "${GEMINI_KEY}",
            "models": ["gemini-2.5-flash"],
            "transformer": {"use": ["gemini"]},
        },
        {
            "name": "Local Ollama",
            "api_base_url": "http://${OLLAMA_HOST}/v1/chat/completions",
            "api_key": "",
            "models": ["qwen2.5-coder:latest"],
        },
        {
            "name": "modelscope",
            "api_base_url": "https://api-inference.modelscope.cn/v1/chat/completions",
            "api_key": "$MS_KEY",
            "models": ["Qwen/Qwen3-Coder"],
            "transformer": {
                "use": [["maxtoken", {"max_tokens": 65536}], "enhancetool"],
                "Qwen/Qwen3-Coder": {"use": ["reasoning", ["maxtoken", {"max_tokens": 4096}]]},
            },
        },
        {
            "name": "claude",
            "api_base_url": "https://api.anthropic.com/v1/messages",
            "api_key": "$ANTHROPIC_API_KEY",
            "models": ["claude-sonnet-4-5"],
            "transformer": {"use": ["anthropic", "cleancache"]},
        },
    ],
    "Router": {
        "default": "deepseek,deepseek-chat",
        "background": "Local Ollama,qwen2.5-coder:latest",
        "think": "deepseek,deepseek-reasoner",
        "longContext": "openrouter,google/gemini-2.5-pro-preview",
        "longContextThreshold": 60000,
        "webSearch": "gemini,gemini-2.5-flash",
        "image": "nowhere,some-model",
    },
}
ENV = {"OLLAMA_HOST": "localhost:11434"}


def test_openai_compatible_providers_lose_the_chat_completions_suffix() -> None:
    plan = plan_import(CCR, env=ENV)
    assert plan.providers["openrouter"]["wire"] == "openai"
    assert plan.providers["openrouter"]["base_url"] == "https://openrouter.ai/api/v1"
    assert plan.providers["deepseek"]["base_url"] == "https://api.deepseek.com"
    assert plan.providers["local-ollama"] == {
        "wire": "openai",
        "base_url": "http://localhost:11434/v1",
    }


def test_anthropic_and_gemini_providers_get_their_wires_and_bases() -> None:
    plan = plan_import(CCR, env=ENV)
    assert plan.providers["claude"] == {
        "wire": "anthropic",
        "base_url": "https://api.anthropic.com",
        "api_key_env": "ANTHROPIC_API_KEY",
        "cache_control": "strip",
    }
    assert plan.providers["gemini"] == {
        "wire": "gemini",
        "base_url": "https://generativelanguage.googleapis.com/v1beta",
        "api_key_env": "GEMINI_KEY",
    }


def test_key_references_become_api_key_env_and_literal_keys_go_to_keys_only() -> None:
    plan = plan_import(CCR, env=ENV)
    assert plan.providers["openrouter"]["api_key_env"] == "OPENROUTER_API_KEY"
    assert plan.keys == {"deepseek": "sk-deepseek-literal-1234"}
    assert plan.providers["deepseek"]["api_key_env"] == "DEEPSEEK_API_KEY"
    assert "sk-deepseek-literal-1234" not in repr(plan.providers)
    assert not any("sk-deepseek" in line for line in plan.imported + plan.changed)
    assert "api_key_env" not in plan.providers["local-ollama"]


def test_transformers_map_to_the_settings_with_the_same_effect() -> None:
    plan = plan_import(CCR, env=ENV)
    assert plan.providers["openrouter"]["reasoning"] == "openrouter"
    assert plan.providers["openrouter"]["provider_routing"] == {"only": ["anthropic"]}
    assert plan.providers["deepseek"]["max_tokens"] == 8192
    assert plan.providers["modelscope"]["max_tokens"] == 65536
    assert plan.model_overrides == {
        "modelscope": {"Qwen/Qwen3-Coder": {"reasoning": "effort", "max_tokens": 4096}}
    }
    skipped = "\n".join(plan.skipped)
    assert "providers.deepseek model deepseek-chat: transformer tooluse" in skipped
    assert "providers.modelscope: transformer enhancetool" in skipped


def test_routes_become_slash_refs_and_unknown_providers_are_reported() -> None:
    plan = plan_import(CCR, env=ENV)
    assert plan.router == {
        "default": "deepseek/deepseek-chat",
        "background": "local-ollama/qwen2.5-coder:latest",
        "think": "deepseek/deepseek-reasoner",
        "long_context": "openrouter/google/gemini-2.5-pro-preview",
        "long_context_threshold": 60000,
        "web_search": "gemini/gemini-2.5-flash",
    }
    assert "Router.image 'nowhere,some-model': names no imported provider" in plan.skipped


def test_top_level_settings_are_reported_and_port_is_kept_aside() -> None:
    plan = plan_import(CCR, env=ENV)
    assert plan.port == 3457
    skipped = "\n".join(plan.skipped)
    assert "CUSTOM_ROUTER_PATH: a JavaScript router cannot run in ccroute" in skipped
    assert "HOST:" in skipped and "APIKEY:" in skipped
    assert "local-secret" not in skipped


def test_a_url_naming_an_unset_variable_skips_that_provider() -> None:
    plan = plan_import(CCR, env={})
    assert "local-ollama" not in plan.providers
    assert any("$OLLAMA_HOST, unset" in line for line in plan.skipped)
    assert "background" not in plan.router


def test_interpolate_and_provider_name() -> None:
    assert interpolate("http://$H:${P}/v1", {"H": "h", "P": "1"}) == "http://h:1/v1"
    with pytest.raises(KeyError):
        interpolate("$MISSING", {})
    assert provider_name("My Provider.v2") == "my-provider-v2"


def test_a_non_object_config_is_refused() -> None:
    with pytest.raises(ConfigError, match="JSON object"):
        plan_import(["not", "an", "object"])


def test_json5_comments_and_trailing_commas_are_blanked_but_strings_kept() -> None:
    text = (
        '{\n  // the README style\n  "url": "http://h/v1/chat/completions", /* inline */\n'
        '  "odd": "a // not a comment, ]",\n  "list": ["x", "y",],\n  "esc": "q\\"//x",\n}\n'
    )
    stripped = strip_json5(text)
    assert json.loads(stripped) == {
        "url": "http://h/v1/chat/completions",
        "odd": "a // not a comment, ]",
        "list": ["x", "y"],
        "esc": 'q"//x',
    }
    assert stripped.count("\n") == text.count("\n")
