"""`GET /v1/models` and `GET /v1/models/{model_id}`: the configured routes in Anthropic's shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anthropic
import pytest
from aiohttp.test_utils import TestClient, TestServer

from ccroute.config import Config, ProviderConfig, RouterConfig, ServerConfig
from ccroute.errors import TranslationError
from ccroute.server import create_app
from ccroute.server import models as models_module
from ccroute.server.models import (
    CREATED_AT,
    find_model,
    model_object,
    models_page,
    route_models,
    route_refs,
)

TOKEN = "local-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEFAULT = "openrouter/anthropic/claude-sonnet-4.5"
ROUTES = [
    DEFAULT,
    "openrouter/moonshotai/kimi-k2",
    "local/qwen3-coder",
    "openrouter/deepseek/deepseek-chat",
    "local/claude-local",
]

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]


def make_config(default: str = DEFAULT) -> Config:
    return Config(
        server=ServerConfig(),
        providers={
            "openrouter": ProviderConfig(
                name="openrouter",
                wire="openai",
                base_url="http://127.0.0.1:9/v1",
                max_tokens=32000,
            ),
            "local": ProviderConfig(name="local", wire="openai", base_url="http://127.0.0.1:9/v1"),
        },
        router=RouterConfig(default=default),
        source=Path("config.toml"),
    )


@pytest.fixture
def many_routes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Pretend the router names five routes (more route sources will come; see route_refs)."""
    monkeypatch.setattr(models_module, "route_refs", lambda config: list(ROUTES))
    return ROUTES


@pytest.fixture
async def client(aiohttp_client: ClientFactory) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(make_config(), token=TOKEN))


async def get_json(client: TestClient[Any, Any], path: str, status: int = 200) -> Any:
    resp = await client.get(path, headers=AUTH)
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    return await resp.json()


# --- the pure part --------------------------------------------------------------------------


def test_route_refs_lists_the_router_default_once() -> None:
    assert route_refs(make_config()) == [DEFAULT]


def test_model_object_names_model_and_provider_and_carries_the_provider_cap() -> None:
    config = make_config()
    assert model_object(DEFAULT, config) == {
        "type": "model",
        "id": DEFAULT,
        "display_name": "anthropic/claude-sonnet-4.5 via openrouter",
        "created_at": CREATED_AT,
        "lifecycle": "active",
        "max_tokens": 32000,
    }
    local = model_object("local/qwen3-coder", config)
    assert local["display_name"] == "qwen3-coder via local"
    assert "max_tokens" not in local


def test_created_at_is_rfc3339() -> None:
    assert datetime.fromisoformat(CREATED_AT.replace("Z", "+00:00")).year == 1970


def page_ids(page: dict[str, Any]) -> list[str]:
    return [m["id"] for m in page["data"]]


MODELS = [{"id": f"m{i}"} for i in range(5)]


@pytest.mark.parametrize(
    ("kwargs", "ids", "has_more"),
    [
        ({}, ["m0", "m1", "m2", "m3", "m4"], False),
        ({"limit": "2"}, ["m0", "m1"], True),
        ({"limit": "5"}, ["m0", "m1", "m2", "m3", "m4"], False),
        ({"limit": "2", "after_id": "m1"}, ["m2", "m3"], True),
        ({"limit": "2", "after_id": "m2"}, ["m3", "m4"], False),
        ({"after_id": "m4"}, [], False),
        ({"limit": "2", "before_id": "m4"}, ["m2", "m3"], True),
        ({"limit": "2", "before_id": "m2"}, ["m0", "m1"], False),
        ({"limit": "3", "before_id": "m1"}, ["m0"], False),
        ({"before_id": "m0"}, [], False),
        ({"limit": "1000"}, ["m0", "m1", "m2", "m3", "m4"], False),
    ],
)
def test_models_page_follows_anthropic_cursor_semantics(
    kwargs: dict[str, str], ids: list[str], has_more: bool
) -> None:
    page = models_page(MODELS, **kwargs)
    assert page_ids(page) == ids
    assert page["has_more"] is has_more
    assert page["first_id"] == (ids[0] if ids else None)
    assert page["last_id"] == (ids[-1] if ids else None)


def test_models_page_defaults_to_twenty() -> None:
    many = [{"id": f"m{i}"} for i in range(45)]
    first = models_page(many)
    assert len(first["data"]) == 20
    assert first["has_more"] is True
    third = models_page(many, after_id="m39")
    assert page_ids(third) == [f"m{i}" for i in range(40, 45)]
    assert third["has_more"] is False


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"limit": "0"}, ["limit", "1 to 1000", "'0'"]),
        ({"limit": "1001"}, ["limit", "1 to 1000"]),
        ({"limit": "-1"}, ["limit"]),
        ({"limit": "ten"}, ["limit", "'ten'"]),
        ({"limit": ""}, ["limit"]),
        ({"limit": "²"}, ["limit"]),
        ({"after_id": "nope"}, ["after_id", "'nope'"]),
        ({"before_id": "nope"}, ["before_id", "'nope'"]),
        ({"after_id": "m1", "before_id": "m3"}, ["before_id", "after_id", "at most one"]),
    ],
)
def test_models_page_rejects_bad_queries(kwargs: dict[str, str], words: list[str]) -> None:
    with pytest.raises(TranslationError) as info:
        models_page(MODELS, **kwargs)
    for word in words:
        assert word in info.value.message


