"""Fetching model lists over HTTP (ccroute.server.catalogue_fetch) against a loopback server that
answers every listing format the way the real providers do.

`FakeListings` and `serve_in_thread` are also used by tests/test_cli_models.py. The fake serves
each provider family under its own path prefix, so one server stands in for all of them:

    /openrouter/api/v1/models      OpenRouter (public; no key needed)
    /openai/v1/models              OpenAI-style, Bearer key required
    /anthropic/v1/models           Anthropic, x-api-key + anthropic-version, two pages
    /gemini/v1beta/models          Gemini, x-goog-api-key, two pages (nextPageToken)
    /ollama/api/tags, /api/show    Ollama (native), /ollama/v1/models too
    /lmstudio/api/v0/models        LM Studio (native)
    /lmstudio-old/...              an LM Studio without /api/v0 (404), only /v1/models
    /html/v1/models                a 200 that is not JSON
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ccroute.catalogue.collect import FetchResult
from ccroute.config import ProviderConfig
from ccroute.server import catalogue_fetch
from ccroute.server.catalogue_fetch import MAX_PAGES, fetch_catalogue
from tests.fakes.base import serve_app_in_thread
from tests.test_catalogue_parse import (
    ANTHROPIC,
    GEMINI,
    LMSTUDIO,
    OLLAMA_SHOW,
    OLLAMA_TAGS,
    OPENAI,
    OPENROUTER,
)

OPENAI_KEY = "sk-openai-test-0123456789"
ANTHROPIC_KEY = "sk-ant-test-0123456789"
GEMINI_KEY = "AIza-test-0123456789"

ServerFactory = Callable[..., Awaitable[TestServer]]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None


def _anthropic_error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response(
        {"type": "error", "error": {"type": error_type, "message": message}}, status=status
    )


def _google_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": status, "message": message, "status": code}}, status=status
    )


class FakeListings:
    """A loopback stand-in for every provider's model-list endpoint; records each request."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.app = web.Application(middlewares=[self._record])
        add = self.app.router.add_route
        add("GET", "/openrouter/api/v1/models", self._openrouter)
        add("GET", "/openai/v1/models", self._openai)
        add("GET", "/anthropic/v1/models", self._anthropic)
        add("GET", "/gemini/v1beta/models", self._gemini)
        add("GET", "/ollama/api/tags", self._ollama_tags)
        add("POST", "/ollama/api/show", self._ollama_show)
        add("GET", "/ollama/v1/models", self._ollama_openai)
        add("GET", "/lmstudio/api/v0/models", self._lmstudio)
        add("GET", "/lmstudio-old/v1/models", self._ollama_openai)
        add("GET", "/html/v1/models", self._html)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.requests.append(
            Recorded(request.method, request.path, dict(request.query), dict(request.headers), body)
        )
        return await handler(request)

    async def _openrouter(self, request: web.Request) -> web.Response:
        return web.json_response(OPENROUTER)

    async def _openai(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {OPENAI_KEY}":
            return web.json_response(
                {
                    "error": {
                        "message": "Incorrect API key provided: "
                        f"{request.headers.get('Authorization', '').removeprefix('Bearer ')}.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "invalid_api_key",
                    }
                },
                status=401,
            )
        return web.json_response(OPENAI)

    async def _anthropic(self, request: web.Request) -> web.Response:
        if request.headers.get("x-api-key") != ANTHROPIC_KEY:
            return _anthropic_error(401, "authentication_error", "invalid x-api-key")
        if request.headers.get("anthropic-version") != "2023-06-01":
            return _anthropic_error(400, "invalid_request_error", "anthropic-version missing")
        first, second = ANTHROPIC["data"]
        if request.query.get("after_id") == first["id"]:
            return web.json_response(
                {
                    "data": [second],
                    "has_more": False,
                    "first_id": second["id"],
                    "last_id": second["id"],
                }
            )
        return web.json_response(
            {"data": [first], "has_more": True, "first_id": first["id"], "last_id": first["id"]}
        )

    async def _gemini(self, request: web.Request) -> web.Response:
        key = request.headers.get("x-goog-api-key")
        if key is None:
            return _google_error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        if key != GEMINI_KEY:
            return _google_error(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."
            )
        models = GEMINI["models"]
        if request.query.get("pageToken") == GEMINI["nextPageToken"]:
            return web.json_response({"models": models[2:]})
        return web.json_response({"models": models[:2], "nextPageToken": GEMINI["nextPageToken"]})

    async def _ollama_tags(self, request: web.Request) -> web.Response:
        return web.json_response(OLLAMA_TAGS)

    async def _ollama_show(self, request: web.Request) -> web.Response:
        name = (await request.json()).get("model")
        if name == "qwen3:8b":
            return web.json_response(OLLAMA_SHOW)
        return web.json_response({"error": f"model '{name}' not found"}, status=404)

    async def _ollama_openai(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {
                        "id": "qwen3:8b",
                        "object": "model",
                        "created": 1759536843,
                        "owned_by": "library",
                    }
                ],
            }
        )

    async def _lmstudio(self, request: web.Request) -> web.Response:
        return web.json_response(LMSTUDIO)

    async def _html(self, request: web.Request) -> web.Response:
        return web.Response(
            text="<html><body>Welcome to nginx!</body></html>", content_type="text/html"
        )


