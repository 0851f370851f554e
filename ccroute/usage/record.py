"""`RequestRecord`: the facts of one finished `POST /v1/messages`, as the daemon reports them.

Owns: the record's fields and their units. It is built by the server once a request has ended
(response sent, stream closed, or failed) and handed to every observer: the usage store
(`ccroute usage`, `ccroute logs`) and the Prometheus metrics. Plain data only: no I/O, no clock.

Must not import: aiohttp, typer, rich, keyring, or any `ccroute.server` module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request's outcome.

    Attributes:
        time: when the request arrived, unix seconds (UTC).
        request_id: the `msg_…` id given to the answer (also its `request-id` header).
        session_id: Claude Code's session (`X-Claude-Code-Session-Id` header), if sent.
        requested_model: the `model` of the Anthropic request ("claude-sonnet-4-5-…").
        route: the route that served it ("default", "background", "think", a rule name, …).
        reason: why that route was chosen, in words (`routing.Decision.reason`).
        provider: the provider that answered or was tried last; None if none was tried.
        upstream_model: that provider's model name; None if none was tried.
        stream: whether the client asked for SSE.
        status: the HTTP status Claude Code got (a stream that failed after it began is 200).
        outcome: the request log's outcome text ("200", "429 rate_limit_error",
            "200 then error overloaded_error", …).
        error_type: the Anthropic error type Claude Code saw (HTTP error body or SSE `error`
            event: "overloaded_error", "rate_limit_error", …); None on success.
        attempts: upstream calls made (retries and fallbacks included); 0 if none.
        latency_ms: from arrival to the last byte sent, milliseconds.
        ttft_ms: from arrival to the first content sent to the client (the first
            `content_block_delta` of a stream; the whole body when not streaming),
            milliseconds; None if no content was sent.
        input_tokens, output_tokens: the final usage reported to the client (protocol.md §2.4:
            the last `message_delta`'s usage, else `message_start`'s); None if unknown.
        cache_read_tokens, cache_creation_tokens: `cache_read_input_tokens` and
            `cache_creation_input_tokens` of that usage; None if not reported.
        cost_usd: USD, from the answering provider's catalogue prices for `upstream_model`
            (per-million input/output/cache prices); None when that model has no known price.
        request_body, response_body: the bytes received and sent, only when `log.bodies` is
            true (the response of a stream is its SSE text); None otherwise.
    """

    time: float
    request_id: str
    session_id: str | None
    requested_model: str
    route: str
    reason: str
    provider: str | None
    upstream_model: str | None
    stream: bool
    status: int
    outcome: str
    error_type: str | None = None
    attempts: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cost_usd: float | None = None
    request_body: bytes | None = None
    response_body: bytes | None = None
