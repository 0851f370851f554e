"""The request a log line belongs to: the `REQUEST_ID` context variable.

Owns: one `contextvars.ContextVar` the server sets at the start of each `POST /v1/messages`
(the `msg_…` id, also the `request-id` response header) and log formatters read, so every line
logged while serving that request carries its id, in every task the request spawns.

Must not import anything from ccroute.
"""

from __future__ import annotations

from contextvars import ContextVar

#: The `msg_…` id of the request being served in this context; None outside a request.
REQUEST_ID: ContextVar[str | None] = ContextVar("ccroute_request_id", default=None)
