"""Provider model lists → `ModelInfo`: one parser per listing format.

Owns: reading each provider family's model-list JSON (`parse_listing`), the follow-up query for
the next page of a paged listing (`next_page`), and merging Ollama's per-model details
(`merge_ollama_show`). A field a listing does not carry stays None ("unknown"); a capability
is False only when the listing says so. Entries without a usable id are skipped; a repeated id
keeps its first entry.

Formats (the name is `Listing.format` in `ccroute.catalogue.sources`):
- "openrouter" — `GET /api/v1/models` (protocol.md §4.9): `data[]` with `id`, `name`,
  `created` (unix), `context_length`, `pricing` (strings, USD per token: `prompt`,
  `completion`, `input_cache_read`, `input_cache_write`; "-1" = price varies),
  `top_provider.max_completion_tokens`, `supported_parameters` ("tools", "reasoning",
  "include_reasoning") and `architecture.input_modalities` ("image").
- "openai" — OpenAI-style `GET /v1/models`: `{"object":"list","data":[{"id","object",
  "created","owned_by"}]}`; capabilities unknown. Servers' extra fields are read when present:
  vLLM's `max_model_len`, Groq's `context_window` and `max_completion_tokens` (peer evidence:
  vLLM's ModelCard; tidyllm's Groq client). A list whose entries carry OpenRouter's fields
  (`pricing`, `architecture`, `top_provider`, `supported_parameters`) is read as "openrouter",
  so OpenRouter-compatible gateways get their prices and capabilities shown.
- "anthropic" — `GET /v1/models` (protocol.md §2.7; anthropic-sdk-python `types/model_info.py`,
  `model_capabilities.py`): `data[]` with `id`, `display_name`, `created_at` (RFC 3339; the
  epoch means unknown), `max_input_tokens`, `max_tokens`, and `capabilities` whose entries are
  `{"supported": bool}` (`image_input`, `thinking`); paged by `has_more` + `last_id`.
- "gemini" — `GET /v1beta/models` (protocol.md §5.1; ai.google.dev REST resource `Model`):
  `models[]` with `name` ("models/gemini-2.5-pro"), `displayName`, `inputTokenLimit`,
  `outputTokenLimit`, `supportedGenerationMethods`, and `thinking` (true on thinking models;
  absent on the others, so absence means False once any entry of the list has it); paged by
  `nextPageToken`. A model without "generateContent" cannot chat, so its tools are False.
- "ollama" — `GET /api/tags` (docs.ollama.com/api/tags): `models[]` with `name`/`model`,
  `details{family, parameter_size, ...}`; no limits or capabilities, which `POST /api/show`
  adds per model: `capabilities` ("completion", "tools", "thinking", "vision") and
  `model_info["<architecture>.context_length"]` (`merge_ollama_show`).
- "lmstudio" — LM Studio `GET /api/v0/models` (lmstudio.ai/docs/api/rest-api): `data[]` with
  `id`, `type` ("llm" | "vlm" | "embeddings"), `max_context_length` and, in newer versions,
  `capabilities` (["tool_use"]). LM Studio can prompt any llm into tool calls, so only
  "tool_use" (True) and embeddings models (False) are certain.

Must not import: aiohttp, typer, rich, keyring. Pure: JSON in, `ModelInfo` out; no I/O, no
clock.

Errors: a body that is not the format's envelope (not an object, no list where the list
belongs) raises `ValueError` naming what is missing; the fetcher reports it per provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ccroute.catalogue.model import ModelInfo

FORMATS: tuple[str, ...] = ("openrouter", "openai", "anthropic", "gemini", "ollama", "lmstudio")
"""The listing formats `parse_listing` reads."""

SOURCES: Mapping[str, str] = {
    "openrouter": "openrouter /api/v1/models",
    "openai": "openai /v1/models",
    "anthropic": "anthropic /v1/models",
    "gemini": "gemini /v1beta/models",
    "ollama": "ollama /api/tags",
    "lmstudio": "lmstudio /api/v0/models",
}
"""`ModelInfo.source` for each format: the format and the endpoint it documents."""

_PER_MILLION = Decimal(1_000_000)
_OPENROUTER_FIELDS = ("pricing", "architecture", "top_provider", "supported_parameters")
_LMSTUDIO_IMAGES: Mapping[str, bool] = {"vlm": True, "llm": False, "embeddings": False}


def parse_listing(fmt: str, body: object, *, provider: str) -> list[ModelInfo]:
    """The models in `body`, a decoded JSON answer in listing format `fmt` (one of `FORMATS`).

    `provider` is the configured provider name stamped on every `ModelInfo`.

    Raises:
        ValueError: `fmt` is unknown, or `body` is not that format's envelope.
    """
    match fmt:
        case "openrouter":
            infos = _openrouter(_entries(body, "data"), provider)
        case "openai":
            entries = _entries(body, "data")
            if any(key in entry for entry in entries for key in _OPENROUTER_FIELDS):
                infos = _openrouter(entries, provider)
            else:
                infos = _openai(entries, provider)
        case "anthropic":
            infos = _anthropic(_entries(body, "data"), provider)
        case "gemini":
            infos = _gemini(_entries(body, "models"), provider)
        case "ollama":
            infos = _ollama(_entries(body, "models"), provider)
        case "lmstudio":
            infos = _lmstudio(_entries(body, "data"), provider)
        case _:
            raise ValueError(f"unknown listing format {fmt!r}; known: {', '.join(FORMATS)}")
    return _unique(infos)


def next_page(fmt: str, body: object) -> dict[str, str] | None:
    """The query parameters that fetch the page after `body`, or None when it was the last.

    Anthropic: `{"after_id": last_id}` while `has_more` is true (protocol.md §2.7). Gemini:
    `{"pageToken": nextPageToken}` while the token is non-empty. Other formats are one page.
    """
    if not isinstance(body, dict):
        return None
    match fmt:
        case "anthropic":
            last = body.get("last_id")
            if body.get("has_more") is True and isinstance(last, str) and last:
                return {"after_id": last}
        case "gemini":
            token = body.get("nextPageToken")
            if isinstance(token, str) and token:
                return {"pageToken": token}
    return None


def merge_ollama_show(info: ModelInfo, body: object) -> ModelInfo:
    """`info` (from /api/tags) with what Ollama's `POST /api/show` answer adds.

    `capabilities` gives tools ("tools"), reasoning ("thinking") and images ("vision") — all
    False when the list is present without them; `model_info["<general.architecture>.
    context_length"]` gives the context window. A body without those fields changes nothing.
    """
    if not isinstance(body, dict):
        return info
    changes: dict[str, Any] = {}
    caps = body.get("capabilities")
    if isinstance(caps, list):
        names = {c for c in caps if isinstance(c, str)}
        changes["supports_tools"] = "tools" in names
        changes["supports_reasoning"] = "thinking" in names
        changes["supports_images"] = "vision" in names
    details = body.get("model_info")
    if isinstance(details, dict):
        arch = details.get("general.architecture")
        context = _count(details.get(f"{arch}.context_length")) if isinstance(arch, str) else None
        if context is None:
            context = next(
                (
                    n
                    for key, value in details.items()
                    if key.endswith(".context_length") and (n := _count(value)) is not None
                ),
                None,
            )
        if context is not None:
            changes["context_length"] = context
    return replace(info, **changes) if changes else info


# --- one reader per format ------------------------------------------------------------------


def _openrouter(entries: list[dict[str, Any]], provider: str) -> Iterator[ModelInfo]:
    for entry in entries:
        model_id = _text(entry.get("id"))
        if model_id is None:
            continue
        pricing = _object(entry.get("pricing"))
        top = _object(entry.get("top_provider"))
        params = _strings(entry.get("supported_parameters"))
        modalities = _strings(_object(entry.get("architecture")).get("input_modalities"))
        yield ModelInfo(
            provider=provider,
            id=model_id,
            name=_text(entry.get("name")),
            context_length=_count(entry.get("context_length")) or _count(top.get("context_length")),
            max_output_tokens=_count(top.get("max_completion_tokens")),
            input_price=_per_million(pricing.get("prompt")),
            output_price=_per_million(pricing.get("completion")),
            cache_read_price=_per_million(pricing.get("input_cache_read")),
            cache_write_price=_per_million(pricing.get("input_cache_write")),
            supports_tools=None if params is None else "tools" in params,
            supports_reasoning=(
                None if params is None else bool({"reasoning", "include_reasoning"} & params)
            ),
            supports_images=None if modalities is None else "image" in modalities,
            created=_count(entry.get("created")),
            source=SOURCES["openrouter"],
        )


def _openai(entries: list[dict[str, Any]], provider: str) -> Iterator[ModelInfo]:
    for entry in entries:
        model_id = _text(entry.get("id"))
        if model_id is None:
            continue
        context = next(
            (
                n
                for key in ("max_model_len", "context_window", "context_length")
                if (n := _count(entry.get(key))) is not None
            ),
            None,
        )
        yield ModelInfo(
            provider=provider,
            id=model_id,
            context_length=context,
            max_output_tokens=_count(entry.get("max_completion_tokens")),
            created=_count(entry.get("created")),
            source=SOURCES["openai"],
        )


def _anthropic(entries: list[dict[str, Any]], provider: str) -> Iterator[ModelInfo]:
    for entry in entries:
        model_id = _text(entry.get("id"))
        if model_id is None:
            continue
        caps = _object(entry.get("capabilities"))
        yield ModelInfo(
            provider=provider,
            id=model_id,
            name=_text(entry.get("display_name")),
            context_length=_count(entry.get("max_input_tokens")),
            max_output_tokens=_count(entry.get("max_tokens")),
            supports_reasoning=_supported(caps.get("thinking")),
            supports_images=_supported(caps.get("image_input")),
            created=_rfc3339(entry.get("created_at")),
            source=SOURCES["anthropic"],
        )


def _gemini(entries: list[dict[str, Any]], provider: str) -> Iterator[ModelInfo]:
    thinking_known = any("thinking" in entry for entry in entries)
    for entry in entries:
        name = _text(entry.get("name")) or _text(entry.get("baseModelId"))
        if name is None:
            continue
        methods = _strings(entry.get("supportedGenerationMethods"))
        thinking = entry.get("thinking")
        yield ModelInfo(
            provider=provider,
            id=name.removeprefix("models/"),
            name=_text(entry.get("displayName")),
            context_length=_count(entry.get("inputTokenLimit")),
            max_output_tokens=_count(entry.get("outputTokenLimit")),
            supports_tools=False
            if methods is not None and "generateContent" not in methods
            else None,
            supports_reasoning=(
                thinking if isinstance(thinking, bool) else (False if thinking_known else None)
            ),
            source=SOURCES["gemini"],
        )


def _ollama(entries: list[dict[str, Any]], provider: str) -> Iterator[ModelInfo]:
    for entry in entries:
        model_id = _text(entry.get("name")) or _text(entry.get("model"))
        if model_id is None:
            continue
        yield ModelInfo(provider=provider, id=model_id, source=SOURCES["ollama"])


def _lmstudio(entries: list[dict[str, Any]], provider: str) -> Iterator[ModelInfo]:
    for entry in entries:
        model_id = _text(entry.get("id"))
        if model_id is None:
            continue
        kind = entry.get("type")
        caps = _strings(entry.get("capabilities"))
        tools: bool | None = None
        if kind == "embeddings":
            tools = False
        elif caps is not None and "tool_use" in caps:
            tools = True
        images = _LMSTUDIO_IMAGES.get(kind) if isinstance(kind, str) else None
        yield ModelInfo(
            provider=provider,
            id=model_id,
            context_length=_count(entry.get("max_context_length")),
            supports_tools=tools,
            supports_images=images,
            source=SOURCES["lmstudio"],
        )


# --- small readers --------------------------------------------------------------------------


def _entries(body: object, key: str) -> list[dict[str, Any]]:
    """The objects in `body[key]`; non-object entries are skipped."""
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object with a {key!r} list, got {type(body).__name__}")
    items = body.get(key)
    if not isinstance(items, list):
        raise ValueError(f"the answer has no {key!r} list")
    return [item for item in items if isinstance(item, dict)]


def _unique(infos: Iterable[ModelInfo]) -> list[ModelInfo]:
    seen: dict[str, ModelInfo] = {}
    for info in infos:
        seen.setdefault(info.id, info)
    return list(seen.values())


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> set[str] | None:
    """The strings in a JSON list, or None when `value` is not a list (field absent)."""
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else None


def _count(value: object) -> int | None:
    """A positive integer count (tokens, seconds); anything else is unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = int(value)
    return number if number > 0 and number == value else None


def _supported(value: object) -> bool | None:
    """Anthropic's `{"supported": bool}` capability entry."""
    flag = _object(value).get("supported")
    return flag if isinstance(flag, bool) else None


def _per_million(value: object) -> float | None:
    """An OpenRouter price (a string or number, USD per token) in USD per million tokens.

    Negative prices (OpenRouter's "-1" for a router whose price varies) and unparsable values
    are unknown.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        per_token = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not per_token.is_finite() or per_token < 0:
        return None
    return float(per_token * _PER_MILLION)


def _rfc3339(value: object) -> int | None:
    """Unix seconds of an RFC 3339 time; the epoch (Anthropic's "unknown") and junk are None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    seconds = int(moment.timestamp())
    return seconds if seconds > 0 else None
