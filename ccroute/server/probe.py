"""Reachability probe: does each provider answer its model-list endpoint?

Owns: `ProbeTarget` (one provider's model-list URL and request headers), `ProbeResult` (what
came back, summed up as "ok (12 models)", "401 bad key", "unreachable", ...), and `probe_all` /
`check`, which GET every target at once over one `ClientSession` with a short total timeout and
no redirects (a redirect is reported, not followed: Claude Code treats one as a failure too,
protocol.md §6.7). Used by `ccroute providers list`; the CLI builds the targets (URL from
`ccroute.wires`, headers from the provider and its key) and prints the results.

Must not: print, read config or keys itself, or raise for a provider's failure (every failure
is a result). A key never appears in a result: any header value found in an error text is
masked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aiohttp

DEFAULT_TIMEOUT = 3.0
"""Seconds a provider gets to answer, connection included (Claude Code's discovery uses 3 s)."""

_MIN_SECRET = 8  # header values at least this long are masked if an error text repeats them


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """One provider to probe.

    Attributes:
        name: the provider's config name (results carry it back).
        url: the model-list URL, e.g. "https://openrouter.ai/api/v1/models".
        headers: request headers, the key's header included when there is a key.
        key_sent: whether `headers` carry a key (tells "401 bad key" from "401 no key").
    """

    name: str
    url: str
    headers: Mapping[str, str]
    key_sent: bool


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one provider's model-list endpoint did.

    Attributes:
        name: the provider's config name.
        ok: it answered 2xx.
        reachable: it answered at all (any HTTP status).
        status: the HTTP status; None when there was no HTTP answer.
        models: how many models the answer lists (`data` or Gemini's `models`); None when the
            body is not such a list.
        more: the list is paged and has more (`has_more` / `nextPageToken`).
        summary: a few words for a table: "ok (12 models)", "400 bad request", "401 bad key",
            "401 no key", "403 forbidden", "404 no model list", "429 rate limited",
            "503 server error", "302 redirect", "unreachable", "timeout", "TLS error",
            "bad URL", "error".
        detail: the reason in more words ("" when there is nothing to add), secrets masked.
    """

    name: str
    ok: bool
    reachable: bool
    status: int | None
    models: int | None
    more: bool
    summary: str
    detail: str


def check(targets: Sequence[ProbeTarget], *, timeout: float = DEFAULT_TIMEOUT) -> list[ProbeResult]:
    """`probe_all` from synchronous code (the CLI): runs its own event loop."""
    return asyncio.run(probe_all(targets, timeout=timeout))


async def probe_all(
    targets: Sequence[ProbeTarget], *, timeout: float = DEFAULT_TIMEOUT
) -> list[ProbeResult]:
    """GET every target's URL concurrently; results in the order of `targets`.

    `timeout` (seconds) bounds each request from connecting to the last body byte. Never raises
    for a provider's failure.
    """
    if not targets:
        return []
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout, trust_env=True) as session:
        return list(await asyncio.gather(*(_probe(session, target) for target in targets)))


async def _probe(session: aiohttp.ClientSession, target: ProbeTarget) -> ProbeResult:
    try:
        async with session.get(
            target.url, headers=dict(target.headers), allow_redirects=False
        ) as response:
            body = await response.read()
            return _answered(target, response.status, body)
    except (TimeoutError, aiohttp.ServerTimeoutError):
        return _failed(target, "timeout", "no answer in time")
    except aiohttp.ClientSSLError as exc:
        return _failed(target, "TLS error", _mask(target, str(exc)))
    except aiohttp.ClientConnectorError as exc:
        reason = exc.os_error.strerror or str(exc.os_error) if exc.os_error else str(exc)
        return _failed(target, "unreachable", _mask(target, reason))
    except (aiohttp.InvalidURL, ValueError) as exc:
        return _failed(target, "bad URL", _mask(target, str(exc)))
    except aiohttp.ClientError as exc:
        return _failed(target, "error", _mask(target, f"{type(exc).__name__}: {exc}"))


def _answered(target: ProbeTarget, status: int, body: bytes) -> ProbeResult:
    """A result for an HTTP answer."""
    parsed = _json(body)
    if 200 <= status < 300:
        models, more = _count(parsed)
        if models is None:
            summary = "ok"
        else:
            summary = f"ok ({models}{'+' if more else ''} model{'' if models == 1 else 's'})"
        return ProbeResult(target.name, True, True, status, models, more, summary, "")
    match status:
        case 400:
            summary = "400 bad request"  # Gemini's answer to an invalid key (its detail says so)
        case 401:
            summary = "401 bad key" if target.key_sent else "401 no key"
        case 403:
            summary = "403 forbidden" if target.key_sent else "403 no key"
        case 404:
            summary = "404 no model list"
        case 429:
            summary = "429 rate limited"
        case _ if 300 <= status < 400:
            summary = f"{status} redirect"
        case _ if status >= 500:
            summary = f"{status} server error"
        case _:
            summary = f"HTTP {status}"
    detail = _mask(target, _error_text(parsed))
    return ProbeResult(target.name, False, True, status, None, False, summary, detail)


def _failed(target: ProbeTarget, summary: str, detail: str) -> ProbeResult:
    return ProbeResult(target.name, False, False, None, None, False, summary, detail)


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _count(body: object) -> tuple[int | None, bool]:
    """Models listed by an OpenAI/Anthropic (`data`) or Gemini (`models`) list, and whether the
    list has another page."""
    if not isinstance(body, dict):
        return None, False
    items = body.get("data", body.get("models"))
    if not isinstance(items, list):
        return None, False
    return len(items), bool(body.get("has_more")) or bool(body.get("nextPageToken"))


def _error_text(body: object) -> str:
    """The message of an OpenAI/Anthropic/Google-style error body, cut to one short line."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error", body)
    message = error.get("message") if isinstance(error, dict) else error
    text = " ".join(str(message).split()) if isinstance(message, str) else ""
    return text if len(text) <= 160 else text[:157] + "..."


def _mask(target: ProbeTarget, text: str) -> str:
    """`text` with every long header value (a key, a token) replaced by its last 4 chars."""
    for value in target.headers.values():
        secret = value.removeprefix("Bearer ").strip()
        if len(secret) >= _MIN_SECRET and secret in text:
            text = text.replace(secret, "…" + secret[-4:])
    return text
