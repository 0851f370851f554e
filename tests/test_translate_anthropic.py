"""The `anthropic` (passthrough) translator: what changes on the way up, and errors on the way
back (ccroute/translate/anthropic*.py; protocol.md §1, §2.5, §2.6, §6.2, §6.5, §7).

The golden cases under tests/golden/anthropic/ cover whole requests and streams; these tests
pin each rule on its own, plus the count_tokens bodies of the golden cases that have a
`count_tokens.out.json` (the body `build_count_tokens_request` sends for the case's request
without `max_tokens`/`stream`; `UPDATE_GOLDEN=1` rewrites it like the other golden files).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from ccroute.errors import TranslationError, UpstreamError
from ccroute.translate import anthropic
from ccroute.translate.messages import MessagesRequest, validate_request
from ccroute.translate.reasoning import encode_signature
from ccroute.translate.target import Target
from tests.importcheck import modules_loaded_by, of_packages
from tests.test_translate_golden import (
    CASES,
    GOLDEN,
    as_json,
    case_target,
    check_golden,
    load_request,
)

KEEP = Target(provider="anthropic", model="claude-sonnet-5")
STRIP = Target(provider="deepseek", model="deepseek-chat", strip_betas=True)
REAL_SIGNATURE = "EqQBCkYIBxgCKkBvc2lnbmF0dXJlLWZyb20tYW50aHJvcGlj"
MINTED = encode_signature("openrouter/deepseek/deepseek-r1", "reasoning_content")
CLAUDE_CODE_USER_ID = json.dumps(
    {"device_id": "ab" * 32, "account_uuid": "", "session_id": "2e017698-6eb0-4e66-82d2-c2416f"}
)


def request(**fields: Any) -> MessagesRequest:
    body: dict[str, Any] = {
        "model": "claude-opus-4-8",
        "max_tokens": 32000,
        "messages": [{"role": "user", "content": "hi"}],
    }
    body.update(fields)
    return validate_request(body)


def build(req: MessagesRequest, target: Target = KEEP, *, stream: bool = True) -> dict[str, Any]:
    return anthropic.build_request(req, target=target, stream=stream)


# --- the request, nearly as is ------------------------------------------------------------------


def test_only_the_model_changes_for_a_plain_request_and_key_order_is_kept() -> None:
    req = request(temperature=0.5, stream=True, top_k=3, service_tier="auto", unknown_field=[1])
    body = build(req)
    assert list(body) == list(req)
    assert body == {**req, "model": "claude-sonnet-5"}


def test_the_client_request_is_not_modified() -> None:
    req = request(
        messages=[
            {"role": "user", "content": "a"},
            {"role": "system", "content": "reminder"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "t", "signature": MINTED},
                    {"type": "text", "text": "b"},
                ],
            },
            {"role": "user", "content": "c"},
        ],
        metadata={"user_id": CLAUDE_CODE_USER_ID},
        tools=[{"name": "T", "input_schema": {"type": "object"}, "strict": True}],
        thinking={"type": "enabled", "budget_tokens": 31999},
        context_management={"edits": []},
        output_config={"effort": "high", "format": {"type": "json_schema", "schema": {}}},
    )
    before = copy.deepcopy(req)
    target = Target(provider="p", model="m", max_tokens=4096, strip_betas=True)
    build(req, target)
    anthropic.build_count_tokens_request(req, target=target)
    assert req == before


@pytest.mark.parametrize(
    ("sent", "stream", "expected"),
    [
        ({"stream": True}, True, True),
        ({"stream": True}, False, False),
        ({}, True, True),
        ({"stream": False}, False, False),
        ({}, False, None),
    ],
)
def test_stream_is_set_as_asked(sent: dict[str, Any], stream: bool, expected: bool | None) -> None:
    body = build(request(**sent), stream=stream)
    assert body.get("stream") is expected
    assert ("stream" in body) is (expected is not None)


def test_tool_names_pass_unchanged() -> None:
    long_name = "mcp__" + "x" * 80
    req = request(tools=[{"name": long_name, "input_schema": {"type": "object"}}])
    names = anthropic.tool_names_for(req)
    assert names.claude(long_name) == long_name
    assert build(req)["tools"][0]["name"] == long_name


# --- max_tokens and the thinking budget (§7 item 9) -----------------------------------------------


def test_max_tokens_is_clamped_and_the_budget_kept_below_it() -> None:
    req = request(thinking={"type": "enabled", "budget_tokens": 31999, "display": "omitted"})
    body = build(req, Target(provider="p", model="m", max_tokens=8192))
    assert body["max_tokens"] == 8192
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8191, "display": "omitted"}


def test_a_budget_already_below_the_clamped_max_tokens_is_unchanged() -> None:
    req = request(thinking={"type": "enabled", "budget_tokens": 2048})
    body = build(req, Target(provider="p", model="m", max_tokens=8192))
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_a_clamp_below_the_minimum_budget_turns_thinking_off() -> None:
    req = request(thinking={"type": "enabled", "budget_tokens": 31999})
    body = build(req, Target(provider="p", model="m", max_tokens=1024))
    assert body["max_tokens"] == 1024
    assert "thinking" not in body


def test_without_a_clamp_the_budget_is_left_as_the_client_sent_it() -> None:
    # Interleaved thinking allows a budget above max_tokens (§1.2); only our clamp may break it.
    req = request(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 6000})
    body = build(req, Target(provider="p", model="m", max_tokens=8192))
    assert body["max_tokens"] == 4000
    assert body["thinking"]["budget_tokens"] == 6000


def test_adaptive_thinking_is_untouched_by_the_clamp() -> None:
    req = request(thinking={"type": "adaptive"}, output_config={"effort": "max"})
    body = build(req, Target(provider="p", model="m", max_tokens=1000))
    assert body["thinking"] == {"type": "adaptive"}
    assert body["output_config"] == {"effort": "max"}


# --- reasoning ccroute minted for another upstream (§7 item 7) ------------------------------------


def test_minted_thinking_and_redacted_thinking_are_dropped_and_real_ones_kept() -> None:
    redacted = encode_signature("openrouter/openai/gpt-5", "reasoning_details", [{"type": "x"}])
    history = [
        {"role": "user", "content": "a"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "minted", "signature": MINTED},
                {"type": "redacted_thinking", "data": redacted},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
                {"type": "thinking", "thinking": "real", "signature": REAL_SIGNATURE},
                {"type": "text", "text": "b"},
            ],
        },
        {"role": "user", "content": "c"},
    ]
    body = build(request(messages=history))
    assert body["messages"][1]["content"] == [
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
        {"type": "thinking", "thinking": "real", "signature": REAL_SIGNATURE},
        {"type": "text", "text": "b"},
    ]


def test_an_assistant_message_holding_only_minted_reasoning_is_dropped() -> None:
    history = [
        {"role": "user", "content": "a"},
        {
            "role": "assistant",
            "content": [{"type": "thinking", "thinking": "", "signature": MINTED}],
        },
        {"role": "user", "content": "b"},
    ]
    body = build(request(messages=history))
    assert body["messages"] == [history[0], history[2]]


def test_thinking_without_a_minted_signature_is_kept_even_when_empty() -> None:
    # A compatible provider's own thinking blocks (DeepSeek requires them back) are not ours.
    history = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "x", "signature": ""}]},
        {"role": "user", "content": "b"},
    ]
    assert build(request(messages=history))["messages"] == history


# --- metadata.user_id (§7 item 16) -------------------------------------------------------------


def test_claude_codes_user_id_is_hashed_into_a_safe_id() -> None:
    body = build(request(metadata={"user_id": CLAUDE_CODE_USER_ID, "other": 1}))
    expected = hashlib.sha256(CLAUDE_CODE_USER_ID.encode()).hexdigest()[:32]
    assert body["metadata"] == {"user_id": expected, "other": 1}


@pytest.mark.parametrize("user_id", ["user_1234", "a1b2c3-d4e5_f6", "x" * 64])
def test_a_user_id_every_provider_accepts_is_kept(user_id: str) -> None:
    assert build(request(metadata={"user_id": user_id}))["metadata"] == {"user_id": user_id}


@pytest.mark.parametrize("user_id", ["u1", "x" * 65, "has space", "a.b@c"])
def test_a_user_id_some_provider_rejects_is_hashed(user_id: str) -> None:
    sent = build(request(metadata={"user_id": user_id}))["metadata"]["user_id"]
    assert sent == hashlib.sha256(user_id.encode()).hexdigest()[:32]


def test_send_user_off_removes_the_user_id_and_an_emptied_metadata() -> None:
    target = Target(provider="p", model="m", send_user=False)
    assert "metadata" not in build(request(metadata={"user_id": "abcdef"}), target)
    kept = build(request(metadata={"user_id": "abcdef", "other": 1}), target)
    assert kept["metadata"] == {"other": 1}


# --- betas: keep vs strip (§6.2, §6.5) ------------------------------------------------------------

BETA_FIELDS = {
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "mcp_servers": [{"type": "url", "url": "https://mcp.example.com", "name": "m"}],
    "container": "container_01",
    "speed": "fast",
    "inference_geo": "us",
    "output_config": {"effort": "low", "format": {"type": "json_schema", "schema": {}}},
}
TOOL = {
    "name": "Read",
    "input_schema": {"type": "object"},
    "strict": True,
    "defer_loading": True,
    "eager_input_streaming": True,
    "input_examples": [{}],
    "allowed_callers": ["direct"],
    "cache_control": {"type": "ephemeral"},
}
WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}


def test_keep_forwards_beta_fields_tools_and_server_tools_verbatim() -> None:
    req = request(tools=[TOOL, WEB_SEARCH], **BETA_FIELDS)
    assert build(req, stream=False) == {**req, "model": "claude-sonnet-5"}


def test_strip_removes_beta_fields_and_keeps_effort() -> None:
    body = build(request(tools=[TOOL], **BETA_FIELDS), STRIP)
    for key in ("context_management", "mcp_servers", "container", "speed", "inference_geo"):
        assert key not in body
    assert body["output_config"] == {"effort": "low"}
    assert body["tools"] == [
        {"name": "Read", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}
    ]


def test_strip_removes_an_output_config_without_effort() -> None:
    body = build(request(output_config={"format": {"type": "json_schema", "schema": {}}}), STRIP)
    assert "output_config" not in body


def test_strip_drops_server_tools_and_a_tool_choice_naming_one() -> None:
    choice = {"type": "tool", "name": "web_search"}
    body = build(request(tools=[TOOL, WEB_SEARCH], tool_choice=choice), STRIP)
    assert [tool["name"] for tool in body["tools"]] == ["Read"]
    assert "tool_choice" not in body
    auto = build(request(tools=[TOOL, WEB_SEARCH], tool_choice={"type": "any"}), STRIP)
    assert auto["tool_choice"] == {"type": "any"}


def test_strip_removes_tools_and_tool_choice_when_only_server_tools_were_sent() -> None:
    body = build(request(tools=[WEB_SEARCH], tool_choice={"type": "auto"}), STRIP)
    assert "tools" not in body
    assert "tool_choice" not in body


def test_strip_drops_server_tool_blocks_from_history() -> None:
    history = [
        {"role": "user", "content": "search"},
        {
            "role": "assistant",
            "content": [
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
                {"type": "text", "text": "found it"},
            ],
        },
        {"role": "user", "content": "thanks"},
    ]
    body = build(request(messages=history), STRIP)
    assert body["messages"][1] == {"role": "assistant", "content": [history[1]["content"][2]]}
    assert build(request(messages=history))["messages"] == history


def test_strip_folds_a_system_message_into_the_user_message_before_it() -> None:
    history = [
        {"role": "user", "content": "say hi"},
        {"role": "system", "content": "<system-reminder>r</system-reminder>"},
    ]
    body = build(request(messages=history), STRIP)
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "say hi"},
                {"type": "text", "text": "<system-reminder>r</system-reminder>"},
            ],
        }
    ]


def test_strip_puts_a_system_message_after_an_assistant_turn_behind_the_tool_results() -> None:
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}
    history = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "T", "input": {}}],
        },
        {
            "role": "system",
            "content": [
                {"type": "text", "text": "one", "cache_control": {"type": "ephemeral"}},
                {"type": "mid_conv_system", "content": [{"type": "text", "text": "two"}]},
                {"type": "text", "text": "  "},
            ],
        },
        {"role": "user", "content": [result, {"type": "text", "text": "more"}]},
    ]
    body = build(request(messages=history), STRIP)
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][2]["content"] == [
        result,
        {"type": "text", "text": "one", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "two"},
        {"type": "text", "text": "more"},
    ]


def test_strip_sends_a_system_message_with_no_user_turn_next_to_it_as_a_user_message() -> None:
    history = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "system", "content": "late reminder"},
    ]
    body = build(request(messages=history), STRIP)
    assert body["messages"][2] == {
        "role": "user",
        "content": [{"type": "text", "text": "late reminder"}],
    }
    kept = build(request(messages=history))
    assert kept["messages"] == history


# --- headers (§2.8, §6.2) ------------------------------------------------------------------------

CLAUDE_HEADERS = {
    "Anthropic-Version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219,context-management-2025-06-27",
    "Authorization": "Bearer local-token",
    "x-api-key": "local-token",
    "X-Claude-Code-Session-Id": "s",
}


def test_keep_forwards_version_and_beta_verbatim_and_no_credentials() -> None:
    assert anthropic.forward_headers(CLAUDE_HEADERS, target=KEEP) == {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "claude-code-20250219,context-management-2025-06-27",
    }


def test_strip_drops_the_beta_header() -> None:
    assert anthropic.forward_headers(CLAUDE_HEADERS, target=STRIP) == {
        "anthropic-version": "2023-06-01"
    }


def test_version_defaults_and_repeated_beta_headers_are_joined() -> None:
    class Repeated(dict[str, str]):
        def items(self) -> Any:
            return [("anthropic-beta", "a-1"), ("Anthropic-Beta", "b-2")]

    assert anthropic.forward_headers(Repeated(), target=KEEP) == {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "a-1,b-2",
    }


# --- count_tokens (§2.6) --------------------------------------------------------------------------


def test_count_tokens_body_drops_messages_only_fields_and_is_not_clamped() -> None:
    req = validate_request(
        {
            "model": "claude-opus-4-8",
            "messages": [{"role": "user", "content": "hi"}],
            "system": "s",
            "thinking": {"type": "enabled", "budget_tokens": 5000},
            "tools": [TOOL],
            "metadata": {"user_id": "abcdef"},
            "temperature": 1,
        },
        count_tokens=True,
    )
    body = anthropic.build_count_tokens_request(
        req, target=Target(provider="p", model="m", max_tokens=1024)
    )
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "system": "s",
        "thinking": {"type": "enabled", "budget_tokens": 5000},
        "tools": [TOOL],
    }


COUNT_TOKENS_CASES = [c for c in CASES if (GOLDEN / c / "count_tokens.out.json").exists()]


def test_some_golden_case_checks_a_count_tokens_body() -> None:
    assert COUNT_TOKENS_CASES


@pytest.mark.parametrize("case", COUNT_TOKENS_CASES)
def test_count_tokens_body_matches_the_golden_file(case: str) -> None:
    raw = {k: v for k, v in load_request(case).items() if k not in ("max_tokens", "stream")}
    req = validate_request(raw, count_tokens=True)
    body = anthropic.build_count_tokens_request(req, target=case_target(case))
    check_golden(GOLDEN / case / "count_tokens.out.json", as_json(body))


# --- errors (§2.5, §7 item 20) -----------------------------------------------------------------


def anthropic_error(error_type: str, message: str) -> bytes:
    body = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "r"}
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("status", "error_type", "message"),
    [
        (400, "invalid_request_error", "thinking: Input tag 'adaptive' found"),
        (400, "invalid_request_error", "messages.1.content.0: Invalid `signature` in `thinking`"),
        (400, "invalid_request_error", "prompt is too long: 213021 tokens > 200000 maximum"),
        (
            400,
            "invalid_request_error",
            "input length and `max_tokens` exceed context limit: 188059 + 20000 > 200000, "
            "decrease input length or `max_tokens` and try again",
        ),
        (401, "authentication_error", "invalid x-api-key"),
        (429, "rate_limit_error", "Number of request tokens has exceeded your rate limit"),
        (500, "api_error", "Internal server error"),
        (529, "overloaded_error", "Overloaded"),
        (503, "overloaded_error", "Overloaded"),
    ],
)
def test_anthropic_errors_keep_status_type_and_wording(
    status: int, error_type: str, message: str
) -> None:
    err = anthropic.parse_error(status, anthropic_error(error_type, message), input_tokens=9)
    assert (err.status, err.error_type, err.message) == (status, error_type, message)
    assert err.retry_after is None


def test_a_compatible_providers_context_error_is_reworded_for_claude_code() -> None:
    message = "This model's maximum context length is 131072 tokens. However, you requested "
    message += "138000 tokens (130000 in the messages, 8000 in the completion)."
    err = anthropic.parse_error(400, anthropic_error("invalid_request_error", message))
    assert (err.status, err.error_type) == (400, "invalid_request_error")
    assert err.message == (
        "input length and `max_tokens` exceed context limit: 130000 + 8000 > 131072, "
        "decrease input length or `max_tokens` and try again"
    )
    plain = anthropic.parse_error(
        400,
        anthropic_error("invalid_request_error", "maximum context length is 65536 tokens"),
        input_tokens=70000,
    )
    assert plain.message == "prompt is too long: 70000 tokens > 65536 maximum"


def test_openai_shaped_errors_from_compatible_providers_are_mapped() -> None:
    # DeepSeek's Anthropic endpoint answers {"error": {"message", "type", ...}}.
    body = {
        "error": {
            "message": "The content[].thinking in the thinking mode must be passed back.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_request_error",
        }
    }
    err = anthropic.parse_error(400, json.dumps(body).encode())
    assert (err.status, err.error_type) == (400, "invalid_request_error")
    assert err.message == body["error"]["message"]
    busy = anthropic.parse_error(503, b'{"error":{"message":"Server busy","type":"server_error"}}')
    assert (busy.status, busy.error_type) == (529, "overloaded_error")
    html = anthropic.parse_error(502, b"<html>Bad gateway</html>")
    assert (html.status, html.error_type) == (502, "api_error")


# --- non-stream bodies ----------------------------------------------------------------------------

MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-5",
    "content": [{"type": "text", "text": "hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 1},
}


def parse(body: Any, estimate: int = 0) -> Any:
    return anthropic.parse_response(
        body, message_id="msg_ccroute", model="claude-opus-4-8", input_tokens_estimate=estimate
    )


def test_a_message_is_returned_as_it_is() -> None:
    body = copy.deepcopy(MESSAGE)
    assert parse(body) is body
    assert body == MESSAGE


@pytest.mark.parametrize(
    ("error_type", "status"),
    [("overloaded_error", 529), ("rate_limit_error", 429), ("invalid_request_error", 400)],
)
def test_an_error_body_in_a_200_raises_with_its_types_status(error_type: str, status: int) -> None:
    with pytest.raises(UpstreamError) as caught:
        parse(json.loads(anthropic_error(error_type, "nope")))
    assert (caught.value.status, caught.value.error_type) == (status, error_type)
    assert caught.value.message == "nope"


def test_an_openai_shaped_error_body_in_a_200_raises() -> None:
    with pytest.raises(UpstreamError) as caught:
        parse({"error": {"message": "bad", "type": "server_error"}})
    assert caught.value.error_type == "api_error"


def test_a_loose_message_gets_the_missing_fields() -> None:
    body = {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "T", "input": {}}],
        "usage": {"output_tokens": 4},
        "stop_reason": None,
    }
    assert parse(body, estimate=120) == {
        "id": "msg_ccroute",
        "model": "claude-opus-4-8",
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "role": "assistant",
        "content": body["content"],
        "type": "message",
        "usage": {"output_tokens": 4, "input_tokens": 120},
    }


@pytest.mark.parametrize("body", [[], "text", {"choices": []}, {"role": "user", "content": []}])
def test_a_body_that_is_not_a_message_is_a_502(body: Any) -> None:
    with pytest.raises(UpstreamError) as caught:
        parse(body)
    assert (caught.value.status, caught.value.error_type) == (502, "api_error")


def test_a_malformed_request_structure_is_a_translation_error() -> None:
    req: Any = {"model": "m", "max_tokens": 5, "messages": [{"role": "assistant", "content": [3]}]}
    with pytest.raises(TranslationError):
        build(req)


# --- the stream translator (identity) ----------------------------------------------------------


def translator() -> anthropic.StreamTranslator:
    return anthropic.StreamTranslator(message_id="msg_x", model="m", input_tokens_estimate=5)


def test_stream_events_pass_unchanged_until_message_stop() -> None:
    events = [
        {"type": "message_start", "message": {"id": "msg_up"}},
        {"type": "ping"},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "message_stop"},
    ]
    t = translator()
    assert [out for event in events for out in t.feed(event)] == events
    assert t.feed({"type": "ping"}) == []
    assert t.finish() == []


def test_an_upstream_error_event_passes_and_ends_the_stream() -> None:
    t = translator()
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert t.feed(error) == [error]
    assert t.finish() == []


def test_a_stream_cut_before_message_stop_ends_with_an_overloaded_error() -> None:
    t = translator()
    t.feed({"type": "message_start", "message": {}})
    [event] = t.finish()
    assert event["type"] == "error"
    assert event["error"]["type"] == "overloaded_error"


def test_a_chunk_that_is_not_an_event_ends_the_stream_with_an_api_error() -> None:
    t = translator()
    [event] = t.feed({"choices": []})
    assert event["type"] == "error"
    assert event["error"]["type"] == "api_error"
    assert t.finish() == []


# --- purity ---------------------------------------------------------------------------------------


def test_importing_the_anthropic_translator_loads_no_forbidden_package() -> None:
    loaded = modules_loaded_by(["ccroute.translate.anthropic"])
    forbidden = ("aiohttp", "typer", "rich", "keyring", "platformdirs")
    assert of_packages(loaded, forbidden) == []
