"""The pure translation core.

Owns: the Anthropic Messages wire types, the SSE codec, and one translator module per upstream
wire (`openai`, later `gemini`, `anthropic`), each exposing `build_request`, `parse_response`
and `StreamTranslator` (design.md §3).

Must not import: aiohttp, typer, rich, keyring, platformdirs, or anything doing file, network,
clock or random/uuid I/O. Ids and times are passed in by the caller. Only the standard library
and `ccroute.errors` are allowed.
"""
