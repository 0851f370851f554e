"""The `openai` wire: Anthropic Messages ⇄ OpenAI Chat Completions (OpenRouter, vLLM, ...).

Owns: the translator contract for OpenAI-compatible upstreams (design.md §3, architecture.md
`translate/`): `build_request`, `tool_names_for`, `forward_headers`, `parse_response`,
`StreamTranslator`, `parse_error`, with `Target` describing the upstream. The server looks
this module up by `provider.wire == "openai"`; the code lives in `openai_request` (request body),
`openai_messages` (the messages array), `openai_response` (non-streaming answer and shared
mappings), `openai_stream` (SSE chunks → events), `openai_errors` (error bodies), with
`reasoning` (thinking signatures) and `toolnames` shared with other wires.

Must not import: aiohttp, typer, rich, keyring, platformdirs, or anything doing file, network,
clock or random/uuid I/O; only the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

from ccroute.translate.openai_errors import parse_error
from ccroute.translate.openai_request import build_request, forward_headers, tool_names_for
from ccroute.translate.openai_response import parse_response
from ccroute.translate.openai_stream import StreamTranslator
from ccroute.translate.target import Target

__all__ = [
    "StreamTranslator",
    "Target",
    "build_request",
    "forward_headers",
    "parse_error",
    "parse_response",
    "tool_names_for",
]
