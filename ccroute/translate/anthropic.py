"""The `anthropic` wire: passthrough to an Anthropic-format upstream.

Owns: the translator contract (design.md §3, architecture.md `translate/`) for upstreams that
already speak the Messages API — Anthropic itself, OpenRouter's Anthropic skin (protocol.md
§4.11) and the `/anthropic` endpoints of DeepSeek, Kimi, GLM and others: `tool_names_for`,
`build_request`, `build_count_tokens_request`, `forward_headers`, `parse_response`,
`StreamTranslator`, `parse_error`. The request goes up as Claude Code sent it but for the model
name and a per-provider policy (`Target.strip_betas`, `max_tokens`, `send_user`); answers come
back as they are (the wire is `passthrough`: the server relays its SSE byte for byte). The code
lives in `anthropic_request` (body and headers), `anthropic_betas` (the "strip" policy) and
`anthropic_response` (errors, non-Message bodies, the identity stream translator).

Must not import: aiohttp, typer, rich, keyring, platformdirs, or anything doing file, network,
clock or random/uuid I/O; only the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

from ccroute.translate.anthropic_request import (
    build_count_tokens_request,
    build_request,
    forward_headers,
    tool_names_for,
)
from ccroute.translate.anthropic_response import StreamTranslator, parse_error, parse_response
from ccroute.translate.target import Target

__all__ = [
    "StreamTranslator",
    "Target",
    "build_count_tokens_request",
    "build_request",
    "forward_headers",
    "parse_error",
    "parse_response",
    "tool_names_for",
]
