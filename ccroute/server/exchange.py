"""One request's trip: everything the relays need to know about it, decided up front.

Owns: `Exchange` (the validated request, its wire, the resolved `Target`, the tool-name map, the
message id and input estimate, and the outcome the request log reports) and the mapping of an
upstream HTTP error answer to an `UpstreamError` with its `retry-after`. Must not import other
`ccroute.server` modules except `state`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccroute.errors import UpstreamError
from ccroute.translate.messages import MessagesRequest
from ccroute.translate.target import Target
from ccroute.wires import Wire


@dataclass
class Exchange:
    """The facts of one `POST /v1/messages` trip.

    Attributes:
        wire: the upstream wire (translator module, URL, auth).
        req: the validated Anthropic request.
        target: the upstream model as the translators see it.
        tool_names: the request's tool-name map (`translator.tool_names_for(req)`).
        message_id: the `msg_…` id given to the answer (also the `request-id` header).
        input_estimate: the offline input-token estimate (seeds `message_start`, §2.4).
        outcome: what the request log reports, e.g. "200", "429 rate_limit_error",
            "200 then error overloaded_error"; set by whoever ends the trip.
    """

    wire: Wire
    req: MessagesRequest
    target: Target
    tool_names: Any
    message_id: str
    input_estimate: int
    outcome: str = "error"

    def new_stream_translator(self) -> Any:
        """A fresh `StreamTranslator` of this exchange's wire."""
        return self.wire.translator.StreamTranslator(
            message_id=self.message_id,
            model=self.req["model"],
            input_tokens_estimate=self.input_estimate,
            target=self.target,
            tool_names=self.tool_names,
        )

    def parse_response(self, body: dict[str, Any]) -> Any:
        """The wire's non-streaming translation of `body` into an Anthropic Message."""
        return self.wire.translator.parse_response(
            body,
            message_id=self.message_id,
            model=self.req["model"],
            target=self.target,
            tool_names=self.tool_names,
            input_tokens_estimate=self.input_estimate,
        )

    def upstream_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        """The `UpstreamError` for an upstream HTTP error answer, keeping its `retry-after`."""
        err: UpstreamError = self.wire.translator.parse_error(
            status, body, input_tokens=self.input_estimate
        )
        if err.status == 401:
            # The provider refused the key ccroute sent. Claude Code would take a 401 for its
            # own (local) credential expiring and retry it for minutes; 403 stops at once.
            err = UpstreamError(
                403,
                "permission_error",
                f"Provider '{self.target.provider}' rejected the API key ccroute sent (HTTP "
                f"401: {err.message}). Set the right key with 'ccroute keys set "
                f"{self.target.provider}' or the provider's environment variable.",
            )
        if err.retry_after is None:
            retry_after = headers.get("retry-after")
            if retry_after:
                err.retry_after = retry_after
        return err
