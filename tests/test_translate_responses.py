"""The openai-responses wire beyond the golden cases: the reasoning round trip, stream state edge
cases, request rules, non-stream parsing and error mapping (ccroute/translate/responses.py lists
the wire facts; protocol.md §2.3-2.5, §6.4, §7)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ccroute.config import ProviderConfig
from ccroute.errors import TranslationError, UpstreamError
from ccroute.translate import messages, reasoning, responses
from ccroute.translate.responses_response import stop_reason_of, usage_from
from ccroute.translate.target import Target
from ccroute.wires import target_for
from tests.fakes.responses_upstream import Reasoning, call_reply, text_reply
from tests.streamcheck import assert_well_formed
from tests.test_translate_golden import accumulate

TARGET = Target(provider="prov", model="gpt-5.5", reasoning="effort")
MESSAGE_ID = "msg_test"
ENCRYPTED = "gAAAAAB-opaque-reasoning-state"


def request(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-sonnet-5",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "hi"}],
    }
    body.update(extra)
    return body


def build(body: dict[str, Any], target: Target = TARGET, stream: bool = True) -> dict[str, Any]:
    req = messages.validate_request(body)
    return responses.build_request(req, target=target, stream=stream)


def translator(target: Target = TARGET) -> responses.StreamTranslator:
    return responses.StreamTranslator(
        message_id=MESSAGE_ID, model="claude-sonnet-5", input_tokens_estimate=42, target=target
    )


def run(events: list[dict[str, Any]], *, finish: bool = True) -> list[dict[str, Any]]:
    stream = translator()
    out: list[dict[str, Any]] = []
    for event in events:
        out += stream.feed(event)
    if finish:
        out += stream.finish()
    return out


def parse(body: dict[str, Any], target: Target = TARGET) -> dict[str, Any]:
    return dict(
        responses.parse_response(
            body, message_id=MESSAGE_ID, model="claude-sonnet-5", target=target
        )
    )


def reply_events(reply: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = reply.events({"model": "gpt-5.5", "input": []})
    return events


def reply_body(reply: Any) -> dict[str, Any]:
    body: dict[str, Any] = reply.response({"model": "gpt-5.5", "input": []}, "resp_1", final=True)
    return body


def completed(output: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    response = {"id": "resp_1", "object": "response", "status": "completed", "output": output}
    response.update(extra)
    return {"type": "response.completed", "response": response}


# --- the reasoning round trip ------------------------------------------------------------------


def test_reasoning_item_comes_back_unchanged_as_an_input_item_on_the_next_turn() -> None:
    thought = Reasoning(
        summary=("**Plan**\n\nRead it.", "Then answer."), encrypted_content=ENCRYPTED
    )
    reply = call_reply([("Read", {"file_path": "/a"})], reasoning=[thought], call_ids=["call_1"])
    streamed = accumulate(run(reply_events(reply)))
    assert streamed["content"] == parse(reply_body(reply))["content"]
    thinking, tool_use = streamed["content"]
    assert thinking["thinking"] == "**Plan**\n\nRead it.\n\nThen answer."

    body = build(
        request(
            messages=[
                {"role": "user", "content": "Read /a"},
                {"role": "assistant", "content": [thinking, tool_use]},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "x"}],
                },
            ]
        )
    )
    assert body["input"][1] == thought.item(final=True)
    assert [item["type"] for item in body["input"]] == [
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
    ]
    assert body["input"][2]["call_id"] == body["input"][3]["call_id"] == "call_1"
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["store"] is False


def test_reasoning_minted_for_another_model_or_by_another_wire_is_not_sent() -> None:
    item = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": ENCRYPTED}
    signatures = [
        reasoning.encode_signature("prov/gpt-4.1", "reasoning_item", [item]),
        reasoning.encode_signature(TARGET.scope, "reasoning_details", [item]),
        reasoning.encode_signature(TARGET.scope, "reasoning_content"),
        "EqQBCkYIBxgCKkB-a-real-anthropic-signature",
    ]
    content: list[dict[str, Any]] = [
        {"type": "thinking", "thinking": "t", "signature": signature} for signature in signatures
    ]
    content.append({"type": "text", "text": "Done."})
    body = build(
        request(
            messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": content}]
        )
    )
    assert [item["type"] for item in body["input"]] == ["message", "message"]


def test_a_reasoning_item_with_nothing_after_it_in_its_turn_is_dropped() -> None:
    item = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": ENCRYPTED}
    signature = reasoning.encode_signature(TARGET.scope, "reasoning_item", [item])
    body = build(
        request(
            messages=[
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "content": [{"type": "redacted_thinking", "data": signature}],
                },
                {"role": "user", "content": "again"},
            ]
        )
    )
    assert [item["type"] for item in body["input"]] == ["message", "message"]


def test_return_reasoning_off_sends_no_reasoning_items_and_asks_for_no_encrypted_content() -> None:
    item = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": ENCRYPTED}
    signature = reasoning.encode_signature(TARGET.scope, "reasoning_item", [item])
    target = Target(provider="prov", model="gpt-5.5", reasoning="effort", return_reasoning=False)
    assistant = [{"type": "redacted_thinking", "data": signature}, {"type": "text", "text": "a"}]
    body = build(
        request(
            messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": assistant}]
        ),
        target,
    )
    assert "include" not in body
    assert body["store"] is False
    assert all(item["type"] != "reasoning" for item in body["input"])


# --- build_request -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("thinking", "effort", "expected"),
    [
        ({"type": "adaptive"}, "high", {"effort": "high", "summary": "auto"}),
        ({"type": "adaptive"}, "xhigh", {"effort": "high", "summary": "auto"}),
        ({"type": "adaptive"}, "max", {"effort": "high", "summary": "auto"}),
        ({"type": "adaptive"}, "low", {"effort": "low", "summary": "auto"}),
        ({"type": "adaptive"}, None, {"summary": "auto"}),
        ({"type": "adaptive", "display": "omitted"}, "medium", {"effort": "medium"}),
        ({"type": "enabled", "budget_tokens": 2048}, None, {"effort": "low", "summary": "auto"}),
        (
            {"type": "enabled", "budget_tokens": 8192},
            "high",
            {"effort": "medium", "summary": "auto"},
        ),
        ({"type": "enabled", "budget_tokens": 31999}, None, {"effort": "high", "summary": "auto"}),
    ],
)
def test_thinking_and_effort_become_the_reasoning_object(
    thinking: dict[str, Any], effort: str | None, expected: dict[str, str]
) -> None:
    extra: dict[str, Any] = {"thinking": thinking}
    if effort is not None:
        extra["output_config"] = {"effort": effort}
    assert build(request(**extra))["reasoning"] == expected


def test_reasoning_none_sends_neither_the_reasoning_object_nor_the_include() -> None:
    assert "reasoning" not in build(request())
    assert "reasoning" not in build(request(thinking={"type": "disabled"}))
    off = Target(provider="prov", model="gpt-4.1", reasoning="none")
    body = build(request(thinking={"type": "adaptive"}), off)
    assert "reasoning" not in body
    assert "include" not in body  # a non-reasoning model rejects encrypted reasoning content
    assert body["store"] is False


def test_auto_reasoning_means_effort_on_this_wire_and_an_explicit_none_wins() -> None:
    provider = ProviderConfig(
        name="oa", wire="openai-responses", base_url="http://x/v1", api_key_env=None
    )
    assert target_for(provider, "gpt-5.5").reasoning == "effort"
    off = ProviderConfig(
        name="oa",
        wire="openai-responses",
        base_url="http://x/v1",
        api_key_env=None,
        reasoning="none",
    )
    assert target_for(off, "gpt-4.1").reasoning == "none"


def test_max_output_tokens_is_clamped_to_the_provider_and_raised_to_sixteen() -> None:
    limited = Target(provider="prov", model="gpt-5.5", max_tokens=32000)
    assert build(request(max_tokens=64000), limited)["max_output_tokens"] == 32000
    assert build(request(max_tokens=1))["max_output_tokens"] == 16
    assert build(request(max_tokens=0))["max_output_tokens"] == 16


def test_fields_the_responses_api_lacks_are_not_sent() -> None:
    body = build(
        request(
            stop_sequences=["END"],
            top_k=5,
            cache_control={"type": "ephemeral"},
            context_management={"edits": []},
            output_config={"format": {"type": "json_schema", "schema": {}}},
            system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        ),
        Target(provider="prov", model="gpt-5.5", cache_control=True),
    )
    text = json.dumps(body)
    for absent in ("stop", "top_k", "cache_control", "context_management", "output_config"):
        assert f'"{absent}"' not in text
    assert body["instructions"] == "Be brief."


def test_tool_results_go_before_the_user_text_and_before_a_system_message_in_between() -> None:
    body = build(
        request(
            messages=[
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "call_9", "name": "Bash", "input": {}}],
                },
                {"role": "system", "content": "Mode changed."},
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "call_9", "content": ""},
                        {"type": "text", "text": "and now?"},
                    ],
                },
            ]
        )
    )
    kinds = [(item["type"], item.get("role")) for item in body["input"]]
    assert kinds == [
        ("message", "user"),
        ("function_call", None),
        ("function_call_output", None),
        ("message", "system"),
        ("message", "user"),
    ]
    assert body["input"][1]["arguments"] == "{}"
    assert body["input"][2]["output"] == "(no content)"


def test_an_error_result_with_only_an_image_keeps_the_error_marker() -> None:
    image = {"type": "image", "source": {"type": "url", "url": "https://x/shot.png"}}
    result = {"type": "tool_result", "tool_use_id": "call_1", "is_error": True, "content": [image]}
    body = build(
        request(
            messages=[
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "call_1", "name": "R", "input": {}}],
                },
                {"role": "user", "content": [result]},
            ]
        )
    )
    assert body["input"][-1]["output"] == [
        {"type": "input_text", "text": "Error"},
        {"type": "input_image", "image_url": "https://x/shot.png", "detail": "auto"},
    ]


def test_a_malformed_message_names_its_path() -> None:
    req = messages.validate_request(request())
    req["messages"].append({"role": "user", "content": [{"type": "text"}]})  # type: ignore[typeddict-item]
    with pytest.raises(TranslationError, match=r"messages\.1"):
        responses.build_request(req, target=TARGET, stream=True)


# --- the stream --------------------------------------------------------------------------------


def test_a_stream_that_ends_before_a_terminal_event_ends_with_an_error_event() -> None:
    events = reply_events(text_reply("Partial answer"))[:-1]  # no response.completed
    out = run(events)
    assert_well_formed(out)
    assert out[-1] == {
        "type": "error",
        "error": {
            "type": "api_error",
            "message": "The provider's stream ended before the response was completed.",
        },
    }
    assert "message_stop" not in [event["type"] for event in out]


def test_nothing_is_emitted_after_the_terminal_event() -> None:
    stream = translator()
    events = reply_events(text_reply("Done."))
    out = [e for event in events for e in stream.feed(event)]
    assert out[-1] == {"type": "message_stop"}
    assert stream.feed(events[2]) == []
    assert stream.finish() == []


def test_an_error_event_before_anything_else_is_the_whole_stream() -> None:
    out = run([{"type": "error", "code": "server_error", "message": "boom", "sequence_number": 0}])
    assert out == [{"type": "error", "error": {"type": "api_error", "message": "boom"}}]


def test_a_context_length_error_event_is_an_invalid_request_error() -> None:
    message = "Your input exceeds the context window of this model."
    out = run([{"type": "error", "code": "context_length_exceeded", "message": message}])
    assert out[-1]["error"]["type"] == "invalid_request_error"


def test_events_without_output_index_are_matched_by_item_id() -> None:
    call = {
        "id": "fc_1",
        "type": "function_call",
        "call_id": "call_1",
        "name": "Bash",
        "arguments": "",
    }
    out = run(
        [
            {"type": "response.output_item.added", "output_index": 0, "item": call},
            {
                "type": "response.function_call_arguments.delta",
                "item_id": "fc_1",
                "delta": '{"command":',
            },
            {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": '"ls"}'},
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": {**call, "arguments": '{"command":"ls"}'},
            },
            completed([]),
        ]
    )
    assert_well_formed(out)
    assert accumulate(out)["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "Bash", "input": {"command": "ls"}}
    ]


def test_reasoning_text_found_only_in_the_done_item_becomes_a_thinking_block() -> None:
    item = {
        "id": "rs_1",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "Short plan."}],
        "content": [{"type": "reasoning_text", "text": "Raw thoughts."}],
    }
    out = run(
        [
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {"id": "rs_1", "type": "reasoning", "summary": []},
            },
            {"type": "response.output_item.done", "output_index": 0, "item": item},
            completed([item]),
        ]
    )
    assert_well_formed(out)
    [block] = accumulate(out)["content"]
    assert block["thinking"] == "Short plan.\n\nRaw thoughts."
    carried = reasoning.decode_signature(block["signature"], TARGET.scope)
    assert carried is not None
    assert carried.kind == "reasoning_item"
    assert carried.details == (item,)
    assert parse({"status": "completed", "output": [item]})["content"] == [block]


def test_a_reasoning_item_with_neither_text_nor_encrypted_content_leaves_no_block() -> None:
    item = {"id": "rs_1", "type": "reasoning", "summary": []}
    out = run(
        [
            {"type": "response.output_item.added", "output_index": 0, "item": item},
            {"type": "response.output_item.done", "output_index": 0, "item": item},
            completed([item]),
        ]
    )
    assert accumulate(out)["content"] == []
    assert parse({"status": "completed", "output": [item]})["content"] == []


def test_whitespace_before_text_is_held_and_sent_with_the_text() -> None:
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    out = run(
        [
            {"type": "response.output_text.delta", **where, "delta": "\n"},
            {"type": "response.output_text.delta", **where, "delta": "Hi"},
            completed([]),
        ]
    )
    assert accumulate(out)["content"] == [{"type": "text", "text": "\nHi"}]


def test_unknown_and_progress_events_only_start_the_message() -> None:
    out = run(
        [
            {"type": "response.created", "response": {"status": "in_progress"}},
            {"type": "response.web_search_call.searching", "output_index": 0},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {"type": "web_search_call", "id": "ws_1"},
            },
        ],
        finish=False,
    )
    assert [event["type"] for event in out] == ["message_start"]
    assert out[0]["message"]["usage"]["input_tokens"] == 42


def test_no_usage_reports_an_output_estimate_like_the_non_stream_answer() -> None:
    reply = text_reply("twelve chars")
    events = reply_events(reply)
    del events[-1]["response"]["usage"]
    out = run(events)
    assert out[-2]["usage"] == {"output_tokens": 3}
    body = reply_body(reply)
    body["usage"] = None
    assert parse(body)["usage"]["output_tokens"] == 3


# --- parse_response, usage and errors ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "error_type"),
    [
        ("rate_limit_exceeded", 429, "rate_limit_error"),
        ("server_error", 500, "api_error"),
        (None, 500, "api_error"),
        ("invalid_prompt", 400, "invalid_request_error"),
        ("invalid_image_url", 400, "invalid_request_error"),
    ],
)
def test_a_failed_response_is_the_error_its_stream_would_end_with(
    code: str | None, status: int, error_type: str
) -> None:
    error = {"code": code, "message": "It failed."}
    with pytest.raises(UpstreamError) as raised:
        parse({"status": "failed", "error": error, "output": []})
    assert (raised.value.status, raised.value.error_type) == (status, error_type)
    assert raised.value.message == "It failed."
    streamed = run([{"type": "response.failed", "response": {"status": "failed", "error": error}}])
    assert streamed[-1] == {"type": "error", "error": {"type": error_type, "message": "It failed."}}


@pytest.mark.parametrize(
    ("body", "status", "error_type"),
    [
        ({"error": {"code": 503, "message": "busy"}}, 529, "overloaded_error"),
        ({"error": {"message": "bad", "code": "invalid_prompt"}}, 502, "api_error"),
        ({"object": "response"}, 502, "api_error"),
        ([], 502, "api_error"),
    ],
)
def test_bodies_that_are_not_a_response_are_errors(body: Any, status: int, error_type: str) -> None:
    with pytest.raises(UpstreamError) as raised:
        responses.parse_response(body, message_id=MESSAGE_ID, model="m")
    assert (raised.value.status, raised.value.error_type) == (status, error_type)


@pytest.mark.parametrize(
    ("status", "reason", "has_tool_use", "complete", "expected"),
    [
        ("completed", None, False, True, "end_turn"),
        ("completed", None, True, True, "tool_use"),
        ("incomplete", "max_output_tokens", False, True, "max_tokens"),
        ("incomplete", "max_output_tokens", True, True, "tool_use"),
        ("incomplete", "max_output_tokens", True, False, "max_tokens"),
        ("incomplete", "content_filter", False, True, "refusal"),
        ("incomplete", "something_new", False, True, "end_turn"),
    ],
)
def test_status_and_incomplete_reason_map_to_stop_reason(
    status: str, reason: str | None, has_tool_use: bool, complete: bool, expected: str
) -> None:
    details = {"reason": reason} if reason else None
    stop = stop_reason_of(status, details, has_tool_use=has_tool_use, tool_input_complete=complete)
    assert stop == expected


def test_usage_counts_cache_reads_and_writes_apart_from_uncached_input() -> None:
    usage = {
        "input_tokens": 1000,
        "input_tokens_details": {"cached_tokens": 600, "cache_write_tokens": 300},
        "output_tokens": 50,
    }
    assert usage_from(usage) == {
        "input_tokens": 100,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 600,
        "output_tokens": 50,
    }
    assert usage_from({"input_tokens": 10, "input_tokens_details": {"cached_tokens": 20}}) == {
        "input_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 20,
        "output_tokens": 0,
    }
    assert usage_from(None) is None


def test_an_http_context_length_error_gets_anthropic_wording() -> None:
    body = {
        "error": {
            "message": "This model's maximum context length is 400000 tokens. However, your "
            "messages resulted in 412345 tokens. Please reduce the length of the messages.",
            "type": "invalid_request_error",
            "param": "input",
            "code": "context_length_exceeded",
        }
    }
    err = responses.parse_error(400, json.dumps(body).encode())
    assert (err.status, err.error_type) == (400, "invalid_request_error")
    assert err.message == "prompt is too long: 412345 tokens > 400000 maximum"
