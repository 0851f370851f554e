"""What the scripted fake upstreams share: recording requests, the script, serving, helpers.

`FakeUpstream` is the base of `FakeOpenAI` (and through it `FakeResponses`), `FakeAnthropic`
and `FakeGemini`. It records every request as a `RecordedRequest` in `requests`, collects what
the fake itself finds wrong in `problems` (a test asserts it stays empty), hands out the
script's replies one per request (`set_script`: a list consumed in order, or a callable
`(body) -> reply`; `add`), and serves the fake as an aiohttp app (`app`, every path routed to
the subclass's `_dispatch`) or from a background thread (`serve_in_thread`, the URL ending in
the subclass's `base_path`). A subclass answers in its own wire format.

Helpers for the answers: `serve_app_in_thread` (any app, on loopback), `send_sse` / `open_sse`
(an SSE response), `openai_error_body` / `openai_error_response` (the OpenAI error shape
several fakes send), `split` / `split_in` (text in streamed pieces) and `random_id`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from aiohttp import web

JSON = dict[str, Any]
ReplyT = TypeVar("ReplyT")

SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}

_ALNUM = string.ascii_letters + string.digits


def random_id(prefix: str, length: int) -> str:
    """`prefix` + `length` random letters and digits, the shape of most upstreams' ids."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def split(text: str, size: int) -> list[str]:
    """`text` in consecutive pieces of `size` characters (at least 1)."""
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def split_in(text: str, parts: int) -> list[str]:
    """`text` in up to `parts` non-empty consecutive pieces."""
    if not text:
        return []
    step = -(-len(text) // max(1, min(parts, len(text))))
    return split(text, step)


def openai_error_body(
    message: str,
    error_type: str = "invalid_request_error",
    *,
    param: str | None = None,
    code: str | int | None = None,
) -> JSON:
    """An OpenAI-shaped error body: `{"error": {message, type, param, code}}`."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def openai_error_response(
    status: int, message: str, error_type: str = "invalid_request_error", *, code: str | None = None
) -> web.Response:
    """An HTTP `status` answer with `openai_error_body`."""
    return web.json_response(openai_error_body(message, error_type, code=code), status=status)


@dataclass
class RecordedRequest:
    """What the fake received: method, path (no query), query string, headers, parsed JSON,
    and when it arrived (`received_at`, `time.monotonic()` seconds, comparable between requests
    of one process)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    json: Any
    received_at: float = 0.0

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    @property
    def messages(self) -> list[JSON]:
        if isinstance(self.json, dict) and isinstance(self.json.get("messages"), list):
            return list(self.json["messages"])
        return []


class FakeUpstream(Generic[ReplyT]):
    """A scripted upstream (see the module docstring); subclasses define `_dispatch`."""

    base_path: ClassVar[str] = ""
    """What `serve_in_thread` appends to `http://127.0.0.1:<port>` (e.g. "/v1")."""
    thread_name: ClassVar[str] = "fake-upstream"
    recorded_type: ClassVar[type[RecordedRequest]] = RecordedRequest

    requests: list[RecordedRequest]
    problems: list[str]

    def __init__(self, script: Sequence[ReplyT] | Callable[[JSON], ReplyT] | None = None) -> None:
        self.requests = []
        self.problems = []
        self._start_script(script)

    def _start_script(self, script: Sequence[ReplyT] | Callable[[JSON], ReplyT] | None) -> None:
        self._lock = threading.Lock()
        self._queue: list[ReplyT] = []
        self._responder: Callable[[JSON], ReplyT] | None = None
        self.set_script(script if script is not None else [])

    # -- script ---------------------------------------------------------------------------------

    def set_script(self, script: Sequence[ReplyT] | Callable[[JSON], ReplyT]) -> None:
        """Replace the script: a list of replies (consumed in order) or a callable."""
        with self._lock:
            if callable(script):
                self._responder, self._queue = script, []
            else:
                self._responder, self._queue = None, list(script)

    def add(self, *replies: ReplyT) -> None:
        """Append replies to a list script."""
        with self._lock:
            self._queue.extend(replies)

    def _next_reply(self, body: JSON) -> ReplyT | None:
        with self._lock:
            responder = self._responder
            if responder is None:
                return self._queue.pop(0) if self._queue else None
        return responder(body)

    # -- serving --------------------------------------------------------------------------------

    @property
    def app(self) -> web.Application:
        """A fresh `web.Application` serving this fake (state lives on the fake)."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    async def _record(self, request: web.Request) -> tuple[bytes, Any, RecordedRequest]:
        """Read and record `request`: its raw body, the body parsed as JSON (None when it is
        empty or not JSON) and the record appended to `requests`."""
        received_at = time.monotonic()
        raw = await request.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        recorded = self.recorded_type(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers=dict(request.headers),
            json=parsed,
            received_at=received_at,
        )
        with self._lock:
            self.requests.append(recorded)
        return raw, parsed, recorded

    @contextmanager
    def serve_in_thread(self, *, timeout: float = 10.0) -> Iterator[str]:
        """Serve on 127.0.0.1:<free port> from a background thread; yields the base URL
        `http://127.0.0.1:<port>` + `base_path`. Stops the server and joins the thread on exit."""
        with serve_app_in_thread(self.app, name=self.thread_name, timeout=timeout) as root:
            yield root + self.base_path


@contextmanager
def serve_app_in_thread(
    app: web.Application, *, name: str = "fake-server", timeout: float = 10.0
) -> Iterator[str]:
    """Serve `app` on 127.0.0.1:<free port> from a background thread named `name`; yields
    `http://127.0.0.1:<port>`. Stops the server and joins the thread on exit."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def start() -> None:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        state["runner"], state["port"] = runner, runner.addresses[0][1]

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as exc:  # reported to the waiting thread
            state["error"] = exc
            return
        finally:
            ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        if not ready.wait(timeout) or "error" in state:
            raise RuntimeError(f"{name} did not start: {state.get('error')!r}")
        yield f"http://127.0.0.1:{state['port']}"
    finally:
        if "runner" in state:
            cleanup = asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop)
            try:
                cleanup.result(timeout)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()


async def open_sse(
    request: web.Request, *, status: int = 200, headers: Mapping[str, str] = SSE_HEADERS
) -> web.StreamResponse:
    """A prepared streaming response with `status` and `headers` (by default `SSE_HEADERS`)."""
    response = web.StreamResponse(status=status, headers=dict(headers))
    await response.prepare(request)
    return response


async def send_sse(
    request: web.Request,
    frames: Iterable[bytes],
    *,
    status: int = 200,
    headers: Mapping[str, str] = SSE_HEADERS,
) -> web.StreamResponse:
    """A streaming response that writes `frames` (encoded SSE events) and ends."""
    response = await open_sse(request, status=status, headers=headers)
    for frame in frames:
        await response.write(frame)
    await response.write_eof()
    return response
