"""Shared state of the proxy application: typed app keys and the provider-key cache.

Owns: the `web.AppKey`s every part of the server reads, and `KeyCache`. Must not import other
`ccroute.server` modules (they all import this one).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
from aiohttp import web

from ccroute.config import Config, ProviderConfig
from ccroute.logformat import remember_secret

KeyLookup = Callable[[ProviderConfig], "str | None"]

#: Seconds a resolved key is reused before it is looked up again (keyring look-ups are slow).
KEY_TTL = 30.0


class KeyCache:
    """Resolves provider keys through `lookup` off the event loop, caching them for `ttl` seconds.

    `lookup` raises `MissingKeyError` when a needed key is absent; that is not cached, so a key
    set with `ccroute keys set` is picked up by the next request.
    """

    def __init__(self, lookup: KeyLookup, ttl: float = KEY_TTL) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._cache: dict[tuple[str, str | None], tuple[str | None, float]] = {}

    async def get(self, provider: ProviderConfig) -> str | None:
        """The provider's key, or None for a keyless provider. Raises `MissingKeyError`."""
        slot = (provider.name, provider.api_key_env)
        now = time.monotonic()
        hit = self._cache.get(slot)
        if hit is not None and now - hit[1] < self._ttl:
            return hit[0]
        key = await asyncio.to_thread(self._lookup, provider)
        remember_secret(key)  # the daemon log masks it from now on
        self._cache[slot] = (key, now)
        return key


CONFIG = web.AppKey("config", Config)
TOKEN = web.AppKey("token", str)
KEYS = web.AppKey("keys", KeyCache)
SESSION = web.AppKey("session", aiohttp.ClientSession)
SHUTDOWN = web.AppKey("shutdown", asyncio.Event)
STARTED_AT = web.AppKey("started_at", float)
