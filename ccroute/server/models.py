"""`GET /v1/models` and `GET /v1/models/{model_id}`: ccroute's routes in Anthropic's model shape.

Owns: the Anthropic model object for each route `ccroute.routing.route_refs` names
(`model_object`), Anthropic's cursor pagination over them (`models_page`), and the two
thin handlers. Everything but the handlers is pure: plain data in, plain data out, no aiohttp,
no clock (protocol.md §2.7).

A listed id is the model reference itself ("openrouter/anthropic/claude-sonnet-4.5"), which
`ccroute.routing` sends straight to that provider, so whatever a client picks from the list
works as a model name. Claude Code's gateway discovery keeps only ids containing "claude" or
"anthropic" (protocol.md §6.7), so routes to other models are listed but not offered in its
picker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from ccroute.config import Config, split_model_ref
from ccroute.errors import TranslationError
from ccroute.routing import route_refs
from ccroute.server.guards import error_response
from ccroute.server.state import CONFIG

#: `created_at` of every listed model. Routes have no release date, and Anthropic's model
#: objects use the epoch when one is unknown; a constant also keeps the list stable across
#: restarts (Claude Code caches it).
CREATED_AT = "1970-01-01T00:00:00Z"

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


def model_object(ref: str, config: Config) -> dict[str, Any]:
    """The Anthropic model object for model reference `ref`.

    `display_name` reads "<model> via <provider>"; `max_tokens` is present when the provider
    clamps output tokens.
    """
    parts = split_model_ref(ref)
    provider, model = parts if parts is not None else ("", ref)
    obj: dict[str, Any] = {
        "type": "model",
        "id": ref,
        "display_name": f"{model} via {provider}" if provider else ref,
        "created_at": CREATED_AT,
        "lifecycle": "active",
    }
    configured = config.providers.get(provider)
    if configured is not None:
        cap = configured.for_model(model).max_tokens
        if cap is not None:
            obj["max_tokens"] = cap
    return obj


def route_models(config: Config) -> list[dict[str, Any]]:
    """The model objects of every configured route, in `route_refs` order."""
    return [model_object(ref, config) for ref in route_refs(config)]


def find_model(models: Sequence[dict[str, Any]], model_id: str) -> dict[str, Any] | None:
    """The model whose id is `model_id`, or None."""
    return next((m for m in models if m["id"] == model_id), None)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise TranslationError(
            f"limit: must be an integer from 1 to {MAX_LIMIT}, got {raw!r}. Omit it for "
            f"{DEFAULT_LIMIT} models per page."
        )
    return int(text)


def _position(ids: list[str], name: str, value: str) -> int:
    try:
        return ids.index(value)
    except ValueError:
        raise TranslationError(
            f"{name}: no model has id {value!r}. Use an id from a previous page's data (its "
            "first_id or last_id), or omit it to start from the beginning."
        ) from None


def models_page(
    models: Sequence[dict[str, Any]],
    *,
    limit: str | None = None,
    before_id: str | None = None,
    after_id: str | None = None,
) -> dict[str, Any]:
    """One page of `models` with Anthropic's list semantics, from raw query values.

    Without a cursor the page is the first `limit` models; with `after_id`, the `limit` models
    right after that id; with `before_id`, the `limit` models right before it. `has_more` says
    whether more models lie beyond the page in the direction of travel; `first_id` and
    `last_id` are the page's ends (None for an empty page). Empty query values count as absent.

    Raises:
        TranslationError: `limit` is not an integer from 1 to 1000, a cursor names no listed
            model, or both cursors are given (the server answers 400 invalid_request_error).
    """
    size = _limit(limit)
    if before_id and after_id:
        raise TranslationError(
            "before_id, after_id: give at most one of them (before_id pages backwards, after_id "
            "forwards)."
        )
    ids = [m["id"] for m in models]
    if before_id:
        end = _position(ids, "before_id", before_id)
        start = max(0, end - size)
        has_more = start > 0
    else:
        start = _position(ids, "after_id", after_id) + 1 if after_id else 0
        end = min(len(ids), start + size)
        has_more = end < len(ids)
    data = list(models[start:end])
    return {
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


async def handle_list_models(request: web.Request) -> web.Response:
    """`GET /v1/models?limit=&before_id=&after_id=`: the configured routes, one page of them."""
    query = request.query
    page = models_page(
        route_models(request.app[CONFIG]),
        limit=query.get("limit"),
        before_id=query.get("before_id") or None,
        after_id=query.get("after_id") or None,
    )
    return web.json_response(page)


async def handle_get_model(request: web.Request) -> web.Response:
    """`GET /v1/models/{model_id}`: one route's model object; the id may contain slashes."""
    model_id = request.match_info["model_id"]
    found = find_model(route_models(request.app[CONFIG]), model_id)
    if found is None:
        return error_response(
            404,
            "not_found_error",
            f"model: {model_id!r} is not one of ccroute's configured routes. List them with "
            "GET /v1/models; any 'provider/model' reference still works as a model name.",
        )
    return web.json_response(found)
