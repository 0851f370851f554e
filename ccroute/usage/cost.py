"""What a request cost: `cost_usd`, from token counts and a model's catalogue prices.

Owns: the arithmetic only. Prices are USD per million tokens (`ccroute.catalogue.model.ModelInfo`:
`input_price`, `output_price`, `cache_read_price`, `cache_write_price`); token counts are the
Anthropic usage the client saw (protocol.md §2.4), where `input_tokens` excludes the cached
reads and cache writes counted on their own.

Pure: no I/O, no clock. Must not import aiohttp, typer, rich or keyring.
"""

from __future__ import annotations

from typing import Protocol

PER_TOKENS = 1_000_000
"""Catalogue prices are per this many tokens."""


class Prices(Protocol):
    """A model's prices in USD per million tokens; None = not listed (`ModelInfo` has these)."""

    @property
    def input_price(self) -> float | None: ...
    @property
    def output_price(self) -> float | None: ...
    @property
    def cache_read_price(self) -> float | None: ...
    @property
    def cache_write_price(self) -> float | None: ...


def cost_usd(
    prices: Prices | None,
    *,
    input_tokens: int | None,
    output_tokens: int | None,
    cache_read_tokens: int | None = None,
    cache_creation_tokens: int | None = None,
) -> float | None:
    """The request's cost in USD, or None when it cannot be known.

    None when `prices` is None, when the input or output price is not listed, or when the
    input or output token count is unknown: an unknown cost is never reported as 0. Cache
    tokens (None = 0) use the cache read / write price; a listing that prices no cache reads
    or writes bills them as ordinary input (what OpenRouter does for models without a cache
    discount).
    """
    if prices is None or input_tokens is None or output_tokens is None:
        return None
    input_price, output_price = prices.input_price, prices.output_price
    if input_price is None or output_price is None:
        return None
    read_price = prices.cache_read_price
    write_price = prices.cache_write_price
    total = (
        input_tokens * input_price
        + output_tokens * output_price
        + (cache_read_tokens or 0) * (input_price if read_price is None else read_price)
        + (cache_creation_tokens or 0) * (input_price if write_price is None else write_price)
    )
    return total / PER_TOKENS