@contextmanager
def serve_in_thread(app: web.Application) -> Iterator[str]:
    """Serve `app` on 127.0.0.1:<free port> from a background thread; yields its root URL."""
    with serve_app_in_thread(app, name="fake-listings") as url:
        yield url


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def provider(name: str, wire: str, base_url: str, **kw: Any) -> ProviderConfig:
    return ProviderConfig(name=name, wire=wire, base_url=base_url, **kw)


@pytest.fixture
async def fake(aiohttp_server: ServerFactory) -> tuple[FakeListings, str]:
    listings = FakeListings()
    server = await aiohttp_server(listings.app)
    return listings, str(server.make_url("")).rstrip("/")


async def fetch_one(p: ProviderConfig, key: str | None = None) -> FetchResult:
    results = await fetch_catalogue([p], {p.name: key})
    return results[p.name]


async def test_openrouter_format_is_fetched_without_a_key(fake: tuple[FakeListings, str]) -> None:
    listings, root = fake
    result = await fetch_one(provider("gateway", "openai", f"{root}/openrouter/api/v1"))
    assert result.error is None
    assert result.url == f"{root}/openrouter/api/v1/models"
    assert result.models is not None
    assert {m.id for m in result.models} == {e["id"] for e in OPENROUTER["data"]}
    assert all(m.provider == "gateway" for m in result.models)
    assert "Authorization" not in listings.requests[0].headers


async def test_openai_list_sends_the_bearer_key_and_provider_headers(
    fake: tuple[FakeListings, str],
) -> None:
    listings, root = fake
    p = provider("oai", "openai", f"{root}/openai/v1", headers={"X-Team": "core"})
    result = await fetch_one(p, OPENAI_KEY)
    assert result.models is not None and [m.id for m in result.models] == ["gpt-4.1", "o3-mini"]
    (req,) = listings.requests
    assert req.headers["Authorization"] == f"Bearer {OPENAI_KEY}"
    assert req.headers["X-Team"] == "core"


async def test_a_refused_key_is_reported_masked_with_the_fix(
    fake: tuple[FakeListings, str],
) -> None:
    _, root = fake
    wrong = "sk-wrong-key-abcdefWXYZ"
    result = await fetch_one(provider("oai", "openai", f"{root}/openai/v1"), wrong)
    assert result.models is None and result.unreachable is False
    assert result.error is not None
    assert "HTTP 401: Incorrect API key provided" in result.error
    assert wrong not in result.error and "…WXYZ" in result.error
    assert "ccroute keys set oai" in result.error


async def test_a_missing_key_names_the_env_var(fake: tuple[FakeListings, str]) -> None:
    _, root = fake
    p = provider("oai", "openai", f"{root}/openai/v1", api_key_env="OAI_KEY")
    result = await fetch_one(p, None)
    assert result.error is not None
    assert "no key: run 'ccroute keys set oai' or set OAI_KEY" in result.error


