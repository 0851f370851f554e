"""The thinking-signature carrier, the reasoning_details merge, and tool-name mapping."""

from __future__ import annotations

import re

import pytest

from ccroute.translate import openai, reasoning
from ccroute.translate.messages import validate_request
from ccroute.translate.toolnames import OPENAI_NAME, ToolNames

DETAILS = [
    {"type": "reasoning.text", "text": "Let me think", "signature": "sig-1", "index": 0},
    {"type": "reasoning.encrypted", "data": "opaque==", "format": "openai-responses-v1"},
]


def test_signature_round_trips_the_details_for_the_same_scope() -> None:
    signature = reasoning.encode_signature("or/model-a", "reasoning_details", DETAILS)
    assert signature.startswith(reasoning.SIGNATURE_PREFIX)
    assert re.fullmatch(r"ccr1\.[A-Za-z0-9_-]+", signature)  # safe in JSON and headers
    carried = reasoning.decode_signature(signature, "or/model-a")
    assert carried == reasoning.Carried("reasoning_details", tuple(DETAILS))


@pytest.mark.parametrize("scope", ["or/model-b", "other/model-a", ""])
def test_signature_is_not_decoded_for_another_provider_or_model(scope: str) -> None:
    signature = reasoning.encode_signature("or/model-a", "reasoning_content")
    assert reasoning.decode_signature(signature, scope) is None


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "EqQBCkgIARABGAIiQLq3",  # an Anthropic-minted signature
        "ccr1.",
        "ccr1.not base64 !!",
        "ccr1." + "e30",  # base64 of "{}": no scope
        "ccr1.eyJzIjoib3IvbW9kZWwtYSIsImsiOiJib2d1cyJ9",  # {"s":"or/model-a","k":"bogus"}
    ],
)
def test_foreign_or_damaged_signatures_carry_nothing(signature: object) -> None:
    assert reasoning.decode_signature(signature, "or/model-a") is None


def test_streamed_details_with_the_same_index_are_merged_in_order() -> None:
    acc = reasoning.DetailsAccumulator()
    acc.add([{"type": "reasoning.text", "text": "Hel", "index": 0, "signature": None}])
    acc.add([{"type": "reasoning.text", "text": "lo", "index": 0, "format": "anthropic-claude-v1"}])
    acc.add([{"type": "reasoning.encrypted", "data": "ab", "index": 1}])
    acc.add([{"index": 0, "signature": "final-sig"}, {"index": 1, "data": "cd"}])
    assert acc.items() == [
        {
            "type": "reasoning.text",
            "text": "Hello",
            "index": 0,
            "signature": "final-sig",
            "format": "anthropic-claude-v1",
        },
        {"type": "reasoning.encrypted", "data": "abcd", "index": 1},
    ]


def test_details_without_index_stay_separate() -> None:
    acc = reasoning.DetailsAccumulator()
    acc.add(
        [
            {"type": "reasoning.summary", "summary": "a"},
            {"type": "reasoning.summary", "summary": "b"},
        ]
    )
    assert [item["summary"] for item in acc.items()] == ["a", "b"]


def test_detail_text_reads_text_and_summary_but_not_encrypted_data() -> None:
    assert reasoning.detail_text({"type": "reasoning.text", "text": "t"}) == "t"
    assert reasoning.detail_text({"type": "reasoning.summary", "summary": "s"}) == "s"
    assert reasoning.detail_text({"type": "reasoning.encrypted", "data": "x"}) == ""


# --- tool names -------------------------------------------------------------------------------

LONG = "mcp__my-very-long-server-name__a_tool_with_an_extremely_descriptive_name_indeed"


@pytest.mark.parametrize("name", [LONG, "web.search", "has space", "ünïcode", "x" * 65])
def test_names_the_upstream_rejects_are_shortened_deterministically_and_map_back(name: str) -> None:
    names = ToolNames()
    safe = names.upstream(name)
    assert OPENAI_NAME.fullmatch(safe) and len(safe) <= 64
    assert safe != name
    assert ToolNames().upstream(name) == safe  # the same in every request
    assert names.claude(safe) == name


def test_compliant_names_and_unknown_answers_pass_through() -> None:
    names = ToolNames(["Bash", "mcp__github__create_issue"])
    assert names.upstream("Bash") == "Bash"
    assert names.claude("Bash") == "Bash"
    assert names.claude("InventedTool") == "InventedTool"


