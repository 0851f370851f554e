"""Anthropic Messages request → Gemini `generateContent` request body.

Owns: `build_request`, `tool_names_for` and `forward_headers` for the gemini wire (protocol.md
§5.1-5.3, §5.7, §8, §7 items 4-6, 9, 14, 17). Exported through `ccroute.translate.gemini`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ccroute.errors import TranslationError
from ccroute.translate.gemini_contents import contents_for, system_instruction
from ccroute.translate.gemini_schema import declaration_parameters
from ccroute.translate.messages import MessagesRequest, ToolChoice, ToolDefinition
from ccroute.translate.openai_request import strip_schema
from ccroute.translate.target import Target
from ccroute.translate.toolnames import GEMINI_DISALLOWED, GEMINI_MAX, GEMINI_NAME, ToolNames

MAX_STOP_SEQUENCES = 5
"""Gemini's `stopSequences` limit; extra ones are dropped, not failed (§5.2, §7 item 14)."""

THINKING_BUDGET_RANGE = (512, 24576)
"""`thinkingBudget` bounds every Gemini 2.5 model accepts (Pro 128-32768, Flash 0-24576, Flash-Lite
512-24576; §5.2): an Anthropic `budget_tokens` is clamped into it."""

DYNAMIC_BUDGET = -1
"""`thinkingBudget: -1`: the model decides how long to think (§5.2, §8)."""

THINKING_LEVELS = {"low": "LOW", "medium": "MEDIUM", "high": "HIGH", "xhigh": "HIGH", "max": "HIGH"}
"""`output_config.effort` → Gemini 3 `thinkingLevel` (§8)."""

_LEVEL_MODEL = re.compile(r"(?:^|/)gemini-(\d+)")


def tool_names_for(req: MessagesRequest) -> ToolNames:
    """The request's tool-name map under Gemini's rules (letter or `_` first, then
    `[a-zA-Z0-9_.:-]`, at most 128; §5.2, §7 item 4). `build_request` declares `upstream(name)`
    for each custom tool; the response translators map names back with `claude(name)`."""
    names = ToolNames(max_length=GEMINI_MAX, pattern=GEMINI_NAME, disallowed=GEMINI_DISALLOWED)
    for tool in req.get("tools") or ():
        if tool.get("type") in (None, "custom") and isinstance(tool.get("name"), str):
            names.upstream(tool["name"])
    return names


def forward_headers(client_headers: Mapping[str, str], *, target: Target) -> dict[str, str]:
    """Headers of Claude Code's request to pass upstream: none (`anthropic-*` mean nothing to
    Gemini, §2.8); the key travels in `x-goog-api-key` (§5.1, `ccroute.wires`)."""
    return {}


def build_request(req: MessagesRequest, *, target: Target, stream: bool) -> dict[str, Any]:
    """Translate a validated Messages request into a Gemini `generateContent` body for `target`.

    Shape: `{"contents", ["systemInstruction"], ["tools"], ["toolConfig"], "generationConfig":
    {"maxOutputTokens", ["temperature"], ["topP"], ["topK"], ["stopSequences"],
    ["responseMimeType", "responseJsonSchema"], ["thinkingConfig"]}, *target.extra_body}`
    (§5.2). The model and streaming are in the URL (`ccroute.wires`), not the body, so `stream`
    changes nothing here. Rules:

    - `system` → `systemInstruction`, one part per block, attribution block dropped (§6.4, §7
      item 6); messages → `contents` (`gemini_contents.contents_for`): roles user/model,
      `tool_result` → `functionResponse` named after its `tool_use`, with `{"output": text}` or,
      for `is_error`, `{"error": text}`; images/PDFs → `inlineData` (`fileData` for URLs);
      empty text dropped (§7 item 1); a mid-conversation system message → a user text part
      led by `SYSTEM_MARK`. Function-call ids are never sent: the Gemini API has rejected
      `functionCall.id` / `functionResponse.id` in requests (peer evidence: koog#735,
      AstrBot#7386) and pairs responses with calls by name and order.
    - Thought signatures (§5.7): thinking blocks whose signature ccroute minted for
      `target.scope` give their `thoughtSignature`s back to the parts they came on (the n-th
      tool_use or text block, or a thought part in the thinking block's place), when
      `target.return_reasoning`; other thinking blocks are dropped. A model turn whose first
      `functionCall` part is left unsigned gets Google's `SKIP_SIGNATURE`.
    - Custom tools → one `{"functionDeclarations": [...]}` tool; names fitted by
      `tool_names_for`; schemas by `gemini_schema.declaration_parameters` (`parameters`,
      `parametersJsonSchema`, or none for a tool without arguments, §5.3). Server tools are
      dropped (§1.5, §7 item 17). `tool_choice` auto/any/tool/none → `functionCallingConfig`
      mode AUTO / ANY / ANY + `allowedFunctionNames` / NONE (§8), only when tools remain;
      `disable_parallel_tool_use` has no Gemini equivalent.
    - `maxOutputTokens` = `max_tokens` clamped to `target.max_tokens`, at least 1 (§7 item 9);
      `temperature`, `top_p` → `topP`, `top_k` → `topK`; `stop_sequences` → `stopSequences`
      (first `MAX_STOP_SEQUENCES`); `output_config.format` json_schema → `responseMimeType`
      "application/json" + `responseJsonSchema` (§6.4).
    - `thinkingConfig` (§8) unless `target.reasoning` is "none": thinking enabled with budget B →
      `thinkingBudget` = B clamped into `THINKING_BUDGET_RANGE` and below `maxOutputTokens`;
      adaptive → `thinkingLevel` from `output_config.effort` (`THINKING_LEVELS`, HIGH without
      one) for Gemini 3 and later models (by name), else `thinkingBudget: -1` (Gemini 2.5 has
      no levels); `includeThoughts: true` unless `thinking.display` is "omitted". Disabled or
      absent thinking sends nothing: the model's default (Gemini 2.5 Pro and 3.x cannot turn
      thinking off, and `thinkingBudget: 0` is a 400 there).
    - Dropped: metadata, cache_control, context_management, betas and other Anthropic-only
      fields. `target.extra_body` fields are added when the translation does not set them.

    Raises:
        TranslationError: a structure `validate_request` should have rejected, or a
            `tool_result` with no earlier `tool_use`, naming its path.
    """
    try:
        return _build(req, target)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise TranslationError(f"request could not be translated ({exc!r})") from exc


