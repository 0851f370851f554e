"""Fetching providers' model lists over HTTP for the model catalogue.

Owns: the requests behind `ccroute models` — every provider at once, each through its
endpoints in `ccroute.catalogue.sources.listings_for` order until one answers, following pages
(`parse.next_page`) up to `MAX_PAGES`, plus Ollama's per-model `POST /api/show` — with short
timeouts. Each provider's outcome is a `ccroute.catalogue.collect.FetchResult`: a failure is
reported in its `error` (and `unreachable` when no server answered), never raised, so one dead
server cannot hide the others' lists.

Keys are looked up by the caller (the keyring may block) and passed in; they travel only in the
auth header, never across a redirect (a 3xx is reported with its target instead), and an
upstream error message that echoes one gets it masked.

Must not: print, write the cache (`ccroute.catalogue.collect` decides what to keep), or parse
listings itself (that is `ccroute.catalogue.parse`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from ccroute.catalogue.collect import FetchResult
from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.parse import merge_ollama_show, next_page, parse_listing
from ccroute.catalogue.sources import Listing, listings_for, ollama_show_url, request_headers
from ccroute.config import ProviderConfig
from ccroute.errors import CcrouteError
from ccroute.keys import mask

CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection to a provider."""

TIMEOUT = 20.0
"""Seconds for one whole request, body included (OpenRouter's list is a few MB)."""

DEADLINE = 45.0
"""Seconds for one provider's whole fetch (every endpoint and page, Ollama's details), so a
server that answers slowly page after page cannot hold `ccroute models` up for long."""

OLLAMA_SHOW_DEADLINE = 10.0
"""Seconds for all of Ollama's `/api/show` calls; after it the `/api/tags` list is kept as is."""

MAX_PAGES = 10
"""Pages followed per listing (1000 models each for Anthropic and Gemini)."""

MAX_BODY_BYTES = 64 * 1024 * 1024

OLLAMA_SHOW_LIMIT = 64
"""At most this many Ollama models get their details from `/api/show`."""

OLLAMA_SHOW_CONCURRENCY = 4


class _ListingFailed(Exception):
    """One endpoint gave no usable list; the message says why, without secrets.

    `unreachable` is True when the server could not be reached at all (no HTTP answer).
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


async def fetch_catalogue(
    providers: Sequence[ProviderConfig],
    keys: Mapping[str, str | None],
    *,
    timeout: float = TIMEOUT,
    connect_timeout: float = CONNECT_TIMEOUT,
    deadline: float = DEADLINE,
) -> dict[str, FetchResult]:
    """Fetch every provider's model list concurrently; keyed by provider name, never raises
    for a provider's failure.

    `keys` maps a provider name to its API key (missing or None: no auth header; OpenRouter's
    and local servers' lists need none). In seconds: `timeout` bounds each request,
    `connect_timeout` each connection attempt, `deadline` each provider's whole fetch (past
    it the provider counts as unreachable).
    """
    client_timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
    async with aiohttp.ClientSession(timeout=client_timeout, trust_env=True) as session:

        async def bounded(provider: ProviderConfig) -> FetchResult:
            try:
                return await asyncio.wait_for(
                    fetch_provider(session, provider, keys.get(provider.name), timeout=timeout),
                    deadline,
                )
            except TimeoutError:
                return FetchResult(
                    provider.name,
                    error=f"no complete model list within {deadline:g} s",
                    unreachable=True,
                )

        results = await asyncio.gather(*(bounded(p) for p in providers))
    return {result.provider: result for result in results}


async def fetch_provider(
    session: aiohttp.ClientSession,
    provider: ProviderConfig,
    key: str | None,
    *,
    timeout: float = TIMEOUT,
) -> FetchResult:
    """Fetch one provider's list through its endpoints in order; the first that answers wins."""
    try:
        listings = listings_for(provider)
    except CcrouteError as exc:
        return FetchResult(provider.name, error=exc.message)
    problems: list[_ListingFailed] = []
    for listing in listings:
        try:
            models = await _fetch_listing(session, provider, listing, key, timeout)
        except _ListingFailed as exc:
            problems.append(_ListingFailed(f"{listing.url}: {exc}", unreachable=exc.unreachable))
            continue
        if listing.format == "ollama":
            models = await _ollama_details(session, provider, listing, key, models)
        return FetchResult(provider.name, url=listing.url, models=tuple(models))
    return FetchResult(
        provider.name,
        error="; ".join(str(problem) for problem in problems),
        unreachable=all(problem.unreachable for problem in problems),
    )


