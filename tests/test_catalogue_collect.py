"""Cache or network, provider by provider (ccroute.catalogue.collect): what is fetched, what is
served from the cache when the network is down, and what is saved."""

from __future__ import annotations

from ccroute.catalogue import cache
from ccroute.catalogue.collect import FetchResult, ProviderList, combine, plan
from ccroute.catalogue.model import ModelInfo
from ccroute.config import ProviderConfig

NOW = 1_767_225_600.0
HOUR = 3600.0
OR = ProviderConfig(name="openrouter", wire="openai", base_url="https://openrouter.ai/api/v1")
LOCAL = ProviderConfig(name="local", wire="openai", base_url="http://127.0.0.1:8000/v1")
OR_URL = "https://openrouter.ai/api/v1/models"
LOCAL_URL = "http://127.0.0.1:8000/v1/models"
OLD = (ModelInfo(provider="openrouter", id="old/model"),)
NEW = (ModelInfo(provider="openrouter", id="new/model"),)


def names(providers: tuple[ProviderConfig, ...]) -> list[str]:
    return [p.name for p in providers]


def test_without_a_cache_every_provider_is_fetched() -> None:
    decided = plan([OR, LOCAL], now=NOW)
    assert names(decided.fetch) == ["openrouter", "local"]
    assert decided.reads["openrouter"] == cache.CacheRead()


def test_a_fresh_cache_is_not_fetched_again_but_a_stale_one_is() -> None:
    cache.save("openrouter", OR_URL, OLD, now=NOW - 3 * HOUR)
    cache.save("local", LOCAL_URL, (), now=NOW - 25 * HOUR)
    assert names(plan([OR, LOCAL], now=NOW).fetch) == ["local"]


def test_refresh_fetches_fresh_lists_and_offline_fetches_nothing() -> None:
    cache.save("openrouter", OR_URL, OLD, now=NOW - HOUR)
    assert names(plan([OR, LOCAL], now=NOW, refresh=True).fetch) == ["openrouter", "local"]
    assert names(plan([OR, LOCAL], now=NOW, offline=True).fetch) == []


def test_a_cache_of_another_base_url_counts_as_no_cache() -> None:
    cache.save("local", "http://elsewhere:8000/v1/models", OLD, now=NOW)
    decided = plan([LOCAL], now=NOW)
    assert names(decided.fetch) == ["local"]
    assert decided.reads["local"].problem is not None


def test_a_fetched_list_is_live_and_saved_to_the_cache() -> None:
    decided = plan([OR], now=NOW)
    (lst,) = combine([OR], decided, {"openrouter": FetchResult("openrouter", OR_URL, NEW)}, now=NOW)
    assert lst == ProviderList("openrouter", "live", NEW, url=OR_URL, fetched_at=NOW)
    saved = cache.load("openrouter").listing
    assert saved is not None and (saved.models, saved.fetched_at) == (NEW, NOW)


def test_when_the_server_is_down_the_old_cache_is_served_with_its_age_and_the_error() -> None:
    cache.save("openrouter", OR_URL, OLD, now=NOW - 30 * HOUR)
    decided = plan([OR], now=NOW)
    down = FetchResult("openrouter", error=f"{OR_URL}: cannot connect", unreachable=True)
    (lst,) = combine([OR], decided, {"openrouter": down}, now=NOW)
    assert lst.status == "cached"
    assert lst.models == OLD
    assert lst.fetched_at == NOW - 30 * HOUR
    assert lst.offline is True
    assert lst.error == f"{OR_URL}: cannot connect"
    listing = cache.load("openrouter").listing
    assert listing is not None and listing.fetched_at == NOW - 30 * HOUR  # not rewritten


def test_a_refused_fetch_is_not_called_offline() -> None:
    cache.save("openrouter", OR_URL, OLD, now=NOW - 30 * HOUR)
    refused = FetchResult("openrouter", error=f"{OR_URL}: HTTP 401: bad key")
    (lst,) = combine([OR], plan([OR], now=NOW), {"openrouter": refused}, now=NOW)
    assert (lst.status, lst.offline) == ("cached", False)


def test_down_with_no_cache_is_unavailable_with_the_reason() -> None:
    down = FetchResult("local", error=f"{LOCAL_URL}: cannot connect", unreachable=True)
    (lst,) = combine([LOCAL], plan([LOCAL], now=NOW), {"local": down}, now=NOW)
    assert lst == ProviderList(
        "local", "unavailable", error=f"{LOCAL_URL}: cannot connect", offline=True
    )


def test_offline_serves_the_cache_and_marks_it_offline() -> None:
    cache.save("openrouter", OR_URL, OLD, now=NOW - 3 * HOUR)
    decided = plan([OR, LOCAL], now=NOW, offline=True)
    served, missing = combine([OR, LOCAL], decided, {}, now=NOW, offline=True)
    assert (served.status, served.models, served.offline, served.error) == (
        "cached",
        OLD,
        True,
        "offline",
    )
    assert (missing.status, missing.error, missing.offline) == ("unavailable", "offline", True)


def test_a_fresh_cache_is_served_without_an_error() -> None:
    cache.save("openrouter", OR_URL, OLD, now=NOW - HOUR)
    (lst,) = combine([OR], plan([OR], now=NOW), {}, now=NOW)
    assert (lst.status, lst.error, lst.offline) == ("cached", None, False)


def test_a_corrupt_cache_becomes_a_note_and_a_fetch() -> None:
    path = cache.cache_path("openrouter")
    path.parent.mkdir(parents=True)
    path.write_text("{broken")
    decided = plan([OR], now=NOW)
    assert names(decided.fetch) == ["openrouter"]
    (lst,) = combine([OR], decided, {"openrouter": FetchResult("openrouter", OR_URL, NEW)}, now=NOW)
    assert lst.status == "live"
    assert len(lst.notes) == 1 and "unreadable model cache" in lst.notes[0]


def test_a_cache_that_cannot_be_written_is_a_note_not_a_failure() -> None:
    cache.cache_dir().parent.mkdir(parents=True, exist_ok=True)
    cache.cache_dir().write_text("a file where the directory belongs")
    (lst,) = combine(
        [OR], plan([OR], now=NOW), {"openrouter": FetchResult("openrouter", OR_URL, NEW)}, now=NOW
    )
    assert lst.status == "live" and lst.models == NEW
    assert any("could not write the model cache" in note for note in lst.notes)
