"""The gemini wire beyond the golden cases: tool names and schemas, contents rules, thinking
config, the thought-signature round trip, stream edge cases, non-stream parsing and errors
(protocol.md §5, §7 items 3-7, 10, 15, 18, §8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ccroute.config import ProviderConfig
from ccroute.errors import TranslationError, UpstreamError
from ccroute.translate import gemini, messages
from ccroute.translate import reasoning as r
from ccroute.translate.gemini_contents import SKIP_SIGNATURE, SYSTEM_MARK
from ccroute.translate.gemini_schema import declaration_parameters
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames
from ccroute.wires import target_for
from tests.streamcheck import assert_well_formed
from tests.test_translate_golden import accumulate as accumulate_message

FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"
MESSAGE_ID = "msg_01GeminiUnitTest000000"
GEMINI_3 = Target(provider="g", model="gemini-3-flash-preview", reasoning="effort")
GEMINI_25 = Target(provider="g", model="gemini-2.5-pro", reasoning="effort")


def fixture_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())["body"]
    return body


def build(body: dict[str, Any], target: Target = GEMINI_3) -> dict[str, Any]:
    return gemini.build_request(messages.validate_request(body), target=target, stream=True)


def request(*msgs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"model": "claude-opus-4-8", "max_tokens": 4096, "messages": list(msgs), **fields}


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def assistant(content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def tool(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = schema or {"type": "object", "properties": {"x": {"type": "string"}}}
    return {"name": name, "input_schema": schema}


def response(parts: list[dict[str, Any]], finish: str | None = "STOP", **extra: Any) -> dict:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": "gemini-3-flash-preview", **extra}


def translate_stream(chunks: list[dict[str, Any]], target: Target = GEMINI_3) -> list[dict]:
    translator = gemini.StreamTranslator(
        message_id=MESSAGE_ID, model="claude-opus-4-8", input_tokens_estimate=50, target=target
    )
    events: list[dict[str, Any]] = []
    for chunk in chunks:
        events += translator.feed(chunk)
    events += translator.finish()
    return events


def parse(body: dict[str, Any], target: Target = GEMINI_3, **kwargs: Any) -> dict[str, Any]:
    return dict(
        gemini.parse_response(
            body, message_id=MESSAGE_ID, model="claude-opus-4-8", target=target, **kwargs
        )
    )


def names_for(name: str) -> ToolNames:
    return gemini.tool_names_for(messages.validate_request(request(user("hi"), tools=[tool(name)])))


def find_keys(value: Any, keys: set[str]) -> set[str]:
    """Every dict key in `keys` anywhere in `value` (schema keywords, not property names)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            if key in keys:
                found.add(key)
            if key == "properties" and isinstance(sub, dict):
                for prop in sub.values():
                    found |= find_keys(prop, keys)
            else:
                found |= find_keys(sub, keys)
    elif isinstance(value, list):
        for item in value:
            found |= find_keys(item, keys)
    return found


# --- target and tool names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "reasoning"),
    [
        ("gemini-2.5-flash", "effort"),
        ("models/gemini-2.5-pro", "effort"),
        ("gemini-3-pro-preview", "effort"),
        ("gemini-3.1-flash-lite", "effort"),
        ("gemini-flash-latest", "effort"),
        ("gemini-2.0-flash-thinking-exp", "effort"),
        ("gemini-2.0-flash", "none"),
        ("gemini-1.5-pro", "none"),
        ("gemma-3-27b-it", "none"),
        ("gemini-2.5-flash-image", "none"),
    ],
)
def test_auto_reasoning_on_the_gemini_wire_is_effort_for_thinking_models(
    model: str, reasoning: str
) -> None:
    provider = ProviderConfig(name="g", wire="gemini", base_url="http://127.0.0.1:1/v1beta")
    assert target_for(provider, model).reasoning == reasoning


