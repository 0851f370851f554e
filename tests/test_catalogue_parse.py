"""Model-list parsers: each provider family's listing JSON → `ModelInfo` (ccroute.catalogue.parse).

The sample bodies are shaped like the real endpoints' answers (see the parse module's docstring
for each source); fields a listing lacks must come out as None, never as a guess.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.parse import SOURCES, merge_ollama_show, next_page, parse_listing
from tests.importcheck import modules_loaded_by, of_packages

# --- OpenRouter GET /api/v1/models (protocol.md §4.9) ---------------------------------------

OPENROUTER: dict[str, Any] = {
    "data": [
        {
            "id": "anthropic/claude-sonnet-4.5",
            "canonical_slug": "anthropic/claude-4.5-sonnet-20250929",
            "name": "Anthropic: Claude Sonnet 4.5",
            "created": 1759161676,
            "description": "Claude Sonnet 4.5 is Anthropic's most advanced Sonnet model...",
            "context_length": 1000000,
            "architecture": {
                "modality": "text+image->text",
                "input_modalities": ["text", "image", "file"],
                "output_modalities": ["text"],
                "tokenizer": "Claude",
                "instruct_type": None,
            },
            "pricing": {
                "prompt": "0.000003",
                "completion": "0.000015",
                "request": "0",
                "image": "0.0048",
                "web_search": "0.01",
                "internal_reasoning": "0",
                "input_cache_read": "0.0000003",
                "input_cache_write": "0.00000375",
            },
            "top_provider": {
                "context_length": 1000000,
                "max_completion_tokens": 64000,
                "is_moderated": False,
            },
            "per_request_limits": None,
            "supported_parameters": [
                "include_reasoning",
                "max_tokens",
                "reasoning",
                "stop",
                "temperature",
                "tool_choice",
                "tools",
                "top_k",
                "top_p",
            ],
            "default_parameters": {"temperature": None, "top_p": None},
        },
        {
            "id": "deepseek/deepseek-chat-v3-0324:free",
            "name": "DeepSeek: DeepSeek V3 0324 (free)",
            "created": 1742824755,
            "context_length": 163840,
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "pricing": {"prompt": "0", "completion": "0"},
            "top_provider": {"context_length": 163840, "max_completion_tokens": None},
            "supported_parameters": ["max_tokens", "temperature", "tools", "tool_choice"],
        },
        {
            "id": "meta-llama/llama-3-8b-instruct",
            "name": "Meta: Llama 3 8B Instruct",
            "created": 1713398400,
            "context_length": 8192,
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "pricing": {"prompt": "0.00000003", "completion": "0.00000006"},
            "top_provider": {"context_length": 8192, "max_completion_tokens": 16384},
            "supported_parameters": ["max_tokens", "temperature", "top_p", "stop"],
        },
        {
            "id": "openrouter/auto",
            "name": "Auto Router",
            "created": 1699401600,
            "context_length": 2000000,
            "architecture": {"input_modalities": ["text", "image"]},
            "pricing": {"prompt": "-1", "completion": "-1"},
            "top_provider": {"context_length": None, "max_completion_tokens": None},
        },
    ]
}


def by_id(models: list[ModelInfo]) -> dict[str, ModelInfo]:
    return {m.id: m for m in models}


def test_openrouter_prices_become_usd_per_million_tokens() -> None:
    sonnet = by_id(parse_listing("openrouter", OPENROUTER, provider="or"))[
        "anthropic/claude-sonnet-4.5"
    ]
    assert sonnet.input_price == 3.0
    assert sonnet.output_price == 15.0
    assert sonnet.cache_read_price == pytest.approx(0.3)
    assert sonnet.cache_write_price == pytest.approx(3.75)


def test_openrouter_entry_carries_limits_capabilities_and_identity() -> None:
    sonnet = by_id(parse_listing("openrouter", OPENROUTER, provider="or"))[
        "anthropic/claude-sonnet-4.5"
    ]
    assert sonnet == ModelInfo(
        provider="or",
        id="anthropic/claude-sonnet-4.5",
        name="Anthropic: Claude Sonnet 4.5",
        context_length=1_000_000,
        max_output_tokens=64000,
        input_price=sonnet.input_price,
        output_price=sonnet.output_price,
        cache_read_price=sonnet.cache_read_price,
        cache_write_price=sonnet.cache_write_price,
        supports_tools=True,
        supports_reasoning=True,
        supports_images=True,
        created=1759161676,
        source="openrouter /api/v1/models",
    )


def test_openrouter_free_model_costs_zero_and_unknown_output_limit_stays_none() -> None:
    free = by_id(parse_listing("openrouter", OPENROUTER, provider="or"))[
        "deepseek/deepseek-chat-v3-0324:free"
    ]
    assert (free.input_price, free.output_price) == (0.0, 0.0)
    assert free.cache_read_price is None
    assert free.max_output_tokens is None
    assert free.supports_tools is True
    assert free.supports_reasoning is False
    assert free.supports_images is False


def test_openrouter_model_without_tools_parameter_does_not_support_tools() -> None:
    llama = by_id(parse_listing("openrouter", OPENROUTER, provider="or"))[
        "meta-llama/llama-3-8b-instruct"
    ]
    assert llama.supports_tools is False
    assert llama.context_length == 8192
    assert llama.input_price == pytest.approx(0.03)


def test_openrouter_variable_price_and_missing_parameters_are_unknown() -> None:
    auto = by_id(parse_listing("openrouter", OPENROUTER, provider="or"))["openrouter/auto"]
    assert auto.input_price is None and auto.output_price is None
    assert auto.supports_tools is None and auto.supports_reasoning is None
    assert auto.supports_images is True


def test_openrouter_context_length_falls_back_to_top_provider() -> None:
    body = {"data": [{"id": "x/y", "top_provider": {"context_length": 32768}}]}
    (model,) = parse_listing("openrouter", body, provider="or")
    assert model.context_length == 32768


@pytest.mark.parametrize("price", ["abc", "", None, True, "NaN", "Infinity"])
def test_openrouter_unparsable_price_is_unknown(price: object) -> None:
    body = {"data": [{"id": "x/y", "pricing": {"prompt": price, "completion": "0.000001"}}]}
    (model,) = parse_listing("openrouter", body, provider="or")
    assert model.input_price is None
    assert model.output_price == 1.0


# --- OpenAI-style GET /v1/models ------------------------------------------------------------

OPENAI: dict[str, Any] = {
    "object": "list",
    "data": [
        {"id": "gpt-4.1", "object": "model", "created": 1744316542, "owned_by": "system"},
        {"id": "o3-mini", "object": "model", "created": 1737146383, "owned_by": "system"},
    ],
}


def test_openai_listing_has_ids_and_creation_time_and_no_capabilities() -> None:
    models = parse_listing("openai", OPENAI, provider="openai")
    assert [m.id for m in models] == ["gpt-4.1", "o3-mini"]
    gpt = models[0]
    assert gpt.created == 1744316542
    assert gpt.source == SOURCES["openai"]
    assert (gpt.context_length, gpt.max_output_tokens, gpt.input_price) == (None, None, None)
    assert (gpt.supports_tools, gpt.supports_reasoning, gpt.supports_images) == (None,) * 3


def test_openai_listing_reads_vllm_and_groq_limits() -> None:
    body = {
        "object": "list",
        "data": [
            {
                "id": "Qwen/Qwen3-32B",
                "object": "model",
                "created": 1750000000,
                "owned_by": "vllm",
                "root": "Qwen/Qwen3-32B",
                "max_model_len": 40960,
            },
            {
                "id": "llama-3.3-70b-versatile",
                "object": "model",
                "created": 1733447754,
                "owned_by": "Meta",
                "active": True,
                "context_window": 131072,
                "max_completion_tokens": 32768,
            },
        ],
    }
    vllm, groq = parse_listing("openai", body, provider="local")
    assert vllm.context_length == 40960
    assert (groq.context_length, groq.max_output_tokens) == (131072, 32768)


def test_openai_listing_with_openrouter_fields_is_read_as_openrouter() -> None:
    models = parse_listing("openai", OPENROUTER, provider="gateway")
    sonnet = by_id(models)["anthropic/claude-sonnet-4.5"]
    assert sonnet.input_price == 3.0
    assert sonnet.supports_tools is True
    assert sonnet.source == SOURCES["openrouter"]


# --- Anthropic GET /v1/models (protocol.md §2.7) --------------------------------------------

ANTHROPIC: dict[str, Any] = {
    "data": [
        {
            "type": "model",
            "id": "claude-sonnet-4-5-20250929",
            "display_name": "Claude Sonnet 4.5",
            "created_at": "2025-09-29T00:00:00Z",
            "max_input_tokens": 200000,
            "max_tokens": 64000,
            "lifecycle": "active",
            "capabilities": {
                "batch": {"supported": True},
                "citations": {"supported": True},
                "image_input": {"supported": True},
                "pdf_input": {"supported": True},
                "thinking": {"supported": True, "types": {"enabled": {"supported": True}}},
                "structured_outputs": {"supported": True},
            },
        },
        {
            "type": "model",
            "id": "deepseek-chat",
            "display_name": "deepseek-chat",
            "created_at": "1970-01-01T00:00:00Z",
        },
    ],
    "has_more": False,
    "first_id": "claude-sonnet-4-5-20250929",
    "last_id": "deepseek-chat",
}


def test_anthropic_listing_reads_limits_capabilities_and_release_time() -> None:
    claude, other = parse_listing("anthropic", ANTHROPIC, provider="anthropic")
    assert claude.name == "Claude Sonnet 4.5"
    assert (claude.context_length, claude.max_output_tokens) == (200000, 64000)
    assert claude.supports_images is True and claude.supports_reasoning is True
    assert claude.supports_tools is None
    assert claude.created == 1759104000  # 2025-09-29T00:00:00Z
    assert other.created is None  # the epoch means "unknown" in Anthropic's model objects
    assert other.context_length is None and other.supports_images is None


def test_anthropic_next_page_follows_last_id_while_has_more() -> None:
    assert next_page("anthropic", ANTHROPIC) is None
    paged = {**ANTHROPIC, "has_more": True}
    assert next_page("anthropic", paged) == {"after_id": "deepseek-chat"}


# --- Gemini GET /v1beta/models (protocol.md §5.1) -------------------------------------------

GEMINI: dict[str, Any] = {
    "models": [
        {
            "name": "models/gemini-2.5-flash",
            "version": "001",
            "displayName": "Gemini 2.5 Flash",
            "description": "Stable version of Gemini 2.5 Flash...",
            "inputTokenLimit": 1048576,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": [
                "generateContent",
                "countTokens",
                "createCachedContent",
                "batchGenerateContent",
            ],
            "temperature": 1,
            "topP": 0.95,
            "topK": 64,
            "maxTemperature": 2,
            "thinking": True,
        },
        {
            "name": "models/gemini-2.0-flash",
            "version": "2.0",
            "displayName": "Gemini 2.0 Flash",
            "inputTokenLimit": 1048576,
            "outputTokenLimit": 8192,
            "supportedGenerationMethods": ["generateContent", "countTokens"],
        },
        {
            "name": "models/text-embedding-004",
            "version": "004",
            "displayName": "Text Embedding 004",
            "inputTokenLimit": 2048,
            "outputTokenLimit": 1,
            "supportedGenerationMethods": ["embedContent"],
        },
    ],
    "nextPageToken": "Ch5tb2RlbHMvZ2VtaW5pLTIuMC1mbGFzaA==",
}


def test_gemini_listing_strips_models_prefix_and_reads_limits() -> None:
    flash, old, embed = parse_listing("gemini", GEMINI, provider="gemini")
    assert [flash.id, old.id, embed.id] == [
        "gemini-2.5-flash",
        "gemini-2.0-flash",
        "text-embedding-004",
    ]
    assert flash.name == "Gemini 2.5 Flash"
    assert (flash.context_length, flash.max_output_tokens) == (1048576, 65536)


def test_gemini_thinking_flag_absent_on_a_list_that_has_it_means_no_reasoning() -> None:
    flash, old, _ = parse_listing("gemini", GEMINI, provider="gemini")
    assert flash.supports_reasoning is True
    assert old.supports_reasoning is False
    without_flag = {"models": [dict(GEMINI["models"][1])]}
    (alone,) = parse_listing("gemini", without_flag, provider="gemini")
    assert alone.supports_reasoning is None


def test_gemini_model_that_cannot_generate_content_has_no_tools() -> None:
    flash, _, embed = parse_listing("gemini", GEMINI, provider="gemini")
    assert embed.supports_tools is False
    assert flash.supports_tools is None


def test_gemini_next_page_uses_next_page_token() -> None:
    assert next_page("gemini", GEMINI) == {"pageToken": "Ch5tb2RlbHMvZ2VtaW5pLTIuMC1mbGFzaA=="}
    assert next_page("gemini", {"models": []}) is None
    assert next_page("gemini", {"models": [], "nextPageToken": ""}) is None


# --- Ollama GET /api/tags + POST /api/show ---------------------------------------------------

OLLAMA_TAGS: dict[str, Any] = {
    "models": [
        {
            "name": "qwen3:8b",
            "model": "qwen3:8b",
            "modified_at": "2025-10-03T23:34:03.409490317-07:00",
            "size": 5225388164,
            "digest": "500a1f067a9f782620b40bee6f7b0c89e17ae61f686b92c24933e4ca4b2b8b41",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "qwen3",
                "families": ["qwen3"],
                "parameter_size": "8.2B",
                "quantization_level": "Q4_K_M",
            },
        },
        {"name": "", "model": "gemma3:latest", "details": {"family": "gemma3"}},
    ]
}

OLLAMA_SHOW: dict[str, Any] = {
    "modelfile": '# Modelfile generated by "ollama show"...',
    "parameters": "temperature 0.6\ntop_k 20",
    "template": "{{- if .Messages }}...",
    "details": {"format": "gguf", "family": "qwen3", "parameter_size": "8.2B"},
    "model_info": {
        "general.architecture": "qwen3",
        "general.parameter_count": 8190735360,
        "qwen3.attention.head_count": 32,
        "qwen3.context_length": 40960,
        "qwen3.embedding_length": 4096,
    },
    "capabilities": ["completion", "tools", "thinking"],
    "modified_at": "2025-10-03T23:34:03.409490317-07:00",
}


def test_ollama_tags_list_names_with_unknown_limits() -> None:
    qwen, gemma = parse_listing("ollama", OLLAMA_TAGS, provider="ollama")
    assert (qwen.id, gemma.id) == ("qwen3:8b", "gemma3:latest")
    assert qwen.context_length is None and qwen.supports_tools is None
    assert qwen.source == SOURCES["ollama"]


def test_ollama_show_adds_capabilities_and_context_length() -> None:
    (qwen, _) = parse_listing("ollama", OLLAMA_TAGS, provider="ollama")
    merged = merge_ollama_show(qwen, OLLAMA_SHOW)
    assert merged.context_length == 40960
    assert merged.supports_tools is True
    assert merged.supports_reasoning is True
    assert merged.supports_images is False
    assert merged.id == "qwen3:8b"


def test_ollama_show_without_capabilities_changes_nothing() -> None:
    (qwen, _) = parse_listing("ollama", OLLAMA_TAGS, provider="ollama")
    assert merge_ollama_show(qwen, {"details": {}}) == qwen
    assert merge_ollama_show(qwen, "not an object") == qwen


def test_ollama_show_finds_context_length_without_an_architecture_name() -> None:
    (qwen, _) = parse_listing("ollama", OLLAMA_TAGS, provider="ollama")
    merged = merge_ollama_show(qwen, {"model_info": {"llama.context_length": 131072}})
    assert merged.context_length == 131072


def test_ollama_openai_compatible_list_also_parses() -> None:
    body = {
        "object": "list",
        "data": [
            {"id": "qwen3:8b", "object": "model", "created": 1759536843, "owned_by": "library"}
        ],
    }
    (model,) = parse_listing("openai", body, provider="ollama")
    assert model.id == "qwen3:8b"


# --- LM Studio GET /api/v0/models -----------------------------------------------------------

LMSTUDIO: dict[str, Any] = {
    "object": "list",
    "data": [
        {
            "id": "qwen2-vl-7b-instruct",
            "object": "model",
            "type": "vlm",
            "publisher": "mlx-community",
            "arch": "qwen2_vl",
            "compatibility_type": "mlx",
            "quantization": "4bit",
            "state": "not-loaded",
            "max_context_length": 32768,
        },
        {
            "id": "meta-llama-3.1-8b-instruct",
            "object": "model",
            "type": "llm",
            "publisher": "lmstudio-community",
            "arch": "llama",
            "compatibility_type": "gguf",
            "quantization": "Q4_K_M",
            "state": "loaded",
            "max_context_length": 131072,
            "loaded_context_length": 4096,
            "capabilities": ["tool_use"],
        },
        {
            "id": "text-embedding-nomic-embed-text-v1.5",
            "object": "model",
            "type": "embeddings",
            "publisher": "nomic-ai",
            "state": "not-loaded",
            "max_context_length": 2048,
        },
    ],
}


def test_lmstudio_listing_reads_context_type_and_tool_use() -> None:
    vlm, llm, embed = parse_listing("lmstudio", LMSTUDIO, provider="lmstudio")
    assert vlm.context_length == 32768
    assert vlm.supports_images is True and vlm.supports_tools is None
    assert llm.supports_images is False and llm.supports_tools is True
    assert llm.context_length == 131072
    assert embed.supports_tools is False


# --- envelopes, duplicates, the JSON form ---------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "body", "missing"),
    [
        ("openrouter", {"error": {"message": "Unauthorized"}}, "'data'"),
        ("gemini", {"data": []}, "'models'"),
        ("ollama", [], "'models'"),
        ("anthropic", "<html>", "'data'"),
    ],
)
def test_a_body_that_is_not_the_listing_envelope_raises_value_error(
    fmt: str, body: object, missing: str
) -> None:
    with pytest.raises(ValueError, match=missing):
        parse_listing(fmt, body, provider="p")


def test_unknown_format_raises_value_error() -> None:
    with pytest.raises(ValueError, match="unknown listing format 'xml'"):
        parse_listing("xml", {"data": []}, provider="p")


def test_entries_without_an_id_are_skipped_and_repeats_keep_the_first() -> None:
    body = {
        "data": [
            {"id": "a", "created": 1},
            {"object": "model"},
            "junk",
            {"id": 7},
            {"id": "a", "created": 2},
        ]
    }
    models = parse_listing("openai", body, provider="p")
    assert [(m.id, m.created) for m in models] == [("a", 1)]


@pytest.mark.parametrize("value", [0, -5, True, 1.5, "4096"])
def test_counts_that_are_not_positive_integers_are_unknown(value: object) -> None:
    body = {"data": [{"id": "m", "max_model_len": value}]}
    (model,) = parse_listing("openai", body, provider="p")
    assert model.context_length is None


def test_model_info_json_round_trips_and_tolerates_bad_fields() -> None:
    for model in parse_listing("openrouter", OPENROUTER, provider="or"):
        assert ModelInfo.from_json(json.loads(json.dumps(model.to_json()))) == model
    odd = ModelInfo.from_json(
        {"provider": "p", "id": "m", "context_length": "big", "supports_tools": 1, "extra": 1}
    )
    assert odd == ModelInfo(provider="p", id="m")
    assert ModelInfo.from_json({"provider": "p", "id": "m", "input_price": 3}).input_price == 3.0
    with pytest.raises(ValueError, match="'id'"):
        ModelInfo.from_json({"provider": "p"})


def test_importing_the_catalogue_loads_no_framework_cli_or_keyring() -> None:
    modules = [
        "ccroute.catalogue.model",
        "ccroute.catalogue.parse",
        "ccroute.catalogue.sources",
        "ccroute.catalogue.cache",
        "ccroute.catalogue.collect",
        "ccroute.catalogue.warnings",
    ]
    loaded = modules_loaded_by(modules)
    assert "ccroute.catalogue.warnings" in loaded
    assert of_packages(loaded, ("aiohttp", "typer", "rich", "keyring")) == []