def test_a_long_tool_name_is_shortened_in_tools_choice_and_history_and_restored_in_answers() -> (
    None
):
    req = validate_request(
        {
            "model": "m",
            "max_tokens": 10,
            "tools": [{"name": LONG, "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "tool", "name": LONG},
            "messages": [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": LONG, "input": {}}],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
                },
            ],
        }
    )
    target = openai.Target(provider="p", model="m")
    body = openai.build_request(req, target=target, stream=False)
    safe = body["tools"][0]["function"]["name"]
    assert safe != LONG and len(safe) <= 64
    assert body["tool_choice"]["function"]["name"] == safe
    assert body["messages"][1]["tool_calls"][0]["function"]["name"] == safe
    answer = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": safe, "arguments": "{}"},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    names = openai.tool_names_for(req)
    message = openai.parse_response(answer, message_id="msg_1", model="m", tool_names=names)
    assert message["content"][0]["name"] == LONG
    stream = openai.StreamTranslator(
        message_id="msg_1", model="m", input_tokens_estimate=5, tool_names=names
    )
    chunk = {
        "choices": [{"index": 0, "delta": answer["choices"][0]["message"], "finish_reason": None}]
    }
    started = [e for e in stream.feed(chunk) if e["type"] == "content_block_start"]
    assert started[0]["content_block"]["name"] == LONG


# --- reasoning controls and the round trip --------------------------------------------------------


def request(thinking: object = None, effort: str | None = None, max_tokens: int = 32000) -> dict:
    body: dict = {
        "model": "claude-x",
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "hi"}],
    }
    if thinking is not None:
        body["thinking"] = thinking
    if effort is not None:
        body["output_config"] = {"effort": effort}
    return body


@pytest.mark.parametrize(
    ("style", "thinking", "effort", "expected"),
    [
        ("openrouter", {"type": "adaptive"}, "high", {"reasoning": {"effort": "high"}}),
        ("openrouter", {"type": "adaptive"}, None, {"reasoning": {"enabled": True}}),
        (
            "openrouter",
            {"type": "enabled", "budget_tokens": 8000},
            "low",
            {"reasoning": {"max_tokens": 8000}},
        ),
        (
            "openrouter",
            {"type": "enabled", "budget_tokens": 40000},
            None,
            {"reasoning": {"max_tokens": 31999}},
        ),
        (
            "openrouter",
            {"type": "adaptive", "display": "omitted"},
            "max",
            {"reasoning": {"effort": "max", "exclude": True}},
        ),
        ("openrouter", {"type": "disabled"}, "high", {}),
        ("openrouter", None, "high", {}),
        ("effort", {"type": "adaptive"}, "xhigh", {"reasoning_effort": "high"}),
        ("effort", {"type": "adaptive"}, "low", {"reasoning_effort": "low"}),
        ("effort", {"type": "adaptive"}, None, {}),
        ("effort", {"type": "enabled", "budget_tokens": 1024}, None, {"reasoning_effort": "low"}),
        (
            "effort",
            {"type": "enabled", "budget_tokens": 10000},
            None,
            {"reasoning_effort": "medium"},
        ),
        ("effort", {"type": "enabled", "budget_tokens": 31999}, None, {"reasoning_effort": "high"}),
        ("none", {"type": "adaptive"}, "high", {}),
    ],
)
def test_thinking_maps_to_exactly_one_reasoning_control(
    style: str, thinking: object, effort: str | None, expected: dict
) -> None:
    target = openai.Target(provider="p", model="m", reasoning=style)  # type: ignore[arg-type]
    body = openai.build_request(
        validate_request(request(thinking, effort)), target=target, stream=False
    )
    sent = {key: body[key] for key in ("reasoning", "reasoning_effort") if key in body}
    assert sent == expected


def stream_reasoning(target: openai.Target, chunks: list[dict]) -> list[dict]:
    translator = openai.StreamTranslator(
        message_id="msg_1", model="claude-x", input_tokens_estimate=3, target=target
    )
    events = [e for chunk in chunks for e in translator.feed(chunk)] + translator.finish()
    blocks: dict[int, dict] = {}
    for event in events:
        if event["type"] == "content_block_start":
            blocks[event["index"]] = dict(event["content_block"])
        elif event["type"] == "content_block_delta":
            delta = event["delta"]
            block = blocks[event["index"]]
            if delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "input_json_delta":
                block["partial"] = block.get("partial", "") + delta["partial_json"]
    content = [blocks[i] for i in sorted(blocks)]
    for block in content:
        if block["type"] == "tool_use":
            block["input"] = {}
            block.pop("partial", None)
    return content


def chunk(delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


CALL = {
    "index": 0,
    "id": "call_1",
    "type": "function",
    "function": {"name": "Bash", "arguments": "{}"},
}


def next_turn(content: list[dict]) -> dict:
    return {
        "model": "claude-x",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "list files"},
            {"role": "assistant", "content": content},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "a.txt"},
                    {"type": "text", "text": "<system-reminder>keep going</system-reminder>"},
                ],
            },
        ],
    }


