"""The on-disk model cache (ccroute.catalogue.cache): TTL, atomic writes, corrupt files, and
reading it back when offline."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ccroute.catalogue import cache
from ccroute.catalogue.model import ModelInfo
from ccroute.config import paths

URL = "https://openrouter.ai/api/v1/models"
NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
MODELS = (
    ModelInfo(
        provider="openrouter",
        id="anthropic/claude-sonnet-4.5",
        name="Anthropic: Claude Sonnet 4.5",
        context_length=1_000_000,
        max_output_tokens=64000,
        input_price=3.0,
        output_price=15.0,
        supports_tools=True,
        created=1759161676,
        source="openrouter /api/v1/models",
    ),
    ModelInfo(provider="openrouter", id="deepseek/deepseek-chat", input_price=0.0),
)


def test_cache_lives_under_the_state_dir(isolated_home: Path) -> None:
    assert cache.cache_path("openrouter") == isolated_home / "state" / "catalogue" / (
        "openrouter.json"
    )


def test_saved_list_reads_back_equal(isolated_home: Path) -> None:
    saved = cache.save("openrouter", URL, MODELS, now=NOW)
    read = cache.load("openrouter")
    assert read.problem is None
    assert read.listing == saved
    assert read.listing.models == MODELS
    assert (read.listing.url, read.listing.fetched_at) == (URL, NOW)


def test_no_cache_file_is_neither_a_listing_nor_a_problem() -> None:
    assert cache.load("openrouter") == cache.CacheRead(None, None)


def test_cache_file_is_private_and_its_directory_too(isolated_home: Path) -> None:
    cache.save("openrouter", URL, MODELS, now=NOW)
    path = cache.cache_path("openrouter")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(paths().state_dir.stat().st_mode) == 0o700


def test_the_file_holds_the_documented_shape() -> None:
    cache.save("openrouter", URL, MODELS[1:], now=NOW)
    data = json.loads(cache.cache_path("openrouter").read_text())
    assert data["version"] == 1
    assert (data["provider"], data["url"], data["fetched_at"]) == ("openrouter", URL, NOW)
    assert data["models"] == [MODELS[1].to_json()]


@pytest.mark.parametrize(
    ("age", "fresh"),
    [
        (0, True),
        (cache.CACHE_TTL_SECONDS - 1, True),
        (cache.CACHE_TTL_SECONDS, False),
        (-60, False),
    ],
)
def test_a_list_is_fresh_for_the_ttl_and_never_when_dated_in_the_future(
    age: float, fresh: bool
) -> None:
    listing = cache.CachedListing("openrouter", URL, NOW - age, MODELS)
    assert listing.is_fresh(NOW) is fresh


def test_ttl_can_be_chosen_and_default_is_a_day() -> None:
    assert cache.CACHE_TTL_SECONDS == 24 * 3600
    listing = cache.CachedListing("openrouter", URL, NOW - 120, MODELS)
    assert listing.is_fresh(NOW, ttl=60) is False
    assert listing.age(NOW) == 120
    assert cache.CachedListing("p", URL, NOW + 5, ()).age(NOW) == 0


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temp_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache.save("openrouter", URL, MODELS, now=NOW)
    before = cache.cache_path("openrouter").read_bytes()

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", refuse)
        with pytest.raises(OSError, match="No space"):
            cache.save("openrouter", URL, MODELS[:1], now=NOW + 10)
    assert cache.cache_path("openrouter").read_bytes() == before
    assert [p.name for p in cache.cache_dir().iterdir()] == ["openrouter.json"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"version": 99}', "version 99"),
        (b'{"version": 1, "provider": "other"}', "belongs to provider 'other'"),
        (
            b'{"version": 1, "provider": "openrouter", "url": "u", "fetched_at": "yesterday", '
            b'"models": []}',
            "fetched_at",
        ),
        (
            b'{"version": 1, "provider": "openrouter", "url": "u", "fetched_at": 1, '
            b'"models": [{"provider": "openrouter"}]}',
            "models.0",
        ),
        (b'{"version": 1, "provider": "openrouter", "url": "u", "fetched_at": 1}', "'models'"),
    ],
)
def test_a_corrupt_cache_file_is_reported_and_ignored(content: bytes, reason: str) -> None:
    path = cache.cache_path("openrouter")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    read = cache.load("openrouter")
    assert read.listing is None
    assert read.problem is not None
    assert reason in read.problem
    assert str(path) in read.problem


def test_an_unreadable_cache_file_is_reported_not_raised() -> None:
    path = cache.cache_path("openrouter")
    path.mkdir(parents=True)  # a directory where the file should be: reading it fails
    read = cache.load("openrouter")
    assert read.listing is None and read.problem is not None
    assert "unreadable model cache" in read.problem


def test_a_corrupt_file_is_replaced_by_the_next_save() -> None:
    path = cache.cache_path("openrouter")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{oops")
    cache.save("openrouter", URL, MODELS, now=NOW)
    assert cache.load("openrouter").listing is not None


def test_a_list_from_another_url_is_ignored_after_the_base_url_changed() -> None:
    cache.save("local", "http://old-box:8000/v1/models", MODELS, now=NOW)
    read = cache.load("local", urls=["http://new-box:8000/v1/models"])
    assert read.listing is None
    assert read.problem is not None and "http://old-box:8000/v1/models" in read.problem
    assert cache.load("local", urls=["http://old-box:8000/v1/models"]).listing is not None


def test_provider_names_are_safe_file_names() -> None:
    assert cache.cache_path("my provider/../x").name == "my%20provider%2F..%2Fx.json"
    cache.save("my provider/../x", URL, (), now=NOW)
    assert cache.load("my provider/../x").listing is not None
