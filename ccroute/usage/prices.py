"""The prices the daemon puts on requests: `PriceBook`, read from the model catalogue's cache.

Owns: keeping each configured provider's cached model list (`ccroute.catalogue.cache`, filled
by `ccroute models`) in memory for price look-ups. `refresh` does the file I/O (a `stat` per
provider, a read when a file changed) and is run off the event loop; `lookup` is dictionary
work only, safe on the event loop. Never touches the network: a provider whose list was never
fetched has no prices, and its requests cost None (unknown), never 0.

Must not import aiohttp, typer, rich or keyring.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from ccroute.catalogue import cache
from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.sources import listings_for
from ccroute.catalogue.warnings import find_model
from ccroute.config import Paths, ProviderConfig
from ccroute.errors import CcrouteError

log = logging.getLogger("ccroute.usage")


class PriceBook:
    """Each provider's model list from the catalogue cache, by provider name.

    Thread use: `refresh` (any thread) builds new tables and swaps them in with one
    assignment; `lookup` (the event loop) only reads them and memoises answers.
    """

    def __init__(self, p: Paths | None = None) -> None:
        self._paths = p
        self._seen: dict[str, tuple[int, int] | None] = {}  # provider → cache file (mtime, size)
        # (lists by provider, memoised look-ups): swapped as one object, so a look-up never
        # memoises an answer from old lists into a new memo
        self._tables: tuple[
            dict[str, tuple[ModelInfo, ...]], dict[tuple[str, str], ModelInfo | None]
        ] = ({}, {})

    def refresh(self, providers: Mapping[str, ProviderConfig]) -> None:
        """Re-read the cache file of every provider in `providers` that changed since the
        last call (or is new); forget providers no longer configured. Never raises for a
        missing or unusable file (that provider simply has no prices)."""
        old = self._tables[0]
        lists = {name: models for name, models in old.items() if name in providers}
        seen = {name: sig for name, sig in self._seen.items() if name in providers}
        changed = len(lists) != len(old)
        for name, provider in providers.items():
            signature = _signature(cache.cache_path(name, self._paths))
            if name in seen and seen[name] == signature:
                continue
            seen[name] = signature
            lists[name] = _read(name, provider, self._paths)
            changed = True
        self._seen = seen
        if changed:
            self._tables = (lists, {})

    def lookup(self, provider: str, model: str) -> ModelInfo | None:
        """The listed entry for `model` at `provider` (`find_model`'s matching), or None."""
        key = (provider, model)
        lists, memo = self._tables
        if key in memo:
            return memo[key]
        models = lists.get(provider)
        found = find_model(models, model) if models else None
        memo[key] = found
        return found


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _read(name: str, provider: ProviderConfig, p: Paths | None) -> tuple[ModelInfo, ...]:
    try:
        urls: tuple[str, ...] = tuple(listing.url for listing in listings_for(provider))
    except CcrouteError:
        urls = ()
    found = cache.load(name, urls=urls, p=p)
    if found.problem:
        log.warning("no prices for provider %r: %s", name, found.problem)
    return found.listing.models if found.listing is not None else ()