def _build(req: MessagesRequest, target: Target) -> dict[str, Any]:
    names = tool_names_for(req)
    body: dict[str, Any] = {"contents": contents_for(req, target, names)}
    system = system_instruction(req.get("system"))
    if system is not None:
        body["systemInstruction"] = system
    declarations = _declarations(req.get("tools") or [], names)
    if declarations:
        body["tools"] = [{"functionDeclarations": declarations}]
        choice = req.get("tool_choice")
        if choice:
            body["toolConfig"] = {"functionCallingConfig": _calling_config(choice, names)}
    body["generationConfig"] = _generation_config(req, target)
    for key, value in target.extra_fields().items():
        body.setdefault(key, value)
    return body


def _generation_config(req: MessagesRequest, target: Target) -> dict[str, Any]:
    max_tokens = target.output_tokens(req["max_tokens"])
    config: dict[str, Any] = {"maxOutputTokens": max_tokens}
    for source, key in (("temperature", "temperature"), ("top_p", "topP"), ("top_k", "topK")):
        value = req.get(source)
        if value is not None:
            config[key] = value
    stop = req.get("stop_sequences")
    if stop:
        config["stopSequences"] = list(stop[:MAX_STOP_SEQUENCES])
    output_format = _output_format(req.get("output_config"))
    if output_format is not None:
        config["responseMimeType"] = "application/json"
        config["responseJsonSchema"] = output_format
    thinking = _thinking_config(req, target, max_tokens)
    if thinking is not None:
        config["thinkingConfig"] = thinking
    return config


def _output_format(output_config: object) -> Any:
    """The JSON schema of `output_config.format` (type json_schema), `$schema` stripped."""
    if not isinstance(output_config, dict):
        return None
    fmt = output_config.get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema")
        if isinstance(schema, dict):
            return strip_schema(schema)
    return None


def _thinking_config(
    req: MessagesRequest, target: Target, max_tokens: int
) -> dict[str, Any] | None:
    thinking = req.get("thinking")
    if target.reasoning == "none" or not isinstance(thinking, dict):
        return None
    config: dict[str, Any]
    match thinking.get("type"):
        case "enabled":
            budget = thinking.get("budget_tokens")
            if not isinstance(budget, int) or isinstance(budget, bool) or budget <= 0:
                config = {"thinkingBudget": DYNAMIC_BUDGET}
            else:
                low, high = THINKING_BUDGET_RANGE
                config = {"thinkingBudget": max(low, min(budget, high, max_tokens - 1))}
        case "adaptive":
            if _has_thinking_levels(target.model):
                output_config = req.get("output_config")
                effort = output_config.get("effort") if isinstance(output_config, dict) else None
                config = {"thinkingLevel": THINKING_LEVELS.get(str(effort), "HIGH")}
            else:
                config = {"thinkingBudget": DYNAMIC_BUDGET}
        case _:
            return None
    config["includeThoughts"] = thinking.get("display") != "omitted"
    return config


def _has_thinking_levels(model: str) -> bool:
    """Gemini 3 and later take `thinkingLevel`; 2.5 takes only `thinkingBudget` (§5.2, §8)."""
    match = _LEVEL_MODEL.search(model.lower())
    return match is not None and int(match.group(1)) >= 3


def _declarations(tools: Sequence[ToolDefinition], names: ToolNames) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for j, tool in enumerate(tools):
        if tool.get("type") not in (None, "custom"):
            continue  # server tool: Gemini cannot run Anthropic's (§1.5, §7 item 17)
        try:
            declaration: dict[str, Any] = {"name": names.upstream(tool["name"])}
            description = tool.get("description")
            if description:
                declaration["description"] = description
            declaration.update(declaration_parameters(tool["input_schema"]))
        except KeyError as exc:
            raise TranslationError(f"tools.{j}.{exc.args[0]}: required") from exc
        out.append(declaration)
    return out


def _calling_config(choice: ToolChoice, names: ToolNames) -> dict[str, Any]:
    match choice["type"]:
        case "auto":
            return {"mode": "AUTO"}
        case "any":
            return {"mode": "ANY"}
        case "none":
            return {"mode": "NONE"}
        case "tool":
            return {"mode": "ANY", "allowedFunctionNames": [names.upstream(choice["name"])]}
    raise TranslationError(f"tool_choice.type: unknown {choice['type']!r}")
