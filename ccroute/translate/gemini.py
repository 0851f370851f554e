"""The `gemini` wire: Anthropic Messages ⇄ Google Gemini `generateContent` (protocol.md §5).

Owns: the translator contract for Gemini's native API (design.md §3, architecture.md
`translate/`): `build_request`, `tool_names_for`, `forward_headers`, `parse_response`,
`StreamTranslator`, `parse_error`, with `Target` describing the upstream. The server looks this
module up by `provider.wire == "gemini"` (`ccroute.wires`: the URL is
`{base}/models/{model}:generateContent` or `:streamGenerateContent?alt=sse`, the key goes in
`x-goog-api-key`). The code lives in `gemini_request` (request body), `gemini_contents`
(`systemInstruction` and `contents`, thought signatures put back), `gemini_schema` (tool
schemas), `gemini_candidate` (reading one response: parts, finishReason, usage, blocks),
`gemini_stream` (chunks → events), `gemini_response` (non-stream answer) and `gemini_errors`
(error bodies), with `reasoning` (the thinking-signature carrier, kind "gemini") and `toolnames`
shared with other wires.

Must not import: aiohttp, typer, rich, keyring, platformdirs, or anything doing file, network,
clock or random/uuid I/O; only the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

from ccroute.translate.gemini_errors import parse_error
from ccroute.translate.gemini_request import build_request, forward_headers, tool_names_for
from ccroute.translate.gemini_response import parse_response
from ccroute.translate.gemini_stream import StreamTranslator
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
