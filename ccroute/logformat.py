"""The daemon log's line formats and the filter that keeps secrets out of it.

Owns: `JsonFormatter` (`log.format = "json"`: one JSON object per line with the time, level,
logger, message, the request id from `ccroute.logcontext.REQUEST_ID` and any traceback),
`RedactSecrets` (a `logging.Filter` for both formats that masks API keys and tokens in the
formatted message and traceback), and `KnownSecrets`, the process-wide set of exact secret values
(the local token, provider keys the daemon has looked up) that filter masks besides the generic
key shapes. The daemon's handler set-up is `ccroute.daemon_serve`'s.

Must not import: aiohttp, typer, rich, keyring, or any ccroute module but `ccroute.logcontext`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import UTC, datetime
from typing import Any

from ccroute.logcontext import REQUEST_ID

#: What a redacted secret is replaced with.
MASK = "***"

#: Shorter exact values are not masked by value (they would mangle ordinary words); the
#: generic patterns still apply to them.
MIN_SECRET_LEN = 8

# Generic secret shapes. Each keeps its non-secret prefix (group 1) and masks the rest.
_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Authorization: Bearer <token> / Basic <credentials>
    re.compile(r"(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    # header-style and JSON-style key fields: x-api-key: v, "x-goog-api-key": "v", api_key=v
    re.compile(
        r"""(\b(?:x-api-key|x-goog-api-key|api[-_]?key|authorization|access[-_]token)"""
        r"""["']?\s*[:=]\s*["']?)(?!(?:Bearer|Basic)\s)[^\s"',;&}]+""",
        re.IGNORECASE,
    ),
    # query parameters of URLs: ?key=…, &api_key=…, &token=… (Gemini takes its key as ?key=)
    re.compile(r"([?&](?:key|api_key|apikey|access_token|token)=)[^&\s\"'#]+", re.IGNORECASE),
    # OpenAI, Anthropic (sk-ant-…), OpenRouter (sk-or-…), DeepSeek keys
    re.compile(r"(\bsk-)[A-Za-z0-9_-]{8,}"),
    # Google API keys
    re.compile(r"(\bAIza)[0-9A-Za-z_-]{20,}"),
)


class KnownSecrets:
    """Exact secret values to mask wherever they appear; safe to extend from any thread.

    `add` rebuilds one compiled alternation (longest value first), so `redact` costs one regex
    scan whatever the number of values.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str | None) -> None:
        """Remember `value` (ignored when None or shorter than `MIN_SECRET_LEN` characters)."""
        if value is None:
            return
        value = value.strip()
        if len(value) < MIN_SECRET_LEN or value in self._values:
            return
        with self._lock:
            self._values.add(value)
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def redact(self, text: str) -> str:
        """`text` with every remembered value replaced by `MASK`."""
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)


#: The daemon's known secrets: the local token and every provider key it has looked up.
SECRETS = KnownSecrets()


def remember_secret(value: str | None) -> None:
    """Add `value` (a provider key, the local token) to the daemon's `SECRETS`."""
    SECRETS.add(value)


# Every generic shape contains one of these words; a line without any (most request lines) is
# scanned once instead of once per pattern.
_TRIGGERS = re.compile(r"bearer|basic|key|authorization|token|sk-|aiza", re.IGNORECASE)


def redact(text: str, known: KnownSecrets | None = None) -> str:
    """`text` with the `known` values (default: the daemon's `SECRETS`) and every generic key
    shape (`Bearer …`, `sk-…`, `AIza…`, `x-api-key: …`, `?key=…`) masked; other text is left
    exactly as it was."""
    text = (known if known is not None else SECRETS).redact(text)
    if _TRIGGERS.search(text) is None:
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(_keep_prefix, text)
    return text


def _keep_prefix(match: re.Match[str]) -> str:
    return match.group(1) + MASK


class RedactSecrets(logging.Filter):
    """A handler filter that masks secrets in each record's message and traceback.

    The message is formatted once (`record.getMessage()`, so secrets in %-args are caught) and,
    only when something was masked, stored back as the record's `msg` with no `args`. A
    traceback is rendered here and stored, masked, in `record.exc_text`, which formatters
    reuse. Never drops a record. `known` defaults to the daemon's `SECRETS`.
    """

    def __init__(self, known: KnownSecrets | None = None) -> None:
        super().__init__()
        self._known = known if known is not None else SECRETS

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message, self._known)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._known)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._known)
        return True


_TRACEBACKS = logging.Formatter()


class JsonFormatter(logging.Formatter):
    """One JSON object per line.

    Keys: `time` (RFC 3339, UTC, milliseconds: "2026-11-21T17:34:54.123Z"), `level`
    ("INFO", …), `logger` ("ccroute.server"), `message`; `request_id` (the `msg_…` id) when
    the line was logged while serving a request; `exc_info` (the traceback text) and
    `stack_info` when present. Non-ASCII text is kept as is (the file is UTF-8).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _rfc3339(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def _rfc3339(created: float) -> str:
    stamp = datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.removesuffix("+00:00") + "Z"


def formatter(kind: str) -> logging.Formatter:
    """The formatter for `log.format` `kind`: "json" → `JsonFormatter`, else the text line
    "<time> <LEVEL> <logger> <message>"."""
    if kind == "json":
        return JsonFormatter()
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
