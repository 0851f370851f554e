"""The server's middlewares: request guards and the one place errors become Anthropic JSON.

Owns: refusing browsers (`Origin`) and DNS rebinding (foreign `Host`), the local-token check,
and converting every failure that happens before a response starts into
`{"type":"error","error":{"type","message"}}` with the status of protocol.md §2.5.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ccroute.errors import CcrouteError, MissingKeyError, TranslationError, UpstreamError
from ccroute.server.state import CONFIG, TOKEN
from ccroute.translate.messages import error_body, error_type_for_status

log = logging.getLogger("ccroute.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def error_response(
    status: int, error_type: str, message: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    """An Anthropic-shaped error response: `{"type":"error","error":{"type","message"}}`."""
    return web.Response(
        status=status,
        body=json.dumps(error_body(error_type, message)).encode(),
        content_type="application/json",
        headers=headers,
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Convert every failure before a response starts into Anthropic error JSON, once."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else ""
        message = message or f"{exc.reason}: {request.method} {request.path}"
        return error_response(exc.status, error_type_for_status(exc.status), message)
    except TranslationError as exc:
        return error_response(400, "invalid_request_error", exc.message)
    except MissingKeyError as exc:
        # 403, not 401: Claude Code treats a 401 as its own expired credential and retries it
        # for minutes; the local token was fine, the provider's key is what is missing.
        return error_response(403, "permission_error", exc.message)
    except UpstreamError as exc:
        headers = {"retry-after": exc.retry_after} if exc.retry_after else None
        return error_response(exc.status, exc.error_type, exc.message, headers=headers)
    except CcrouteError as exc:
        return error_response(500, "api_error", exc.message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "api_error", "Internal error in ccroute; see the daemon log.")


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@web.middleware
async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse browsers and DNS rebinding, then require the local token (not on `/health`)."""
    if "Origin" in request.headers:
        return error_response(
            403, "permission_error", "Requests from web pages are refused by ccroute."
        )
    allowed = _LOCAL_HOSTS | {request.app[CONFIG].server.host}
    if _host_name(request.host) not in allowed:
        return error_response(
            403, "permission_error", f"Host {request.host!r} is not allowed; use 127.0.0.1."
        )
    if request.path != "/health" and not _token_ok(request):
        return error_response(
            401,
            "authentication_error",
            "Missing or invalid ccroute token. Start Claude Code with 'ccroute code', which "
            "passes the daemon's local token as ANTHROPIC_AUTH_TOKEN.",
        )
    return await handler(request)


def _token_ok(request: web.Request) -> bool:
    expected = request.app[TOKEN].encode()
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    presented = value.strip() if scheme.lower() == "bearer" else ""
    presented = presented or request.headers.get("x-api-key", "")
    return bool(presented) and hmac.compare_digest(presented.encode(), expected)