def test_an_explicit_reasoning_setting_wins_over_the_model_name() -> None:
    off = ProviderConfig(name="g", wire="gemini", base_url="http://x/v1beta", reasoning="none")
    assert target_for(off, "gemini-2.5-flash").reasoning == "none"
    on = ProviderConfig(name="g", wire="gemini", base_url="http://x/v1beta", reasoning="effort")
    assert target_for(on, "tunedModels/my-model").reasoning == "effort"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mcp__docs.v2__lookup", "mcp__docs.v2__lookup"),  # dots and colons are allowed
        ("ns:tool-name", "ns:tool-name"),
        ("_private", "_private"),
    ],
)
def test_names_gemini_accepts_are_sent_unchanged(name: str, expected: str) -> None:
    names = gemini.tool_names_for(
        messages.validate_request(request(user("hi"), tools=[tool(name)]))
    )
    assert names.upstream(name) == expected


@pytest.mark.parametrize("name", ["9lives", "-dash-first", "a" * 129, "has space", "ünïcode"])
def test_names_gemini_rejects_are_fitted_to_its_rule_and_map_back(name: str) -> None:
    names = gemini.tool_names_for(
        messages.validate_request(request(user("hi"), tools=[tool(name)]))
    )
    upstream = names.upstream(name)
    assert upstream[0].isalpha() or upstream[0] == "_"
    assert len(upstream) <= 128
    assert all(c.isascii() and (c.isalnum() or c in "_.:-") for c in upstream)
    assert names.claude(upstream) == name


def test_the_openai_rule_stays_the_default_for_tool_names() -> None:
    assert ToolNames().upstream("docs.lookup") != "docs.lookup"  # dots are not OpenAI names
    assert ToolNames().upstream("9lives") == "9lives"  # a digit first is fine for OpenAI


# --- schemas (§5.3) --------------------------------------------------------------------------


def test_a_tool_without_arguments_sends_no_parameters() -> None:
    schema = {"type": "object", "properties": {}, "additionalProperties": False}
    assert declaration_parameters(schema) == {}


def test_free_form_objects_and_untyped_values_use_parameters_json_schema() -> None:
    free = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"meta": {"type": "object", "additionalProperties": {}}},
    }
    out = declaration_parameters(free)
    assert set(out) == {"parametersJsonSchema"}
    assert "$schema" not in out["parametersJsonSchema"]
    assert out["parametersJsonSchema"]["properties"]["meta"]["additionalProperties"] == {}
    untyped = {"type": "object", "properties": {"args": {"description": "anything"}}}
    assert set(declaration_parameters(untyped)) == {"parametersJsonSchema"}


def test_recursive_refs_keep_their_definitions_in_parameters_json_schema() -> None:
    schema = {
        "type": "object",
        "$defs": {"N": {"type": "object", "properties": {"kids": {"$ref": "#/$defs/N"}}}},
        "properties": {"root": {"$ref": "#/$defs/N"}},
    }
    out = declaration_parameters(schema)["parametersJsonSchema"]
    assert out["properties"]["root"] == {"$ref": "#/$defs/N"}
    assert "N" in out["$defs"]


def test_parameter_names_gemini_rejects_switch_to_parameters_json_schema() -> None:
    schema = {"type": "object", "properties": {"user-id": {"type": "string"}}}
    assert declaration_parameters(schema) == {"parametersJsonSchema": schema}


def test_refs_are_inlined_and_keywords_gemini_rejects_are_cleaned() -> None:
    schema = {
        "$schema": "x",
        "type": "object",
        "definitions": {"Color": {"type": "string", "enum": ["red", "blue"]}},
        "properties": {
            "color": {"$ref": "#/definitions/Color", "description": "pick one"},
            "count": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "format": "double"},
            "kind": {"const": "fixed"},
            "maybe": {"type": ["string", "null"], "format": "email"},
            "format": {"type": "string", "description": "a parameter called format"},
        },
        "required": ["color", "ghost"],
        "additionalProperties": False,
    }
    params = declaration_parameters(schema)["parameters"]
    props = params["properties"]
    assert props["color"] == {"type": "string", "description": "pick one", "enum": ["red", "blue"]}
    assert props["count"] == {"type": "integer", "maximum": 9, "minimum": 1}
    assert props["ratio"] == {"type": "number", "format": "double"}
    assert props["kind"] == {"type": "string", "enum": ["fixed"]}
    assert props["maybe"] == {"type": "string", "nullable": True}
    assert props["format"] == {"type": "string", "description": "a parameter called format"}
    assert params["required"] == ["color"]
    forbidden = {"$schema", "$ref", "definitions", "additionalProperties", "const"}
    assert find_keys(params, forbidden) == set()


