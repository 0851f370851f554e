"""The `openai` wire: Anthropic Messages ⇄ OpenAI Chat Completions (OpenRouter, vLLM, ...).

Owns: the translator contract for OpenAI-compatible upstreams (design.md §3, architecture.md
`translate/`): `ModelLimits`, `build_request`, `parse_response`, `StreamTranslator`,
`parse_error`. The server looks this module up by `provider.wire == "openai"`; the code lives in
`openai_request` (request body), `openai_response` (non-streaming answer and shared mappings),
`openai_stream` (SSE chunks → events) and `openai_errors` (error bodies).

Must not import: aiohttp, typer, rich, keyring, platformdirs, or anything doing file, network,
clock or random/uuid I/O; only the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

from ccroute.translate.openai_errors import parse_error
from ccroute.translate.openai_request import ModelLimits, build_request
from ccroute.translate.openai_response import parse_response
from ccroute.translate.openai_stream import StreamTranslator

__all__ = ["ModelLimits", "StreamTranslator", "build_request", "parse_error", "parse_response"]
