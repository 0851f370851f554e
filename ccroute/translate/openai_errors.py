"""OpenAI / OpenRouter error bodies → Anthropic status, `error.type` and message.

Owns: `parse_error` (an HTTP error answer) and `stream_error` (an error object inside a stream
chunk), per protocol.md §2.5, §3.4, §4.7 and §7 item 20. Exported through
`ccroute.translate.openai`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ccroute.errors import UpstreamError
from ccroute.translate.messages import error_type_for_status

MAX_MESSAGE = 1000
"""Characters of upstream error text kept in a message."""

_SECRET = re.compile(
    r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-*]{6,}|\bAIza[0-9A-Za-z_\-]{20,}|(?i:bearer)\s+[^\s\"',]+"
)
_CONTEXT_HINT = re.compile(
    r"context[ _-]?(?:length|window)|maximum context|prompt is too long|input token count"
    r"|too many (?:input )?tokens|reduce the length of the (?:messages|prompt)",
    re.IGNORECASE,
)
_NUMBER = r"(\d[\d,]*)"
_CONTEXT_MAXIMUM = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"maximum context length is " + _NUMBER,
        r"context (?:length|window|limit)(?: of| is)? " + _NUMBER,
        r"maximum number of tokens allowed \(?" + _NUMBER,
        r"tokens > " + _NUMBER,
    )
]
_CONTEXT_INPUT = [
    re.compile(p, re.IGNORECASE)
    for p in (
        _NUMBER + r" (?:in the messages|of text input|input tokens)",
        r"your request has " + _NUMBER + " input tokens",
    )
]
_CONTEXT_OUTPUT = [
    re.compile(p, re.IGNORECASE)
    for p in (
        _NUMBER + r" in the (?:completion|output)",
        r"max_(?:completion_)?tokens'? is too large: " + _NUMBER,
    )
]
_CONTEXT_REQUESTED = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"(?:resulted in|requested(?: about)?) " + _NUMBER + " tokens",
        r"input token count \(?" + _NUMBER,
        r"prompt is too long: " + _NUMBER,
        r"prompt (?:has|contains|is) " + _NUMBER + " tokens",
    )
]
_OVERLOADED_KINDS = frozenset({"provider_overloaded", "provider_unavailable", "overloaded_error"})
_RATE_LIMIT_KINDS = frozenset({"rate_limit_exceeded", "rate_limit_error"})


@dataclass(frozen=True)
class _Details:
    message: str
    kind: str  # machine-readable cause: code / metadata.error_type / type, "" when none


def parse_error(status: int, body: bytes, *, input_tokens: int | None = None) -> UpstreamError:
    """Map an upstream HTTP error (status + raw body) to the error ccroute returns to Claude Code.

    Accepts `{"error": {"message", "type", "code", "metadata"}}` (OpenAI, OpenRouter §4.7),
    `{"error": "text"}`, `{"message": ...}`, `{"detail": ...}` and non-JSON text. Result:
    - context-length errors → 400 `invalid_request_error`, reworded to Anthropic's wording so
      Claude Code recovers (§2.5, §7 item 20): when the upstream says the prompt alone fits but
      prompt + completion does not (`X in the messages, Y in the completion`, vLLM's `your
      request has X input tokens`), Anthropic's "input length and max_tokens exceed context
      limit: X + Y > M, ..." message (Claude Code lowers max_tokens); otherwise
      `prompt is too long: N tokens > M maximum` (Claude Code compacts), N read from the
      message or else `input_tokens` (ccroute's estimate) raised to M + 1; the upstream
      message unchanged when no maximum M can be read;
    - OpenRouter `provider_overloaded`/`provider_unavailable`, 503 and 529 → 529
      `overloaded_error` (Claude Code retries it); 429 → 429 `rate_limit_error`;
    - any other status → its `error.type` from `error_type_for_status`, with unknown 4xx sent
      as 400 and unknown 5xx as 500.
    The message never contains an API key (anything shaped like one is redacted). `retry_after`
    is left None: it comes from the response headers, which the server reads.
    """
    details = _details(_decode(body), status)
    out_status, error_type, message = _classify(status, details, input_tokens)
    return UpstreamError(out_status, error_type, message)


def stream_error(error: object) -> tuple[str, str]:
    """(`error.type`, message) for an error object found inside a stream chunk (§4.7).

    `error.code` is read as an HTTP status when it is one; `None` (a bare
    `finish_reason: "error"`) gives `api_error`.
    """
    if error is None:
        return "api_error", "The upstream ended the stream with finish_reason 'error'."
    code = error.get("code") if isinstance(error, dict) else None
    status = code if isinstance(code, int) and 400 <= code <= 599 else 500
    _, error_type, message = _classify(status, _details({"error": error}, status))
    return error_type, message


def _decode(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def _details(payload: object, status: int) -> _Details:
    message, kind = "", ""
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, str):
            message = error
        elif isinstance(error, dict):
            message = _text(error.get("message") or error.get("detail"))
            metadata = error.get("metadata")
            if isinstance(metadata, dict):
                kind = _text(metadata.get("error_type"))
                raw = metadata.get("raw")
                if isinstance(raw, str) and raw and raw not in message:
                    provider = _text(metadata.get("provider_name")) or "provider"
                    message = f"{message} ({provider}: {raw})" if message else raw
            for key in ("code", "type"):
                value = error.get(key)
                if not kind and isinstance(value, str):
                    kind = value
    elif isinstance(payload, str) and payload.strip():
        message = f"The upstream answered HTTP {status}: {' '.join(payload.split())}"
    if not message:
        message = f"The upstream answered HTTP {status} without an error message."
    message = _SECRET.sub("[redacted]", message)
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return _Details(message, kind)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"))


def _classify(
    status: int, details: _Details, input_tokens: int | None = None
) -> tuple[int, str, str]:
    if status < 500 and (
        details.kind == "context_length_exceeded" or _CONTEXT_HINT.search(details.message)
    ):
        return 400, "invalid_request_error", _context_message(details.message, input_tokens)
    if details.kind in _OVERLOADED_KINDS:
        return 529, "overloaded_error", details.message
    if details.kind in _RATE_LIMIT_KINDS:
        return 429, "rate_limit_error", details.message
    error_type = error_type_for_status(status)
    if error_type == "overloaded_error":
        return 529, error_type, details.message
    if status in (400, 401, 402, 403, 404, 408, 409, 413, 429, 500, 502, 504):
        return status, error_type, details.message
    return (400 if 400 <= status < 500 else 500), error_type, details.message


def _context_message(message: str, input_tokens: int | None) -> str:
    maximum = _first_number(_CONTEXT_MAXIMUM, message)
    if maximum is None:
        return message
    prompt = _first_number(_CONTEXT_INPUT, message)
    completion = _first_number(_CONTEXT_OUTPUT, message)
    if prompt is not None and completion is not None and prompt <= maximum:
        return (
            f"input length and `max_tokens` exceed context limit: {prompt} + {completion} > "
            f"{maximum}, decrease input length or `max_tokens` and try again"
        )
    requested = prompt if prompt is not None else _first_number(_CONTEXT_REQUESTED, message)
    if requested is None or requested <= maximum:
        if input_tokens is None:
            return message
        requested = max(input_tokens, maximum + 1)
    return f"prompt is too long: {requested} tokens > {maximum} maximum"


def _first_number(patterns: list[re.Pattern[str]], message: str) -> int | None:
    for pattern in patterns:
        match = pattern.search(message)
        if match:
            return int(match.group(1).replace(",", ""))
    return None
