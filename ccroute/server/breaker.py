"""Circuit breakers: one per provider, so a provider that keeps failing is skipped for a while.

Owns: `Breakers` (the per-provider state machine closed → open → half-open → closed) and
`BreakerState` (what `ccroute status` and the log show). Transitions follow the provider's
`breaker_failures` (consecutive failures that open it) and `breaker_cooldown` (seconds before
one probe request is let through). Must not import other `ccroute.server` modules; the clock is
injected so tests need no sleeps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ccroute.config import ProviderConfig

log = logging.getLogger("ccroute.server")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


@dataclass
class BreakerState:
    """One provider's breaker.

    Attributes:
        state: "closed" (requests pass), "open" (skipped until `opened_at + cooldown`),
            "half-open" (one probe is in flight; others are skipped until it ends).
        failures: consecutive failures counted while closed.
        opened_at: clock reading (seconds) when it last opened.
    """

    state: str = CLOSED
    failures: int = 0
    opened_at: float = 0.0


class Breakers:
    """The breakers of every provider, created on first use."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._states: dict[str, BreakerState] = {}

    def _get(self, provider: ProviderConfig) -> BreakerState:
        return self._states.setdefault(provider.name, BreakerState())

    def available(self, provider: ProviderConfig) -> bool:
        """Whether a request could go to `provider` now (no state change)."""
        state = self._get(provider)
        if state.state == CLOSED:
            return True
        if state.state == OPEN:
            return self._clock() - state.opened_at >= provider.breaker_cooldown
        return False

    def allow(self, provider: ProviderConfig) -> bool:
        """Claim a request to `provider`: True when closed, or when open past its cooldown
        (it turns half-open and this request is the single probe); False otherwise."""
        state = self._get(provider)
        if state.state == CLOSED:
            return True
        if state.state == OPEN and self._clock() - state.opened_at >= provider.breaker_cooldown:
            state.state = HALF_OPEN
            log.info("breaker %s half-open: sending one probe request", provider.name)
            return True
        return False

    def success(self, provider: ProviderConfig) -> None:
        """The provider answered (any non-transient answer): the breaker closes."""
        state = self._get(provider)
        if state.state != CLOSED:
            log.info("breaker %s closed: the provider answered again", provider.name)
        state.state, state.failures = CLOSED, 0

    def failure(self, provider: ProviderConfig) -> None:
        """A transient failure (5xx, timeout, connection error): counts toward opening; a
        failed probe re-opens the breaker for another cooldown."""
        state = self._get(provider)
        state.failures += 1
        if state.state == HALF_OPEN or state.failures >= provider.breaker_failures:
            if state.state != OPEN:
                log.warning(
                    "breaker %s open after %d failure(s): skipped for %gs",
                    provider.name,
                    state.failures,
                    provider.breaker_cooldown,
                )
            state.state, state.opened_at = OPEN, self._clock()

    def release(self, provider: ProviderConfig) -> None:
        """A probe ended without a verdict (e.g. the client left): let another probe through."""
        state = self._get(provider)
        if state.state == HALF_OPEN:
            state.state = OPEN
            state.opened_at = self._clock() - provider.breaker_cooldown

    def snapshot(self) -> dict[str, BreakerState]:
        """Every known provider's breaker state, by provider name (copies)."""
        return {name: BreakerState(**vars(s)) for name, s in self._states.items()}
