"""Golden cases for every wire: tests/golden/<wire>/<case>/, a case named "<wire>/<case>".

The wire is the directory under tests/golden (a name in `ccroute.wires.WIRES`); its translator
module is the one the server uses. For a passthrough wire (the upstream already speaks
Anthropic SSE) the stream is relayed as it is, so `expected.sse` equals `upstream.sse`.

Each case directory holds:
- `request.in.json`: the Anthropic request (or `{"$fixture": "claude_code/<name>.json"}`, the
  body of a captured Claude Code request under tests/fixtures/);
- `request.out.json`: the upstream body we must send;
- `upstream.sse` + `expected.sse` (optional): a wire-accurate upstream stream and the Anthropic
  SSE bytes we must emit for it;
- `response.in.json` + `response.out.json` (optional): the same for `stream: false`;
- `case.json` (optional): `{"upstream_model": str, "max_tokens_limit": int, "provider": {...}}`
  where `provider` holds `ProviderConfig` fields (reasoning, cache_control, provider_routing,
  ...) for the provider named "golden" on the case's wire; the `Target` comes from the server's own
  `wires.target_for`, so cases test what the daemon sends.

`UPDATE_GOLDEN=1 pytest tests/test_translate_golden.py` rewrites the `*.out.json` and
`expected.sse` files; review the diff before committing.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from ccroute.config import ProviderConfig
from ccroute.errors import UpstreamError
from ccroute.translate import messages, sse, tokens
from ccroute.translate.target import Target
from ccroute.wires import Wire, target_for, wire_for
from tests.streamcheck import assert_well_formed, parse_sse

TESTS = Path(__file__).parent
GOLDEN = TESTS / "golden"
FIXTURES = TESTS / "fixtures"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
MESSAGE_ID = "msg_01GoldenCase0000000000"

CASES = sorted(
    f"{wire.name}/{case.name}"
    for wire in GOLDEN.iterdir()
    if wire.is_dir()
    for case in wire.iterdir()
    if case.is_dir()
)
STREAM_CASES = [name for name in CASES if (GOLDEN / name / "upstream.sse").exists()]
RESPONSE_CASES = [name for name in CASES if (GOLDEN / name / "response.in.json").exists()]


def load_request(case: str) -> dict[str, Any]:
    raw = json.loads((GOLDEN / case / "request.in.json").read_text())
    if "$fixture" in raw:
        captured = json.loads((FIXTURES / raw["$fixture"]).read_text())
        return dict(captured["body"])
    return dict(raw)


def case_options(case: str) -> dict[str, Any]:
    path = GOLDEN / case / "case.json"
    return json.loads(path.read_text()) if path.exists() else {}


def wire_of(case: str) -> Wire:
    """The wire a case belongs to (its directory under tests/golden)."""
    return wire_for(case.split("/", 1)[0])


def case_provider(case: str) -> ProviderConfig:
    """The provider a case's request goes to (also used by the SDK test's real server)."""
    options = case_options(case)
    fields = dict(options.get("provider", {}))
    if "provider_routing" in fields:
        fields["provider_routing"] = MappingProxyType(fields["provider_routing"])
    if "fallback_models" in fields:
        fields["fallback_models"] = tuple(fields["fallback_models"])
    return ProviderConfig(
        name="golden",
        wire=wire_of(case).name,
        base_url=fields.pop("base_url", "http://golden.invalid/v1"),
        max_tokens=options.get("max_tokens_limit"),
        **fields,
    )


def case_target(case: str) -> Target:
    return target_for(case_provider(case), case_options(case).get("upstream_model", "vendor/model"))


def new_translator(case: str) -> Any:
    req = messages.validate_request(load_request(case))
    translator = wire_of(case).translator
    return translator.StreamTranslator(
        message_id=MESSAGE_ID,
        model=req["model"],
        input_tokens_estimate=tokens.estimate_input_tokens(req),
        target=case_target(case),
        tool_names=translator.tool_names_for(req),
    )


def parse_case_response(case: str) -> dict[str, Any]:
    """The Anthropic answer for the case's non-stream body: a Message, or, when ccroute answers
    with an error (OpenRouter's 200 body holding an `error`), `{"error": {status, type,
    message}}`."""
    req = messages.validate_request(load_request(case))
    body = json.loads((GOLDEN / case / "response.in.json").read_text())
    translator = wire_of(case).translator
    try:
        return dict(
            translator.parse_response(
                body,
                message_id=MESSAGE_ID,
                model=req["model"],
                target=case_target(case),
                tool_names=translator.tool_names_for(req),
                input_tokens_estimate=tokens.estimate_input_tokens(req),
            )
        )
    except UpstreamError as err:
        return {"error": {"status": err.status, "type": err.error_type, "message": err.message}}


def translate_stream(case: str, pieces: Iterable[bytes]) -> bytes:
    """Run upstream bytes, cut into `pieces`, through decoder + translator + encoder (or, for a
    passthrough wire, through unchanged, as the server relays them)."""
    if wire_of(case).passthrough:
        return b"".join(pieces)
    decoder = sse.SSEDecoder()
    translator = new_translator(case)
    out = bytearray()
    done = False

    def handle(events: list[sse.SSEEvent]) -> None:
        nonlocal done
        for event in events:
            if done:
                return
            if event.data == "[DONE]":
                done = True
                out.extend(b"".join(sse.encode(e) for e in translator.finish()))
                return
            for anthropic_event in translator.feed(json.loads(event.data)):
                out.extend(sse.encode(anthropic_event))

    for piece in pieces:
        handle(decoder.feed(piece))
    handle(decoder.close())
    if not done:
        out.extend(b"".join(sse.encode(e) for e in translator.finish()))
    return bytes(out)


def upstream_bytes(case: str) -> bytes:
    return (GOLDEN / case / "upstream.sse").read_bytes()


def one_byte_pieces(data: bytes) -> Iterator[bytes]:
    return (data[i : i + 1] for i in range(len(data)))


def random_pieces(data: bytes, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    at = 0
    while at < len(data):
        size = rng.randint(1, 64)
        yield data[at : at + size]
        at += size


def check_golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual)
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(), f"{path} differs (UPDATE_GOLDEN=1 rewrites it)"


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("case", CASES)
def test_request_translates_to_the_golden_upstream_body(case: str) -> None:
    req = messages.validate_request(load_request(case))
    translator = wire_of(case).translator
    body = translator.build_request(req, target=case_target(case), stream=bool(req.get("stream")))
    check_golden(GOLDEN / case / "request.out.json", as_json(body))


@pytest.mark.parametrize("case", STREAM_CASES)
def test_upstream_stream_translates_to_the_golden_anthropic_stream(case: str) -> None:
    actual = translate_stream(case, [upstream_bytes(case)])
    check_golden(GOLDEN / case / "expected.sse", actual.decode())


@pytest.mark.parametrize("case", STREAM_CASES)
def test_golden_anthropic_stream_is_well_formed(case: str) -> None:
    assert_well_formed(parse_sse((GOLDEN / case / "expected.sse").read_bytes()))


@pytest.mark.parametrize("case", STREAM_CASES)
def test_stream_output_is_the_same_when_read_one_byte_at_a_time(case: str) -> None:
    data = upstream_bytes(case)
    assert translate_stream(case, one_byte_pieces(data)) == translate_stream(case, [data])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("case", STREAM_CASES)
def test_stream_output_is_the_same_when_read_in_random_pieces(case: str, seed: int) -> None:
    data = upstream_bytes(case)
    assert translate_stream(case, random_pieces(data, seed)) == translate_stream(case, [data])


@pytest.mark.parametrize("case", STREAM_CASES)
def test_stream_output_is_the_same_with_crlf_line_endings(case: str) -> None:
    data = upstream_bytes(case)
    crlf = data.replace(b"\n", b"\r\n")
    # A passthrough wire relays the upstream's bytes as they came, CRs included.
    expected = crlf if wire_of(case).passthrough else translate_stream(case, [data])
    assert translate_stream(case, random_pieces(crlf, 7)) == expected


@pytest.mark.parametrize("case", RESPONSE_CASES)
def test_upstream_response_translates_to_the_golden_message(case: str) -> None:
    message = parse_case_response(case)
    check_golden(GOLDEN / case / "response.out.json", as_json(message))


@pytest.mark.parametrize("case", sorted(set(RESPONSE_CASES) & set(STREAM_CASES)))
def test_non_stream_response_has_the_same_content_as_the_stream(case: str) -> None:
    message = parse_case_response(case)
    events = parse_sse(translate_stream(case, [upstream_bytes(case)]))
    if "error" in message:
        # The same failure, whichever way it was asked for: the stream's one error event.
        assert events[-1]["type"] == "error"
        assert events[-1]["error"]["type"] == message["error"]["type"]
        return
    streamed = accumulate(events)
    assert message["content"] == streamed["content"]
    assert message["stop_reason"] == streamed["stop_reason"]
    assert message["stop_sequence"] == streamed["stop_sequence"]
    assert message["usage"] == streamed["usage"]


def accumulate(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Build the final Message from stream events, the way the Anthropic SDK does (§2.4)."""
    message: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for event in events:
        match event["type"]:
            case "message_start":
                message = json.loads(json.dumps(event["message"]))
            case "content_block_start":
                message["content"].append(dict(event["content_block"]))
            case "content_block_delta":
                block = message["content"][event["index"]]
                delta = event["delta"]
                if delta["type"] == "text_delta":
                    block["text"] += delta["text"]
                elif delta["type"] == "thinking_delta":
                    block["thinking"] += delta["thinking"]
                elif delta["type"] == "signature_delta":
                    block["signature"] = delta["signature"]
                elif delta["type"] == "input_json_delta":
                    index = event["index"]
                    partial[index] = partial.get(index, "") + delta["partial_json"]
            case "content_block_stop":
                block = message["content"][event["index"]]
                if block["type"] == "tool_use":
                    block["input"] = json.loads(partial.get(event["index"]) or "{}")
            case "message_delta":
                message["stop_reason"] = event["delta"]["stop_reason"]
                message["stop_sequence"] = event["delta"]["stop_sequence"]
                message["usage"].update(event["usage"])
    return message
