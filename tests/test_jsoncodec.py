"""`ccroute.jsoncodec`: orjson's speed without its strictness changing what ccroute accepts."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest

from ccroute import jsoncodec
from ccroute.translate import sse


def test_round_trip_is_compact_utf8() -> None:
    value = {"a": [1, 2.5, None, True], "text": "Ça va — 🌟"}
    out = jsoncodec.dumps(value)
    assert out == '{"a":[1,2.5,null,true],"text":"Ça va — 🌟"}'.encode()
    assert jsoncodec.loads(out) == value
    assert jsoncodec.dumps_str(value) == out.decode()


def test_lone_surrogate_escape_is_read_and_written_back_as_an_escape() -> None:
    # An emoji cut in half by a tool's output: orjson refuses it both ways; json does not.
    raw = b'{"text":"half \\ud83d"}'
    value = jsoncodec.loads(raw)
    assert value == {"text": "half \ud83d"}
    out = jsoncodec.dumps(value)
    assert json.loads(out) == value
    frame = sse.encode({"type": "content_block_delta", "delta": value})
    assert b"\\ud83d" in frame


def test_values_only_the_standard_library_takes() -> None:
    assert jsoncodec.loads("[NaN, 1]")[1] == 1
    assert jsoncodec.dumps(2**70) == b"1180591620717411303424"
    assert jsoncodec.dumps({1: "a"}) == b'{"1":"a"}'
    with pytest.raises(TypeError):
        jsoncodec.dumps(MappingProxyType({"a": 1}))


def test_invalid_json_raises_value_error_with_position() -> None:
    with pytest.raises(ValueError, match="line 1 column"):
        jsoncodec.loads(b'{"a": }')