def test_all_of_merges_properties_in_order_and_one_of_becomes_any_of() -> None:
    schema = {
        "type": "object",
        "properties": {
            "both": {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "string"}}},
                    {"properties": {"b": {"type": "integer"}}, "required": ["b"]},
                ]
            },
            "either": {"oneOf": [{"type": "string"}, {"type": "boolean"}]},
        },
    }
    props = declaration_parameters(schema)["parameters"]["properties"]
    assert list(props["both"]["properties"]) == ["a", "b"]
    assert props["both"]["required"] == ["b"]
    assert props["either"] == {"anyOf": [{"type": "string"}, {"type": "boolean"}]}


def test_claude_code_tools_declare_only_keywords_gemini_accepts() -> None:
    body = build(fixture_body("write_tool_turn1.json"))
    declarations = body["tools"][0]["functionDeclarations"]
    assert len(declarations) == 24
    by_name = {d["name"]: d for d in declarations}
    assert set(by_name["CronList"]) == {"name", "description"}  # no arguments: no schema at all
    assert "parametersJsonSchema" in by_name["TaskCreate"]  # free-form metadata object
    subset = [d["parameters"] for d in declarations if "parameters" in d]
    assert len(subset) >= 15
    rejected = {
        "$schema",
        "additionalProperties",
        "propertyNames",
        "exclusiveMinimum",
        "const",
        "$ref",
        "oneOf",
        "allOf",
    }
    assert find_keys(subset, rejected) == set()
    for declaration in declarations:
        assert "$schema" not in json.dumps(declaration.get("parametersJsonSchema", {}))


# --- contents (§5.2) -------------------------------------------------------------------------


def test_claude_code_say_hi_has_one_user_turn_with_the_system_message_folded_in() -> None:
    source = fixture_body("print_say_hi_opus_default.json")
    body = build(source)
    assert [content["role"] for content in body["contents"]] == ["user"]
    texts = [part["text"] for part in body["contents"][0]["parts"]]
    assert texts[-1] == SYSTEM_MARK + source["messages"][1]["content"]
    system = body["systemInstruction"]["parts"]
    assert [part["text"] for part in system] == [block["text"] for block in source["system"][1:]]
    assert "x-anthropic-billing-header" not in json.dumps(body)
    assert set(body) == {"contents", "systemInstruction", "tools", "generationConfig"}


def test_a_system_message_between_calls_and_results_does_not_split_the_pair() -> None:
    body = build(
        request(
            user("go"),
            assistant([{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"x": "ls"}}]),
            {"role": "system", "content": "Reminder: be brief."},
            user([{"type": "tool_result", "tool_use_id": "t1", "content": "a.txt"}]),
            tools=[tool("Bash")],
        )
    )
    roles = [content["role"] for content in body["contents"]]
    assert roles == ["user", "model", "user"]
    last = body["contents"][2]["parts"]
    assert "functionResponse" in last[0]
    assert last[1] == {"text": SYSTEM_MARK + "Reminder: be brief."}


def test_function_calls_and_responses_carry_no_ids_and_responses_are_named() -> None:
    body = build(
        request(
            user("go"),
            assistant([{"type": "tool_use", "id": "toolu_9", "name": "Bash", "input": {}}]),
            user([{"type": "tool_result", "tool_use_id": "toolu_9", "is_error": True}]),
            tools=[tool("Bash")],
        )
    )
    call = body["contents"][1]["parts"][0]["functionCall"]
    response_part = body["contents"][2]["parts"][0]["functionResponse"]
    assert call == {"name": "Bash", "args": {}}
    assert response_part == {"name": "Bash", "response": {"error": "(no content)"}}


