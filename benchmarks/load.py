"""The load client: HTTP/1.1 over loopback keep-alive connections, bounded in count and time.

Owns: `sequential` (one connection, requests one after another, per-request seconds),
`stream` (one streamed request: seconds to the first text delta and in total, for either the
Anthropic stream of the proxy or the OpenAI stream of the upstream) and `saturate` (a fixed
number of connections sending as fast as answers come, in threads, for a count or a time
limit, whichever comes first). Every request must answer 200 or the run stops with the body.

Must not import ccroute. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import threading
import time

HOST = "127.0.0.1"
#: Marks of a text delta in either wire format: Anthropic `text_delta`, OpenAI `"content":`.
_TEXT_MARKS = (b'"text_delta"', b'"content": "tok', b'"content":"tok')


class LoadError(RuntimeError):
    """A request failed (status other than 200, or an incomplete stream)."""


def _check(status: int, path: str, data: bytes) -> None:
    if status != 200:
        raise LoadError(f"POST {path} -> {status}: {data[:300]!r}")


def sequential(
    port: int, path: str, body: bytes, headers: dict[str, str], n: int, limit_s: float = 120.0
) -> list[float]:
    """POST `body` up to `n` times over one keep-alive connection (stopping after `limit_s`
    seconds); the seconds each request took, from sending to the last body byte."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    times: list[float] = []
    deadline = time.monotonic() + limit_s
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            times.append(time.perf_counter() - t0)
            _check(resp.status, path, data)
            if time.monotonic() > deadline:
                break
    finally:
        conn.close()
    return times


def stream(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[float, float]:
    """(seconds to the first text delta, total seconds) of one streamed POST on a new
    connection. The stream must end with Anthropic `message_stop` or OpenAI `[DONE]`."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        t0 = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        first: float | None = None
        tail = b""
        while True:
            piece = resp.read1(65536)
            if not piece:
                break
            if first is None and any(mark in tail + piece for mark in _TEXT_MARKS):
                first = time.perf_counter() - t0
            tail = (tail + piece)[-256:]
        total = time.perf_counter() - t0
        _check(resp.status, path, tail)
        if b"message_stop" not in tail and b"[DONE]" not in tail:
            raise LoadError(f"stream from {path} did not finish: {tail!r}")
        return (first if first is not None else total), total
    finally:
        conn.close()


def saturate(
    port: int,
    path: str,
    body: bytes,
    headers: dict[str, str],
    *,
    concurrency: int,
    total: int,
    limit_s: float,
) -> tuple[int, float]:
    """Send up to `total` POSTs over `concurrency` keep-alive connections, stopping after
    `limit_s` seconds; (requests answered, wall seconds)."""
    lock = threading.Lock()
    remaining = [total]
    done = [0]
    errors: list[BaseException] = []
    deadline = time.monotonic() + limit_s

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        try:
            while time.monotonic() < deadline and not errors:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                _check(resp.status, path, data)
                with lock:
                    done[0] += 1
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(limit_s + 60)
    elapsed = time.perf_counter() - t0
    if errors:
        raise LoadError(f"saturation load failed: {errors[0]}") from errors[0]
    return done[0], elapsed
