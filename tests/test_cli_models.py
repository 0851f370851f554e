"""`ccroute models` end to end in-process: the Typer command against a loopback server speaking
every listing format (tests/test_catalogue_fetch.py's `FakeListings`), with the real cache under
the test's CCROUTE_HOME — live lists, search, JSON, the cache's TTL, and what happens when the
network is gone."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ccroute.catalogue import cache
from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.sources import listings_for
from ccroute.cli import _CcrouteGroup, models_cmds
from ccroute.config import load_config
from tests.importcheck import modules_loaded_by, of_packages
from tests.test_catalogue_fetch import (
    ANTHROPIC_KEY,
    GEMINI_KEY,
    OPENAI_KEY,
    FakeListings,
    closed_port,
    serve_in_thread,
)

HOUR = 3600.0
DEFAULT_ROUTE = "openrouter/meta-llama/llama-3-8b-instruct"

# The command as `ccroute` mounts it (app.add_typer(models_cmds.app, name="models")), under the
# root group that turns a CcrouteError into "error: ..." and its exit code.
root = typer.Typer(cls=_CcrouteGroup)


@root.callback()
def _root() -> None:
    """ccroute (test root)."""


root.add_typer(models_cmds.app, name="models")
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(root, ["models", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def write_config(home: Path, root_url: str, *, extra: str = "") -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"""
[router]
default = "{DEFAULT_ROUTE}"

[providers.openrouter]
base_url = "{root_url}/openrouter/api/v1"

[providers.oai]
wire = "openai"
base_url = "{root_url}/openai/v1"
api_key_env = "OAI_TEST_KEY"

[providers.ant]
wire = "anthropic"
base_url = "{root_url}/anthropic"
api_key_env = "ANT_TEST_KEY"

[providers.gem]
wire = "gemini"
base_url = "{root_url}/gemini/v1beta"
api_key_env = "GEMINI_API_KEY"

[providers.ollama]
wire = "openai"
base_url = "{root_url}/ollama/v1"