def test_a_tool_result_without_its_tool_use_names_the_path() -> None:
    body = request(user([{"type": "tool_result", "tool_use_id": "nope", "content": "x"}]))
    with pytest.raises(TranslationError, match=r"messages\.0\.content\.0\.tool_use_id"):
        build(body)


def test_unsigned_function_call_steps_get_the_sentinel_on_the_first_call_only() -> None:
    calls = [
        {"type": "tool_use", "id": "a", "name": "Bash", "input": {"x": "1"}},
        {"type": "tool_use", "id": "b", "name": "Bash", "input": {"x": "2"}},
    ]
    results = [
        {"type": "tool_result", "tool_use_id": "a", "content": "1"},
        {"type": "tool_result", "tool_use_id": "b", "content": "2"},
    ]
    body = build(request(user("go"), assistant(calls), user(results), tools=[tool("Bash")]))
    parts = body["contents"][1]["parts"]
    assert parts[0]["thoughtSignature"] == SKIP_SIGNATURE
    assert "thoughtSignature" not in parts[1]
    plain = build(request(user("hi"), assistant("hello"), user("again")))
    assert "thoughtSignature" not in json.dumps(plain)


# --- thinking config (§8) --------------------------------------------------------------------


def thinking_config(target: Target, **fields: Any) -> Any:
    body = build(request(user("hi"), **fields), target)
    return body["generationConfig"].get("thinkingConfig")


@pytest.mark.parametrize(
    ("effort", "level"),
    [("low", "LOW"), ("medium", "MEDIUM"), ("high", "HIGH"), ("xhigh", "HIGH"), ("max", "HIGH")],
)
def test_adaptive_thinking_on_gemini_3_sends_the_effort_as_a_level(effort: str, level: str) -> None:
    config = thinking_config(
        GEMINI_3, thinking={"type": "adaptive"}, output_config={"effort": effort}
    )
    assert config == {"thinkingLevel": level, "includeThoughts": True}


def test_adaptive_thinking_on_gemini_2_5_is_a_dynamic_budget_never_a_level() -> None:
    config = thinking_config(
        GEMINI_25, thinking={"type": "adaptive"}, output_config={"effort": "low"}
    )
    assert config == {"thinkingBudget": -1, "includeThoughts": True}
    no_effort = thinking_config(GEMINI_3, thinking={"type": "adaptive", "display": "omitted"})
    assert no_effort == {"thinkingLevel": "HIGH", "includeThoughts": False}


@pytest.mark.parametrize(("budget", "sent"), [(100, 512), (2048, 2048), (31999, 24576)])
def test_a_thinking_budget_is_clamped_into_the_range_every_gemini_model_takes(
    budget: int, sent: int
) -> None:
    config = thinking_config(
        GEMINI_25, thinking={"type": "enabled", "budget_tokens": budget}, max_tokens=32000
    )
    assert config == {"thinkingBudget": sent, "includeThoughts": True}


def test_a_thinking_budget_stays_below_the_clamped_output_limit() -> None:
    target = Target(provider="g", model="gemini-2.5-flash", max_tokens=8192, reasoning="effort")
    body = build(request(user("hi"), thinking={"type": "enabled", "budget_tokens": 20000}), target)
    assert body["generationConfig"]["maxOutputTokens"] == 4096  # request max_tokens below the cap
    config = body["generationConfig"]["thinkingConfig"]
    assert config["thinkingBudget"] == 4095


def test_no_thinking_config_when_reasoning_is_none_or_thinking_is_off() -> None:
    none = Target(provider="g", model="gemini-3-flash-preview", reasoning="none")
    assert thinking_config(none, thinking={"type": "adaptive"}) is None
    assert thinking_config(GEMINI_3, thinking={"type": "disabled"}) is None
    assert thinking_config(GEMINI_3) is None


def test_generation_config_clamps_output_and_keeps_five_stop_sequences() -> None:
    target = Target(provider="g", model="gemini-2.5-flash", max_tokens=100)
    body = build(request(user("hi"), max_tokens=0, stop_sequences=list("abcdefg"), top_k=3), target)
    config = body["generationConfig"]
    assert config == {"maxOutputTokens": 1, "topK": 3, "stopSequences": list("abcde")}


