"""Anthropic Messages request → OpenAI Responses API `POST /responses` body.

Owns: `build_request` (the body's top-level fields: instructions, sampling, tools, tool_choice,
reasoning controls, `include`/`store`, `user`). `tool_names_for` and `forward_headers` are the
Chat Completions wire's, re-exported: the function-name rule and the headers are the same.
Exported through `ccroute.translate.responses`, whose docstring lists the wire facts and their
sources.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ccroute.errors import TranslationError
from ccroute.translate.content import system_text
from ccroute.translate.messages import MessagesRequest, ToolChoice, ToolDefinition
from ccroute.translate.openai_request import (
    EFFORT_FOR_BUDGET,
    forward_headers,
    hashed_user,
    strip_schema,
    tool_names_for,
)
from ccroute.translate.responses_input import input_for
from ccroute.translate.target import Target
from ccroute.translate.toolnames import ToolNames

__all__ = ["build_request", "forward_headers", "tool_names_for"]

MIN_OUTPUT_TOKENS = 16
"""OpenAI (and Azure) reject `max_output_tokens` below 16 ("integer below minimum value");
Claude Code's 1-token probes are raised to it (peer evidence: vectorize-io/hindsight#58,
earendil-works/pi#6265)."""

ENCRYPTED_REASONING = "reasoning.encrypted_content"
"""The `include` value that returns reasoning items' `encrypted_content`, so they can be sent
back statelessly (`store: false`)."""

EFFORT_FOR = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
"""Claude Code's `output_config.effort` → `reasoning.effort`. The API lists none, minimal, low,
medium, high, xhigh and max, but not every model takes every value (a model that stops at high
answers 400 "Unsupported value: 'max'"); xhigh and max go up as "high", which every reasoning
model takes."""

SUMMARY = "auto"
"""`reasoning.summary` asked for, so the model's reasoning reaches Claude Code as thinking."""


def build_request(req: MessagesRequest, *, target: Target, stream: bool) -> dict[str, Any]:
    """Translate a validated Messages request into a `POST /responses` body for `target`.

    Shape: `{"model", ["instructions"], "input", "max_output_tokens", ["temperature"],
    ["top_p"], ["tools", "tool_choice", "parallel_tool_calls"], ["reasoning"], ["include"],
    "store": false, ["user"], ["stream": true], *target.extra_body}`. Rules:

    - `system` (string or text blocks, joined with a blank line, the attribution block
      dropped, protocol.md §6.4) → `instructions`; a mid-conversation `role: "system"` message
      stays in place as a `system` message item.
    - Messages → `input` items (`responses_input`): user text, images (`input_image`, data:
      URLs for base64) and PDFs (`input_file` with `file_data` or `file_url`) in a user
      `message` (text-only content as one string); each `tool_result` → a
      `function_call_output` with the `call_id` of its tool_use, before the rest of its user
      message and right after the calls (`output` a string, or parts when the result holds
      images/PDFs; `is_error` → text prefixed `Error: `; empty → "(no content)"); assistant
      text → an assistant `message`; `tool_use` → `function_call` (`call_id` = the tool_use
      id, `arguments` compact JSON). Empty text and server-tool blocks are dropped (§7 item 1).
    - Thinking blocks whose signature ccroute minted for `target.scope` (kind `reasoning_item`)
      give their `reasoning` item back, in place, on every assistant turn, when
      `target.return_reasoning` and the item has `encrypted_content` (or `content`); others
      are dropped (§7 item 7). `include: ["reasoning.encrypted_content"]` is sent when
      `target.return_reasoning` and `target.reasoning` is not "none" (OpenAI answers 400
      "Encrypted content is not supported with this model" for a non-reasoning model such as
      gpt-4.1 — peer evidence: microsoft/agent-framework#7483 — so "none" is the setting for
      those); `store: false` always: no state is left upstream.
    - Reasoning controls, unless `target.reasoning` is "none" (both other styles mean the
      `reasoning` object here): `thinking` enabled with budget B → `effort` low / medium /
      high by `openai_request.EFFORT_FOR_BUDGET`; adaptive → `EFFORT_FOR[output_config.effort]`
      (no effort when it is absent); plus `summary: "auto"` unless `thinking.display` is
      "omitted". Disabled or absent thinking → no `reasoning`.
    - Custom tools → flat `function` tools `{type, name, description, parameters, strict:
      false}` with `$schema` stripped and names from `tool_names_for`; server tools are dropped
      (§1.5, §7 item 17); `tool_choice` auto / any / tool / none → "auto" / "required" /
      `{"type": "function", "name"}` / "none", and `disable_parallel_tool_use` →
      `parallel_tool_calls: false`, only when tools remain.
    - `max_tokens` is clamped to `target.max_tokens` and raised to `MIN_OUTPUT_TOKENS`
      (§7 item 9); `metadata.user_id` → `user` = the first `USER_HASH_HEX` hex digits of its
      sha256 when `target.send_user` (§7 item 16). Dropped: `stop_sequences` (the API has no
      stop parameter), `top_k`, `cache_control` markers (the API caches prefixes by itself),
      output_config.format, context_management, betas and every other Anthropic-only field.

    Raises:
        TranslationError: a structure `validate_request` should have rejected, naming its path.
    """
    try:
        return _build(req, target, stream)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise TranslationError(f"request could not be translated ({exc!r})") from exc


