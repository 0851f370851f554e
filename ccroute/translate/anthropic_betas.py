"""What `betas = "strip"` removes from a request for an Anthropic-compatible provider.

Owns: `strip_betas`, the body half of the "strip" policy (the header half, dropping
`anthropic-beta`, is `anthropic_request.forward_headers`). A body field that only works with
a beta header must go together with that header, or the upstream answers a hard 400 (protocol.md
§6.2 "stripping only one half → hard 400; stripping both → feature silently off", §6.5). The
policy is for providers that speak the core Messages API but not Anthropic's extras (DeepSeek,
Kimi, GLM, ... behind their `/anthropic` endpoints), so it also drops what only Anthropic's own
servers can do: top-level Anthropic-only fields and server tools (§1.2, §1.5, §7 item 17).
Also `without_assistant_blocks`, which `anthropic_request` uses to drop reasoning ccroute
minted for another wire. Exported through `ccroute.translate.anthropic`.

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

STRIPPED_FIELDS = (
    "context_management",
    "mcp_servers",
    "container",
    "output_format",
    "speed",
    "fallbacks",
    "diagnostics",
    "betas",
    "inference_geo",
)
"""Top-level fields removed: the beta-only ones of protocol.md §1.2 (`context_management`,
`mcp_servers`, `output_format`, `speed`, `fallbacks`, `diagnostics`, `betas`) and the
Anthropic-only `container` and `inference_geo`."""

TOOL_BETA_FIELDS = (
    "strict",
    "defer_loading",
    "eager_input_streaming",
    "input_examples",
    "allowed_callers",
)
"""Beta-paired fields of a custom tool definition (protocol.md §1.5, §6.5)."""

OUTPUT_CONFIG_KEPT = ("effort",)
"""The `output_config` keys kept: `effort` drives adaptive thinking (§1.3) and is what
compatible providers read; `format` (structured outputs) and the rest are beta-paired (§6.5).
An `output_config` left empty is removed."""

SERVER_TOOL_BLOCKS = frozenset(
    {
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
    }
)
"""Assistant history blocks of server tools (§1.6): a server tool call and its result, which
only Anthropic's servers produce and accept back."""


def strip_betas(body: dict[str, Any]) -> None:
    """Remove the beta-paired and Anthropic-only parts of an upstream body, in place.

    `body` is the request being built (a shallow copy of Claude Code's request whose
    `messages` list is already its own); nested values are replaced, never mutated, so the
    client's request stays intact. Removed (protocol.md §1.2, §1.5, §6.2, §6.5, §7 item 17):
    - the `STRIPPED_FIELDS`, and every `output_config` key but `OUTPUT_CONFIG_KEPT`;
    - from custom tools the `TOOL_BETA_FIELDS`; server tools (a `type` other than "custom")
      entirely, with a `tool_choice` naming one (then `tools` and `tool_choice` go when no
      tool is left);
    - server tool blocks (`SERVER_TOOL_BLOCKS`) from assistant history;
    - `role: "system"` messages (the mid-conversation-system beta, claude-code.md): their text
      is folded into the neighbouring user turn as text blocks — appended to the user message
      before it, else placed in the user message after it behind its `tool_result`s (which
      must lead, §1.6), else sent as a user message of its own.
    """
    for key in STRIPPED_FIELDS:
        body.pop(key, None)
    output_config = body.get("output_config")
    if isinstance(output_config, Mapping):
        kept = {k: v for k, v in output_config.items() if k in OUTPUT_CONFIG_KEPT}
        if kept:
            body["output_config"] = kept
        else:
            del body["output_config"]
    _strip_tools(body)
    body["messages"] = _fold_system_messages(
        without_assistant_blocks(body["messages"], _server_block)
    )


def _strip_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if not isinstance(tools, list):
        return
    kept: list[Any] = []
    for tool in tools:
        if not isinstance(tool, Mapping) or tool.get("type") not in (None, "custom"):
            continue
        kept.append({k: v for k, v in tool.items() if k not in TOOL_BETA_FIELDS})
    names = {tool.get("name") for tool in kept}
    choice = body.get("tool_choice")
    if (
        isinstance(choice, Mapping)
        and choice.get("type") == "tool"
        and choice.get("name") not in names
    ):
        body.pop("tool_choice")
    if kept:
        body["tools"] = kept
    else:
        body.pop("tools")
        body.pop("tool_choice", None)


def without_assistant_blocks(messages: Sequence[Any], drop: Callable[[Any], bool]) -> list[Any]:
    """`messages` without the assistant content blocks `drop` picks. A message that loses none
    is kept as it is; an assistant message left with no block is left out."""
    out: list[Any] = []
    for message in messages:
        content = message.get("content")
        if message.get("role") != "assistant" or not isinstance(content, list):
            out.append(message)
            continue
        blocks = [block for block in content if not drop(block)]
        if len(blocks) == len(content):
            out.append(message)
        elif blocks:
            out.append({**message, "content": blocks})
    return out


def _server_block(block: Any) -> bool:
    return block.get("type") in SERVER_TOOL_BLOCKS


def _fold_system_messages(messages: Sequence[Any]) -> list[Any]:
    out: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []  # system text waiting for the next user message
    for message in messages:
        role = message.get("role")
        if role == "system":
            blocks = _system_text_blocks(message.get("content"))
            if out and out[-1].get("role") == "user":
                out[-1] = {**out[-1], "content": _blocks(out[-1].get("content")) + blocks}
            else:
                pending.extend(blocks)
            continue
        if role == "user" and pending:
            content = _blocks(message.get("content"))
            lead = 0
            while lead < len(content) and content[lead].get("type") == "tool_result":
                lead += 1
            out.append({**message, "content": content[:lead] + pending + content[lead:]})
            pending = []
            continue
        if pending:
            out.append({"role": "user", "content": pending})
            pending = []
        out.append(message)
    if pending:
        out.append({"role": "user", "content": pending})
    return out


def _blocks(content: Any) -> list[dict[str, Any]]:
    """A message's content as a list of blocks (a string is one text block)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content or [])


def _system_text_blocks(content: Any) -> list[dict[str, Any]]:
    """The text of a `role: "system"` message as text blocks: a string, text blocks (their
    `cache_control` kept), or `mid_conv_system` blocks holding text blocks (§1.6)."""
    out: list[dict[str, Any]] = []
    for block in _blocks(content):
        if block.get("type") == "mid_conv_system":
            out.extend(_system_text_blocks(block.get("content")))
        elif block.get("type") == "text" and str(block.get("text", "")).strip():
            out.append(dict(block))
    return out
