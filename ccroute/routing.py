"""Route selection: which provider(s) and upstream model(s) answer a request.

Owns: the routing decision `decide(req, config, input_tokens=..., session_id=..., profile=...)`
→ `Decision` (the route's name, its load-balanced targets and strategy, its fallbacks, the
reason, and the request to send), the older `resolve(model, config) -> Route`, and
`route_refs`, every model reference the configuration routes to. No I/O, no clock, no network:
the user's `router.custom` function is loaded and called by `ccroute.custom_route`. It runs on
every request, so it never serialises or tokenises the request: it reads a few fields and walks
the message blocks once.

Must not import: aiohttp, typer, rich, keyring, or anything from ccroute but `config`,
`custom_route`, `route_match` (what it reads from the request), `errors` and
`translate.messages` (the request's type).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from ccroute.config import Config, ProviderConfig, RouterConfig, split_model_ref
from ccroute.config.model import RefEntry
from ccroute.custom_route import call_custom
from ccroute.errors import ConfigError
from ccroute.route_match import has_image, rule_matches, subagent_tag
from ccroute.translate.messages import MessagesRequest

THINK_EFFORTS = frozenset({"xhigh", "max"})
"""`output_config.effort` values that count as "thinking requested" (see `decide`)."""


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


@dataclass(frozen=True, slots=True)
class RouteTarget:
    """One place a request may go: `provider`, upstream `model`, `weight` (>= 1, "weighted")."""

    provider: ProviderConfig
    model: str  # upstream model name
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Decision:
    """The routing decision for one request.

    Attributes:
        route: "explicit" | "default" | "background" | "think" | "long_context" |
            "web_search" | "image" | "subagent" | "rule:<name>" | "custom" | "model:<pattern>".
        targets: >= 1; the load-balanced alternatives of the chosen route.
        strategy: "priority" | "round-robin" | "weighted" | "least-busy" (always "priority"
            for a single target).
        fallbacks: tried in order after the targets fail with a fallback-able error; never
            repeats a target.
        reason: one human sentence: why this route.
        request: what to send: the request itself, or a copy with the subagent tag removed.
    """

    route: str
    targets: tuple[RouteTarget, ...]
    strategy: str
    fallbacks: tuple[RouteTarget, ...]
    reason: str
    request: MessagesRequest


def decide(
    req: MessagesRequest,
    config: Config,
    *,
    input_tokens: int,
    session_id: str | None = None,
    profile: str | None = None,
) -> Decision:
    """Choose the route for `req`; the first of these that applies wins:

    1. explicit: `model` is a `provider/model` (or `provider,model`) ref to a configured provider.
    2. subagent: a system text block, or the first user message, starts with the tag
       `<CCR-SUBAGENT-MODEL>provider,model</CCR-SUBAGENT-MODEL>` naming a configured provider;
       `Decision.request` is a copy without the tag.
    3. `rule:<name>`: the first `[[router.rules]]` entry all of whose conditions hold (model
       pattern, min/max input tokens, keyword or regex in the latest user text, a tool name,
       the session id).
    4. custom: `router.custom`'s function returned a ref (its failure or a ref to an unknown
       provider is said in the reason, and routing goes on).
    5. web_search: a server tool whose `type` starts with "web_search" (protocol.md §6.4).
    6. image: an image block anywhere in `messages`, inside `tool_result` content too.
    7. long_context: `input_tokens` > `router.long_context_threshold`.
    8. think: `output_config.effort` is "xhigh" or "max". Not the `thinking` field: Claude
       Code sends `thinking: {"type": "adaptive"}` with effort "high" on every request to an
       unrecognised model name (protocol.md §1.3, §6.4), and `{"type": "enabled",
       "budget_tokens": 31999}` on every haiku request (claude-code.md), so only an effort
       raised above Claude Code's default says the user asked for more thinking.
    9. background: `model` contains "haiku" (Claude Code's small/fast model, any case).
    10. `model:<pattern>`: the first `[router.models]` pattern (fnmatch, case-insensitive)
        matching `model`.
    11. default: `router.default`.
    Steps 5-9 apply only when that route is configured. `profile` replaces `[router]` by
    `[profiles.<profile>.router]` merged over it. Fallbacks are `[router.fallbacks]`'s entry
    for the route (its name; a rule's name for a rule), else the default route's, except that
    explicit and subagent choices only use `fallbacks.explicit` / `fallbacks.subagent`.
    `input_tokens` is the caller's estimate (`translate.tokens.estimate_input_tokens`).

    Raises:
        ConfigError: `profile` is not configured.
    """
    router = _router(config, profile)
    providers = config.providers
    model = req.get("model", "")
    request = req

    explicit = _targets_of_ref(model, providers)
    if explicit is not None:
        reason = f"the request names {model!r}, a configured provider's model"
        return _decision(
            "explicit",
            explicit,
            reason,
            router=router,
            providers=providers,
            request=request,
            own_fallbacks_only="explicit",
        )

    tagged = subagent_tag(req, providers)
    if tagged is not None:
        ref, request = tagged
        targets = _targets_of_ref(ref, providers)
        assert targets is not None
        reason = f"the prompt starts with a subagent tag naming {ref!r}"
        return _decision(
            "subagent",
            targets,
            reason,
            router=router,
            providers=providers,
            request=request,
            own_fallbacks_only="subagent",
        )

    for rule in router.rules:
        if rule_matches(rule, request, input_tokens, session_id):
            reason = f"rule {rule.name!r} matches the request"
            targets = _targets(rule.route, providers)
            return _decision(
                f"rule:{rule.name}",
                targets,
                reason,
                router=router,
                providers=providers,
                request=request,
            )

    custom_note = ""
    if router.custom is not None:
        custom_ref, error = call_custom(router.custom, request)
        custom = _targets_of_ref(custom_ref, providers) if custom_ref else None
        if custom is not None:
            reason = f"router.custom returned {custom_ref!r}"
            return _decision(
                "custom", custom, reason, router=router, providers=providers, request=request
            )
        if error is None and custom_ref:
            error = f"router.custom returned {custom_ref!r}, which names no configured provider"
        custom_note = f" ({error})" if error else ""

    scenario = _scenario(request, router, input_tokens)
    if scenario is not None:
        name, reason = scenario
        targets = _targets(router.route(name), providers)
        return _decision(
            name, targets, reason + custom_note, router=router, providers=providers, request=request
        )

    lowered = model.lower()
    for pattern, refs in router.models.items():
        if fnmatchcase(lowered, pattern):
            reason = f"the model {model!r} matches router.models pattern {pattern!r}"
            targets = _targets(refs, providers)
            return _decision(
                f"model:{pattern}",
                targets,
                reason,
                router=router,
                providers=providers,
                request=request,
            )

    reason = f"no other route applies to {model!r}, so router.default answers" + custom_note
    targets = _targets(router.route("default"), providers)
    return _decision(
        "default", targets, reason, router=router, providers=providers, request=request
    )


def _router(config: Config, profile: str | None) -> RouterConfig:
    if profile is None:
        return config.router
    router = config.profiles.get(profile)
    if router is None:
        known = ", ".join(config.profiles) or "none"
        raise ConfigError(
            f"{config.source}: no profile {profile!r} is configured (configured: {known}). "
            f"Add a [profiles.{profile}.router] table to the file."
        )
    return router


def _targets_of_ref(
    ref: str, providers: Mapping[str, ProviderConfig]
) -> tuple[RouteTarget, ...] | None:
    parts = split_model_ref(ref)
    if parts is None:
        return None
    provider = providers.get(parts[0])
    return None if provider is None else (RouteTarget(provider, parts[1]),)


def _targets(
    refs: Iterable[RefEntry], providers: Mapping[str, ProviderConfig]
) -> tuple[RouteTarget, ...]:
    """Refs → targets; config validation guarantees each names a configured provider."""
    out = []
    for entry in refs:
        parts = split_model_ref(entry.ref)
        provider = providers.get(parts[0]) if parts else None
        if parts is None or provider is None:
            raise ConfigError(
                f"the route ref {entry.ref!r} names no configured provider. Fix it in the "
                "[router] table (see 'ccroute config show')."
            )
        out.append(RouteTarget(provider, parts[1], entry.weight))
    return tuple(out)


def _decision(
    route: str,
    targets: tuple[RouteTarget, ...],
    reason: str,
    *,
    router: RouterConfig,
    providers: Mapping[str, ProviderConfig],
    request: MessagesRequest,
    own_fallbacks_only: str | None = None,
) -> Decision:
    key = own_fallbacks_only or route.removeprefix("rule:")
    refs = router.fallbacks.get(key)
    if refs is None and own_fallbacks_only is None:
        refs = router.fallbacks.get("default", ())
    chosen = {(t.provider.name, t.model) for t in targets}
    fallbacks = tuple(
        t for t in _targets(refs or (), providers) if (t.provider.name, t.model) not in chosen
    )
    strategy = router.strategy if len(targets) > 1 else "priority"
    return Decision(route, targets, strategy, fallbacks, reason, request)


def _scenario(
    req: MessagesRequest, router: RouterConfig, input_tokens: int
) -> tuple[str, str] | None:
    """(route, reason) of the first configured scenario route that applies (steps 5-9)."""
    routes = router.routes
    if "web_search" in routes and any(
        str(tool.get("type", "")).startswith("web_search") for tool in req.get("tools") or ()
    ):
        return "web_search", "the request offers the web_search server tool"
    if "image" in routes and has_image(req.get("messages", ())):
        return "image", "the conversation contains an image"
    if "long_context" in routes and input_tokens > router.long_context_threshold:
        return "long_context", (
            f"about {input_tokens} input tokens exceed router.long_context_threshold "
            f"({router.long_context_threshold})"
        )
    output_config = req.get("output_config")
    effort = output_config.get("effort") if isinstance(output_config, dict) else None
    if "think" in routes and effort in THINK_EFFORTS:
        return "think", f"the request asks for effort {effort!r}"
    if "background" in routes and "haiku" in req.get("model", "").lower():
        return "background", f"{req.get('model')!r} is Claude Code's haiku-class model"
    return None


def route_refs(config: Config) -> list[str]:
    """Every distinct model reference the configuration routes to, in configuration order.

    The scenario routes, `[router.models]`, the rules and `[router.fallbacks]` of `[router]`,
    then of each profile. `/v1/models` lists these and the catalogue warns about them.
    """
    refs: list[str] = []
    for router in (config.router, *config.profiles.values()):
        refs += [router.default]
        for name in router.routes:
            refs += [e.ref for e in router.route(name)]
        for table in (router.models, router.fallbacks):
            refs += [e.ref for entries in table.values() for e in entries]
        refs += [e.ref for rule in router.rules for e in rule.route]
    return list(dict.fromkeys(refs))
