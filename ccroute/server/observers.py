"""Who hears about each finished request: the `OBSERVERS` app key and `notify`.

Owns: the list of callables that receive one `RequestRecord` per finished `POST /v1/messages`
(the usage store's queue, the Prometheus counters) and the rule that an observer can never
break or delay a request: each runs on the event loop, must return at once (hand heavy work to
a thread), and an observer that raises is logged and skipped.

Must not import other `ccroute.server` modules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from ccroute.usage.record import RequestRecord

log = logging.getLogger("ccroute.server")

Observer = Callable[[RequestRecord], None]

#: The app's observers, called in order by `notify`.
OBSERVERS = web.AppKey("observers", list[Observer])


def notify(app: web.Application, record: RequestRecord) -> None:
    """Hand `record` to every observer of `app`; one that raises is logged, never re-raised."""
    for observer in app.get(OBSERVERS, ()):
        try:
            observer(record)
        except Exception:
            log.exception("%s: a request observer failed", record.request_id)
