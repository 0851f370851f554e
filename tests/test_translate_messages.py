"""validate_request, error bodies and the status → error.type table (protocol.md §1, §2.5)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ccroute.errors import TranslationError
from ccroute.translate import messages
from ccroute.translate.tokens import estimate_input_tokens

FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"


def minimal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_real_claude_code_requests_are_valid(name: str) -> None:
    body = json.loads((FIXTURES / name).read_text())["body"]
    assert messages.validate_request(body) is body


def test_unknown_top_level_fields_are_accepted_and_kept() -> None:
    body = minimal(context_management={"edits": []}, output_config={"effort": "high"}, speed="x")
    assert messages.validate_request(body)["output_config"] == {"effort": "high"}


def test_mid_conversation_system_message_is_accepted_as_string_or_text_blocks() -> None:
    body = minimal(
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "reminder"},
            {"role": "system", "content": [{"type": "text", "text": "more"}]},
        ]
    )
    assert len(messages.validate_request(body)["messages"]) == 3


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ([], "body: must be a JSON object, got array"),
        (minimal(max_tokens=None), "max_tokens: required integer"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "max_tokens: required"),
        (minimal(max_tokens="10"), "max_tokens: must be an integer, got string"),
        (minimal(max_tokens=True), "max_tokens: must be an integer, got boolean"),
        (minimal(max_tokens=-1), "max_tokens: must be >= 0"),
        (minimal(model=3), "model: must be a string, got number"),
        (minimal(messages=[]), "messages: must contain at least one message"),
        (minimal(messages={}), "messages: must be an array, got object"),
        (minimal(messages=[{"role": "bot", "content": "x"}]), "messages.0.role: must be 'user'"),
        (minimal(messages=[{"role": "user"}]), "messages.0.content: must be a string or array"),
        (
            minimal(messages=[{"role": "user", "content": "a"}, {"role": "user", "content": [{}]}]),
            "messages.1.content.0.type: required string",
        ),
        (
            minimal(
                messages=[
                    {"role": "user", "content": "a"},
                    {"role": "user", "content": [{"type": "foo"}]},
                ]
            ),
            "messages.1.content.0.type: unknown content block type 'foo'",
        ),
        (
            minimal(messages=[{"role": "user", "content": [{"type": "text"}]}]),
            "messages.0.content.0.text: required string",
        ),
        (
            minimal(
                messages=[
                    {
                        "role": "user",
                        "content": [{"type": "tool_use", "id": "a", "name": "b", "input": {}}],
                    }
                ]
            ),
            "messages.0.content.0.type: 'tool_use' blocks are not allowed in user content",
        ),
        (
            minimal(
                messages=[
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "a", "name": "b", "input": "{}"}],
                    }
                ]
            ),
            "messages.0.content.0.input: must be an object, got string",
        ),
        (
            minimal(
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": "t",
                                "content": [{"type": "tool_use"}],
                            }
                        ],
                    }
                ]
            ),
            "messages.0.content.0.content.0.type: 'tool_use' blocks are not allowed in tool_result",
        ),
        (
            minimal(
                messages=[
                    {
                        "role": "user",
                        "content": [{"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}],
                    }
                ]
            ),
            "messages.0.content.0.is_error: must be a boolean, got string",
        ),
        (
            minimal(
                messages=[
                    {
                        "role": "user",
                        "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}],
                    }
                ]
            ),
            "messages.0.content.0.source.type: unsupported image source type 'file'",
        ),
        (
            minimal(messages=[{"role": "system", "content": [{"type": "image"}]}]),
            "messages.0.content.0.type: 'image' blocks are not allowed in system content",
        ),
        (
            minimal(system=[{"type": "text", "text": 1}]),
            "system.0.text: must be a string, got number",
        ),
        (minimal(system=5), "system: must be a string or array of text blocks, got number"),
        (minimal(stop_sequences=["a", 1]), "stop_sequences.1: must be a string, got number"),
        (minimal(temperature="hot"), "temperature: must be a number, got string"),
        (minimal(stream="yes"), "stream: must be a boolean, got string"),
        (minimal(tools=[{"name": "x"}]), "tools.0.input_schema: required object"),
        (minimal(tools=[{"input_schema": {}}]), "tools.0.name: required string"),
        (minimal(tool_choice={"type": "sometimes"}), "tool_choice.type: must be 'auto', 'any'"),
        (minimal(tool_choice={"type": "tool"}), "tool_choice.name: required string"),
    ],
)
def test_invalid_request_is_rejected_naming_the_json_path(body: Any, error: str) -> None:
    with pytest.raises(TranslationError) as excinfo:
        messages.validate_request(body)
    assert str(excinfo.value).startswith(error)


def test_server_tools_need_no_input_schema() -> None:
    body = minimal(tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}])
    assert messages.validate_request(body)["tools"][0]["name"] == "web_search"


def test_error_body_has_the_anthropic_error_shape() -> None:
    assert messages.error_body("overloaded_error", "Overloaded") == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (402, "billing_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (408, "timeout_error"),
        (413, "request_too_large"),
        (418, "invalid_request_error"),
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
        (503, "overloaded_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
        (599, "api_error"),
    ],
)
def test_error_type_for_status_follows_the_protocol_table(status: int, error_type: str) -> None:
    assert messages.error_type_for_status(status) == error_type


def test_message_start_seeds_usage_with_the_estimate_and_empty_content() -> None:
    event = messages.message_start(message_id="msg_1", model="m", input_tokens=42)
    assert event["message"]["usage"]["input_tokens"] == 42
    assert event["message"]["content"] == []
    assert event["message"]["stop_reason"] is None


def test_input_token_estimate_grows_with_the_prompt_and_counts_images() -> None:
    small = messages.validate_request(minimal())
    big = messages.validate_request(minimal(messages=[{"role": "user", "content": "word " * 400}]))
    image = copy.deepcopy(minimal())
    image["messages"][0]["content"] = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "A" * 10}}
    ]
    assert 1 <= estimate_input_tokens(small) < estimate_input_tokens(big)
    # "word " * 400 is 400 tokens in cl100k; the calibrated estimate stays within 10 % of that
    # plus the 4-token message overhead (tests/test_translate_tokens.py holds the calibration).
    assert 400 * 0.9 + 4 <= estimate_input_tokens(big) <= 400 * 1.1 + 4
    assert estimate_input_tokens(messages.validate_request(image)) >= 1600


def test_input_token_estimate_of_a_claude_code_request_counts_tools_and_system() -> None:
    body = json.loads((FIXTURES / "print_say_hi_opus_default.json").read_text())["body"]
    without_tools = dict(body, tools=[])
    full = estimate_input_tokens(messages.validate_request(body))
    assert full > estimate_input_tokens(messages.validate_request(without_tools)) + 10000
    assert 12000 < full < 17000  # ~78 KB of JSON and prose: cl100k 12504, DeepSeek V4 15120