async def test_anthropic_pages_are_followed_with_after_id(fake: tuple[FakeListings, str]) -> None:
    listings, root = fake
    result = await fetch_one(provider("ant", "anthropic", f"{root}/anthropic"), ANTHROPIC_KEY)
    assert result.models is not None
    assert [m.id for m in result.models] == ["claude-sonnet-4-5-20250929", "deepseek-chat"]
    first, second = listings.requests
    assert first.query == {"limit": "1000"}
    assert second.query == {"limit": "1000", "after_id": "claude-sonnet-4-5-20250929"}
    assert first.headers["x-api-key"] == ANTHROPIC_KEY
    assert first.headers["anthropic-version"] == "2023-06-01"


async def test_gemini_pages_are_followed_with_page_token(fake: tuple[FakeListings, str]) -> None:
    listings, root = fake
    result = await fetch_one(provider("gem", "gemini", f"{root}/gemini/v1beta"), GEMINI_KEY)
    assert result.models is not None
    assert [m.id for m in result.models] == [
        "gemini-2.5-flash",
        "gemini-2.0-flash",
        "text-embedding-004",
    ]
    assert [r.query for r in listings.requests] == [
        {"pageSize": "1000"},
        {"pageSize": "1000", "pageToken": GEMINI["nextPageToken"]},
    ]
    assert all(r.headers["x-goog-api-key"] == GEMINI_KEY for r in listings.requests)


async def test_ollama_tags_are_enriched_by_api_show(fake: tuple[FakeListings, str]) -> None:
    listings, root = fake
    result = await fetch_one(provider("ollama", "openai", f"{root}/ollama/v1"))
    assert result.url == f"{root}/ollama/api/tags"
    assert result.models is not None
    qwen, gemma = result.models
    assert (qwen.id, qwen.context_length, qwen.supports_tools) == ("qwen3:8b", 40960, True)
    assert (gemma.id, gemma.context_length, gemma.supports_tools) == ("gemma3:latest", None, None)
    shows = sorted(r.json["model"] for r in listings.requests if r.path == "/ollama/api/show")
    assert shows == ["gemma3:latest", "qwen3:8b"]


async def test_lmstudio_native_list_is_used(fake: tuple[FakeListings, str]) -> None:
    _, root = fake
    result = await fetch_one(provider("lmstudio", "openai", f"{root}/lmstudio/v1"))
    assert result.url == f"{root}/lmstudio/api/v0/models"
    assert result.models is not None and len(result.models) == 3


async def test_without_the_native_endpoint_the_openai_list_is_used(
    fake: tuple[FakeListings, str],
) -> None:
    listings, root = fake
    result = await fetch_one(provider("lmstudio", "openai", f"{root}/lmstudio-old/v1"))
    assert result.url == f"{root}/lmstudio-old/v1/models"
    assert result.models is not None and [m.id for m in result.models] == ["qwen3:8b"]
    assert listings.paths() == ["/lmstudio-old/api/v0/models", "/lmstudio-old/v1/models"]


async def test_an_answer_that_is_not_json_is_reported(fake: tuple[FakeListings, str]) -> None:
    _, root = fake
    result = await fetch_one(provider("html", "openai", f"{root}/html/v1"))
    assert result.models is None
    assert result.error == f"{root}/html/v1/models: the answer is not JSON"


async def test_a_json_answer_that_is_not_a_list_is_reported(
    fake: tuple[FakeListings, str],
) -> None:
    _, root = fake
    # A Gemini list given to an OpenAI-wire provider (whose auth is set to Gemini's header):
    # valid JSON, but no OpenAI-style `data` list.
    p = provider("odd", "openai", f"{root}/gemini/v1beta", auth="x-goog-api-key")
    result = await fetch_one(p, GEMINI_KEY)
    assert result.models is None
    assert result.error == (
        f"{root}/gemini/v1beta/models: no model list in the openai format (the answer has no "
        "'data' list)"
    )


async def test_a_down_server_is_unreachable_and_others_still_answer(
    fake: tuple[FakeListings, str],
) -> None:
    _, root = fake
    down = provider("down", "openai", f"http://127.0.0.1:{closed_port()}/v1")
    up = provider("up", "openai", f"{root}/openrouter/api/v1")
    results = await fetch_catalogue([down, up], {})
    assert results["up"].models is not None
    assert results["down"].models is None
    assert results["down"].unreachable is True
    assert results["down"].error is not None and "cannot connect" in results["down"].error


