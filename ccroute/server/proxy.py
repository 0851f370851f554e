"""`POST /v1/messages`: route, translate, call the provider, translate back.

Owns: one request's trip — validation, the routing decision, and one upstream attempt per
target the attempt loop (`attempts.run_attempts`) asks for: the key, the concurrency slot, the
per-provider timeouts, the upstream call through the shared session, and mapping upstream
failures to Anthropic errors (before the first byte; afterwards the relay ends the stream with
an `error` event).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from ccroute.config import ProviderConfig
from ccroute.errors import TranslationError, UpstreamError
from ccroute.jsoncodec import dumps, loads
from ccroute.logcontext import REQUEST_ID
from ccroute.routing import RouteTarget, decide
from ccroute.server.attempts import RESILIENCE, candidates, run_attempts
from ccroute.server.exchange import Exchange
from ccroute.server.facts import FACTS, RequestFacts
from ccroute.server.profiles import request_profile
from ccroute.server.relay import relay_stream
from ccroute.server.state import CONFIG, KEYS, SESSION
from ccroute.server.upstream_proxy import ENV_PROXIES
from ccroute.translate.messages import MessagesRequest, validate_request
from ccroute.translate.tokens import estimate_input_tokens
from ccroute.wires import target_for, wire_for

log = logging.getLogger("ccroute.server")

_JSON = "application/json"

#: The request header naming Claude Code's session (sticky load balancing).
SESSION_HEADER = "X-Claude-Code-Session-Id"


async def read_json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return loads(raw)
    except ValueError as exc:
        raise TranslationError(f"Request body is not valid JSON: {exc}") from None


async def handle_messages(request: web.Request) -> web.StreamResponse:
    """`POST /v1/messages`: route, translate, call the provider(s), translate back.

    The route's targets are tried in the attempt loop's order (balancing, retries, fallbacks,
    breakers: `attempts.py`). Failures before the response starts become Anthropic error JSON
    (via the middleware); failures after a stream started become one SSE `error` event
    (protocol.md §2.5) and are never retried.

    The message id is assigned first and set as `REQUEST_ID` for every log line of the
    request; what the request did is noted in its `RequestFacts` (`request[FACTS]`) for the
    usage record.
    """
    message_id = f"msg_{uuid.uuid4().hex[:24]}"
    context = REQUEST_ID.set(message_id)
    facts = request.get(FACTS)
    if facts is None:
        facts = request[FACTS] = RequestFacts.now()
    facts.request_id = message_id
    try:
        return await _handle(request, message_id, facts)
    finally:
        REQUEST_ID.reset(context)


async def _handle(request: web.Request, message_id: str, facts: RequestFacts) -> web.StreamResponse:
    started = time.monotonic()
    req = validate_request(await read_json(request))
    input_estimate = estimate_input_tokens(req)
    session_id = request.headers.get(SESSION_HEADER)
    config, profile = request_profile(request, request.app[CONFIG])
    decision = decide(
        req, config, input_tokens=input_estimate, session_id=session_id, profile=profile
    )
    res = request.app[RESILIENCE]
    stream = bool(req.get("stream"))
    facts.session_id, facts.requested_model, facts.stream = session_id, req["model"], stream
    facts.route, facts.reason = decision.route, decision.reason
    trail: list[str] = []
    last: list[Exchange] = facts.exchanges
    tried: list[ProviderConfig] = []

    # A custom router may hand back a changed request; only then is it estimated again.
    routed_estimate = (
        input_estimate if decision.request is req else estimate_input_tokens(decision.request)
    )

    async def attempt(target: RouteTarget) -> web.StreamResponse:
        tried.append(target.provider)
        facts.provider, facts.upstream_model = target.provider.name, target.model
        return await _attempt(
            request,
            decision.request,
            target,
            stream=stream,
            message_id=message_id,
            exchanges=last,
            input_estimate=routed_estimate,
        )

    order = candidates(decision, res, session_id=session_id)
    try:
        return await run_attempts(order, res, attempt, log_id=message_id, trail=trail)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _unreachable(tried[-1] if tried else order[0].provider, exc) from None
    finally:
        # One line per request: why this route and every try, then the summary whose shape
        # tools parse (route = the target that answered or was tried last, reason = the
        # route's name).
        final = last[-1].target if last else None
        log.info(
            "routed by %s (%s); attempts: %s | %s model=%s route=%s reason=%s stream=%s "
            "status=%s %.0fms",
            decision.route,
            decision.reason,
            "; ".join(trail) or "none",
            message_id,
            req["model"],
            f"{final.provider}/{final.model}" if final else "-",
            decision.route.replace(" ", "_"),
            stream,
            last[-1].outcome if last else "error",
            (time.monotonic() - started) * 1000,
        )


async def _attempt(
    request: web.Request,
    req: MessagesRequest,
    route_target: RouteTarget,
    *,
    stream: bool,
    message_id: str,
    exchanges: list[Exchange],
    input_estimate: int,
) -> web.StreamResponse:
    """One upstream call to `route_target`. Raises (`UpstreamError`, `aiohttp.ClientError`,
    `TimeoutError`, `MissingKeyError`, ...) only while nothing was sent to the client."""
    provider = route_target.provider
    wire = wire_for(provider.wire)
    key = await request.app[KEYS].get(provider)
    target = target_for(provider, route_target.model)
    exchange = Exchange(
        wire=wire,
        req=req,
        target=target,
        tool_names=wire.translator.tool_names_for(req),
        message_id=message_id,
        input_estimate=input_estimate,
    )
    exchanges.append(exchange)
    upstream_body = wire.translator.build_request(req, target=target, stream=stream)
    headers = {
        **provider.headers,
        **wire.translator.forward_headers(request.headers, target=target),
        **wire.auth_headers(provider, key),
        "Content-Type": _JSON,
        "Accept": "text/event-stream" if stream else _JSON,
    }
    url = wire.url(provider.base_url, route_target.model, stream)
    proxy, proxy_auth = request.app[ENV_PROXIES].for_url(url)
    async with request.app[RESILIENCE].limits.slot(provider):
        post = request.app[SESSION].post(
            url,
            data=dumps(upstream_body),
            headers=headers,
            timeout=_timeouts(provider),
            proxy=proxy,
            proxy_auth=proxy_auth,
        )
        # First byte: the upstream's response headers must arrive within first_byte_timeout.
        answered = asyncio.wait_for(post, provider.first_byte_timeout)
        try:
            if stream:
                return await relay_stream(request, answered, exchange)
            async with await answered as upstream:
                if upstream.status >= 400:
                    raise exchange.upstream_error(
                        upstream.status, await upstream.read(), upstream.headers
                    )
                response = await _relay_json(upstream, exchange, request[FACTS])
                exchange.outcome = str(response.status)
                return response
        except (aiohttp.ClientError, TimeoutError) as exc:
            exchange.outcome = f"529 ({type(exc).__name__})"
            raise
        except UpstreamError as err:
            exchange.outcome = f"{err.status} {err.error_type}"
            raise


def _timeouts(provider: ProviderConfig) -> aiohttp.ClientTimeout:
    """The provider's connect / idle (between reads) / total timeouts for one request."""
    return aiohttp.ClientTimeout(
        total=provider.total_timeout or None,
        sock_connect=provider.connect_timeout,
        sock_read=provider.idle_timeout,
    )


def _unreachable(provider: ProviderConfig, exc: BaseException) -> UpstreamError:
    # Transient by nature: 529 makes Claude Code retry with its own backoff (claude-code.md).
    reason = type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
    return UpstreamError(
        529,
        "overloaded_error",
        f"Could not reach provider '{provider.name}' at {provider.base_url}: {reason}",
    )


async def _relay_json(
    upstream: aiohttp.ClientResponse, exchange: Exchange, facts: RequestFacts
) -> web.Response:
    raw = await upstream.read()
    try:
        body = loads(raw)
    except ValueError:
        raise UpstreamError(
            502, "api_error", "The provider returned a body that is not JSON."
        ) from None
    headers = {"request-id": exchange.message_id}
    if exchange.wire.passthrough and isinstance(body, dict) and body.get("type") == "message":
        # Already an Anthropic Message: returned as the provider sent it (no re-encoding).
        facts.add_usage(body.get("usage"))
        return web.Response(body=raw, content_type=_JSON, headers=headers)
    message = exchange.parse_response(body)
    facts.add_usage(message.get("usage"))
    return web.Response(
        body=dumps(message),
        content_type=_JSON,
        headers=headers,
    )