[providers.lmstudio]
wire = "openai"
base_url = "{root_url}/lmstudio/v1"
{extra}
"""
    )


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAI_TEST_KEY", OPENAI_KEY)
    monkeypatch.setenv("ANT_TEST_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)


@pytest.fixture
def upstream(isolated_home: Path, keys: None) -> Iterator[FakeListings]:
    fake = FakeListings()
    with serve_in_thread(fake.app) as root_url:
        write_config(isolated_home, root_url)
        yield fake


def down_config(home: Path) -> None:
    """Point every provider at a loopback port where nothing listens."""
    write_config(home, f"http://127.0.0.1:{closed_port()}")


def table_row(out: str, model_id: str) -> list[str]:
    """The cells of the table row whose id column is `model_id`."""
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("│┃").split("│")]
        if len(cells) >= 9 and cells[1] == model_id:
            return cells
    raise AssertionError(f"no row for {model_id!r} in:\n{out}")


def age_caches(names: list[str], seconds: float) -> None:
    """Make the cached lists of `names` look `seconds` old."""
    for name in names:
        listing = cache.load(name).listing
        assert listing is not None, name
        cache.save(name, listing.url, listing.models, now=time.time() - seconds)


PROVIDERS = ["openrouter", "oai", "ant", "gem", "ollama", "lmstudio"]


# --- live lists -------------------------------------------------------------------------------


def test_table_shows_every_providers_models_with_limits_prices_and_capabilities(
    upstream: FakeListings,
) -> None:
    code, out, _ = run()
    assert code == 0
    assert table_row(out, "anthropic/claude-sonnet-4.5") == [
        "openrouter",
        "anthropic/claude-sonnet-4.5",
        "1M",
        "64k",
        "3",
        "15",
        "yes",
        "yes",
        "yes",
    ]
    assert table_row(out, "deepseek/deepseek-chat-v3-0324:free")[4:6] == ["free", "free"]
    assert table_row(out, "gpt-4.1")[:3] == ["oai", "gpt-4.1", "-"]
    assert table_row(out, "claude-sonnet-4-5-20250929")[:4] == [
        "ant",
        "claude-sonnet-4-5-20250929",
        "200k",
        "64k",
    ]
    assert table_row(out, "gemini-2.5-flash")[2:4] == ["1.05M", "66k"]
    assert table_row(out, "qwen3:8b")[0:3] == ["ollama", "qwen3:8b", "41k"]
    assert table_row(out, "meta-llama-3.1-8b-instruct")[6] == "yes"


def test_rows_are_grouped_by_provider_in_config_order_then_sorted_by_id(
    upstream: FakeListings,
) -> None:
    code, out, _ = run("--json")
    assert code == 0
    models = json.loads(out)["models"]
    providers = [m["provider"] for m in models]
    assert list(dict.fromkeys(providers)) == PROVIDERS
    openrouter_ids = [m["id"] for m in models if m["provider"] == "openrouter"]
    assert openrouter_ids == sorted(openrouter_ids, key=str.casefold)


def test_json_has_exact_values_provider_status_and_route_warnings(upstream: FakeListings) -> None:
    code, out, err = run("--json")
    assert code == 0
    data = json.loads(out)
    statuses = {p["provider"]: (p["status"], p["offline"], p["error"]) for p in data["providers"]}
    assert statuses == dict.fromkeys(PROVIDERS, ("live", False, None))
    sonnet = next(m for m in data["models"] if m["id"] == "anthropic/claude-sonnet-4.5")
    assert sonnet["input_price"] == 3.0 and sonnet["cache_write_price"] == pytest.approx(3.75)
    assert sonnet["max_output_tokens"] == 64000
    assert sonnet["source"] == "openrouter /api/v1/models"
    # The default route (a Llama 3 8B: no tools, 8k context, 16k output) earns three warnings.
    kinds = [(w["route"], w["kind"]) for w in data["warnings"]]
    assert kinds == [
        (DEFAULT_ROUTE, "no_tools"),
        (DEFAULT_ROUTE, "max_output"),
        (DEFAULT_ROUTE, "small_context"),
    ]
    assert err.count("warning: ") == 3


def test_warnings_are_printed_after_the_table_on_stderr(upstream: FakeListings) -> None:
    code, out, err = run()
    assert code == 0
    assert "warning:" not in out
    assert f"warning: {DEFAULT_ROUTE}: the model does not support tool calling" in err


def test_requests_carry_each_wires_key_header(upstream: FakeListings) -> None:
    run()
    by_path = {r.path: r.headers for r in upstream.requests}
    assert by_path["/openai/v1/models"]["Authorization"] == f"Bearer {OPENAI_KEY}"
    assert by_path["/anthropic/v1/models"]["x-api-key"] == ANTHROPIC_KEY
    assert by_path["/gemini/v1beta/models"]["x-goog-api-key"] == GEMINI_KEY
    assert by_path["/openrouter/api/v1/models"]["X-OpenRouter-Title"] == "ccroute"


def test_search_matches_id_or_name_in_any_case(upstream: FakeListings) -> None:
    code, out, _ = run("SONNET", "--json")
    assert code == 0
    ids = [m["id"] for m in json.loads(out)["models"]]
    assert ids == ["anthropic/claude-sonnet-4.5", "claude-sonnet-4-5-20250929"]
    code, out, _ = run("2.5 flash", "--json")  # only the display name has the space
    assert [m["id"] for m in json.loads(out)["models"]] == ["gemini-2.5-flash"]


def test_a_search_that_matches_nothing_says_so(upstream: FakeListings) -> None:
    code, out, _ = run("no-such-model-anywhere")
    assert code == 0
    assert "No models match 'no-such-model-anywhere'." in out


def test_provider_option_fetches_only_that_provider(upstream: FakeListings) -> None:
    code, out, _ = run("--provider", "gem", "--json")
    assert code == 0
    assert {m["provider"] for m in json.loads(out)["models"]} == {"gem"}
    assert {r.path for r in upstream.requests} == {"/gemini/v1beta/models"}


def test_a_missing_key_makes_that_provider_unavailable_and_names_the_fix(
    upstream: FakeListings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    code, out, err = run("--provider", "gem")
    assert code == models_cmds.EXIT_UNAVAILABLE == 1
    assert "error: gem: no model list" in err
    assert "ccroute keys set gem" in err and "GEMINI_API_KEY" in err
    assert "No models listed." in out


# --- the cache ----------------------------------------------------------------------------


def test_a_second_run_within_the_ttl_uses_the_cache_without_requests(
    upstream: FakeListings,
) -> None:
    run()
    upstream.requests.clear()
    code, out, err = run("--json")
    assert code == 0
    assert upstream.requests == []
    data = json.loads(out)
    assert {p["status"] for p in data["providers"]} == {"cached"}
    assert "openrouter: cached moments ago (--refresh fetches it again)" in err
    assert any(m["id"] == "anthropic/claude-sonnet-4.5" for m in data["models"])


def test_refresh_fetches_again_despite_a_fresh_cache(upstream: FakeListings) -> None:
    run()
    upstream.requests.clear()
    code, _, _ = run("--refresh", "--provider", "openrouter")
    assert code == 0
    assert [r.path for r in upstream.requests] == ["/openrouter/api/v1/models"]


def test_a_cache_older_than_the_ttl_is_fetched_again(upstream: FakeListings) -> None:
    run()
    age_caches(["openrouter"], 25 * HOUR)
    upstream.requests.clear()
    code, _, err = run("--provider", "openrouter")
    assert code == 0
    assert [r.path for r in upstream.requests] == ["/openrouter/api/v1/models"]
    assert "cached" not in err


def test_a_corrupt_cache_is_reported_and_replaced(upstream: FakeListings) -> None:
    path = cache.cache_path("openrouter")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{definitely not json")
    code, out, err = run("--provider", "openrouter")
    assert code == 0
    assert "note: openrouter: ignored the unreadable model cache" in err
    assert "anthropic/claude-sonnet-4.5" in out
    assert cache.load("openrouter").listing is not None


# --- no network ---------------------------------------------------------------------------


def test_server_down_serves_the_cache_with_its_age(isolated_home: Path, keys: None) -> None:
    fake = FakeListings()
    dead = f"http://127.0.0.1:{closed_port()}"
    # Seed the cache as a run 3 hours ago would have, from a live server at the same URLs.
    with serve_in_thread(fake.app) as live:
        write_config(isolated_home, live)
        assert run()[0] == 0
    for name in PROVIDERS:
        listing = cache.load(name).listing
        assert listing is not None
        cache.save(
            name, listing.url.replace(live, dead), listing.models, now=time.time() - 3 * HOUR - 60
        )
    write_config(isolated_home, dead)

    code, out, err = run("--refresh")
    assert code == 0
    assert "openrouter: cached 3 h ago; offline (" in err
    assert "cannot connect" in err
    assert table_row(out, "anthropic/claude-sonnet-4.5")[4] == "3"
    assert f"warning: {DEFAULT_ROUTE}: the model does not support tool calling" in err


def test_offline_uses_only_the_cache_and_says_how_old_it_is(upstream: FakeListings) -> None:
    run()
    age_caches(PROVIDERS, 3 * HOUR + 60)
    upstream.requests.clear()
    code, out, err = run("--offline", "--json")
    assert code == 0
    assert upstream.requests == []
    assert "openrouter: cached 3 h ago; offline\n" in err
    data = json.loads(out)
    assert {(p["status"], p["offline"]) for p in data["providers"]} == {("cached", True)}
    openrouter = data["providers"][0]
    assert openrouter["age_seconds"] == pytest.approx(3 * HOUR + 60, abs=120)


def test_a_stale_cache_is_still_served_when_the_fetch_fails(
    isolated_home: Path, keys: None
) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    write_config(isolated_home, dead)
    models = (ModelInfo(provider="ollama", id="qwen3:8b"),)
    cache.save("ollama", f"{dead}/ollama/api/tags", models, now=time.time() - 30 * HOUR)
    code, out, err = run("--provider", "ollama")
    assert code == 0
    assert "ollama: cached 30 h ago; offline (" in err
    assert table_row(out, "qwen3:8b")[0] == "ollama"


def test_no_cache_and_no_server_is_a_clear_error_with_exit_status_1(
    isolated_home: Path, keys: None
) -> None:
    down_config(isolated_home)
    code, out, err = run("--provider", "openrouter")
    assert code == 1
    assert "No models listed." in out
    assert "error: openrouter: no model list (" in err
    assert "cannot connect" in err and "nothing cached" in err
    assert "providers.openrouter.base_url" in err
    assert "Traceback" not in err


def test_offline_without_a_cache_says_nothing_is_cached(isolated_home: Path, keys: None) -> None:
    down_config(isolated_home)
    code, _, err = run("--offline", "--provider", "ollama")
    assert code == 1
    assert "error: ollama: no model list (offline) and nothing cached." in err


def test_one_provider_down_still_lists_the_others_but_exits_1(
    upstream: FakeListings, isolated_home: Path
) -> None:
    config = isolated_home / "config" / "config.toml"
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    config.write_text(config.read_text() + f'\n[providers.dead]\nbase_url = "{dead}"\n')
    code, out, err = run()
    assert code == 1
    assert table_row(out, "anthropic/claude-sonnet-4.5")[0] == "openrouter"
    assert "error: dead: no model list" in err


# --- options --------------------------------------------------------------------------------


def test_unknown_provider_exits_2_naming_the_configured_ones(upstream: FakeListings) -> None:
    code, _, err = run("--provider", "nope")
    assert code == 2
    assert "error: Unknown provider 'nope'. Configured providers: openrouter, oai" in err


def test_refresh_and_offline_together_are_refused(upstream: FakeListings) -> None:
    code, _, err = run("--refresh", "--offline")
    assert code == 2
    assert upstream.requests == []
    assert "give one of them" in err


@pytest.mark.parametrize(
    ("count", "text"),
    [(None, "-"), (512, "512"), (8192, "8k"), (131072, "131k"), (1_048_576, "1.05M")],
)
def test_token_counts_are_compact(count: int | None, text: str) -> None:
    assert models_cmds.tokens(count) == text


@pytest.mark.parametrize(
    ("usd", "text"), [(None, "-"), (0.0, "free"), (3.0, "3"), (0.075, "0.075"), (1.25, "1.25")]
)
def test_prices_are_short(usd: float | None, text: str) -> None:
    assert models_cmds.price(usd) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "moments ago"), (600, "10 min ago"), (3 * HOUR + 59, "3 h ago"), (50 * HOUR, "2 d ago")],
)
def test_ages_are_rough(seconds: float, text: str) -> None:
    assert models_cmds.ago(seconds) == text


def test_importing_the_command_loads_neither_aiohttp_nor_rich() -> None:
    loaded = modules_loaded_by(["ccroute.cli.models_cmds"])
    assert "ccroute.cli.models_cmds" in loaded
    assert of_packages(loaded, ("aiohttp", "rich", "keyring")) == []


def test_ids_and_searches_with_brackets_are_printed_literally(isolated_home: Path) -> None:
    down_config(isolated_home)
    (listing,) = listings_for(load_config().providers["openrouter"])
    odd = ModelInfo(provider="openrouter", id="vendor/model[bold]beta[/bold]")
    cache.save("openrouter", listing.url, (odd,))
    code, out, _ = run("--offline", "--provider", "openrouter")
    assert code == 0
    assert table_row(out, "vendor/model[bold]beta[/bold]")[0] == "openrouter"
    code, out, _ = run("[red]nothing", "--offline", "--provider", "openrouter")
    assert "No models match '[red]nothing'." in out
