"""The on-disk model catalogue: one JSON file per provider, read back when offline.

Owns: where the cache lives (`<state dir>/catalogue/<provider>.json`, under
`ccroute.config.paths().state_dir`), writing it atomically (`ccroute.atomicfile.write_atomic`,
0600 in a 0700 directory), and reading it back. Freshness is the caller's question, answered
by `CachedListing.is_fresh` against `CACHE_TTL_SECONDS`.

File shape (version 1):
`{"version": 1, "provider": "openrouter", "url": "https://openrouter.ai/api/v1/models",
"fetched_at": 1767225600.0, "models": [ModelInfo.to_json(), ...]}`; `fetched_at` is unix
seconds.

A cache file that cannot be used (unreadable, not JSON, another version, wrong shape, another
provider's, or listing another URL than the provider now has) is reported through
`CacheRead.problem` and otherwise ignored: it never raises, and the next successful fetch
overwrites it.

Must not import: aiohttp, typer, rich, keyring. The clock is read only when a caller passes no
`now`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ccroute.atomicfile import ensure_private_dir, write_atomic
from ccroute.catalogue.model import ModelInfo
from ccroute.config import Paths, paths

CACHE_TTL_SECONDS = 24 * 60 * 60
"""How long a fetched list is served without asking the provider again (`--refresh` asks)."""

CACHE_VERSION = 1
CACHE_DIRNAME = "catalogue"


@dataclass(frozen=True, slots=True)
class CachedListing:
    """A provider's model list as fetched at `fetched_at` (unix seconds) from `url`."""

    provider: str
    url: str
    fetched_at: float
    models: tuple[ModelInfo, ...]

    def age(self, now: float) -> float:
        """Seconds since the fetch (0 when the clock says it lies in the future)."""
        return max(0.0, now - self.fetched_at)

    def is_fresh(self, now: float, ttl: float = CACHE_TTL_SECONDS) -> bool:
        """True while younger than `ttl` seconds; a fetch time in the future is not fresh (the
        clock was changed, so the age is unknown)."""
        return 0 <= now - self.fetched_at < ttl

    def to_json(self) -> dict[str, object]:
        """The file's JSON object (see the module docstring)."""
        return {
            "version": CACHE_VERSION,
            "provider": self.provider,
            "url": self.url,
            "fetched_at": self.fetched_at,
            "models": [m.to_json() for m in self.models],
        }


@dataclass(frozen=True, slots=True)
class CacheRead:
    """What reading a provider's cache found: a listing, or why an existing file was ignored.

    Both are None when there is no cache file at all.
    """

    listing: CachedListing | None = None
    problem: str | None = None


def cache_dir(p: Paths | None = None) -> Path:
    """`<state dir>/catalogue` (not created here)."""
    return (p or paths()).state_dir / CACHE_DIRNAME


def cache_path(provider: str, p: Paths | None = None) -> Path:
    """The cache file of provider `provider`; characters unsafe in a file name are %-escaped."""
    return cache_dir(p) / f"{quote(provider, safe='-_.') or '_'}.json"


def save(
    provider: str,
    url: str,
    models: Sequence[ModelInfo],
    *,
    now: float | None = None,
    p: Paths | None = None,
) -> CachedListing:
    """Write `provider`'s list (fetched from `url`) to its cache file atomically; returns it.

    Raises:
        OSError: the state directory or the file cannot be written.
    """
    listing = CachedListing(
        provider=provider,
        url=url,
        fetched_at=time.time() if now is None else now,
        models=tuple(models),
    )
    p = p or paths()
    ensure_private_dir(p.state_dir)
    data = json.dumps(listing.to_json(), ensure_ascii=False, separators=(",", ":"))
    write_atomic(cache_path(provider, p), data.encode("utf-8"))
    return listing


def load(provider: str, *, urls: Collection[str] = (), p: Paths | None = None) -> CacheRead:
    """Read `provider`'s cache file; never raises.

    `urls`, when given, are the endpoints the provider's list may come from now
    (`sources.listings_for`); a file listing any other URL is ignored, because the provider's
    base URL changed since it was written.
    """
    path = cache_path(provider, p)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return CacheRead()
    except OSError as exc:
        return CacheRead(problem=_ignored(path, exc.strerror or type(exc).__name__))
    try:
        listing = _decode(raw, provider)
    except ValueError as exc:
        return CacheRead(problem=_ignored(path, str(exc)))
    if urls and listing.url not in urls:
        return CacheRead(
            problem=(
                f"ignored the cached model list in {path}: it came from {listing.url}, and "
                f"provider {provider!r} no longer lists models there"
            )
        )
    return CacheRead(listing=listing)


def _ignored(path: Path, reason: str) -> str:
    return (
        f"ignored the unreadable model cache {path} ({reason}); the next successful fetch "
        "rewrites it"
    )


def _decode(raw: bytes, provider: str) -> CachedListing:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("version") != CACHE_VERSION:
        raise ValueError(f"version {data.get('version')!r}, expected {CACHE_VERSION}")
    if data.get("provider") != provider:
        raise ValueError(f"it belongs to provider {data.get('provider')!r}")
    url, fetched_at, models = data.get("url"), data.get("fetched_at"), data.get("models")
    if not isinstance(url, str) or not url:
        raise ValueError("no 'url'")
    if isinstance(fetched_at, bool) or not isinstance(fetched_at, int | float):
        raise ValueError("no numeric 'fetched_at'")
    if not isinstance(models, list):
        raise ValueError("no 'models' list")
    infos = []
    for index, entry in enumerate(models):
        if not isinstance(entry, dict):
            raise ValueError(f"models.{index} is not an object")
        try:
            infos.append(ModelInfo.from_json(entry))
        except ValueError as exc:
            raise ValueError(f"models.{index}: {exc}") from None
    return CachedListing(
        provider=provider, url=url, fetched_at=float(fetched_at), models=tuple(infos)
    )