def test_openrouter_reasoning_details_come_back_exactly_on_the_next_turn() -> None:
    target = openai.Target(provider="or", model="anthropic/claude-x", reasoning="openrouter")
    fragments = [
        {
            "type": "reasoning.text",
            "text": "I should ",
            "format": "anthropic-claude-v1",
            "index": 0,
        },
        {"type": "reasoning.text", "text": "run ls.", "index": 0},
        {"type": "reasoning.text", "signature": "EpwBsig", "index": 0},
        {
            "type": "reasoning.encrypted",
            "data": "gAAAA==",
            "format": "anthropic-claude-v1",
            "index": 1,
        },
    ]
    chunks = [chunk({"reasoning": f.get("text"), "reasoning_details": [f]}) for f in fragments]
    chunks += [chunk({"tool_calls": [CALL]}), chunk({}, "tool_calls")]
    content = stream_reasoning(target, chunks)
    assert [b["type"] for b in content] == ["thinking", "tool_use"]
    assert content[0]["thinking"] == "I should run ls."
    body = openai.build_request(validate_request(next_turn(content)), target=target, stream=False)
    assistant = body["messages"][1]
    assert assistant["tool_calls"][0]["id"] == "call_1"
    assert assistant["reasoning_details"] == [
        {
            "type": "reasoning.text",
            "text": "I should run ls.",
            "format": "anthropic-claude-v1",
            "index": 0,
            "signature": "EpwBsig",
        },
        {
            "type": "reasoning.encrypted",
            "data": "gAAAA==",
            "format": "anthropic-claude-v1",
            "index": 1,
        },
    ]
    assert "reasoning_content" not in assistant and "reasoning" not in assistant
    # Another provider, or the same provider with another model, never sees it.
    for other in (
        openai.Target(provider="ds", model="anthropic/claude-x"),
        openai.Target(provider="or", model="google/gemini-x"),
    ):
        body = openai.build_request(
            validate_request(next_turn(content)), target=other, stream=False
        )
        assert "reasoning_details" not in body["messages"][1]


def test_deepseek_reasoning_content_comes_back_on_the_tool_call_turn_only() -> None:
    target = openai.Target(provider="deepseek", model="deepseek-chat")
    chunks = [chunk({"reasoning_content": "Think "}), chunk({"reasoning_content": "hard."})]
    chunks += [chunk({"tool_calls": [CALL]}), chunk({}, "tool_calls")]
    content = stream_reasoning(target, chunks)
    turn = next_turn(content)
    body = openai.build_request(validate_request(turn), target=target, stream=False)
    assert body["messages"][1]["reasoning_content"] == "Think hard."
    # Once a new user question starts a new loop, the old turn's reasoning is not resent.
    turn["messages"] += [
        {"role": "assistant", "content": "Done."},
        {"role": "user", "content": "thanks, now something else"},
    ]
    body = openai.build_request(validate_request(turn), target=target, stream=False)
    assert "reasoning_content" not in body["messages"][1]
    # And a provider configured not to get reasoning back gets none.
    quiet = openai.Target(provider="deepseek", model="deepseek-chat", return_reasoning=False)
    body = openai.build_request(validate_request(next_turn(content)), target=quiet, stream=False)
    assert "reasoning_content" not in body["messages"][1]


def test_encrypted_only_reasoning_becomes_redacted_thinking_and_round_trips() -> None:
    target = openai.Target(provider="or", model="openai/o4", reasoning="openrouter")
    item = {
        "type": "reasoning.encrypted",
        "data": "enc",
        "format": "openai-responses-v1",
        "index": 0,
    }
    content = stream_reasoning(
        target,
        [
            chunk({"reasoning_details": [item]}),
            chunk({"tool_calls": [CALL]}),
            chunk({}, "tool_calls"),
        ],
    )
    assert content[0]["type"] == "redacted_thinking"
    body = openai.build_request(validate_request(next_turn(content)), target=target, stream=False)
    assert body["messages"][1]["reasoning_details"] == [item]


def test_another_wires_carrier_for_the_same_scope_is_not_sent_back() -> None:
    # A provider's wire changed mid-conversation: the Gemini carrier means nothing to Chat
    # Completions and must not turn into reasoning_details.
    target = openai.Target(provider="p", model="m")
    signature = reasoning.encode_signature(target.scope, reasoning.GEMINI_KIND, [{"x": 1}])
    content = [
        {"type": "thinking", "thinking": "", "signature": signature},
        {"type": "tool_use", "id": "call_1", "name": "Bash", "input": {}},
    ]
    body = openai.build_request(validate_request(next_turn(content)), target=target, stream=False)
    assistant = body["messages"][1]
    assert not {"reasoning_details", "reasoning_content", "reasoning"} & set(assistant)
