"""`POST /v1/messages`: route, translate, call the provider, translate back.

Owns: one request's trip — validation, the routing decision, the key, the upstream call through
the shared session, and mapping upstream failures to Anthropic errors (before the first byte;
afterwards the relay ends the stream with an `error` event).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from ccroute.config import ProviderConfig
from ccroute.errors import TranslationError, UpstreamError
from ccroute.routing import resolve
from ccroute.server.exchange import Exchange
from ccroute.server.relay import relay_stream
from ccroute.server.state import CONFIG, KEYS, SESSION
from ccroute.translate.messages import validate_request
from ccroute.translate.tokens import estimate_input_tokens
from ccroute.wires import target_for, wire_for

log = logging.getLogger("ccroute.server")

_JSON = "application/json"


async def read_json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise TranslationError(f"Request body is not valid JSON: {exc}") from None


async def handle_messages(request: web.Request) -> web.StreamResponse:
    """`POST /v1/messages`: route, translate, call the provider, translate back.

    Failures before the response starts become Anthropic error JSON (via the middleware);
    failures after a stream started become one SSE `error` event (protocol.md §2.5).
    """
    started = time.monotonic()
    req = validate_request(await read_json(request))
    config = request.app[CONFIG]
    route = resolve(req["model"], config)
    wire = wire_for(route.provider.wire)
    key = await request.app[KEYS].get(route.provider)
    stream = bool(req.get("stream"))
    target = target_for(route.provider, route.model)
    exchange = Exchange(
        wire=wire,
        req=req,
        target=target,
        tool_names=wire.translator.tool_names_for(req),
        message_id=f"msg_{uuid.uuid4().hex[:24]}",
        input_estimate=estimate_input_tokens(req),
    )
    upstream_body = wire.translator.build_request(req, target=target, stream=stream)
    headers = {
        **route.provider.headers,
        **wire.translator.forward_headers(request.headers, target=target),
        **wire.auth_headers(route.provider, key),
        "Content-Type": _JSON,
        "Accept": "text/event-stream" if stream else _JSON,
    }
    url = wire.url(route.provider.base_url, route.model, stream)
    try:
        post = request.app[SESSION].post(
            url, data=json.dumps(upstream_body, separators=(",", ":")).encode(), headers=headers
        )
        if stream:
            return await relay_stream(request, post, exchange)
        async with post as upstream:
            if upstream.status >= 400:
                raise exchange.upstream_error(
                    upstream.status, await upstream.read(), upstream.headers
                )
            response = await _relay_json(upstream, exchange)
            exchange.outcome = str(response.status)
            return response
    except (aiohttp.ClientError, TimeoutError) as exc:
        err = _unreachable(route.provider, exc)
        exchange.outcome = f"{err.status} ({type(exc).__name__})"
        raise err from None
    except UpstreamError as err:
        exchange.outcome = f"{err.status} {err.error_type}"
        raise
    finally:
        log.info(
            "%s model=%s route=%s/%s reason=%s stream=%s status=%s %.0fms",
            exchange.message_id,
            req["model"],
            route.provider.name,
            route.model,
            route.reason,
            stream,
            exchange.outcome,
            (time.monotonic() - started) * 1000,
        )


def _unreachable(provider: ProviderConfig, exc: BaseException) -> UpstreamError:
    # Transient by nature: 529 makes Claude Code retry with its own backoff (claude-code.md).
    reason = type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
    return UpstreamError(
        529,
        "overloaded_error",
        f"Could not reach provider '{provider.name}' at {provider.base_url}: {reason}",
    )


async def _relay_json(upstream: aiohttp.ClientResponse, exchange: Exchange) -> web.Response:
    raw = await upstream.read()
    try:
        body = json.loads(raw)
    except ValueError:
        raise UpstreamError(
            502, "api_error", "The provider returned a body that is not JSON."
        ) from None
    headers = {"request-id": exchange.message_id}
    if exchange.wire.passthrough and isinstance(body, dict) and body.get("type") == "message":
        # Already an Anthropic Message: returned as the provider sent it (no re-encoding).
        return web.Response(body=raw, content_type=_JSON, headers=headers)
    message = exchange.parse_response(body)
    return web.Response(
        body=json.dumps(message, separators=(",", ":")).encode(),
        content_type=_JSON,
        headers=headers,
    )
