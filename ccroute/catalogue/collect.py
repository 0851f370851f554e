"""Choosing between the cache and the network, provider by provider.

Owns: `plan` (which providers' cached lists are fresh enough and which must be fetched, given
`--refresh` / `--offline`), `FetchResult` (what a fetch returns; the fetcher is
`ccroute.server.catalogue_fetch`) and `combine` (each provider's list, live or cached, with
why it is what it is; live lists are saved to the cache).

Behaviour with no network: a provider whose fetch fails is served from its cache however old
it is (`ProviderList.status == "cached"`, with `fetched_at` and the fetch's `error`, so the
user sees "cached 3 h ago; offline"); with no cache either, it is "unavailable" and carries
the error. `--offline` never fetches.

Must not import: aiohttp, typer, rich, keyring. File I/O only through `ccroute.catalogue.cache`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ccroute.catalogue import cache
from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.sources import listings_for
from ccroute.config import Paths, ProviderConfig
from ccroute.errors import CcrouteError

Status = Literal["live", "cached", "unavailable"]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One provider's fetch: its models and the URL that listed them, or why none did.

    Attributes:
        provider: the provider name.
        url: the listing URL that answered (None on failure).
        models: the parsed models (None on failure; an empty tuple is a real, empty list).
        error: on failure, what went wrong with each endpoint tried, "; "-separated.
        unreachable: on failure, True when no endpoint answered at all (connection refused,
            DNS failure, timeout): the provider is offline rather than refusing.
    """

    provider: str
    url: str | None = None
    models: tuple[ModelInfo, ...] | None = None
    error: str | None = None
    unreachable: bool = False


@dataclass(frozen=True, slots=True)
class ProviderList:
    """A provider's model list as `ccroute models` shows it.

    Attributes:
        provider: the provider name.
        status: "live" (fetched now), "cached" (from the cache file) or "unavailable".
        models: the list (empty tuple when unavailable).
        url: where the list came from (None when unavailable).
        fetched_at: unix seconds of the fetch (None when unavailable).
        error: why the network gave no list (a fetch failed, or "offline" under
            `--offline`), else None; a "cached" list with an error is served because the
            provider gave no fresh one.
        offline: the provider was not asked (`--offline`) or could not be reached at all.
        notes: other things the user should know (an ignored cache file, a cache that could
            not be written).
    """

    provider: str
    status: Status
    models: tuple[ModelInfo, ...] = ()
    url: str | None = None
    fetched_at: float | None = None
    error: str | None = None
    offline: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """What `plan` decided: every provider's cache read, and the providers to fetch."""

    reads: Mapping[str, cache.CacheRead]
    fetch: tuple[ProviderConfig, ...]


def plan(
    providers: Sequence[ProviderConfig],
    *,
    now: float,
    refresh: bool = False,
    offline: bool = False,
    ttl: float = cache.CACHE_TTL_SECONDS,
    p: Paths | None = None,
) -> Plan:
    """Read every provider's cache and pick the providers to fetch: none when `offline`, all
    when `refresh`, else those without a cached list younger than `ttl` seconds at `now`."""
    reads: dict[str, cache.CacheRead] = {}
    fetch: list[ProviderConfig] = []
    for provider in providers:
        reads[provider.name] = read = cache.load(provider.name, urls=_urls(provider), p=p)
        stale = read.listing is None or not read.listing.is_fresh(now, ttl)
        if not offline and (refresh or stale):
            fetch.append(provider)
    return Plan(reads=reads, fetch=tuple(fetch))


def combine(
    providers: Sequence[ProviderConfig],
    decided: Plan,
    fetched: Mapping[str, FetchResult],
    *,
    now: float,
    offline: bool = False,
    p: Paths | None = None,
) -> list[ProviderList]:
    """Each provider's list, in `providers` order: a fetched list (saved to the cache), else its
    cached list, else "unavailable". A provider planned for fetching but missing from
    `fetched` counts as a failed fetch."""
    lists: list[ProviderList] = []
    fetching = {provider.name for provider in decided.fetch}
    for provider in providers:
        read = decided.reads.get(provider.name, cache.CacheRead())
        notes: tuple[str, ...] = (read.problem,) if read.problem else ()
        result = fetched.get(provider.name)
        if result is None and provider.name in fetching:
            result = FetchResult(provider.name, error="not fetched")
        if result is not None and result.models is not None and result.url is not None:
            try:
                cache.save(provider.name, result.url, result.models, now=now, p=p)
            except OSError as exc:
                notes += (f"could not write the model cache: {exc.strerror or exc}",)
            lists.append(
                ProviderList(
                    provider.name,
                    "live",
                    result.models,
                    url=result.url,
                    fetched_at=now,
                    notes=notes,
                )
            )
            continue
        error = result.error if result is not None else None
        unreachable = result.unreachable if result is not None else False
        if result is None and offline:
            error, unreachable = "offline", True
        listing = read.listing
        if listing is not None:
            lists.append(
                ProviderList(
                    provider.name,
                    "cached",
                    listing.models,
                    url=listing.url,
                    fetched_at=listing.fetched_at,
                    error=error,
                    offline=unreachable,
                    notes=notes,
                )
            )
        else:
            lists.append(
                ProviderList(
                    provider.name,
                    "unavailable",
                    error=error or "no cached model list",
                    offline=unreachable,
                    notes=notes,
                )
            )
    return lists


def _urls(provider: ProviderConfig) -> tuple[str, ...]:
    try:
        return tuple(listing.url for listing in listings_for(provider))
    except CcrouteError:
        return ()
