"""SSEDecoder and encode: framing edge cases (protocol.md §2.4, §7 item 18)."""

from __future__ import annotations

import json

import pytest

from ccroute.translate.sse import PING, SSEDecoder, SSEEvent, encode


def decode_all(*pieces: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for piece in pieces:
        events += decoder.feed(piece)
    return events + decoder.close()


def test_multibyte_character_split_across_reads_is_decoded_intact() -> None:
    data = 'data: {"text":"héllo 👋"}\n\n'.encode()
    cut = data.index("👋".encode()) + 2  # inside the 4-byte emoji
    assert decode_all(data[:cut], data[cut:]) == [SSEEvent(None, '{"text":"héllo 👋"}')]


def test_crlf_and_cr_line_endings_are_accepted() -> None:
    assert decode_all(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n") == [
        SSEEvent(None, "a"),
        SSEEvent(None, "b"),
        SSEEvent(None, "c"),
    ]


def test_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r") == []
    assert decoder.feed(b"\n") == [SSEEvent(None, "a")]


def test_comment_lines_are_skipped() -> None:
    data = b": OPENROUTER PROCESSING\n\n: another\ndata: x\n\n"
    assert decode_all(data) == [SSEEvent(None, "x")]


def test_multiline_data_is_joined_with_newlines() -> None:
    assert decode_all(b"data: line one\ndata:line two\ndata\n\n") == [
        SSEEvent(None, "line one\nline two\n")
    ]


def test_event_name_is_reported_and_reset_after_dispatch() -> None:
    data = b"event: message_start\ndata: {}\n\ndata: 2\n\n"
    assert decode_all(data) == [SSEEvent("message_start", "{}"), SSEEvent(None, "2")]


def test_event_without_data_is_not_dispatched() -> None:
    assert decode_all(b"event: ping\n\nid: 3\nretry: 10\n\n") == []


def test_done_sentinel_is_plain_data() -> None:
    assert decode_all(b"data: [DONE]\n\n") == [SSEEvent(None, "[DONE]")]


def test_unterminated_last_event_is_dispatched_on_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: {}\n\ndata: [DONE]") == [SSEEvent(None, "{}")]
    assert decoder.close() == [SSEEvent(None, "[DONE]")]


def test_leading_byte_order_mark_is_ignored() -> None:
    assert decode_all("\ufeffdata: x\n\n".encode()) == [SSEEvent(None, "x")]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert decode_all(b"data: \xff\n\n") == [SSEEvent(None, "\ufffd")]


def test_long_line_fed_one_byte_at_a_time_is_decoded() -> None:
    payload = json.dumps({"text": "x" * 20000})
    data = f"data: {payload}\n\n".encode()
    assert decode_all(*(data[i : i + 1] for i in range(len(data)))) == [SSEEvent(None, payload)]


def test_encode_writes_event_line_and_compact_json() -> None:
    event = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "a\nb"},
    }
    assert encode(event) == (
        b"event: content_block_delta\n"
        b'data: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"a\\nb"}}\n\n'
    )


def test_encode_escapes_lone_surrogates_instead_of_failing() -> None:
    frame = encode({"type": "content_block_delta", "text": "\ud83d"})
    assert b"\\ud83d" in frame


@pytest.mark.parametrize(
    "event",
    [{"type": "message_stop"}, {"type": "error", "error": {"type": "api_error", "message": "é"}}],
)
def test_encoded_frame_decodes_back_to_the_same_event(event: dict[str, object]) -> None:
    [frame] = decode_all(encode(event))
    assert frame.event == event["type"]
    assert json.loads(frame.data) == event


def test_ping_constant_is_a_ping_frame() -> None:
    assert PING == b'event: ping\ndata: {"type":"ping"}\n\n'
