"""The configuration as the rest of ccroute reads it: frozen dataclasses and built-ins.

Owns: `ServerConfig`, `LogConfig` (with `LOG_FORMATS`), `CodeConfig`, `ProviderConfig` (and
its per-model `ModelOverrides`, applied by `ProviderConfig.for_model`), `RouterConfig` (with
`RefEntry`, `RouteRule`, `ROUTE_NAMES`, `STRATEGIES`), `Config`, the built-in providers
(`BUILTIN_PROVIDERS`), the wires a provider may use (`KNOWN_WIRES`), the choices of the
per-provider switches (`REASONING_MODES`, `CACHE_CONTROL_MODES`), `FrozenTable` and
`split_model_ref`.
Plain data only: no file access, no validation messages.

Must not import: typer, rich, aiohttp, keyring, or any other `ccroute.config` module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

KNOWN_WIRES: tuple[str, ...] = ("openai", "anthropic", "gemini", "openai-responses")
"""Values `providers.<name>.wire` may take (each has an entry in `ccroute.wires.WIRES`)."""

AUTH_MODES: tuple[str, ...] = ("auto", "bearer", "x-api-key", "x-goog-api-key")
"""Values of `providers.<name>.auth`: the header the key travels in ("auto": the wire's own)."""

BETA_MODES: tuple[str, ...] = ("keep", "strip")
"""Values of `providers.<name>.betas` (anthropic wire): forward Claude Code's `anthropic-beta`
header and its paired body fields, or strip both (protocol.md §6.2, §6.5)."""

REASONING_MODES: tuple[str, ...] = ("auto", "openrouter", "effort", "none")
"""Values of `providers.<name>.reasoning`: how reasoning controls are sent upstream."""

CACHE_CONTROL_MODES: tuple[str, ...] = ("auto", "keep", "strip")
"""Values of `providers.<name>.cache_control`: what happens to Anthropic cache breakpoints."""


class FrozenTable(dict[str, Any]):
    """A read-only dict for TOML tables passed upstream verbatim (e.g. `provider_routing`).

    A dict subclass so `json.dumps` takes it as is; every mutating method raises TypeError.
    Nested tables are FrozenTables and arrays are tuples, so the whole value is immutable.
    Copying and pickling give an equal FrozenTable.
    """

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("configuration tables are read-only")

    __setitem__ = _read_only
    __delitem__ = _read_only
    __ior__ = _read_only
    clear = _read_only
    pop = _read_only
    popitem = _read_only
    setdefault = _read_only
    update = _read_only

    def __reduce__(self) -> tuple[type[FrozenTable], tuple[dict[str, Any]]]:
        return (type(self), (dict(self),))


@dataclass(frozen=True)
class ServerConfig:
    """The local proxy: its listening address, `host` (name or IP) and `port` (1-65535), and
    `stay`: keep a daemon that `ccroute code` started running after its last session ends."""

    host: str = "127.0.0.1"
    port: int = 3456
    stay: bool = False


LOG_FORMATS: tuple[str, ...] = ("text", "json")
"""Values of `log.format`: the daemon log's line format (JSON: one object per line)."""


@dataclass(frozen=True)
class LogConfig:
    """`[log]`: what the daemon records about requests.

    Attributes:
        format: the daemon log's line format, "text" or "json" (one JSON object per line, with
            the request id; secrets redacted either way).
        usage: record one row per request in the usage store (`ccroute usage`, `ccroute logs`).
        bodies: also store each request's and response's body in the usage store (off by
            default: bodies hold the user's code).
        usage_max_mb: size in MB past which the usage store rotates (the older generation is
            kept once, then dropped).
    """

    format: str = "text"
    usage: bool = True
    bodies: bool = False
    usage_max_mb: int = 64


@dataclass(frozen=True)
class CodeConfig:
    """`[code]`: how `ccroute code` launches Claude Code.

    Attributes:
        statusline: put ccroute's status line (`ccroute statusline`) into the `--settings` file
            it passes Claude Code, unless the user's own settings define a `statusLine`
            (`ccroute code --statusline` does it for one run).
    """

    statusline: bool = False


@dataclass(frozen=True)
class ModelOverrides:
    """One upstream model's settings that differ from its provider's; None = the provider's.

    The fields mean what `ProviderConfig`'s fields of the same names mean.
    """

    reasoning: str | None = None
    return_reasoning: bool | None = None
    cache_control: str | None = None
    send_user: bool | None = None
    max_tokens: int | None = None


MODEL_OVERRIDE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ModelOverrides))
"""The provider fields a `[providers.<name>.models."<model>"]` table may override."""


