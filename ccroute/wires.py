"""The registry of upstream wires: how each one is addressed and authenticated.

Owns: the mapping from a provider's `wire` name to its translator module (the pure
`build_request` / `parse_response` / `StreamTranslator` / `parse_error` contract of
design.md §3) plus the two facts the server needs that are not translation: the endpoint URL
and the auth headers. The server looks a wire up here and never branches on its name.

Must not import: aiohttp, typer, rich, keyring. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from ccroute.errors import ConfigError
from ccroute.translate import openai


@dataclass(frozen=True, slots=True)
class Wire:
    """One upstream wire format.

    Attributes:
        name: the `wire` value in config (`openai`).
        translator: the module implementing the translator contract.
        url: `(base_url, upstream_model, stream) -> str`, the endpoint to POST to.
        auth_headers: `(key or None) -> headers`; no headers for a keyless local server.
    """

    name: str
    translator: ModuleType
    url: Callable[[str, str, bool], str]
    auth_headers: Callable[[str | None], dict[str, str]]


def _bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def _openai_url(base_url: str, model: str, stream: bool) -> str:
    # OpenAI Chat Completions: POST {base}/chat/completions (protocol.md §3, §4.1).
    return f"{base_url}/chat/completions"


WIRES: Mapping[str, Wire] = {
    "openai": Wire("openai", openai, _openai_url, _bearer),
}


def wire_for(name: str) -> Wire:
    """Return the wire called `name`; `ConfigError` naming the known wires if there is none."""
    try:
        return WIRES[name]
    except KeyError:
        known = ", ".join(sorted(WIRES))
        raise ConfigError(f"Unknown wire {name!r}; known wires: {known}.") from None
