"""Google API error bodies → Anthropic status, `error.type` and message.

Owns: `parse_error` for the gemini wire (protocol.md §5.8, §2.5, §7 item 20). The Google shape
`{"error": {"code", "message", "status", "details"}}` (or a one-element list of it) is read here
for what only Google says — a quota's wait as `google.rpc.RetryInfo.retryDelay` — and the rest
is mapped by `openai_errors.parse_error`, which
already rewords Gemini's "input token count (N) exceeds the maximum number of tokens allowed (M)"
into Anthropic's `prompt is too long: N tokens > M maximum`, maps 429 → `rate_limit_error`, 503 →
529 `overloaded_error`, and redacts anything shaped like a key. Exported through
`ccroute.translate.gemini`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import json
import math
import re

from ccroute.errors import UpstreamError
from ccroute.translate import openai_errors

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"

_SECONDS = re.compile(r"(\d+(?:\.\d+)?)s")


def parse_error(status: int, body: bytes, *, input_tokens: int | None = None) -> UpstreamError:
    """Map a Gemini HTTP error (status + raw body) to the error ccroute returns to Claude Code.

    - `google.rpc.RetryInfo.retryDelay` ("37s", "1.5s") → `retry_after` in whole seconds,
      rounded up, so Claude Code waits as long as Google asked (§2.5);
    - everything else as `openai_errors.parse_error` maps it (see the module docstring), with
      `input_tokens` used for a context-length message that names no prompt size. An invalid
      key stays Gemini's 400 (`API_KEY_INVALID`) rather than becoming a 401: Claude Code
      2.1.197 retries a 401 with backoff for minutes, but stops at once on a 400 and shows
      Google's "API key not valid" (tests/e2e/test_e2e_gemini.py).
    """
    payload = _decode(body)
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return openai_errors.parse_error(status, body, input_tokens=input_tokens)
    normalized = json.dumps({"error": error}).encode()
    err = openai_errors.parse_error(status, normalized, input_tokens=input_tokens)
    err.retry_after = _retry_after(error)
    return err


def _decode(body: bytes) -> object:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if isinstance(payload, list) and payload:
        return payload[0]  # streamGenerateContent without alt=sse answers errors as a list
    return payload


def _details(error: dict[str, object]) -> list[dict[str, object]]:
    details = error.get("details")
    return [item for item in details if isinstance(item, dict)] if isinstance(details, list) else []


def _retry_after(error: dict[str, object]) -> str | None:
    for item in _details(error):
        delay = item.get("retryDelay")
        if item.get("@type") == RETRY_INFO and isinstance(delay, str):
            match = _SECONDS.fullmatch(delay.strip())
            if match:
                return str(max(1, math.ceil(float(match.group(1)))))
    return None
