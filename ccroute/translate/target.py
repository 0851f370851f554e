"""What a translator must know about the upstream it is translating for.

Owns: `Target`, the frozen description of one upstream model as the translators see it (its
name, output cap, how it takes reasoning controls, whether it honours `cache_control`, extra
body fields). The server builds one per request from the provider config; translators read it
and never look at config themselves.

Must not import: anything beyond the standard library (no config, no I/O).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

ReasoningStyle = Literal["openrouter", "effort", "none"]
"""How reasoning controls go upstream: OpenRouter's `reasoning` object (protocol.md §4.3),
OpenAI's `reasoning_effort` (§3.1), or not at all."""


@dataclass(frozen=True)
class Target:
    """One upstream model, as the request and response translators need to know it.

    Attributes:
        provider: the provider's config name. Reasoning signatures ccroute mints are scoped to
            `(provider, model)`, so reasoning never travels to another upstream (issue 3 §1).
        model: the upstream model id, sent as the body's `model`.
        max_tokens: the upstream's output cap in tokens; the request's `max_tokens` is clamped to
            it. None = no clamp.
        reasoning: how Claude Code's `thinking` / `output_config.effort` is sent (§4.3, §3.1).
        return_reasoning: send reasoning the model produced back on later assistant turns of the
            current tool loop (`reasoning_details` / `reasoning_content` / `reasoning`, §4.4).
        cache_control: keep Anthropic `cache_control` markers on content parts (OpenRouter with
            `anthropic/*` and `google/*` models, §4.12); False strips them.
        send_user: send a hash of `metadata.user_id` as `user` (§3.1, §7 item 16).
        extra_body: top-level fields merged into every request body (OpenRouter `provider`,
            `models`, §4.5-4.6); they never override fields the translation sets.
        strip_betas: (anthropic wire) drop Claude Code's `anthropic-beta` header together with
            the beta-paired body fields, for providers that reject them (§6.2, §6.5).
    """

    provider: str
    model: str
    max_tokens: int | None = None
    reasoning: ReasoningStyle = "none"
    return_reasoning: bool = True
    cache_control: bool = False
    send_user: bool = True
    extra_body: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    strip_betas: bool = False

    @property
    def scope(self) -> str:
        """`provider/model`: the key reasoning signatures are bound to."""
        return f"{self.provider}/{self.model}"

    def output_tokens(self, requested: int, minimum: int = 1) -> int:
        """The output cap to send for a request's `max_tokens` of `requested`: clamped to
        `max_tokens`, raised to `minimum` (protocol.md §7 item 9)."""
        if self.max_tokens is not None:
            requested = min(requested, self.max_tokens)
        return max(requested, minimum)

    def extra_fields(self) -> dict[str, Any]:
        """`extra_body` as plain JSON types (read-only mappings → dicts, tuples → lists)."""
        return {key: _plain(value) for key, value in self.extra_body.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