def _build(req: MessagesRequest, target: Target, stream: bool) -> dict[str, Any]:
    names = tool_names_for(req)
    body: dict[str, Any] = {"model": target.model}
    instructions = system_text(req.get("system"), "system")
    if instructions:
        body["instructions"] = instructions
    body["input"] = input_for(req, target, names)
    body["max_output_tokens"] = target.output_tokens(req["max_tokens"], MIN_OUTPUT_TOKENS)
    for key in ("temperature", "top_p"):
        value = req.get(key)
        if value is not None:
            body[key] = value
    tools = _tools(req.get("tools") or [], names)
    if tools:
        body["tools"] = tools
        choice = req.get("tool_choice")
        if choice:
            body["tool_choice"] = _tool_choice(choice, names)
            if choice.get("disable_parallel_tool_use") and choice["type"] != "none":
                body["parallel_tool_calls"] = False
    reasoning = _reasoning(req, target)
    if reasoning:
        body["reasoning"] = reasoning
    if target.return_reasoning and target.reasoning != "none":
        body["include"] = [ENCRYPTED_REASONING]
    body["store"] = False
    user = hashed_user(req) if target.send_user else None
    if user:
        body["user"] = user
    if stream:
        body["stream"] = True
    for key, value in target.extra_body.items():
        body.setdefault(key, json.loads(json.dumps(value)))  # read-only config → plain JSON
    return body


def _reasoning(req: MessagesRequest, target: Target) -> dict[str, str]:
    thinking = req.get("thinking")
    if target.reasoning == "none" or not isinstance(thinking, dict):
        return {}
    kind = thinking.get("type")
    if kind not in ("enabled", "adaptive"):
        return {}
    reasoning: dict[str, str] = {}
    budget = thinking.get("budget_tokens") if kind == "enabled" else None
    output_config = req.get("output_config")
    wanted = output_config.get("effort") if isinstance(output_config, dict) else None
    if isinstance(budget, int) and not isinstance(budget, bool) and budget > 0:
        bucket = (level for bound, level in EFFORT_FOR_BUDGET if budget < bound)
        reasoning["effort"] = next(bucket, "high")
    elif isinstance(wanted, str) and wanted in EFFORT_FOR:
        reasoning["effort"] = EFFORT_FOR[wanted]
    if thinking.get("display") != "omitted":
        reasoning["summary"] = SUMMARY
    return reasoning


def _tools(tools: Sequence[ToolDefinition], names: ToolNames) -> list[dict[str, Any]]:
    """Custom tools as flat `function` tools; server tools (a `type` other than "custom") are
    left out: the upstream cannot run them (§1.5)."""
    return [
        _function_tool(tool, j, names)
        for j, tool in enumerate(tools)
        if tool.get("type") in (None, "custom")
    ]


def _function_tool(tool: ToolDefinition, j: int, names: ToolNames) -> dict[str, Any]:
    if "name" not in tool or "input_schema" not in tool:
        missing = "name" if "name" not in tool else "input_schema"
        raise TranslationError(f"tools.{j}.{missing}: required")
    function: dict[str, Any] = {"type": "function", "name": names.upstream(tool["name"])}
    if tool.get("description"):
        function["description"] = tool["description"]
    function["parameters"] = strip_schema(tool["input_schema"])
    function["strict"] = False
    return function


TOOL_CHOICE = {"auto": "auto", "any": "required", "none": "none"}
"""Anthropic `tool_choice.type` → the Responses `tool_choice` string (`tool` names a function)."""


def _tool_choice(choice: ToolChoice, names: ToolNames) -> str | dict[str, Any]:
    if choice["type"] == "tool":
        return {"type": "function", "name": names.upstream(choice["name"])}
    if choice["type"] not in TOOL_CHOICE:
        raise TranslationError(f"tool_choice.type: unknown {choice['type']!r}")
    return TOOL_CHOICE[choice["type"]]