def test_find_model_matches_the_whole_id() -> None:
    models = route_models(make_config())
    assert find_model(models, DEFAULT) == models[0]
    assert find_model(models, "anthropic/claude-sonnet-4.5") is None


# --- over HTTP ------------------------------------------------------------------------------


async def test_list_gives_the_default_route_in_anthropic_shape(
    client: TestClient[Any, Any],
) -> None:
    body = await get_json(client, "/v1/models?limit=1000")
    assert body == {
        "data": [
            {
                "type": "model",
                "id": DEFAULT,
                "display_name": "anthropic/claude-sonnet-4.5 via openrouter",
                "created_at": CREATED_AT,
                "lifecycle": "active",
                "max_tokens": 32000,
            }
        ],
        "has_more": False,
        "first_id": DEFAULT,
        "last_id": DEFAULT,
    }


async def test_list_pages_forwards_and_backwards(
    client: TestClient[Any, Any], many_routes: list[str]
) -> None:
    first = await get_json(client, "/v1/models?limit=2")
    assert page_ids(first) == many_routes[:2]
    assert (first["has_more"], first["first_id"], first["last_id"]) == (
        True,
        many_routes[0],
        many_routes[1],
    )
    second = await get_json(client, f"/v1/models?limit=2&after_id={quote(first['last_id'])}")
    assert page_ids(second) == many_routes[2:4]
    assert second["has_more"] is True
    last = await get_json(client, f"/v1/models?limit=2&after_id={quote(second['last_id'])}")
    assert page_ids(last) == many_routes[4:]
    assert last["has_more"] is False
    back = await get_json(client, f"/v1/models?limit=3&before_id={quote(last['first_id'])}")
    assert page_ids(back) == many_routes[1:4]
    assert back["has_more"] is True


async def test_default_page_size_is_twenty(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    refs = [f"openrouter/vendor/model-{i}" for i in range(25)]
    monkeypatch.setattr(models_module, "route_refs", lambda config: refs)
    body = await get_json(client, "/v1/models")
    assert len(body["data"]) == 20
    assert body["has_more"] is True


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=1001", "limit=abc", "after_id=ghost/model", "before_id=ghost/model"],
)
async def test_bad_list_query_is_an_anthropic_400(client: TestClient[Any, Any], query: str) -> None:
    body = await get_json(client, f"/v1/models?{query}", status=400)
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert query.split("=", maxsplit=1)[0] in body["error"]["message"]


@pytest.mark.parametrize("encode", [False, True], ids=["raw-slashes", "percent-encoded"])
async def test_get_one_model_whose_id_contains_slashes(
    client: TestClient[Any, Any], encode: bool
) -> None:
    path = quote(DEFAULT, safe="") if encode else DEFAULT
    body = await get_json(client, f"/v1/models/{path}")
    assert body["id"] == DEFAULT
    assert body["type"] == "model"
    assert body["max_tokens"] == 32000


async def test_get_an_unknown_model_is_an_anthropic_404(client: TestClient[Any, Any]) -> None:
    body = await get_json(client, "/v1/models/openrouter/not/configured", status=404)
    assert body["type"] == "error"
    assert body["error"]["type"] == "not_found_error"
    assert "openrouter/not/configured" in body["error"]["message"]


@pytest.mark.parametrize("path", ["/v1/models", f"/v1/models/{DEFAULT}"])
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"x-api-key": TOKEN}, 200),
        ({"Authorization": f"Bearer {TOKEN}"}, 200),
    ],
)
async def test_model_routes_need_the_local_token(
    client: TestClient[Any, Any], path: str, headers: dict[str, str], status: int
) -> None:
    resp = await client.get(path, headers=headers)
    assert resp.status == status
    if status == 401:
        assert (await resp.json())["error"]["type"] == "authentication_error"


async def test_the_anthropic_sdk_lists_pages_and_retrieves_models(
    aiohttp_server: ServerFactory, many_routes: list[str]
) -> None:
    server = await aiohttp_server(create_app(make_config(), token=TOKEN))
    async with anthropic.AsyncAnthropic(
        base_url=str(server.make_url("")), api_key=TOKEN, max_retries=0
    ) as sdk:
        page = await sdk.models.list()
        assert [m.id for m in page.data] == many_routes
        assert page.data[0].display_name == "anthropic/claude-sonnet-4.5 via openrouter"
        assert page.data[0].created_at.year == 1970
        assert [m.id async for m in sdk.models.list(limit=2)] == many_routes
        one = await sdk.models.retrieve(DEFAULT)
        assert (one.id, one.max_tokens) == (DEFAULT, 32000)
        with pytest.raises(anthropic.NotFoundError):
            await sdk.models.retrieve("openrouter/not/configured")
        with pytest.raises(anthropic.BadRequestError):
            await sdk.models.list(limit=5000)
