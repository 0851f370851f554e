"""Gemini `generateContent` answer → Anthropic Message.

Owns: `parse_response` for the gemini wire (protocol.md §2.1, §5.4-5.8). A non-streaming answer
is one `GenerateContentResponse`, the same object a stream sends in pieces, so it is run through
`gemini_stream.StreamTranslator` as a one-chunk stream and the events are folded into a Message
the way a client accumulates them (§2.4): the two paths cannot disagree about blocks, tool ids,
thought-signature carriers, stop reason or usage. Exported through `ccroute.translate.gemini`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ccroute.errors import UpstreamError
from ccroute.translate.gemini_candidate import candidate, error_of, prompt_block
from ccroute.translate.gemini_errors import parse_error
from ccroute.translate.gemini_stream import StreamTranslator
from ccroute.translate.messages import Message, StreamEvent
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames


def parse_response(
    body: dict[str, Any],
    *,
    message_id: str,
    model: str,
    target: Target | None = None,
    tool_names: ToolNames | None = None,
    input_tokens_estimate: int = 0,
) -> Message:
    """Translate a non-streaming `GenerateContentResponse` into an Anthropic Message.

    Content, stop_reason and usage are exactly what `StreamTranslator` gives for the same
    object as one chunk (see its docstring): thinking blocks for thought parts and as carriers
    of `thoughtSignature`s, text, one tool_use per `functionCall`; `stop_reason` from the
    finishReason; usage from `usageMetadata`, or `input_tokens_estimate` and an output estimate
    when there is none. `stop_sequence` is always null (Gemini does not say which stop string
    matched, §8).

    Raises:
        UpstreamError: the body is a Google error object (mapped by `gemini_errors.parse_error`;
            its `code` is the status, 502 when it has none); the prompt was blocked
            (`promptFeedback.blockReason`, 400 `invalid_request_error`); or the body is not a
            GenerateContentResponse (502 `api_error`).
    """
    if not isinstance(body, dict):
        raise _malformed("the body is not a JSON object")
    error = error_of(body)
    if error is not None:
        code = error.get("code")
        status = code if isinstance(code, int) and 400 <= code <= 599 else 502
        raise parse_error(status, json.dumps({"error": error}).encode())
    blocked = prompt_block(body)
    if blocked is not None:
        raise UpstreamError(400, "invalid_request_error", blocked)
    if candidate(body) is None:
        raise _malformed("it has no candidates")
    translator = StreamTranslator(
        message_id=message_id,
        model=model,
        input_tokens_estimate=input_tokens_estimate,
        target=target,
        tool_names=tool_names,
    )
    return _fold(translator.feed(body) + translator.finish())


def _fold(events: list[StreamEvent]) -> Message:
    """The Message a client builds from a complete, error-free event stream (§2.4)."""
    message: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for typed in events:
        event: dict[str, Any] = dict(typed)
        match event["type"]:
            case "message_start":
                message = copy.deepcopy(event["message"])
            case "content_block_start":
                message["content"].append(dict(event["content_block"]))
            case "content_block_delta":
                index, delta = event["index"], event["delta"]
                block = message["content"][index]
                match delta["type"]:
                    case "text_delta":
                        block["text"] += delta["text"]
                    case "thinking_delta":
                        block["thinking"] += delta["thinking"]
                    case "signature_delta":
                        block["signature"] = delta["signature"]
                    case "input_json_delta":
                        partial[index] = partial.get(index, "") + delta["partial_json"]
            case "content_block_stop":
                block = message["content"][event["index"]]
                if block["type"] == "tool_use":
                    block["input"] = json.loads(partial.get(event["index"]) or "{}")
            case "message_delta":
                message["stop_reason"] = event["delta"]["stop_reason"]
                message["stop_sequence"] = event["delta"]["stop_sequence"]
                message["usage"].update(event["usage"])
    result: Message = message  # type: ignore[assignment]
    return result


def _malformed(why: str) -> UpstreamError:
    message = f"The upstream returned a malformed GenerateContentResponse: {why}."
    return UpstreamError(502, "api_error", message)
