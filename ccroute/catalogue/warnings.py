"""Route warnings: what the model catalogue says is wrong with the configured routes.

Owns: `route_warnings` — for each model reference the router uses and each provider's model
list, the problems Claude Code would run into:

- "unknown_provider": the reference names no configured provider.
- "not_listed": the provider's list has no such model (looked up as written, without Gemini's
  "models/" prefix, without OpenRouter's leading "~" or ":variant" suffix, and with Ollama's
  implied ":latest" tag).
- "no_tools": the list says the model takes no tools; Claude Code sends tools on every request
  (claude-code.md: 24 tools in print mode).
- "max_output": the model's `max_output_tokens` is below what requests will ask for — the
  provider's / model's `max_tokens` clamp when one is set, else `CLAUDE_CODE_MAX_TOKENS`
  (protocol.md §7 item 9).
- "small_context": the context window is below `MIN_CONTEXT_TOKENS`.

Where a list says nothing (a None field, or no list for the provider at all), nothing is
claimed. Which references count as routes is the caller's: pass
`ccroute.routing.route_refs(config)`, which grows with the router.

Must not import: aiohttp, typer, rich, keyring. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from ccroute.catalogue.model import ModelInfo
from ccroute.config import Config, ProviderConfig, split_model_ref

MIN_CONTEXT_TOKENS = 100_000
"""The smallest context window worth routing Claude Code to, in tokens. Its system prompt and
tool definitions alone take about 15k tokens (claude-code.md: ~78 KB for "say hi"), and it
compacts a conversation only near the window's end, so a window much below this leaves little
room for files and tool output before every turn fails with "prompt is too long"."""

CLAUDE_CODE_MAX_TOKENS = 32_000
"""The `max_tokens` Claude Code asks for when the model name is not a Claude model it knows
(claude-code.md; protocol.md §6.7). Routes reached through Claude's own names (opus, sonnet) may
ask for 64000; a provider `max_tokens` clamp caps either."""

KINDS: tuple[str, ...] = (
    "unknown_provider",
    "not_listed",
    "no_tools",
    "max_output",
    "small_context",
)


@dataclass(frozen=True, slots=True)
class RouteWarning:
    """One problem with one route.

    Attributes:
        route: the model reference as configured ("openrouter/deepseek/deepseek-chat").
        provider: its provider name ("" when the reference has none).
        model: its upstream model name.
        kind: one of `KINDS`.
        message: one or two sentences for the user, naming the fix where there is one.
    """

    route: str
    provider: str
    model: str
    kind: str
    message: str

    def to_json(self) -> dict[str, str]:
        """`{"route", "provider", "model", "kind", "message"}`."""
        return {
            "route": self.route,
            "provider": self.provider,
            "model": self.model,
            "kind": self.kind,
            "message": self.message,
        }


def route_warnings(
    routes: Sequence[str],
    config: Config,
    catalogue: Mapping[str, Sequence[ModelInfo]],
) -> list[RouteWarning]:
    """Every warning for `routes` (model references), in route order.

    `catalogue` maps a provider name to its model list (live or cached); providers missing
    from it were not listed, so their routes are only checked for an unknown provider.
    """
    found: list[RouteWarning] = []
    for route in dict.fromkeys(routes):
        found.extend(_check(route, config, catalogue))
    return found


def find_model(models: Sequence[ModelInfo], model: str) -> ModelInfo | None:
    """The entry of `models` that `model` names (see the "not_listed" rule), or None."""
    by_id = {m.id: m for m in models}
    return next((by_id[c] for c in _candidates(model) if c in by_id), None)


def _check(
    route: str, config: Config, catalogue: Mapping[str, Sequence[ModelInfo]]
) -> Iterator[RouteWarning]:
    parts = split_model_ref(route)
    if parts is None or parts[0] not in config.providers:
        provider_name, model = parts if parts is not None else ("", route)
        known = ", ".join(config.providers) or "none"
        yield RouteWarning(
            route,
            provider_name,
            model,
            "unknown_provider",
            f"{route}: no provider named {provider_name or route!r} is configured (configured: "
            f"{known}). Write routes as 'provider/model'.",
        )
        return
    provider_name, model = parts
    models = catalogue.get(provider_name)
    if models is None:
        return
    info = find_model(models, model)
    if info is None:
        yield RouteWarning(
            route,
            provider_name,
            model,
            "not_listed",
            f"{route}: {provider_name}'s model list has no {model!r}. Check the spelling with "
            f"'ccroute models --provider {provider_name} {_search_hint(model)}'.",
        )
        return
    provider = config.providers[provider_name].for_model(model)
    yield from _capability_warnings(route, provider, model, info)


def _capability_warnings(
    route: str, provider: ProviderConfig, model: str, info: ModelInfo
) -> Iterator[RouteWarning]:
    if info.supports_tools is False:
        yield RouteWarning(
            route,
            provider.name,
            model,
            "no_tools",
            f"{route}: the model does not support tool calling, and Claude Code sends tools "
            "with every request, so it cannot read, edit or run anything. Route to a model "
            "with tool support.",
        )
    requested = provider.max_tokens or CLAUDE_CODE_MAX_TOKENS
    limit = info.max_output_tokens
    if limit is not None and limit < requested:
        asked = (
            f"the max_tokens clamp of {provider.max_tokens}"
            if provider.max_tokens
            else f"Claude Code's default of {CLAUDE_CODE_MAX_TOKENS}"
        )
        yield RouteWarning(
            route,
            provider.name,
            model,
            "max_output",
            f"{route}: the model writes at most {limit} tokens, below {asked}, so requests may "
            f"be refused. Run: ccroute config set "
            f"'providers.{provider.name}.models.\"{model}\".max_tokens' {limit}",
        )
    context = info.context_length
    if context is not None and context < MIN_CONTEXT_TOKENS:
        yield RouteWarning(
            route,
            provider.name,
            model,
            "small_context",
            f"{route}: its context window is {context} tokens, below {MIN_CONTEXT_TOKENS}; "
            "Claude Code's system prompt and tools alone take about 15000, so long sessions "
            "will fail with 'prompt is too long'. Prefer a model with a larger window.",
        )


def _candidates(model: str) -> list[str]:
    """The ids `model` may be listed under, most specific first."""
    names = [model, model.removeprefix("models/")]
    bare = model.removeprefix("~")
    names.append(bare)
    head, colon, variant = bare.rpartition(":")
    if colon and head and variant and "/" not in variant:
        names.append(head)
    elif ":" not in bare:
        names.append(f"{bare}:latest")
    return list(dict.fromkeys(names))


def _search_hint(model: str) -> str:
    """A short search term for `model`: its last path segment without a ":tag"."""
    return model.rsplit("/", 1)[-1].split(":", 1)[0] or model
