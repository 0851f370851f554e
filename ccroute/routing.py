"""Route selection: which provider and upstream model answer a request.

Owns: the pure decision `(requested model name, config) -> Route`, and `route_refs`, the list
of model references the configuration routes to. No I/O, no clock, no
network; it runs on every request, so it is a few dictionary look-ups.

Must not import: aiohttp, typer, rich, keyring, or anything from ccroute but `config`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccroute.config import Config, ProviderConfig, split_model_ref
from ccroute.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Route:
    """Where one request goes.

    Attributes:
        provider: the configured provider that serves the request.
        model: the model name to send upstream (the part after `provider/`).
        reason: why this route was chosen, for logs and `ccroute route explain` (`explicit`,
            `default`).
    """

    provider: ProviderConfig
    model: str
    reason: str


def resolve(model: str, config: Config) -> Route:
    """Choose the route for a request naming `model`.

    A `provider/model` or `provider,model` reference whose provider is configured goes straight
    there (so `claude --model openrouter/deepseek/deepseek-chat` and `/model` inside Claude Code
    can pick any model); anything else, Claude Code's `claude-*` names included, takes
    `router.default`.

    Raises:
        ConfigError: `router.default` names an unknown provider (config validation normally
            prevents this).
    """
    parts = split_model_ref(model)
    if parts is not None:
        provider = config.providers.get(parts[0])
        if provider is not None:
            return Route(provider=provider, model=parts[1], reason="explicit")
    default = split_model_ref(config.router.default)
    provider = config.providers.get(default[0]) if default else None
    if default is None or provider is None:
        raise ConfigError(
            f"{config.source}: router.default is {config.router.default!r}, which names no "
            "configured provider. Fix it with 'ccroute config set router.default "
            "openrouter/<model>'."
        )
    return Route(provider=provider, model=default[1], reason="default")


def route_refs(config: Config) -> list[str]:
    """Every distinct model reference the router configuration names, in configuration order.

    Today that is `router.default` alone. This is the one place that knows where routes come
    from: when the router grows more (background, think, long-context routes, ...), add them
    here and `/v1/models` lists them.
    """
    refs = [config.router.default]
    return list(dict.fromkeys(refs))
