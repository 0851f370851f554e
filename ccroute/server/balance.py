"""Choosing one of a route's load-balanced targets.

Owns: `Balancer` — the strategies of `Decision.strategy` ("priority": the first available
target; "round-robin"; "weighted": by `RouteTarget.weight`; "least-busy": fewest requests in
flight) and stickiness: a session (`X-Claude-Code-Session-Id`) keeps its target for
`STICKY_TTL` seconds while that target stays available, so a conversation keeps one upstream
(and its prompt cache). Must not import other `ccroute.server` modules; randomness and the clock
are injected.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from ccroute.config import ProviderConfig

#: Seconds a session keeps the target it was given, counted from its last request.
STICKY_TTL = 3600.0
_MAX_SESSIONS = 10000


class Target(Protocol):
    """A route target: `routing.RouteTarget`'s shape."""

    @property
    def provider(self) -> ProviderConfig: ...
    @property
    def model(self) -> str: ...
    @property
    def weight(self) -> int: ...


T = TypeVar("T", bound=Target)


def target_key(target: Target) -> str:
    """`provider/model`: how a target is named in logs and sticky memory."""
    return f"{target.provider.name}/{target.model}"


class Balancer:
    """Orders a route's targets for one request; keeps round-robin and sticky state."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        sticky_ttl: float = STICKY_TTL,
    ) -> None:
        self._clock = clock
        self._rng = rng or random.Random()
        self._ttl = sticky_ttl
        self._turn: dict[tuple[str, ...], int] = {}
        self._sticky: dict[str, tuple[str, float]] = {}

    def order(
        self,
        targets: Sequence[T],
        strategy: str,
        *,
        available: Callable[[T], bool],
        in_flight: Callable[[T], int],
        session_id: str | None = None,
    ) -> list[T]:
        """`targets` with the chosen one first, the others after it in configured order.

        `available(t)` says whether a target may be chosen (its breaker is not open); when none
        is, the order is the configured one. Unknown strategies act as "priority".
        """
        usable = [t for t in targets if available(t)]
        chosen = self._sticky_choice(usable, session_id) if session_id else None
        if chosen is None and usable:
            chosen = self._choose(targets, usable, strategy, in_flight)
        if chosen is None:
            return list(targets)
        if session_id:
            self._remember(session_id, chosen)
        return [chosen, *(t for t in targets if t is not chosen)]

    def _choose(
        self, targets: Sequence[T], usable: list[T], strategy: str, in_flight: Callable[[T], int]
    ) -> T:
        if strategy == "round-robin":
            ring = tuple(map(target_key, targets))
            turn = self._turn.get(ring, 0)
            self._turn[ring] = turn + 1
            for step in range(len(targets)):
                candidate = targets[(turn + step) % len(targets)]
                if candidate in usable:
                    return candidate
        if strategy == "weighted":
            weights = [max(t.weight, 0) for t in usable]
            if sum(weights) > 0:
                return self._rng.choices(usable, weights=weights)[0]
        if strategy == "least-busy":
            return min(usable, key=in_flight)  # ties: the first in configured order
        return usable[0]

    def _sticky_choice(self, usable: list[T], session_id: str) -> T | None:
        hit = self._sticky.get(session_id)
        if hit is None or self._clock() - hit[1] > self._ttl:
            return None
        return next((t for t in usable if target_key(t) == hit[0]), None)

    def _remember(self, session_id: str, target: Target) -> None:
        if len(self._sticky) >= _MAX_SESSIONS and session_id not in self._sticky:
            now = self._clock()
            self._sticky = {s: v for s, v in self._sticky.items() if now - v[1] <= self._ttl}
            if len(self._sticky) >= _MAX_SESSIONS:
                self._sticky.pop(next(iter(self._sticky)))
        self._sticky[session_id] = (target_key(target), self._clock())