@dataclass(frozen=True)
class ProviderConfig:
    """One upstream provider.

    Attributes:
        name: the `[providers.<name>]` table name; also the keyring username for its key.
        wire: the upstream protocol, one of `KNOWN_WIRES`.
        base_url: http(s) URL without a trailing slash, e.g. "https://openrouter.ai/api/v1".
        api_key_env: env var holding the key; None = the provider needs no key (local server).
        max_tokens: clamp for a request's max_tokens; None = no clamp.
        headers: extra request headers (never secrets); for a built-in provider, its default
            headers merged with the user's (the user's win; a header set to "" is not sent).
        reasoning: how reasoning controls are sent upstream, one of `REASONING_MODES`:
            "openrouter" (OpenRouter's `reasoning` object), "effort" (OpenAI's
            `reasoning_effort`), "none" (never sent), "auto" (the translator decides).
        return_reasoning: whether reasoning the model produced is sent back to it on later
            assistant turns.
        cache_control: Anthropic `cache_control` breakpoints, one of `CACHE_CONTROL_MODES`:
            "keep" (forward them), "strip" (drop them), "auto" (the translator decides).
        send_user: whether a hash of Claude Code's `metadata.user_id` goes upstream as the
            OpenAI `user` field.
        provider_routing: OpenRouter's `provider` routing object, sent verbatim (a
            `FrozenTable`, JSON-serialisable); None = not sent.
        fallback_models: OpenRouter's `models` fallback list (upstream model names, tried in
            order after the routed one); () = not sent.
        models: per-model overrides, keyed by upstream model name (read-only); see
            `for_model`.
        auth: the header the key is sent in, one of `AUTH_MODES`; "auto" = the wire's usual
            one (openai/openai-responses: `Authorization: Bearer`, anthropic: `x-api-key`,
            gemini: `x-goog-api-key`).
        betas: for the anthropic wire, one of `BETA_MODES`: "keep" forwards `anthropic-beta`
            and the beta-paired body fields; "strip" removes both halves together (stripping
            only one is a hard 400 upstream, protocol.md §6.2).
        connect_timeout: seconds to open the TCP/TLS connection to the provider (> 0).
        first_byte_timeout: seconds from sending the request until the provider's response
            headers and first body bytes arrive (> 0); past it the request may fall back.
        idle_timeout: seconds of silence allowed between two chunks of the provider's
            answer (> 0).
        total_timeout: seconds one upstream attempt may take in all; 0 = no limit.
        max_retries: retries of the same provider after a transient failure (429, 5xx,
            timeout, connection error) before falling back; 0 = none.
        retry_budget: seconds all retries of one request may spend waiting, in total.
        max_concurrency: requests in flight to this provider at once; 0 = unlimited.
        max_queue: requests that may wait for a slot when `max_concurrency` is reached; one
            more is answered 429 at once.
        breaker_failures: consecutive failed requests after which the provider is skipped
            (its circuit breaker opens).
        breaker_cooldown: seconds an open breaker waits before letting one probe through.
    """

    name: str
    wire: str
    base_url: str
    api_key_env: str | None = None
    max_tokens: int | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    reasoning: str = "auto"
    return_reasoning: bool = True
    cache_control: str = "auto"
    send_user: bool = True
    provider_routing: Mapping[str, Any] | None = None
    fallback_models: tuple[str, ...] = ()
    models: Mapping[str, ModelOverrides] = field(default_factory=lambda: MappingProxyType({}))
    auth: str = "auto"
    betas: str = "keep"
    connect_timeout: float = 10.0
    first_byte_timeout: float = 120.0
    idle_timeout: float = 300.0
    total_timeout: float = 0.0
    max_retries: int = 2
    retry_budget: float = 30.0
    max_concurrency: int = 0
    max_queue: int = 32
    breaker_failures: int = 5
    breaker_cooldown: float = 30.0

    def for_model(self, model: str) -> ProviderConfig:
        """This provider as it applies to upstream model `model`: its overrides on top.

        The overrides used are the first entry of `models` whose key equals, in this order:
        `model` itself; `model` without a leading "~" (OpenRouter's latest-version alias);
        `model` without its ":variant" suffix (the text after its last ":" when that text has
        no "/", e.g. ":free" or ":nitro"); `model` without both. So an exact entry always wins,
        and `models."deepseek/deepseek-r1"` also covers "deepseek/deepseek-r1:free" unless
        that has an entry of its own. Fields an entry leaves unset (None) keep the provider's
        value; with no matching entry the provider is returned unchanged.
        """
        if not self.models:
            return self
        overrides = next(
            (self.models[name] for name in _model_candidates(model) if name in self.models),
            None,
        )
        if overrides is None:
            return self
        changes = {
            name: value
            for name in MODEL_OVERRIDE_FIELDS
            if (value := getattr(overrides, name)) is not None
        }
        return replace(self, **changes) if changes else self


def _model_candidates(model: str) -> list[str]:
    """The names `ProviderConfig.for_model` looks `model` up by, most specific first."""
    bare = model[1:] if model.startswith("~") else model
    head, colon, variant = model.rpartition(":")
    base = head if colon and head and variant and "/" not in variant else model
    base_bare = base[1:] if base.startswith("~") else base
    return list(dict.fromkeys((model, bare, base, base_bare)))


ROUTE_NAMES: tuple[str, ...] = (
    "default",
    "background",
    "think",
    "long_context",
    "web_search",
    "image",
)
"""The scenario routes `[router]` may name (each a ref or a list of refs)."""

