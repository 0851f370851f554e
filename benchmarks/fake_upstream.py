"""A minimal, fast OpenAI-compatible upstream for benchmarks (loopback only).

`POST /v1/chat/completions` answers a non-streaming request with a fixed `chat.completion` body
and a streaming one with `--chunks` content chunks (or N when the body contains `chunks=N`,
N <= 5000), a finish chunk, a usage chunk and `data: [DONE]` (protocol.md §3.2), each frame its
own write, back to back or, when the body contains `gap_ms=M` (M <= 100), M ms apart as a real
model's tokens arrive. It does as little work as possible so that the proxy's cost is what the
benchmark sees: it does not parse the JSON, it only looks for `"stream": true` in the raw body.

    python benchmarks/fake_upstream.py --port 0   # prints "PORT <n>" once listening

Loopback only; it runs until it is terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys

from aiohttp import web

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "bench/model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I help?"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 20000, "completion_tokens": 8, "total_tokens": 20008},
    }
).encode()


def stream_body(chunks: int) -> bytes:
    def chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
        body = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "bench/model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    parts = [chunk({"role": "assistant", "content": ""})]
    parts += [chunk({"content": f"tok{i} "}) for i in range(chunks)]
    parts.append(chunk({}, "stop"))
    usage = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "bench/model",
        "choices": [],
        "usage": {"prompt_tokens": 20000, "completion_tokens": chunks, "total_tokens": 20050},
    }
    parts.append(b"data: " + json.dumps(usage).encode() + b"\n\n")
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


_STREAM = re.compile(rb'"stream":\s*true')
_CHUNKS = re.compile(rb"chunks=(\d{1,4})\b")
_GAP = re.compile(rb"gap_ms=(\d{1,3})\b")


def make_app(chunks: int) -> web.Application:
    frames_by_count: dict[int, list[bytes]] = {}

    def frames(count: int) -> list[bytes]:
        if count not in frames_by_count:
            streamed = stream_body(count)
            frames_by_count[count] = [f + b"\n\n" for f in streamed.split(b"\n\n") if f]
        return frames_by_count[count]

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if not _STREAM.search(body):
            return web.Response(body=COMPLETION, content_type="application/json")
        asked = _CHUNKS.search(body)
        count = min(int(asked.group(1)), 5000) if asked else chunks
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        spaced = _GAP.search(body)
        gap = min(int(spaced.group(1)), 100) / 1000 if spaced else 0.0
        for i, frame in enumerate(frames(count)):
            if gap and i:
                await asyncio.sleep(gap)
            await resp.write(frame)
        # A client may close as soon as it has `[DONE]`; that is no error.
        with contextlib.suppress(ConnectionResetError):
            await resp.write_eof()
        return resp

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", completions)
    return app


async def main(port: int, chunks: int) -> None:
    runner = web.AppRunner(make_app(chunks), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"PORT {bound}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=50)
    args = parser.parse_args()
    try:
        asyncio.run(main(args.port, args.chunks))
    except KeyboardInterrupt:
        sys.exit(0)
