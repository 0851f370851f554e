"""Property tests: how the upstream bytes are cut into network reads must not matter.

Two properties, both checked with hypothesis under a fixed, database-less profile (the same
examples on every run, so CI is reproducible and quick):

- For every golden case with an `upstream.sse`, the Anthropic stream ccroute emits is the same
  whether the upstream bytes arrive whole or cut at arbitrary byte positions, with LF, CRLF or
  CR line endings; the cuts favour the risky places (inside a multi-byte UTF-8 character, inside
  a `data:` field name, between the CR and LF of one line end). Every stream produced is also
  checked with `tests.streamcheck.assert_well_formed`.
- `SSEDecoder` alone: random events, encoded with random (but per-stream consistent) line
  endings, comments, a BOM and optional final terminators, split anywhere, decode to exactly
  the events that were encoded.
"""

from __future__ import annotations

import functools
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccroute.translate.sse import SSEDecoder, SSEEvent
from tests.streamcheck import assert_well_formed, parse_sse
from tests.test_translate_golden import STREAM_CASES, translate_stream, upstream_bytes, wire_of

# Deterministic and quick: derandomize picks the same examples every run, no example database
# is written, and there is no per-example deadline (CI machines vary in speed). 50 examples a
# golden case keep the file near 10 s with ~50 cases; the decoder property is one test, so it
# can afford more.
PER_CASE = settings(max_examples=50, deadline=None, derandomize=True, database=None)
DECODER = settings(PER_CASE, max_examples=300)

LINE_ENDINGS = (b"\n", b"\r\n", b"\r")


# --- cutting a byte string into pieces ------------------------------------------------------


def risky_positions(data: bytes) -> list[int]:
    """Cut positions (0 < p < len) that split something a careless decoder would mangle.

    - before a UTF-8 continuation byte: the cut lands inside a multi-byte character;
    - inside or right after a `data:` field name (`d|ata:`, ..., `data:| `);
    - between the CR and LF of a CRLF line end.
    """
    positions: set[int] = set()
    for at, byte in enumerate(data):
        if 0x80 <= byte < 0xC0:
            positions.add(at)
        if byte == 0x0A and at and data[at - 1] == 0x0D:
            positions.add(at)
    for match in re.finditer(rb"data:", data):
        positions.update(range(match.start() + 1, match.end() + 1))
    return sorted(p for p in positions if 0 < p < len(data))


@st.composite
def cut_into_pieces(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """`data` split at a sorted set of cut positions, half of them drawn from the risky ones."""
    if len(data) < 2:
        return [data]
    anywhere = st.integers(1, len(data) - 1)
    risky = risky_positions(data)
    position = st.one_of(anywhere, st.sampled_from(risky)) if risky else anywhere
    cuts = sorted(set(draw(st.lists(position, max_size=48))))
    bounds = [0, *cuts, len(data)]
    pieces = [data[start:end] for start, end in itertools.pairwise(bounds)]
    assert b"".join(pieces) == data
    return pieces


def with_line_ending(data: bytes, ending: bytes) -> bytes:
    # Upstream JSON escapes every newline inside strings, so each raw LF is a line end.
    return data.replace(b"\n", ending)


@functools.cache
def whole_translation(case: str) -> bytes:
    """The Anthropic stream for the case's upstream bytes fed in one piece (the reference)."""
    out = translate_stream(case, [upstream_bytes(case)])
    assert_well_formed(parse_sse(out))
    return out


def test_golden_upstream_streams_use_lf_and_no_raw_cr() -> None:
    # The line-ending variants below rewrite LF; a raw CR in a golden file would be ambiguous.
    for case in STREAM_CASES:
        assert b"\r" not in upstream_bytes(case), case


def test_some_golden_stream_has_multibyte_utf8() -> None:
    # Keeps the "cut inside a character" half of the property meaningful.
    multibyte = [case for case in STREAM_CASES if any(b >= 0x80 for b in upstream_bytes(case))]
    assert multibyte, "no golden upstream.sse holds a non-ASCII character any more: add one"


@pytest.mark.parametrize("case", STREAM_CASES)
@PER_CASE
@given(data=st.data())
def test_translated_stream_does_not_depend_on_read_boundaries(
    case: str, data: st.DataObject
) -> None:
    ending = data.draw(st.sampled_from(LINE_ENDINGS), label="line ending")
    raw = with_line_ending(upstream_bytes(case), ending)
    pieces = data.draw(cut_into_pieces(raw), label="pieces")
    out = translate_stream(case, pieces)
    assert_well_formed(parse_sse(out))
    # A passthrough wire relays the upstream's bytes as they came, line endings included.
    assert out == (raw if wire_of(case).passthrough else whole_translation(case))


# --- SSEDecoder alone ------------------------------------------------------------------------

# Field values: any text without CR or LF (those end a line); no lone surrogates (not UTF-8).
_CHAR = st.characters(exclude_categories=["Cs"], exclude_characters="\r\n")
_VALUE = st.text(_CHAR, max_size=12)
_NAME = st.text(_CHAR, min_size=1, max_size=8)


@st.composite
def sse_stream(draw: st.DrawFn) -> tuple[list[SSEEvent], bytes]:
    """Random events and one valid encoding of them; returns (events, bytes)."""
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    events: list[SSEEvent] = []
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(": keep-alive comment")
    for _ in range(draw(st.integers(0, 5))):
        name = draw(st.none() | _NAME)
        data_lines = draw(st.lists(_VALUE, min_size=1, max_size=3))
        field_lines = [f"data: {value}" for value in data_lines]
        if name is not None:
            field_lines.insert(draw(st.integers(0, len(field_lines))), f"event: {name}")
        if draw(st.booleans()):
            field_lines.insert(draw(st.integers(0, len(field_lines))), ": comment")
        if draw(st.booleans()):
            field_lines.insert(draw(st.integers(0, len(field_lines))), "id: 7")
        lines += [*field_lines, ""]
        events.append(SSEEvent(name, "\n".join(data_lines)))
    text = "".join(line + ending for line in lines)
    # The decoder also accepts a stream that stops without its final blank line, or even
    # without the last line end (documented leniency): drop one or both at random.
    if events:
        trim = draw(st.sampled_from(["", ending, ending + ending]))
        if trim and text.endswith(ending + ending):
            text = text.removesuffix(trim)
    bom = "\ufeff" if draw(st.booleans()) else ""
    return events, (bom + text).encode()


@DECODER
@given(stream=sse_stream(), data=st.data())
def test_sse_decoder_is_independent_of_read_boundaries(
    stream: tuple[list[SSEEvent], bytes], data: st.DataObject
) -> None:
    events, raw = stream
    pieces = data.draw(cut_into_pieces(raw), label="pieces")
    decoder = SSEDecoder()
    decoded = [event for piece in pieces for event in decoder.feed(piece)] + decoder.close()
    assert decoded == events