def test_extra_body_fields_never_override_the_translation() -> None:
    target = Target(
        provider="g",
        model="gemini-2.5-flash",
        extra_body={"safetySettings": ({"category": "X"},), "contents": "no"},
    )
    body = build(request(user("hi")), target)
    assert body["safetySettings"] == [{"category": "X"}]
    assert body["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


# --- thought signatures round trip (§5.7) --------------------------------------------------------


def accumulate(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The assistant content Claude Code would build from the events (and send back)."""
    content: list[dict[str, Any]] = accumulate_message(events)["content"]
    return content


SIGNED_STREAM = [
    response([{"text": "Planning the reads", "thought": True}], finish=None),
    response([{"text": "", "thought": True, "thoughtSignature": "SIG-THOUGHT"}], finish=None),
    response([{"text": "Reading "}], finish=None),
    response([{"text": "both.", "thoughtSignature": "SIG-TEXT"}], finish=None),
    response(
        [
            {"functionCall": {"name": "Read", "args": {"p": "a"}}, "thoughtSignature": "SIG-A"},
            {"functionCall": {"name": "Read", "args": {"p": "b"}}},
        ],
        finish=None,
    ),
    response([{"functionCall": {"name": "Read", "args": {"p": "c"}}, "thoughtSignature": "SIG-C"}]),
]


def test_every_thought_signature_goes_back_on_the_part_it_came_on() -> None:
    events = translate_stream(SIGNED_STREAM)
    assert_well_formed(events)
    content = accumulate(events)
    assert [block["type"] for block in content] == [
        "thinking",
        "text",
        "thinking",
        "tool_use",
        "tool_use",
        "thinking",
        "tool_use",
    ]
    results = [
        {"type": "tool_result", "tool_use_id": block["id"], "content": "ok"}
        for block in content
        if block["type"] == "tool_use"
    ]
    body = build(
        request(user("read"), assistant(content), user(results), tools=[tool("Read")]), GEMINI_3
    )
    model_parts = body["contents"][1]["parts"]
    assert model_parts == [
        {"text": "Planning the reads", "thought": True, "thoughtSignature": "SIG-THOUGHT"},
        {"text": "Reading both.", "thoughtSignature": "SIG-TEXT"},
        {"functionCall": {"name": "Read", "args": {"p": "a"}}, "thoughtSignature": "SIG-A"},
        {"functionCall": {"name": "Read", "args": {"p": "b"}}},
        {"functionCall": {"name": "Read", "args": {"p": "c"}}, "thoughtSignature": "SIG-C"},
    ]


def test_the_non_stream_answer_carries_the_same_signatures_as_the_stream() -> None:
    parts = [part for chunk in SIGNED_STREAM for part in chunk["candidates"][0]["content"]["parts"]]
    message = parse(response(parts))
    streamed = accumulate(translate_stream(SIGNED_STREAM))
    assert message["content"] == streamed


def test_a_text_signature_with_no_block_after_it_is_dropped_so_the_text_ends_the_message() -> None:
    chunks = [
        response([{"text": "Hello"}], finish=None),
        response([{"text": " there", "thoughtSignature": "SIG-LAST"}]),
    ]
    content = accumulate(translate_stream(chunks))
    assert content == [{"type": "text", "text": "Hello there"}]
    assert parse(response([{"text": "Hello there", "thoughtSignature": "SIG-LAST"}]))[
        "content"
    ] == [{"type": "text", "text": "Hello there"}]


@pytest.mark.parametrize(
    "target",
    [
        Target(provider="other", model="gemini-3-flash-preview"),
        Target(provider="g", model="gemini-3-pro-preview"),
        Target(provider="g", model="gemini-3-flash-preview", return_reasoning=False),
    ],
)
def test_signatures_reach_only_the_model_that_minted_them(target: Target) -> None:
    content = accumulate(translate_stream(SIGNED_STREAM))
    results = [
        {"type": "tool_result", "tool_use_id": block["id"], "content": "ok"}
        for block in content
        if block["type"] == "tool_use"
    ]
    body = build(
        request(user("read"), assistant(content), user(results), tools=[tool("Read")]), target
    )
    sent = json.dumps(body)
    assert "SIG-" not in sent
    assert '"thought": true' not in sent
    assert body["contents"][1]["parts"][1]["thoughtSignature"] == SKIP_SIGNATURE


def test_a_signature_is_a_ccroute_gemini_carrier_scoped_to_the_target() -> None:
    content = accumulate(translate_stream(SIGNED_STREAM))
    carried = r.decode_signature(content[0]["signature"], GEMINI_3.scope)
    assert carried is not None
    assert carried.kind == "gemini"
    assert carried.details == ({"on": "thought", "sig": "SIG-THOUGHT"},)
    assert r.decode_signature(content[0]["signature"], "g/gemini-2.5-pro") is None


# --- stream edge cases (§5.4) ----------------------------------------------------------------


def test_calls_get_their_gemini_id_when_it_fits_and_a_minted_unique_one_otherwise() -> None:
    parts = [
        {"functionCall": {"id": "fc-1", "name": "Read", "args": {}}},
        {"functionCall": {"id": "fc-1", "name": "Read", "args": {}}},  # repeated id
        {"functionCall": {"id": "bad id!", "name": "Read", "args": {}}},
        {"functionCall": {"name": "Read", "args": {}}},
    ]
    content = accumulate(translate_stream([response(parts)]))
    ids = [block["id"] for block in content]
    assert ids[0] == "fc-1"
    assert len(set(ids)) == 4
    assert all(i.startswith("toolu_") for i in ids[1:])


def test_usage_takes_the_last_metadata_and_excludes_cached_tokens() -> None:
    first = response([{"text": "Hi"}], finish=None, usageMetadata={"promptTokenCount": 10})
    last = response(
        [{"text": " there"}],
        usageMetadata={
            "promptTokenCount": 1000,
            "cachedContentTokenCount": 800,
            "candidatesTokenCount": 5,
            "thoughtsTokenCount": 40,
        },
    )
    events = translate_stream([first, last])
    delta = next(e for e in events if e["type"] == "message_delta")
    assert delta["usage"] == {
        "input_tokens": 200,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 800,
        "output_tokens": 45,
    }


def test_a_usage_only_chunk_after_the_finish_reason_still_counts() -> None:
    events = translate_stream(
        [response([{"text": "Hi"}]), {"usageMetadata": {"promptTokenCount": 7}}]
    )
    delta = next(e for e in events if e["type"] == "message_delta")
    assert delta["usage"]["input_tokens"] == 7
    assert delta["delta"]["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    ("finish", "stop_reason"),
    [
        ("STOP", "end_turn"),
        ("MAX_TOKENS", "max_tokens"),
        ("SAFETY", "refusal"),
        ("RECITATION", "refusal"),
        ("PROHIBITED_CONTENT", "refusal"),
        ("MALFORMED_FUNCTION_CALL", "end_turn"),
        ("OTHER", "end_turn"),
        (None, "end_turn"),
    ],
)
def test_finish_reasons_map_to_stop_reasons(finish: str | None, stop_reason: str) -> None:
    message = parse(response([{"text": "x"}], finish=finish))
    assert message["stop_reason"] == stop_reason
    with_call = parse(response([{"functionCall": {"name": "Read", "args": {}}}], finish=finish))
    assert with_call["stop_reason"] == "tool_use"


def test_parts_claude_code_has_no_block_for_are_skipped() -> None:
    parts = [
        {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
        {"text": "Done."},
        {"functionCall": {"args": {}}},  # no name: cannot be a tool_use
    ]
    assert parse(response(parts))["content"] == [{"type": "text", "text": "Done."}]


def test_an_error_chunk_ends_the_stream_with_one_error_event_and_nothing_after() -> None:
    translator = gemini.StreamTranslator(
        message_id=MESSAGE_ID, model="m", input_tokens_estimate=1, target=GEMINI_3
    )
    events = translator.feed(response([{"text": "partial"}], finish=None))
    error = {
        "error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}
    }
    assert translator.feed(error) == [
        {"type": "error", "error": {"type": "rate_limit_error", "message": "Resource exhausted"}}
    ]
    assert translator.feed(response([{"text": "more"}])) == []
    assert translator.finish() == []
    assert events[0]["type"] == "message_start"


def test_finish_emits_the_closing_events_once() -> None:
    translator = gemini.StreamTranslator(message_id=MESSAGE_ID, model="m", input_tokens_estimate=3)
    events = translator.finish()
    assert [e["type"] for e in events] == ["message_start", "message_delta", "message_stop"]
    assert translator.finish() == []


# --- non-stream answers and errors (§5.8) -------------------------------------------------------


def test_a_blocked_prompt_is_a_400_invalid_request() -> None:
    body = {"promptFeedback": {"blockReason": "SAFETY", "blockReasonMessage": "Unsafe input."}}
    with pytest.raises(UpstreamError) as raised:
        parse(body)
    assert (raised.value.status, raised.value.error_type) == (400, "invalid_request_error")
    assert "SAFETY" in raised.value.message
    assert "Unsafe input." in raised.value.message


@pytest.mark.parametrize("body", [[], {"modelVersion": "x"}, {"candidates": []}])
def test_a_body_that_is_no_generate_content_response_is_a_502(body: Any) -> None:
    with pytest.raises(UpstreamError) as raised:
        parse(body)
    assert (raised.value.status, raised.value.error_type) == (502, "api_error")


def google_error(code: int, status: str, message: str, *details: dict) -> bytes:
    error = {"code": code, "message": message, "status": status, "details": list(details)}
    return json.dumps({"error": error}).encode()


def test_an_invalid_key_stays_a_400_so_claude_code_stops_instead_of_retrying() -> None:
    body = google_error(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"},
    )
    err = gemini.parse_error(400, body)
    assert (err.status, err.error_type) == (400, "invalid_request_error")
    assert err.message == "API key not valid. Please pass a valid API key."


def test_a_quota_error_keeps_googles_retry_delay() -> None:
    body = google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota.",
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37.2s"},
    )
    err = gemini.parse_error(429, body)
    assert (err.status, err.error_type, err.retry_after) == (429, "rate_limit_error", "38")


def test_a_context_overflow_is_reworded_for_claude_code_to_compact() -> None:
    message = (
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
    )
    err = gemini.parse_error(400, google_error(400, "INVALID_ARGUMENT", message))
    assert (err.status, err.error_type) == (400, "invalid_request_error")
    assert err.message == "prompt is too long: 1200000 tokens > 1048576 maximum"


@pytest.mark.parametrize(
    ("status", "google_status", "expected"),
    [
        (503, "UNAVAILABLE", (529, "overloaded_error")),
        (500, "INTERNAL", (500, "api_error")),
        (504, "DEADLINE_EXCEEDED", (504, "timeout_error")),
        (403, "PERMISSION_DENIED", (403, "permission_error")),
        (404, "NOT_FOUND", (404, "not_found_error")),
        (400, "FAILED_PRECONDITION", (400, "invalid_request_error")),
    ],
)
def test_google_statuses_map_to_anthropic_error_types(
    status: int, google_status: str, expected: tuple[int, str]
) -> None:
    err = gemini.parse_error(status, google_error(status, google_status, "boom"))
    assert (err.status, err.error_type) == expected
    assert err.message == "boom"


def test_an_error_list_body_and_a_key_in_the_message_are_handled() -> None:
    key = "AIza" + "Sy" + "A" * 33
    body = json.dumps([{"error": {"code": 400, "message": f"bad key {key}"}}]).encode()
    err = gemini.parse_error(400, body)
    assert err.error_type == "invalid_request_error"
    assert key not in err.message
    text = gemini.parse_error(502, b"<html>Bad Gateway</html>")
    assert (text.status, text.error_type) == (502, "api_error")
