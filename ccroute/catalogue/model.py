"""One model as a provider lists it: `ModelInfo`, and its JSON form for the on-disk cache.

Owns: the frozen record every listing parser produces and the table, `--json` output and route
warnings read; `to_json` / `from_json` (tolerant: a field of the wrong type reads as unknown).

Must not import: aiohttp, typer, rich, keyring. Plain data only: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a provider's model list says about one model; None everywhere means "not said".

    Attributes:
        provider: the configured provider name (`[providers.<name>]`) the listing came from.
        id: the model name to route to, as the provider spells it ("anthropic/claude-sonnet-4.5",
            "gemini-2.5-pro" without Gemini's "models/" prefix, "qwen3:8b").
        name: a display name when the listing has one ("Anthropic: Claude Sonnet 4.5").
        context_length: the context window in tokens (input + output).
        max_output_tokens: the largest `max_tokens` the model accepts, in tokens.
        input_price, output_price: USD per million input / output tokens (0.0 = free).
        cache_read_price, cache_write_price: USD per million cached-read / cache-write input
            tokens, when the listing prices prompt caching.
        supports_tools: whether the model accepts tool (function) definitions; Claude Code
            sends tools on every request, so False makes a route unusable for it.
        supports_reasoning: whether the model can think / reason before answering.
        supports_images: whether the model accepts image input.
        created: when the model was released or added, in unix seconds.
        source: the listing it came from: "<format> <endpoint path>", e.g.
            "openrouter /api/v1/models" (see `ccroute.catalogue.parse.SOURCES`).
    """

    provider: str
    id: str
    name: str | None = None
    context_length: int | None = None
    max_output_tokens: int | None = None
    input_price: float | None = None
    output_price: float | None = None
    cache_read_price: float | None = None
    cache_write_price: float | None = None
    supports_tools: bool | None = None
    supports_reasoning: bool | None = None
    supports_images: bool | None = None
    created: int | None = None
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        """All fields as a JSON-ready dict (None stays null)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelInfo:
        """The `ModelInfo` that `to_json` produced; unknown keys are ignored.

        Raises:
            ValueError: `provider` or `id` is missing or not a non-empty string.
        """
        provider, model_id = data.get("provider"), data.get("id")
        if not isinstance(provider, str) or not provider:
            raise ValueError("model entry has no 'provider' string")
        if not isinstance(model_id, str) or not model_id:
            raise ValueError("model entry has no 'id' string")
        values: dict[str, Any] = {"provider": provider, "id": model_id}
        for f in fields(cls):
            if f.name in values or f.name not in data:
                continue
            value = data[f.name]
            if _fits(f.name, value):
                values[f.name] = (
                    float(value) if f.name in _FLOAT_FIELDS and value is not None else value
                )
        return cls(**values)


_INT_FIELDS = frozenset({"context_length", "max_output_tokens", "created"})
_FLOAT_FIELDS = frozenset({"input_price", "output_price", "cache_read_price", "cache_write_price"})
_BOOL_FIELDS = frozenset({"supports_tools", "supports_reasoning", "supports_images"})
_STR_FIELDS = frozenset({"name", "source"})


def _fits(name: str, value: object) -> bool:
    """Whether `value` may be stored in field `name` (None always may, except in `source`)."""
    if value is None:
        return name != "source"
    if name in _BOOL_FIELDS:
        return isinstance(value, bool)
    if name in _INT_FIELDS:
        return isinstance(value, int) and not isinstance(value, bool)
    if name in _FLOAT_FIELDS:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return name in _STR_FIELDS and isinstance(value, str)
