"""Per-provider concurrency caps: at most `max_concurrency` upstream requests in flight, up to
`max_queue` more waiting for a slot, and a clear 429 for the one after that.

Owns: `Limits` (slots, the wait queue and the in-flight counts least-busy balancing reads).
Must not import other `ccroute.server` modules.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

from ccroute.config import ProviderConfig
from ccroute.errors import UpstreamError

#: Seconds a client told "queue full" is asked to wait (the `retry-after` header).
QUEUE_FULL_RETRY_AFTER = "5"


class QueueFull(UpstreamError):
    """429 `rate_limit_error`: the provider's slots and its wait queue are all taken."""


class Limits:
    """Slots per provider name; a provider with `max_concurrency == 0` is never capped."""

    def __init__(self) -> None:
        self._in_flight: dict[str, int] = {}
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}

    def in_flight(self, provider: ProviderConfig) -> int:
        """Requests to `provider` holding a slot now (counted also when uncapped)."""
        return self._in_flight.get(provider.name, 0)

    def queued(self, provider: ProviderConfig) -> int:
        """Requests waiting for a slot of `provider`."""
        return len(self._waiting.get(provider.name, ()))

    @contextlib.asynccontextmanager
    async def slot(self, provider: ProviderConfig) -> AsyncIterator[None]:
        """Hold one of `provider`'s slots for the body of the `async with`.

        Waits in FIFO order when all slots are taken. Raises `QueueFull` (429
        `rate_limit_error`, with `retry_after`) at once when `max_queue` requests already wait.
        """
        name, cap = provider.name, provider.max_concurrency
        if cap and self.in_flight(provider) >= cap:
            queue = self._waiting.setdefault(name, deque())
            if len(queue) >= provider.max_queue:
                raise QueueFull(
                    429,
                    "rate_limit_error",
                    f"ccroute: provider {name} has {self.in_flight(provider)} requests in "
                    f"flight and {len(queue)} queued (max_concurrency {cap}, max_queue "
                    f"{provider.max_queue}); retry shortly.",
                    retry_after=QUEUE_FULL_RETRY_AFTER,
                )
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            queue.append(turn)
            try:
                await turn  # resolved by a leaving holder, which hands its slot over
            except BaseException:
                if turn in queue:
                    queue.remove(turn)
                elif turn.done() and not turn.cancelled():
                    self._leave(name)  # the slot was handed over as we were cancelled
                raise
        else:
            self._in_flight[name] = self._in_flight.get(name, 0) + 1
        try:
            yield
        finally:
            self._leave(name)

    def _leave(self, name: str) -> None:
        queue = self._waiting.get(name)
        while queue:
            turn = queue.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot passes on: in-flight count unchanged
                return
        self._in_flight[name] = self._in_flight.get(name, 1) - 1