STRATEGIES: tuple[str, ...] = ("priority", "round-robin", "weighted", "least-busy")
"""Values of `router.strategy`: how the server picks among a route's load-balanced targets."""


@dataclass(frozen=True)
class RefEntry:
    """One model reference of a route: `ref` is "provider/model", `weight` (>= 1) its share
    under the "weighted" strategy. In TOML a plain string, or `{ ref = "p/m", weight = 3 }`."""

    ref: str
    weight: int = 1


@dataclass(frozen=True)
class RouteRule:
    """One `[[router.rules]]` entry: when every condition given holds, `route` answers.

    Attributes:
        name: the rule's name (unique); the decision's route is `rule:<name>`.
        route: the refs the rule routes to (load-balanced like a scenario route).
        model: an fnmatch pattern (case-insensitive) on the request's `model`; None = any.
        min_tokens: the estimated input tokens must be at least this; None = no bound.
        max_tokens: the estimated input tokens must be at most this; None = no bound.
        keyword: lower-case words, any of which in the last user message's text matches.
        regex: a regular expression searched in the last user message's text; None = any.
        tools: tool names, any of which among the request's `tools` matches.
        session: the `X-Claude-Code-Session-Id` the request must carry; None = any.
    """

    name: str
    route: tuple[RefEntry, ...]
    model: str | None = None
    min_tokens: int | None = None
    max_tokens: int | None = None
    keyword: tuple[str, ...] = ()
    regex: str | None = None
    tools: tuple[str, ...] = ()
    session: str | None = None


@dataclass(frozen=True)
class RouterConfig:
    """Routing, the `[router]` table (or a profile's `[profiles.<name>.router]` merged over it).

    Attributes:
        default: the first model reference "provider/model" of the default route (the one
            answering Claude Code's own names when nothing else matches).
        routes: every scenario route set (`ROUTE_NAMES`) → its refs, in configuration order;
            "default" is always present.
        long_context_threshold: input tokens (estimated) above which `long_context` applies.
        strategy: one of `STRATEGIES`, for every route with more than one ref.
        custom: "path.py:function" of a custom routing function; None = none.
        models: Claude model-name patterns (fnmatch, case-insensitive) → refs, in file order.
        fallbacks: route name (a `ROUTE_NAMES` entry, "custom", or a rule's name) → refs tried
            in order after the route's targets fail.
        rules: the `[[router.rules]]`, in file order (first match wins).
    """

    default: str = "openrouter/anthropic/claude-sonnet-4.5"
    routes: Mapping[str, tuple[RefEntry, ...]] = field(default_factory=lambda: MappingProxyType({}))
    long_context_threshold: int = 60000
    strategy: str = "priority"
    custom: str | None = None
    models: Mapping[str, tuple[RefEntry, ...]] = field(default_factory=lambda: MappingProxyType({}))
    fallbacks: Mapping[str, tuple[RefEntry, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    rules: tuple[RouteRule, ...] = ()

    def route(self, name: str) -> tuple[RefEntry, ...]:
        """The refs of scenario route `name`; () when it is not set ("default" always is)."""
        refs = self.routes.get(name, ())
        if not refs and name == "default":
            return (RefEntry(self.default),)
        return refs


@dataclass(frozen=True)
class Config:
    """The effective configuration; `source` is the file it was read from (may not exist).

    `profiles` maps a profile name to its whole router (`[profiles.<name>.router]` over
    `[router]`), for `ccroute code --profile <name>`.
    """

    server: ServerConfig
    providers: Mapping[str, ProviderConfig]
    router: RouterConfig
    source: Path
    profiles: Mapping[str, RouterConfig] = field(default_factory=lambda: MappingProxyType({}))
    log: LogConfig = field(default_factory=LogConfig)
    code: CodeConfig = field(default_factory=CodeConfig)


BUILTIN_PROVIDERS: Mapping[str, ProviderConfig] = MappingProxyType(
    {
        "openrouter": ProviderConfig(
            name="openrouter",
            wire="openai",
            base_url="https://openrouter.ai/api/v1",
            api_key_env="OPENROUTER_API_KEY",
            max_tokens=32000,
            # App attribution (protocol.md §4.1); X-Title is the legacy name of the title header.
            headers=MappingProxyType(
                {
                    "HTTP-Referer": "https://github.com/ccroute/ccroute",
                    "X-OpenRouter-Title": "ccroute",
                    "X-Title": "ccroute",
                }
            ),
        )
    }
)


def split_model_ref(ref: str) -> tuple[str, str] | None:
    """Split a model reference into `(provider, model)`.

    Accepts `provider/model` and claude-code-router's `provider,model`, split at whichever
    separator comes first: `openrouter/anthropic/claude-x` gives `("openrouter",
    "anthropic/claude-x")`. Returns None when that does not give two non-empty parts.
    """
    cut = min((i for i in (ref.find("/"), ref.find(",")) if i >= 0), default=-1)
    if cut <= 0:
        return None
    provider, model = ref[:cut].strip(), ref[cut + 1 :].strip()
    return (provider, model) if provider and model else None