async def _fetch_listing(
    session: aiohttp.ClientSession,
    provider: ProviderConfig,
    listing: Listing,
    key: str | None,
    timeout: float,
) -> list[ModelInfo]:
    headers = request_headers(provider, listing, key)
    query = dict(listing.query)
    models: list[ModelInfo] = []
    for _ in range(MAX_PAGES):
        body = await _request(
            session,
            "GET",
            listing.url,
            provider=provider,
            key=key,
            headers=headers,
            timeout=timeout,
            query=query,
        )
        try:
            models.extend(parse_listing(listing.format, body, provider=provider.name))
        except ValueError as exc:
            raise _ListingFailed(f"no model list in the {listing.format} format ({exc})") from None
        following = next_page(listing.format, body)
        if following is None:
            break
        query = {**dict(listing.query), **following}
    unique: dict[str, ModelInfo] = {}
    for info in models:
        unique.setdefault(info.id, info)
    return list(unique.values())


async def _ollama_details(
    session: aiohttp.ClientSession,
    provider: ProviderConfig,
    listing: Listing,
    key: str | None,
    models: list[ModelInfo],
) -> list[ModelInfo]:
    """`models` with Ollama's `/api/show` details merged in; a model whose details fail to
    load keeps what `/api/tags` said."""
    url = ollama_show_url(listing.url)
    headers = request_headers(provider, listing, key)
    gate = asyncio.Semaphore(OLLAMA_SHOW_CONCURRENCY)
    timeout = OLLAMA_SHOW_DEADLINE

    async def one(info: ModelInfo) -> ModelInfo:
        async with gate:
            try:
                body = await _request(
                    session,
                    "POST",
                    url,
                    provider=provider,
                    key=key,
                    headers=headers,
                    timeout=timeout,
                    payload={"model": info.id},
                )
            except _ListingFailed:
                return info
        return merge_ollama_show(info, body)

    try:
        detailed = await asyncio.wait_for(
            asyncio.gather(*(one(m) for m in models[:OLLAMA_SHOW_LIMIT])), OLLAMA_SHOW_DEADLINE
        )
    except TimeoutError:
        return models
    return [*detailed, *models[OLLAMA_SHOW_LIMIT:]]


async def _request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    provider: ProviderConfig,
    key: str | None,
    headers: Mapping[str, str],
    timeout: float,
    query: Mapping[str, str] | None = None,
    payload: Any = None,
) -> Any:
    """One request's decoded JSON answer; `_ListingFailed` for any failure."""
    try:
        async with session.request(
            method,
            url,
            params=query or None,
            headers=dict(headers),
            json=payload,
            timeout=aiohttp.ClientTimeout(
                total=timeout, sock_connect=min(timeout, session.timeout.sock_connect or timeout)
            ),
            # The key must not follow a redirect to another host; the user fixes base_url.
            allow_redirects=False,
        ) as resp:
            if 300 <= resp.status < 400:
                target = resp.headers.get("Location", "another URL")
                raise _ListingFailed(
                    f"HTTP {resp.status}: redirected to {target}; set the provider's base_url "
                    "to the final address"
                )
            raw = await resp.content.read(MAX_BODY_BYTES + 1)
            if resp.status != 200:
                raise _ListingFailed(_http_problem(resp.status, raw, provider, key))
    except aiohttp.ClientConnectorError as exc:
        reason = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
        raise _ListingFailed(f"cannot connect ({reason.lower()})", unreachable=True) from None
    except TimeoutError:
        raise _ListingFailed(f"no answer within {timeout:g} s", unreachable=True) from None
    except aiohttp.ClientError as exc:
        raise _ListingFailed(f"request failed ({type(exc).__name__}: {exc})") from None
    if len(raw) > MAX_BODY_BYTES:
        raise _ListingFailed(f"answer larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")
    try:
        return json.loads(raw)
    except ValueError:
        raise _ListingFailed("the answer is not JSON") from None


def _http_problem(status: int, raw: bytes, provider: ProviderConfig, key: str | None) -> str:
    """The failure as "HTTP <status>: <upstream message>", plus the fix for a missing or
    refused key (Google answers a missing key with 403, most others with 401, a few with 400)."""
    text = f"HTTP {status}"
    detail = _error_message(raw)
    if key:
        detail = detail.replace(key, mask(key))
    if detail:
        text += f": {detail}"
    if key is None and provider.api_key_env and status in (400, 401, 403):
        text += f" (no key: run 'ccroute keys set {provider.name}' or set "
        text += f"{provider.api_key_env})"
    elif key is not None and status in (401, 403):
        text += f" (check the key: 'ccroute keys set {provider.name}')"
    return text


def _error_message(raw: bytes) -> str:
    """The message of an OpenAI/Anthropic/Google error body, else its first 200 characters."""
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:200]
    if isinstance(error, str):
        return error[:200]
    return " ".join(text.split())[:200]
