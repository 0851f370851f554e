"""The attempt loop: one request tried on its route's targets, retried and falling back.

Owns: `Resilience` (the daemon's breakers, concurrency limits, balancer and the injectable
sleep/random used for backoff; app key `RESILIENCE`), `candidates` (the order a request tries
targets in) and `run_attempts`: for each candidate whose breaker lets it through, up to
`max_retries` retries after a transient failure (429, 5xx, 529) with exponential backoff plus
jitter, never shorter than the upstream's `retry-after` and never past `retry_budget` seconds of
waiting in all; then the next candidate. It falls back on 429/5xx/529, timeouts, connection
errors, a full queue and context overflow ("prompt is too long", which is not retried on the
same model; context sizes are not known here, so the next candidate is simply tried). Other
errors (400, 403, ...) are final.

The loop only ever sees failures that happened before anything was sent to the client: once
`relay.relay_stream` has opened the SSE response, it ends failures itself with an `error`
event and returns, so a retry or fallback can never follow the first byte. Must not import
other `ccroute.server` modules except `state`, `balance`, `breaker` and `limits`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import aiohttp
from aiohttp import web

from ccroute.errors import UpstreamError
from ccroute.server.balance import Balancer, Target, target_key
from ccroute.server.breaker import Breakers
from ccroute.server.limits import Limits, QueueFull

log = logging.getLogger("ccroute.server")

#: Seconds of the first retry's backoff; each further retry doubles it (plus up to 50% jitter).
BACKOFF_BASE = 0.5

R = TypeVar("R")
T = TypeVar("T", bound=Target)
T_co = TypeVar("T_co", bound=Target, covariant=True)


class Plan(Protocol[T_co]):
    """The parts of `routing.Decision` the loop reads."""

    @property
    def route(self) -> str: ...
    @property
    def strategy(self) -> str: ...
    @property
    def targets(self) -> Sequence[T_co]: ...
    @property
    def fallbacks(self) -> Sequence[T_co]: ...


@dataclass
class Resilience:
    """The daemon-wide resilience state; `sleep` and `rng` are replaceable for tests."""

    breakers: Breakers = field(default_factory=Breakers)
    limits: Limits = field(default_factory=Limits)
    balancer: Balancer = field(default_factory=Balancer)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)


RESILIENCE = web.AppKey("resilience", Resilience)


def candidates(plan: Plan[T], res: Resilience, *, session_id: str | None) -> list[T]:
    """The targets in the order one request tries them: the balancer's choice among
    `plan.targets`, the route's other targets, then `plan.fallbacks` (duplicates dropped)."""
    ordered = res.balancer.order(
        plan.targets,
        plan.strategy,
        available=lambda t: res.breakers.available(t.provider),
        in_flight=lambda t: res.limits.in_flight(t.provider),
        session_id=session_id,
    )
    seen: set[str] = set()
    out: list[T] = []
    for target in [*ordered, *plan.fallbacks]:
        if target_key(target) not in seen:
            seen.add(target_key(target))
            out.append(target)
    return out


def _is_context_overflow(exc: BaseException) -> bool:
    return isinstance(exc, UpstreamError) and exc.message.startswith("prompt is too long")


def _is_retryable(exc: BaseException) -> bool:
    """429/5xx/529 answers: worth the same provider again after a pause."""
    return (
        isinstance(exc, UpstreamError)
        and not isinstance(exc, QueueFull)
        and (exc.status == 429 or exc.status >= 500)
    )


def _falls_back(exc: BaseException) -> bool:
    """Failures another target may not have (issue 5: errors a different model can fix)."""
    return (
        _is_retryable(exc)
        or isinstance(exc, QueueFull | TimeoutError | aiohttp.ClientError)
        or _is_context_overflow(exc)
    )


def _is_provider_fault(exc: BaseException) -> bool:
    """Failures that count toward opening the provider's breaker."""
    if isinstance(exc, UpstreamError):
        return not isinstance(exc, QueueFull) and exc.status >= 500
    return isinstance(exc, TimeoutError | aiohttp.ClientError)


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """`retry-after` as seconds: delta-seconds ("2", "1.5") or an HTTP date; None if absent or
    unreadable. Never negative."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(float(when.timestamp()) - (time.time() if now is None else now), 0.0)


def backoff(retry: int, rng: random.Random) -> float:
    """Seconds before retry number `retry` (0-based): BACKOFF_BASE * 2**retry, plus up to 50%."""
    base: float = BACKOFF_BASE * (1 << retry)
    return base + rng.uniform(0, base / 2)


def describe(exc: BaseException) -> str:
    """A failure as the request log shows it: "503 overloaded_error", "TimeoutError", ..."""
    if isinstance(exc, UpstreamError):
        return f"{exc.status} {exc.error_type}"
    return type(exc).__name__


async def run_attempts(
    order: Sequence[T],
    res: Resilience,
    attempt: Callable[[T], Awaitable[R]],
    *,
    log_id: str,
    trail: list[str],
) -> R:
    """Run `attempt(target)` over `order` until one returns; return its result.

    `attempt` raises only for failures that happened before anything reached the client.
    Each try's outcome is appended to `trail` ("provider/model: outcome") and logged.

    Raises:
        the last failure when every candidate failed or a failure is final;
        UpstreamError(529, "overloaded_error") with `retry_after` when every candidate's
        breaker is open (nothing was tried).
    """
    waited = 0.0
    last: BaseException | None = None
    for target in order:
        provider = target.provider
        if not res.breakers.allow(provider):
            trail.append(f"{target_key(target)}: skipped (breaker open)")
            log.info("%s skip %s: breaker open", log_id, target_key(target))
            continue
        retry = 0
        while True:
            try:
                result = await attempt(target)
            except asyncio.CancelledError:
                res.breakers.release(provider)
                raise
            except Exception as exc:
                last = exc
                outcome = describe(exc)
                trail.append(f"{target_key(target)}: {outcome}")
                log.info("%s attempt %s: %s", log_id, target_key(target), outcome)
                if _is_provider_fault(exc):
                    res.breakers.failure(provider)
                elif isinstance(exc, UpstreamError) and not isinstance(exc, QueueFull):
                    res.breakers.success(provider)  # it answered (429, 4xx): it is up
                else:
                    res.breakers.release(provider)  # never asked: no verdict on its health
                if not _falls_back(exc):
                    raise
                if not _is_retryable(exc) or retry >= provider.max_retries:
                    break
                delay = backoff(retry, res.rng)
                hinted = retry_after_seconds(getattr(exc, "retry_after", None))
                if hinted is not None:
                    delay = max(delay, hinted)
                if waited + delay > provider.retry_budget:
                    trail.append(f"{target_key(target)}: no retry (budget)")
                    break
                if not res.breakers.available(provider):
                    break  # this failure opened the breaker
                await res.sleep(delay)
                waited += delay
                retry += 1
                if not res.breakers.allow(provider):
                    break
                continue
            res.breakers.success(provider)
            trail.append(f"{target_key(target)}: ok")
            return result
    if last is None:
        names = ", ".join(target_key(t) for t in order)
        raise UpstreamError(
            529,
            "overloaded_error",
            f"ccroute: every provider for this request is unavailable (circuit breaker open): "
            f"{names}. They will be tried again after their cooldown.",
            retry_after=str(int(min((t.provider.breaker_cooldown for t in order), default=30))),
        )
    raise last
