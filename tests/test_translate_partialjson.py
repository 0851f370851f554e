"""`partialjson.closing_suffix`: every cut-off JSON object can be finished by appending."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccroute.translate import openai
from ccroute.translate.partialjson import closing_suffix
from tests.streamcheck import assert_well_formed

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
objects = st.dictionaries(st.text(max_size=8), values, max_size=5)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(obj=objects, ascii_only=st.booleans(), indent=st.sampled_from([None, 2]))
def test_every_prefix_of_a_json_object_is_finished_into_a_json_object(
    obj: dict[str, Any], ascii_only: bool, indent: int | None
) -> None:
    text = json.dumps(obj, ensure_ascii=ascii_only, indent=indent)
    assert closing_suffix(text) == ""
    for cut in range(1, len(text)):
        prefix = text[:cut]
        suffix = closing_suffix(prefix)
        assert suffix is not None, prefix
        assert isinstance(json.loads(prefix + suffix), dict), prefix + suffix


@pytest.mark.parametrize(
    ("prefix", "suffix"),
    [
        ('{"a"', ":null}"),
        ('{"a":', "null}"),
        ('{"a":1,', '"_":null}'),
        ('{"a":[1,', "null]}"),
        ('{"a":"x\\', '\\"}'),
        ('{"a":"\\u00', '00"}'),
        ('{"a":tr', "ue}"),
        ('{"a":-', "0}"),
        ('{"command": "rm -rf bu', '"}'),
    ],
)
def test_known_cuts_get_the_expected_suffix(prefix: str, suffix: str) -> None:
    assert closing_suffix(prefix) == suffix


@pytest.mark.parametrize("text", ["", "[1, 2", '"abc', "not json", "{}}"])
def test_text_that_is_not_the_start_of_an_object_cannot_be_mended(text: str) -> None:
    assert closing_suffix(text) is None


def test_a_tool_call_cut_by_the_output_limit_streams_valid_json_and_matches_non_stream() -> None:
    arguments = '{"file_path": "/tmp/a.txt", "content": "line one\\nline tw'
    call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "Write", "arguments": ""},
    }
    chunks = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]},
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": arguments}}]},
                    "finish_reason": "length",
                }
            ]
        },
    ]
    translator = openai.StreamTranslator(message_id="msg_1", model="m", input_tokens_estimate=9)
    events = [e for c in chunks for e in translator.feed(c)] + translator.finish()
    assert_well_formed(events)
    partial = "".join(
        e["delta"]["partial_json"] for e in events if e["type"] == "content_block_delta"
    )
    streamed_input = json.loads(partial)
    assert streamed_input == {"file_path": "/tmp/a.txt", "content": "line one\nline tw"}
    assert events[-2]["delta"]["stop_reason"] == "max_tokens"
    body = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{**call, "function": {"name": "Write", "arguments": arguments}}],
                },
                "finish_reason": "length",
            }
        ]
    }
    message = openai.parse_response(body, message_id="msg_1", model="m")
    assert message["content"][0]["input"] == streamed_input
    assert message["stop_reason"] == "max_tokens"
