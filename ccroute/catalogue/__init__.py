"""The model catalogue: what each configured provider offers, and what that means for routes.

A package of single-purpose modules; this file only describes them (import from the module):

- `model`: `ModelInfo`, one listed model (limits, prices in USD per million tokens,
  tool/reasoning/image support), and its JSON form.
- `parse`: pure parsers, one per listing format (OpenRouter, OpenAI-style, Anthropic, Gemini,
  Ollama, LM Studio) → `list[ModelInfo]`.
- `sources`: pure — which endpoints list a provider's models, and with which headers.
- `cache`: the per-provider JSON cache under the state directory, with its TTL; read back
  when the network is down.
- `warnings`: pure — the configured routes checked against the lists.

The HTTP fetching is `ccroute.server.catalogue_fetch` (aiohttp lives in the server package);
the `ccroute models` command is `ccroute.cli.models_cmds`.

Must not import (here or in any submodule): aiohttp, typer, rich, keyring.
"""
