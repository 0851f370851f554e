"""`POST /v1/messages/count_tokens`: the provider's own count where it has one, else an estimate.

Owns: the count_tokens trip — route the request like `/v1/messages`, forward it to the wire's
token-counting endpoint (`Wire.count_tokens_url`, the anthropic wire's
`{base}/v1/messages/count_tokens`) with the model rewritten, and fall back to the offline
estimate (`translate.tokens`) whenever that is not possible. Also `CountTokensMemory`, the
per-provider memory of endpoints that are missing or unreachable, so later calls answer at
once. Must not import other `ccroute.server` modules except `state` and `proxy.read_json`.

Counting is optional for a gateway (protocol.md §2.6, §6.2) and an estimate is an acceptable
answer, so nothing but a malformed request body fails here: a missing key, a route to a wire
without the endpoint, 404/405/501 (no such endpoint), any other upstream error, a body without
`input_tokens`, or an unreachable provider all give the estimate.
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

import aiohttp
from aiohttp import web

from ccroute.errors import CcrouteError
from ccroute.routing import resolve
from ccroute.server.proxy import read_json
from ccroute.server.state import CONFIG, KEYS, SESSION
from ccroute.translate.messages import MessagesRequest, validate_request
from ccroute.translate.tokens import estimate_input_tokens
from ccroute.wires import target_for, wire_for

log = logging.getLogger("ccroute.server")

#: Seconds a count_tokens call upstream may take before the estimate is used instead.
COUNT_TOKENS_TIMEOUT = 10.0
#: Seconds an unreachable provider's endpoint is skipped before it is tried again.
UNREACHABLE_RETRY = 300.0
#: Upstream statuses meaning "this provider has no count_tokens endpoint" (remembered).
MISSING_ENDPOINT = frozenset({404, 405, 501})


class CountTokensMemory:
    """Providers whose count_tokens endpoint is skipped, and until when (monotonic seconds).

    A missing endpoint (404/405/501) is skipped for the daemon's life; an unreachable one for
    `UNREACHABLE_RETRY` seconds.
    """

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def skips(self, provider: str) -> bool:
        """Whether `provider`'s endpoint is not to be called now."""
        return time.monotonic() < self._until.get(provider, -math.inf)

    def remember(self, provider: str, *, seconds: float = math.inf) -> None:
        """Skip `provider`'s endpoint for `seconds` (for good by default)."""
        self._until[provider] = time.monotonic() + seconds


COUNT_TOKENS_MEMORY = web.AppKey("count_tokens_memory", CountTokensMemory)


async def handle_count_tokens(request: web.Request) -> web.Response:
    """`POST /v1/messages/count_tokens` → `{"input_tokens": N}` (protocol.md §2.6).

    The body is validated as a count_tokens request (400 naming the field otherwise) and routed
    with `routing.resolve`. When the route's wire has a `count_tokens_url` and the provider is
    not remembered as lacking it, the translator's `build_count_tokens_request` body goes there
    with the provider's headers, the translator's `forward_headers` and the key, and a 200
    answer holding an integer `input_tokens` is returned as the provider sent it. Every other
    outcome answers `{"input_tokens": <offline estimate>}` (see the module docstring).
    """
    req = validate_request(await read_json(request), count_tokens=True)
    counted = await _count_upstream(request, req)
    if counted is not None:
        return web.Response(body=counted, content_type="application/json")
    return web.json_response({"input_tokens": estimate_input_tokens(req)})


async def _count_upstream(request: web.Request, req: MessagesRequest) -> bytes | None:
    """The provider's count_tokens answer (raw JSON bytes), or None to use the estimate."""
    try:
        route = resolve(req["model"], request.app[CONFIG])
        wire = wire_for(route.provider.wire)
        key = await request.app[KEYS].get(route.provider)
    except CcrouteError:
        return None  # the messages request will report the configuration problem
    memory = request.app[COUNT_TOKENS_MEMORY]
    provider = route.provider
    if wire.count_tokens_url is None or memory.skips(provider.name):
        return None
    target = target_for(provider, route.model)
    body = wire.translator.build_count_tokens_request(req, target=target)
    headers = {
        **provider.headers,
        **wire.translator.forward_headers(request.headers, target=target),
        **wire.auth_headers(provider, key),
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    url = wire.count_tokens_url(provider.base_url)
    try:
        async with request.app[SESSION].post(
            url,
            data=json.dumps(body, separators=(",", ":")).encode(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=COUNT_TOKENS_TIMEOUT),
        ) as upstream:
            status, raw = upstream.status, await upstream.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        memory.remember(provider.name, seconds=UNREACHABLE_RETRY)
        log.info("count_tokens %s unreachable (%s); estimating", provider.name, type(exc).__name__)
        return None
    if status in MISSING_ENDPOINT:
        memory.remember(provider.name)
        log.info("count_tokens %s has no endpoint (HTTP %s); estimating", provider.name, status)
        return None
    if status != 200 or not _has_count(raw):
        log.info("count_tokens %s: HTTP %s without a count; estimating", provider.name, status)
        return None
    return raw


def _has_count(raw: bytes) -> bool:
    try:
        answer: Any = json.loads(raw)
    except ValueError:
        return False
    count = answer.get("input_tokens") if isinstance(answer, dict) else None
    return isinstance(count, int) and not isinstance(count, bool) and count >= 0
