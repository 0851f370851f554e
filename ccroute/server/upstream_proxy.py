"""Which HTTP proxy an upstream request goes through: the environment's, read once per host.

Owns: `EnvProxies` (app key `ENV_PROXIES`), the daemon's answer to "does a request to this URL
go through HTTP_PROXY / HTTPS_PROXY (or ALL_PROXY), or does NO_PROXY exempt it?", with the
proxy's credentials when its URL carries them. aiohttp answers the same question itself when a
session has `trust_env=True`, but per request and in a worker thread (plus a `~/.netrc` read),
which costs more than a small request's whole translation; the daemon's environment does not
change while it runs, so the answer is kept per (scheme, host, port). `~/.netrc` is not read:
ccroute sends each provider's own credentials.

Must not import other `ccroute.server` modules.
"""

from __future__ import annotations

from aiohttp import BasicAuth, web
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

Proxy = tuple[URL | None, BasicAuth | None]


class EnvProxies:
    """The environment's proxy per upstream origin, looked up once each."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str | None, int | None], Proxy] = {}

    def for_url(self, url: str) -> Proxy:
        """(proxy URL, its credentials) for a request to `url`; (None, None) to go direct."""
        parsed = URL(url)
        origin = (parsed.scheme, parsed.host, parsed.port)
        known = self._known.get(origin)
        if known is None:
            try:
                known = get_env_proxy_for_url(parsed)
            except LookupError:  # no proxy for this scheme, or NO_PROXY exempts the host
                known = (None, None)
            self._known[origin] = known
        return known


ENV_PROXIES = web.AppKey("env_proxies", EnvProxies)
