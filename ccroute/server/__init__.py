"""The proxy: an aiohttp application that speaks the Anthropic Messages API to Claude Code.

Owns: HTTP — the guards and the error middleware (`guards`), one request's trip upstream
(`proxy`), the SSE relay (`relay`), shared state (`state`), and the app factory and serving loop
(`app`). This package is the only place that awaits on the network and the only one that imports
aiohttp.

Must not: translate protocol itself (that is `ccroute.translate`), choose routes (that is
`ccroute.routing`), read keys other than through the injected lookup, or print.
"""

from ccroute.server.app import MAX_REQUEST_BYTES, create_app, run
from ccroute.server.state import CONFIG, KEYS, SESSION, SHUTDOWN, STARTED_AT, TOKEN, KeyCache

__all__ = [
    "CONFIG",
    "KEYS",
    "MAX_REQUEST_BYTES",
    "SESSION",
    "SHUTDOWN",
    "STARTED_AT",
    "TOKEN",
    "KeyCache",
    "create_app",
    "run",
]
