"""The openai wire beyond the golden cases: Claude Code fixture checks, stream state edge cases,
non-stream parsing and error mapping (protocol.md §3, §4.7, §6.4, §7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ccroute.errors import TranslationError, UpstreamError
from ccroute.translate import messages, openai
from tests.streamcheck import assert_well_formed

FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"


def fixture_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())["body"]
    return body


def build(body: dict[str, Any], limit: int | None = None, stream: bool = True) -> dict[str, Any]:
    req = messages.validate_request(body)
    target = openai.Target(provider="test", model="up/model", max_tokens=limit)
    return openai.build_request(req, target=target, stream=stream)


def contains_key(value: Any, key: str) -> bool:
    if isinstance(value, dict):
        return key in value or any(contains_key(v, key) for v in value.values())
    if isinstance(value, list):
        return any(contains_key(v, key) for v in value)
    return False


# --- build_request on real Claude Code requests ---------------------------------------------------


def test_claude_code_say_hi_body_is_translated_for_an_openai_upstream() -> None:
    body = fixture_body("print_say_hi_opus_default.json")
    out = build(body, limit=32000)
    system = out["messages"][0]
    assert system["role"] == "system"
    assert "x-anthropic-billing-header" not in json.dumps(out)
    assert system["content"] == "\n\n".join(block["text"] for block in body["system"][1:])
    assert [m["role"] for m in out["messages"]] == ["system", "user", "system"]
    assert out["messages"][2]["content"] == body["messages"][1]["content"]
    assert len(out["tools"]) == 24
    assert not contains_key(out["tools"], "$schema")
    assert all(tool["type"] == "function" for tool in out["tools"])
    assert out["max_tokens"] == 32000
    assert out["stream_options"] == {"include_usage": True}
    for dropped in ("metadata", "thinking", "context_management", "output_config", "system"):
        assert dropped not in out
    assert not contains_key(out["messages"], "cache_control")


def test_claude_code_tool_turn_keeps_tool_messages_right_after_the_tool_calls() -> None:
    out = build(fixture_body("write_tool_turn2_tool_result.json"))
    roles = [m["role"] for m in out["messages"]]
    assert roles == ["system", "user", "system", "assistant", "tool"]
    assistant, tool = out["messages"][3], out["messages"][4]
    assert assistant["tool_calls"][0]["id"] == tool["tool_call_id"]
    arguments = json.loads(assistant["tool_calls"][0]["function"]["arguments"])
    assert arguments["file_path"] == "/home/dev/project/hello.txt"


def test_max_tokens_is_not_raised_to_the_limit_and_zero_becomes_one() -> None:
    assert (
        build(
            {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "x"}]},
            limit=32000,
        )["max_tokens"]
        == 100
    )
    assert (
        build({"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]})[
            "max_tokens"
        ]
        == 1
    )


def test_non_streaming_request_has_no_stream_fields() -> None:
    out = build(
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
        stream=False,
    )
    assert "stream" not in out and "stream_options" not in out


def test_property_named_dollar_schema_survives_schema_stripping() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"$schema": {"type": "string", "$schema": "x"}},
        "anyOf": [{"$schema": "x", "type": "object"}],
    }
    body = {
        "model": "m",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"name": "t", "input_schema": schema}],
    }
    parameters = build(body)["tools"][0]["function"]["parameters"]
    assert parameters == {
        "type": "object",
        "properties": {"$schema": {"type": "string"}},
        "anyOf": [{"type": "object"}],
    }


def test_whitespace_only_text_and_thinking_are_not_sent_upstream() -> None:
    body = {
        "model": "m",
        "max_tokens": 5,
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": " \n"}, {"type": "text", "text": "q"}],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "t", "signature": "s"},
                    {"type": "text", "text": "  "},
                ],
            },
            {"role": "user", "content": "next"},
        ],
    }
    assert build(body)["messages"] == [
        {"role": "user", "content": "q"},
        {"role": "user", "content": "next"},
    ]


def test_malformed_structure_that_skipped_validation_raises_translation_error() -> None:
    req: Any = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{}]}]}
    with pytest.raises(TranslationError, match=r"^messages\.0: malformed message"):
        openai.build_request(req, target=openai.Target(provider="p", model="u"), stream=False)


# --- StreamTranslator state edge cases ---------------------------------------------------------


def new_translator() -> openai.StreamTranslator:
    return openai.StreamTranslator(message_id="msg_t", model="m", input_tokens_estimate=7)


def run(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    translator = new_translator()
    events: list[Any] = []
    for chunk in chunks:
        events += translator.feed(chunk)
    events += translator.finish()
    assert_well_formed(events)
    return events


def delta(d: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


def test_finish_without_any_chunk_emits_a_complete_empty_message_once() -> None:
    translator = new_translator()
    events = translator.finish()
    assert [e["type"] for e in events] == ["message_start", "message_delta", "message_stop"]
    assert translator.finish() == []
    assert translator.feed(delta({"content": "late"})) == []


def test_message_start_is_emitted_once_on_the_first_chunk() -> None:
    translator = new_translator()
    first = translator.feed(delta({"role": "assistant", "content": ""}))
    assert [e["type"] for e in first] == ["message_start"]
    assert first[0]["message"]["usage"]["input_tokens"] == 7
    assert translator.feed(delta({"content": ""})) == []


def test_tool_call_split_across_chunks_streams_one_tool_use_block() -> None:
    events = run(
        [
            delta({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "Bash"}}]}),
            delta({"tool_calls": [{"index": 0, "function": {"arguments": '{"comm'}}]}),
            delta({"tool_calls": [{"index": 0, "function": {"arguments": 'and":"ls"}'}}]}),
            delta({}, "tool_calls"),
        ]
    )
    starts = [e for e in events if e["type"] == "content_block_start"]
    fragments = [e["delta"]["partial_json"] for e in events if e["type"] == "content_block_delta"]
    assert len(starts) == 1
    assert fragments == ['{"comm', 'and":"ls"}']


def test_argument_fragment_is_emitted_in_the_same_feed_it_arrives() -> None:
    translator = new_translator()
    translator.feed(delta({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "T"}}]}))
    events = translator.feed(delta({"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]}))
    assert events == [
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": "{"},
        }
    ]


def test_tool_name_arriving_after_arguments_opens_the_block_with_buffered_arguments() -> None:
    events = run(
        [
            delta(
                {"tool_calls": [{"index": 0, "id": "call_x", "function": {"arguments": '{"a"'}}]}
            ),
            delta({"tool_calls": [{"index": 0, "function": {"name": "T", "arguments": ":1}"}}]}),
            delta({}, "tool_calls"),
        ]
    )
    assert events[1]["content_block"]["name"] == "T"
    assert events[2]["delta"]["partial_json"] == '{"a":1}'


def test_text_after_a_tool_call_opens_a_new_text_block_after_closing_the_tool_block() -> None:
    events = run(
        [
            delta(
                {
                    "tool_calls": [
                        {"index": 0, "id": "c1", "function": {"name": "T", "arguments": "{}"}}
                    ]
                }
            ),
            delta({"content": "done"}),
            delta({}, "tool_calls"),
        ]
    )
    kinds = [(e["type"], e.get("index")) for e in events]
    assert kinds[1:6] == [
        ("content_block_start", 0),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_delta", 1),
    ]
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_whitespace_before_text_is_kept_in_the_text_block() -> None:
    events = run([delta({"content": "\n"}), delta({"content": "Hi"}), delta({}, "stop")])
    texts = [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"]
    assert texts == ["\nHi"]


def test_only_whitespace_content_produces_no_text_block() -> None:
    events = run([delta({"content": "  "}), delta({}, "stop")])
    assert [e["type"] for e in events] == ["message_start", "message_delta", "message_stop"]


def test_text_and_tool_calls_in_one_delta_emit_text_first() -> None:
    events = run(
        [
            delta(
                {
                    "content": "Sure.",
                    "tool_calls": [
                        {"index": 0, "id": "c", "function": {"name": "T", "arguments": "{}"}}
                    ],
                },
                "tool_calls",
            )
        ]
    )
    blocks = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert blocks == ["text", "tool_use"]


def test_parallel_calls_with_the_same_upstream_id_get_distinct_tool_use_ids() -> None:
    events = run(
        [
            delta(
                {
                    "tool_calls": [
                        {"index": 0, "id": "dup", "function": {"name": "A", "arguments": "{}"}},
                        {"index": 1, "id": "dup", "function": {"name": "B", "arguments": "{}"}},
                    ]
                }
            ),
            delta({}, "tool_calls"),
        ]
    )
    ids = [e["content_block"]["id"] for e in events if e["type"] == "content_block_start"]
    assert len(set(ids)) == 2 and ids[0] == "dup"


def test_missing_tool_call_id_gets_a_deterministic_compliant_id() -> None:
    chunks = [
        delta({"tool_calls": [{"index": 0, "function": {"name": "T", "arguments": "{}"}}]}),
        delta({}, "tool_calls"),
    ]
    first, second = run(chunks), run(chunks)
    assert first[1]["content_block"]["id"] == second[1]["content_block"]["id"]
    assert first[1]["content_block"]["id"].startswith("toolu_")


def test_top_level_error_chunk_ends_the_stream_with_one_error_event() -> None:
    translator = new_translator()
    events = translator.feed(delta({"content": "Hel"}))
    events += translator.feed(
        {
            "error": {"code": 429, "message": "Rate limit exceeded"},
            "choices": [{"index": 0, "delta": {}, "finish_reason": "error"}],
        }
    )
    events += translator.finish()
    assert_well_formed(events)
    assert events[-1] == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Rate limit exceeded"},
    }
    assert [e["type"] for e in events].count("error") == 1
    assert "message_stop" not in [e["type"] for e in events]


def test_finish_reason_error_without_error_object_emits_api_error() -> None:
    events = run([delta({"content": "x"}), delta({}, "error")])
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["type"] == "api_error"


def test_error_as_first_chunk_is_the_only_event() -> None:
    events = run([{"error": {"code": 503, "message": "No instances available"}}])
    assert events == [
        {
            "type": "error",
            "error": {"type": "overloaded_error", "message": "No instances available"},
        }
    ]


def test_usage_chunk_after_finish_reason_fills_message_delta() -> None:
    events = run(
        [
            delta({"content": "ok"}, "stop"),
            {
                "choices": [],
                "usage": {
                    "prompt_tokens": 10,
                    "completion_tokens": 2,
                    "prompt_tokens_details": {"cached_tokens": 4},
                },
            },
        ]
    )
    assert events[-2]["usage"] == {
        "input_tokens": 6,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 4,
        "output_tokens": 2,
    }


def test_content_filter_maps_to_refusal() -> None:
    events = run([delta({"content": "I can't"}, "content_filter")])
    assert events[-2]["delta"]["stop_reason"] == "refusal"


def tool_call_then_length(arguments: str) -> list[dict[str, Any]]:
    call = {"index": 0, "id": "c", "function": {"name": "T", "arguments": arguments}}
    return [delta({"tool_calls": [call]}, "length")]


def test_length_cutting_a_tool_calls_arguments_is_max_tokens_not_tool_use() -> None:
    # Anthropic reports a tool_use cut by the output limit as max_tokens; Claude Code must not
    # run a tool with half its input.
    for arguments in ('{"command": "rm -rf bu', ""):
        events = run(tool_call_then_length(arguments))
        assert events[-2]["delta"]["stop_reason"] == "max_tokens", arguments
        message = openai.parse_response(
            completion(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "T", "arguments": arguments},
                        }
                    ],
                },
                "length",
            ),
            message_id="msg_1",
            model="m",
        )
        assert message["stop_reason"] == "max_tokens", arguments


def test_length_after_complete_tool_calls_is_tool_use() -> None:
    # The limit struck after the call's JSON was whole: the call is runnable (issue 3 §3).
    events = run(tool_call_then_length('{"command": "ls"}'))
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    message = openai.parse_response(
        completion(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "T", "arguments": "{}"}}
                ],
            },
            "length",
        ),
        message_id="msg_1",
        model="m",
    )
    assert message["stop_reason"] == "tool_use"


# --- parse_response ------------------------------------------------------------------------


def completion(message: dict[str, Any], finish: str = "stop", **extra: Any) -> dict[str, Any]:
    return {
        "id": "x",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        **extra,
    }


def tool_message(arguments: Any) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "T", "arguments": arguments}}
        ],
    }


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("", {}),
        (None, {}),
        ('{"a": 1}', {"a": 1}),
        ({"a": 1}, {"a": 1}),
        ('{"a": 1}{"a": 1}', {"a": 1}),
        ("{not json", {"_raw": "{not json"}),
        ("[1, 2]", {"_raw": "[1, 2]"}),
    ],
)
def test_tool_call_arguments_become_an_input_object(arguments: Any, expected: Any) -> None:
    message = openai.parse_response(
        completion(tool_message(arguments), "tool_calls"), message_id="msg_1", model="m"
    )
    assert message["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "T", "input": expected}
    ]
    assert message["stop_reason"] == "tool_use"


def test_response_without_usage_reports_zero_input_and_an_output_estimate() -> None:
    message = openai.parse_response(
        completion({"role": "assistant", "content": "abcdefgh"}), message_id="msg_1", model="m"
    )
    assert message["usage"]["input_tokens"] == 0
    assert message["usage"]["output_tokens"] == 2


def test_response_with_error_object_raises_upstream_error() -> None:
    body = {"error": {"code": 429, "message": "slow down"}, "choices": []}
    with pytest.raises(UpstreamError) as excinfo:
        openai.parse_response(body, message_id="msg_1", model="m")
    assert (excinfo.value.status, excinfo.value.error_type) == (429, "rate_limit_error")


def test_response_without_choices_is_a_malformed_upstream_answer() -> None:
    with pytest.raises(UpstreamError) as excinfo:
        openai.parse_response({"id": "x"}, message_id="msg_1", model="m")
    assert (excinfo.value.status, excinfo.value.error_type) == (502, "api_error")


# --- parse_error -------------------------------------------------------------------------


def error_json(message: str, **fields: Any) -> bytes:
    return json.dumps({"error": {"message": message, **fields}}).encode()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            error_json(
                "This model's maximum context length is 128000 tokens. However, your "
                "messages resulted in 130512 tokens. Please reduce the length of the "
                "messages.",
                type="invalid_request_error",
                code="context_length_exceeded",
            ),
            (400, "invalid_request_error", "prompt is too long: 130512 tokens > 128000 maximum"),
        ),
        (
            400,
            error_json(
                "This endpoint's maximum context length is 163840 tokens. However, you "
                "requested about 200000 tokens (190000 of text input, 10000 in the "
                "output). Please reduce the length of either one.",
                code=400,
            ),
            # Anthropic's N counts the prompt only, so the text-input figure is used.
            (400, "invalid_request_error", "prompt is too long: 190000 tokens > 163840 maximum"),
        ),
        (
            400,
            error_json(
                "The input token count (1234567) exceeds the maximum number of tokens "
                "allowed (1048576).",
                code=400,
            ),
            (400, "invalid_request_error", "prompt is too long: 1234567 tokens > 1048576 maximum"),
        ),
        (
            413,
            error_json("context length exceeded", code="context_length_exceeded"),
            (400, "invalid_request_error", "context length exceeded"),
        ),
        (
            429,
            error_json("Rate limit exceeded: free-models-per-day", code=429),
            (429, "rate_limit_error", "Rate limit exceeded: free-models-per-day"),
        ),
        (
            503,
            error_json("No instances available", code=503),
            (529, "overloaded_error", "No instances available"),
        ),
        (
            529,
            b"",
            (529, "overloaded_error", "The upstream answered HTTP 529 without an error message."),
        ),
        (
            502,
            error_json(
                "Provider returned error",
                code=502,
                metadata={
                    "provider_name": "Chutes",
                    "raw": "upstream timeout",
                    "error_type": "provider_unavailable",
                },
            ),
            (529, "overloaded_error", "Provider returned error (Chutes: upstream timeout)"),
        ),
        (
            401,
            error_json(
                "Incorrect API key provided: sk-proj-abcdefghijklmnop1234.",
                type="invalid_request_error",
                code="invalid_api_key",
            ),
            (401, "authentication_error", "Incorrect API key provided: [redacted]."),
        ),
        (
            402,
            error_json("Insufficient credits", code=402),
            (402, "billing_error", "Insufficient credits"),
        ),
        (404, json.dumps({"detail": "Not Found"}).encode(), (404, "not_found_error", "Not Found")),
        (
            422,
            json.dumps({"error": "bad field"}).encode(),
            (400, "invalid_request_error", "bad field"),
        ),
        (
            500,
            b"<html><body>Internal  Server\nError</body></html>",
            (
                500,
                "api_error",
                "The upstream answered HTTP 500: <html><body>Internal Server Error</body></html>",
            ),
        ),
        (504, error_json("timeout"), (504, "timeout_error", "timeout")),
    ],
)
def test_upstream_error_maps_to_anthropic_status_type_and_message(
    status: int, body: bytes, expected: tuple[int, str, str]
) -> None:
    error = openai.parse_error(status, body)
    assert (error.status, error.error_type, error.message) == expected


def test_error_message_never_contains_a_bearer_token() -> None:
    error = openai.parse_error(401, error_json("bad header Authorization: Bearer abc.def-123"))
    assert "abc.def-123" not in error.message


@pytest.mark.parametrize(
    "message",
    [
        "This model's maximum context length is 128000 tokens. However, you requested 140000 "
        "tokens (100000 in the messages, 40000 in the completion). Please reduce the length of "
        "the messages or completion.",
        "'max_tokens' or 'max_completion_tokens' is too large: 40000. This model's maximum "
        "context length is 128000 tokens and your request has 100000 input tokens "
        "(40000 > 128000 - 100000).",
    ],
)
def test_prompt_that_fits_without_room_for_max_tokens_gets_anthropics_max_tokens_wording(
    message: str,
) -> None:
    # Claude Code answers this wording by lowering max_tokens, not by compacting (§2.5).
    error = openai.parse_error(400, error_json(message))
    assert (error.status, error.error_type) == (400, "invalid_request_error")
    assert error.message == (
        "input length and `max_tokens` exceed context limit: 100000 + 40000 > 128000, "
        "decrease input length or `max_tokens` and try again"
    )


def test_context_error_without_a_prompt_count_uses_the_input_estimate() -> None:
    body = error_json("prompt exceeds the context length of 8192 tokens")
    assert openai.parse_error(400, body, input_tokens=9000).message == (
        "prompt is too long: 9000 tokens > 8192 maximum"
    )
    # An estimate below the maximum still says "too long" (the upstream said so): M + 1.
    assert openai.parse_error(400, body, input_tokens=5000).message == (
        "prompt is too long: 8193 tokens > 8192 maximum"
    )
    # Without an estimate the upstream's words are kept.
    assert openai.parse_error(400, body).message == (
        "prompt exceeds the context length of 8192 tokens"
    )
