"""Golden cases served end to end: a replay upstream and the real ccroute app in front of it.

For tests that act as a real Anthropic client (tests/test_sdk_client.py):

    upstream = ReplayUpstream(case)
    upstream_server = await aiohttp_server(upstream.app())
    app = create_app(golden_config(case, base_url(upstream_server)), token=TOKEN,
                     key_lookup=lambda provider: UPSTREAM_KEY)

`ReplayUpstream` plays the provider of the case's wire: any `POST` (the wire's own endpoint:
`/chat/completions`, `/responses`, `/v1/messages`, `/models/M:generateContent`) answers a
streaming request (`"stream": true`, or Gemini's `:streamGenerateContent`) with the case's
`upstream.sse` bytes verbatim (in a few writes, so the proxy sees several reads) and any other
with `response.in.json`, and records every body and path it received.
`golden_config` builds the `Config` the golden case describes (case.json), routed to it.

Only the server's public surface is used (`create_app`, `Config`), never the translator API.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from ccroute.config import Config, RouterConfig, ServerConfig
from tests.test_translate_golden import GOLDEN, case_options, case_provider, upstream_bytes

__all__ = [
    "TOKEN",
    "UPSTREAM_KEY",
    "ReplayUpstream",
    "base_url",
    "golden_config",
    "upstream_model",
]

TOKEN = "golden-local-token"
"""The local token the ccroute app under test requires from its client."""
UPSTREAM_KEY = "sk-test"
"""The provider key ccroute's key lookup returns; the replay upstream insists on it."""
STREAM_WRITES = 4
"""How many writes the replay upstream splits a stream into."""


def upstream_model(case: str) -> str:
    """The upstream model the case routes to (case.json `upstream_model`)."""
    return str(case_options(case).get("upstream_model", "vendor/model"))


def base_url(server: TestServer) -> str:
    """A served app's root URL without the trailing slash (ProviderConfig's form)."""
    return str(server.make_url("")).rstrip("/")


def golden_config(case: str, upstream_base_url: str) -> Config:
    """The configuration a golden case describes, pointed at `upstream_base_url`.

    Its only provider is the golden module's `case_provider(case)` (named "golden", the case's
    wire, `max_tokens` from case.json's `max_tokens_limit`, further fields from case.json's
    `"provider"` object) with `base_url` replaced; `router.default` sends every Claude model
    name to `golden/<upstream_model>`.
    """
    # max_retries=0: the replay upstream answers each request once, with the recorded answer
    # (ccroute's own retries are tested in test_server_resilience.py).
    provider = dataclasses.replace(case_provider(case), base_url=upstream_base_url, max_retries=0)
    return Config(
        server=ServerConfig(),
        providers=MappingProxyType({provider.name: provider}),
        router=RouterConfig(default=f"{provider.name}/{upstream_model(case)}"),
        source=Path("golden-config.toml"),
    )


class ReplayUpstream:
    """A fake provider that replays one golden case's recorded answers.

    Attributes:
        case: the golden case ("<wire>/<name>").
        bodies: every JSON body received, in order.
        paths: the path (and query) of every request received, in order.

    `stream` / `response` replace the case's `upstream.sse` / `response.in.json` bytes, for a
    test that needs an answer no golden case has.
    """

    def __init__(
        self, case: str, *, stream: bytes | None = None, response: bytes | None = None
    ) -> None:
        self.case = case
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self._stream_bytes = stream
        self._response_bytes = response

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{endpoint:.*}", self._answer)
        return app

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        credentials = (
            request.headers.get("Authorization"),
            request.headers.get("x-api-key"),
            request.headers.get("x-goog-api-key"),
        )
        if not {f"Bearer {UPSTREAM_KEY}", UPSTREAM_KEY} & set(credentials):
            return _error(401, "the replay upstream expects the key sk-test")
        body = await request.json()
        self.bodies.append(body)
        self.paths.append(request.path_qs)
        if body.get("stream") is True or ":streamGenerateContent" in request.path:
            return await self._stream(request)
        answer = self._response_bytes
        if answer is None:
            path = GOLDEN / self.case / "response.in.json"
            if not path.exists():
                return _error(500, f"golden case {self.case} has no response.in.json")
            answer = path.read_bytes()
        return web.Response(body=answer, content_type="application/json")

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        data = upstream_bytes(self.case) if self._stream_bytes is None else self._stream_bytes
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        size = -(-len(data) // STREAM_WRITES)
        for start in range(0, len(data), size):
            await response.write(data[start : start + size])
        await response.write_eof()
        return response


def _error(status: int, message: str) -> web.Response:
    body = {"error": {"message": message, "type": "replay_upstream_error", "code": status}}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")
