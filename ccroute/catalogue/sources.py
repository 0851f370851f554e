"""Where a provider's model list lives: the endpoints to GET, in order, and their headers.

Owns: `listings_for` (which listing format at which URL for a configured provider, with the
first page's query), `local_server` (recognising Ollama and LM Studio, whose native endpoints
say more than their OpenAI-compatible `/v1/models`) and `request_headers` (the provider's own
headers, its key in the wire's auth header, and the listing's fixed headers).

Rules:
- openai / openai-responses wires: `wire.models_url(base_url)` ("{base}/models"), read as
  "openrouter" for OpenRouter's host (protocol.md §4.9) and "openai" elsewhere.
- anthropic wire: `{base}/v1/models?limit=1000` with `anthropic-version: 2023-06-01`
  (protocol.md §2.7, §1.1).
- gemini wire: `{base}/models?pageSize=1000` (protocol.md §5.1; 1000 is the documented page
  maximum).
- Ollama (port 11434, or "ollama" in the provider's name or host) is asked `/api/tags` at the
  server root first; LM Studio (port 1234, or "lmstudio"/"lm-studio"/"lm_studio" in the name or
  host) `/api/v0/models`. The root is the base URL without a trailing "/v1". When the native
  endpoint fails, the wire's own list is tried next.

Must not import: aiohttp, typer, rich, keyring. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from ccroute.config import ProviderConfig
from ccroute.wires import is_openrouter, wire_for

ANTHROPIC_VERSION = "2023-06-01"
OLLAMA_PORT = 11434
LMSTUDIO_PORT = 1234
OLLAMA_SHOW_PATH = "/api/show"

LocalServer = Literal["ollama", "lmstudio"]
_LMSTUDIO_HINTS = ("lmstudio", "lm-studio", "lm_studio")


@dataclass(frozen=True, slots=True)
class Listing:
    """One model-list endpoint of a provider.

    Attributes:
        format: the `ccroute.catalogue.parse` format its answer is in.
        url: the URL to GET (no query string).
        query: the first page's query parameters, as (name, value) pairs.
        headers: fixed headers the endpoint needs besides the provider's and the key.
    """

    format: str
    url: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


def local_server(provider: ProviderConfig) -> LocalServer | None:
    """Which local server the provider looks like: "ollama", "lmstudio", or None.

    Recognised by the base URL's port (11434, 1234) or by the name appearing in the provider's
    name or host (e.g. `[providers.ollama]`, `http://ollama:11434/v1`).
    """
    parts = urlsplit(provider.base_url)
    try:
        port = parts.port
    except ValueError:
        port = None
    hints = f"{provider.name} {parts.hostname or ''}".lower()
    if port == OLLAMA_PORT or "ollama" in hints:
        return "ollama"
    if port == LMSTUDIO_PORT or any(h in hints for h in _LMSTUDIO_HINTS):
        return "lmstudio"
    return None


def server_root(base_url: str) -> str:
    """`base_url` without a trailing "/v1" (where Ollama's and LM Studio's `/api/...` live)."""
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def listings_for(provider: ProviderConfig) -> tuple[Listing, ...]:
    """The endpoints that list `provider`'s models, best first (see the module rules).

    Raises:
        ConfigError: the provider's wire is unknown.
    """
    wire = wire_for(provider.wire)
    models_url = wire.models_url(provider.base_url.rstrip("/"))
    match wire.name:
        case "anthropic":
            own = Listing(
                "anthropic",
                models_url,
                query=(("limit", "1000"),),
                headers=(("anthropic-version", ANTHROPIC_VERSION),),
            )
        case "gemini":
            own = Listing("gemini", models_url, query=(("pageSize", "1000"),))
        case _:
            own = Listing("openrouter" if is_openrouter(provider) else "openai", models_url)
    root = server_root(provider.base_url)
    match local_server(provider):
        case "ollama":
            return (Listing("ollama", f"{root}/api/tags"), own)
        case "lmstudio":
            return (Listing("lmstudio", f"{root}/api/v0/models"), own)
    return (own,)


def ollama_show_url(tags_url: str) -> str:
    """Ollama's `POST /api/show` URL next to its `/api/tags` URL."""
    return tags_url.removesuffix("/api/tags") + OLLAMA_SHOW_PATH


def request_headers(provider: ProviderConfig, listing: Listing, key: str | None) -> dict[str, str]:
    """The headers for a GET of `listing`: the provider's configured headers (those set to ""
    are not sent), the listing's fixed headers, and `key` in the wire's auth header (none
    without a key). Never logged: the result holds the key."""
    headers = {name: value for name, value in provider.headers.items() if value}
    headers.update(listing.headers)
    headers.update(wire_for(provider.wire).auth_headers(provider, key))
    return headers
