"""Upstream requests honour HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the daemon's environment
(`ccroute.server.upstream_proxy`), looked up once per upstream origin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ccroute import server
from ccroute.server.upstream_proxy import EnvProxies
from tests.fakes.openai_upstream import FakeOpenAI, text_reply
from tests.test_server import AUTH, KEY, TOKEN, anthropic_request, make_config

ServerFactory = Callable[..., Awaitable[TestServer]]
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]

# Never resolvable (RFC 6761), so a request only succeeds through the proxy.
UNREACHABLE = "http://upstream.invalid:9/v1"


@pytest.fixture(autouse=True)
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_no_proxy_in_the_environment_means_direct() -> None:
    assert EnvProxies().for_url("https://openrouter.ai/api/v1/chat/completions") == (None, None)


def test_scheme_proxy_with_credentials_and_no_proxy_exemption(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:s3cret@proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,.internal.example")
    proxies = EnvProxies()
    proxy, auth = proxies.for_url("https://openrouter.ai/api/v1/chat/completions")
    assert proxy is not None and (proxy.host, proxy.port) == ("proxy.example", 3128)
    assert auth is not None and (auth.login, auth.password) == ("alice", "s3cret")
    assert proxies.for_url("https://llm.internal.example/v1") == (None, None)
    assert proxies.for_url("http://plain.example/v1") == (None, None)  # HTTPS_PROXY only


def test_the_answer_is_kept_per_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    proxies = EnvProxies()
    first = proxies.for_url("http://a.example/v1/chat/completions")
    monkeypatch.delenv("HTTP_PROXY")
    assert proxies.for_url("http://a.example/v1/other") == first  # same origin: not looked up
    assert proxies.for_url("http://b.example/v1") == (None, None)


async def test_a_request_goes_through_the_environment_proxy(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake answers the proxy's absolute-form request as the upstream would.
    fake = FakeOpenAI([text_reply("via the proxy")], api_key=KEY)
    proxy = await aiohttp_server(fake.app)
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setenv("HTTP_PROXY", str(proxy.make_url("")))
    app = server.create_app(make_config(UNREACHABLE), token=TOKEN)
    client = await aiohttp_client(app)
    resp = await client.post("/v1/messages", json=anthropic_request(stream=False), headers=AUTH)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["content"][0]["text"] == "via the proxy"
    assert len(fake.chat_requests) == 1


async def test_no_proxy_sends_the_request_direct(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeOpenAI([text_reply("direct")], api_key=KEY)
    upstream = await aiohttp_server(fake.app)
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    app = server.create_app(make_config(str(upstream.make_url("/v1"))), token=TOKEN)
    client = await aiohttp_client(app)
    resp = await client.post("/v1/messages", json=anthropic_request(stream=False), headers=AUTH)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["content"][0]["text"] == "direct"