async def test_a_server_that_never_answers_times_out(aiohttp_server: ServerFactory) -> None:
    release = asyncio.Event()

    async def stall(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"data": []})

    app = web.Application()
    app.router.add_get("/v1/models", stall)
    server = await aiohttp_server(app)
    p = provider("slow", "openai", str(server.make_url("/v1")))
    try:
        results = await fetch_catalogue([p], {}, timeout=0.2)
    finally:
        release.set()
    assert results["slow"].unreachable is True
    assert results["slow"].error is not None and "no answer within 0.2 s" in results["slow"].error


async def test_an_unknown_wire_is_an_error_result_not_an_exception() -> None:
    results = await fetch_catalogue([provider("x", "smoke-signals", "http://127.0.0.1:1/v1")], {})
    assert results["x"].error is not None and "Unknown wire" in results["x"].error


def endless_anthropic_pages(delay: float = 0.0) -> web.Application:
    """An Anthropic-format list that always says has_more (a misbehaving server)."""
    served = 0

    async def page(request: web.Request) -> web.Response:
        nonlocal served
        served += 1
        if delay:
            await asyncio.sleep(delay)
        model_id = f"model-{served}"
        return web.json_response(
            {
                "data": [{"type": "model", "id": model_id, "display_name": model_id}],
                "has_more": True,
                "first_id": model_id,
                "last_id": model_id,
            }
        )

    app = web.Application()
    app.router.add_get("/v1/models", page)
    return app


async def test_paging_stops_after_max_pages(aiohttp_server: ServerFactory) -> None:
    server = await aiohttp_server(endless_anthropic_pages())
    p = provider("ant", "anthropic", str(server.make_url("")).rstrip("/"))
    result = (await fetch_catalogue([p], {}))["ant"]
    assert result.models is not None
    assert [m.id for m in result.models] == [f"model-{n}" for n in range(1, MAX_PAGES + 1)]


async def test_a_provider_that_pages_slowly_is_cut_off_at_the_deadline(
    aiohttp_server: ServerFactory,
) -> None:
    server = await aiohttp_server(endless_anthropic_pages(delay=0.1))
    p = provider("ant", "anthropic", str(server.make_url("")).rstrip("/"))
    result = (await fetch_catalogue([p], {}, deadline=0.25))["ant"]
    assert result.models is None and result.unreachable is True
    assert result.error == "no complete model list within 0.25 s"


async def test_slow_ollama_details_leave_the_tags_list_as_it_is(
    aiohttp_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()

    async def tags(request: web.Request) -> web.Response:
        return web.json_response(OLLAMA_TAGS)

    async def show(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response(OLLAMA_SHOW)

    app = web.Application()
    app.router.add_get("/api/tags", tags)
    app.router.add_post("/api/show", show)
    server = await aiohttp_server(app)
    monkeypatch.setattr(catalogue_fetch, "OLLAMA_SHOW_DEADLINE", 0.2)
    p = provider("ollama", "openai", str(server.make_url("/v1")))
    try:
        result = (await fetch_catalogue([p], {}))["ollama"]
    finally:
        release.set()
    assert result.models is not None
    assert [(m.id, m.context_length) for m in result.models] == [
        ("qwen3:8b", None),
        ("gemma3:latest", None),
    ]


async def test_a_redirect_is_not_followed_with_the_key(aiohttp_server: ServerFactory) -> None:
    hits: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        hits.append(request.path)
        raise web.HTTPFound("/elsewhere/v1/models")

    async def elsewhere(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response(OPENAI)

    app = web.Application()
    app.router.add_get("/v1/models", moved)
    app.router.add_get("/elsewhere/v1/models", elsewhere)
    server = await aiohttp_server(app)
    p = provider("oai", "openai", str(server.make_url("/v1")))
    result = (await fetch_catalogue([p], {"oai": OPENAI_KEY}))["oai"]
    assert hits == ["/v1/models"]
    assert result.models is None and result.unreachable is False
    assert result.error is not None
    assert "HTTP 302: redirected to /elsewhere/v1/models" in result.error
