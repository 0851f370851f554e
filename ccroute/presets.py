"""Provider presets: what `ccroute providers add NAME` writes for a known provider.

Owns: `Preset` (one provider's wire, base URL, key variable, output cap, auth header, beta
policy, reasoning style, default headers, a suggested model and where each fact comes from),
`PRESETS` (the built-in table), `ALIASES` (other names people use for them) and `find_preset`.
Pure data and lookup: no file, network or environment access; writing a preset into
config.toml is the CLI's job through `ccroute.config`.

Every `source` names what a fact was checked against: a protocol.md section, the provider's
documentation page, or "peer evidence" (a third-party integration) / "unverified" where the
provider's own page was not found. Choices follow these rules:
- A provider's documented Anthropic-compatible endpoint is preferred (wire "anthropic"): it
  keeps thinking and tool calls native. These third-party endpoints implement the core Messages
  API only (DeepSeek documents `anthropic-beta` as ignored and lists the fields it reads, e.g.
  `output_config` "only effort"), so they get `betas = "strip"`: the beta header goes together
  with its paired body fields and Claude Code's mid-conversation `role: "system"` messages are
  folded into user turns (`ccroute.translate.anthropic_betas`), which loses nothing they use.
  Anthropic itself keeps them (`betas = "keep"`).
- Local servers (Ollama, LM Studio, vLLM, llama.cpp) use their OpenAI-compatible `/v1`
  endpoint. Each also documents an Anthropic endpoint, but only in recent versions, and each
  implements it by converting to its own chat-completions path, so it adds nothing native while
  older installs would answer 404. They need no key.
- `max_tokens` is the provider's documented output cap where one applies to every model the
  preset targets; None (no clamp) where the cap depends on the model.

Must not import: aiohttp, typer, rich, keyring, or `ccroute.config` (tests check each preset
through the config loader instead).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ccroute.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Preset:
    """One known provider, as `ccroute providers add` configures it.

    Attributes:
        name: the preset's name, also the provider name it is added under by default.
        title: a short human description ("DeepSeek (Anthropic-compatible endpoint)").
        wire: one of "openai", "anthropic", "gemini", "openai-responses" (`ccroute.wires`).
        base_url: http(s) URL without a trailing slash; for the anthropic wire, what
            `ANTHROPIC_BASE_URL` would be (no `/v1`).
        api_key_env: the environment variable conventionally holding the key; None for a local
            server that needs none.
        default_model: an upstream model id to suggest for `router.default`.
        source: where the facts above were checked (see the module docstring).
        max_tokens: the documented output cap in tokens; None = no clamp.
        auth: the key's header: "auto" (the wire's own), "bearer", "x-api-key" or
            "x-goog-api-key".
        betas: (anthropic wire) "keep" or "strip" Claude Code's `anthropic-beta` header and
            its paired body fields (protocol.md §6.2).
        reasoning: how reasoning controls are sent: "auto", "openrouter", "effort" or "none".
        headers: extra request headers (never secrets).
        note: alternatives worth knowing (other regions' URLs, another endpoint), or "".
    """

    name: str
    title: str
    wire: str
    base_url: str
    api_key_env: str | None
    default_model: str
    source: str
    max_tokens: int | None = None
    auth: str = "auto"
    betas: str = "keep"
    reasoning: str = "auto"
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    note: str = ""

    @property
    def local(self) -> bool:
        """True for a local server that needs no key."""
        return self.api_key_env is None

    def provider_table(
        self, *, base_url: str | None = None, key_env: str | None = None
    ) -> dict[str, object]:
        """The `[providers.<name>]` table this preset writes, as TOML-ready values.

        Fields at their config default ("auto" auth and reasoning, "keep" betas, no cap, no
        headers, no key variable) are left out so the file stays short. `base_url` and `key_env`
        replace the preset's own values when given.
        """
        table: dict[str, object] = {"wire": self.wire, "base_url": base_url or self.base_url}
        env = key_env or self.api_key_env
        if env is not None:
            table["api_key_env"] = env
        if self.max_tokens is not None:
            table["max_tokens"] = self.max_tokens
        if self.auth != "auto":
            table["auth"] = self.auth
        if self.betas != "keep":
            table["betas"] = self.betas
        if self.reasoning != "auto":
            table["reasoning"] = self.reasoning
        if self.headers:
            table["headers"] = dict(self.headers)
        return table


_ALL = (
    Preset(
        "openrouter",
        "OpenRouter (OpenAI-compatible; every vendor's models)",
        "openai",
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
        "anthropic/claude-sonnet-4.5",
        "protocol.md §4.1 (base URL, Bearer key, attribution headers) and §4.11 (the "
        "optional Anthropic skin); output cap 32000 = ccroute's built-in openrouter "
        "provider, not an OpenRouter limit (per-model caps are in /api/v1/models, §4.9)",
        max_tokens=32000,
        headers=MappingProxyType(
            {
                "HTTP-Referer": "https://github.com/ccroute/ccroute",
                "X-OpenRouter-Title": "ccroute",
                "X-Title": "ccroute",
            }
        ),
        note="Anthropic skin: wire anthropic, base https://openrouter.ai/api (§4.11).",
    ),
    Preset(
        "openai",
        "OpenAI (Responses API)",
        "openai-responses",
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
        "gpt-5",
        "help.openai.com 'Controlling the length of OpenAI model responses' (GPT-5 and "
        "most o-series use the Responses API with max_output_tokens; Chat Completions "
        "rejects max_tokens for reasoning models, which ccroute's openai wire sends); "
        "128000 output tokens for the GPT-5 family: peer evidence (Vercel AI Gateway, "
        "UiPath model tables); OPENAI_API_KEY: the OpenAI SDKs' variable",
        max_tokens=128000,
        reasoning="effort",
        note="Chat Completions instead: wire openai (older, non-reasoning models).",
    ),
    Preset(
        "anthropic",
        "Anthropic (first-party Messages API, passthrough)",
        "anthropic",
        "https://api.anthropic.com",
        "ANTHROPIC_API_KEY",
        "claude-sonnet-4-5",
        "protocol.md §1.1 (POST /v1/messages, x-api-key, anthropic-version) and §6.2 "
        "(betas forwarded verbatim); no cap: Claude Code already sends each Claude "
        "model's own max_tokens (claude-code.md)",
    ),
    Preset(
        "deepseek",
        "DeepSeek (Anthropic-compatible endpoint)",
        "anthropic",
        "https://api.deepseek.com/anthropic",
        "DEEPSEEK_API_KEY",
        "deepseek-v4-pro",
        "api-docs.deepseek.com/guides/anthropic_api (base URL; x-api-key fully "
        "supported; anthropic-beta and anthropic-version ignored on /messages; its field "
        "table has no context_management and output_config 'only effort', hence betas "
        "strip; Claude Code integration documented) and /quick_start/pricing (deepseek-flash and "
        "deepseek-v4-pro: 1M context, output up to 384K); DEEPSEEK_API_KEY: peer "
        "evidence (aisdk create_deepseek_anthropic, developersdigest compatibility page)",
        max_tokens=384000,
        betas="strip",
        note="OpenAI-compatible instead: wire openai, base https://api.deepseek.com.",
    ),
    Preset(
        "moonshot",
        "Moonshot AI / Kimi (Anthropic-compatible endpoint)",
        "anthropic",
        "https://api.moonshot.ai/anthropic",
        "MOONSHOT_API_KEY",
        "kimi-k2.5",
        "peer evidence only (Moonshot forum thread 'offical guide for using K2 in Claude "
        "Code', kimi-k25.com and apidog Claude Code guides): base "
        "https://api.moonshot.ai/anthropic with the key as ANTHROPIC_AUTH_TOKEN "
        "(Bearer); MOONSHOT_API_KEY: docker-agent and OpenClaw provider docs; no "
        "Anthropic beta features documented (betas strip); output cap unverified",
        auth="bearer",
        betas="strip",
        note="China: https://api.moonshot.cn/anthropic. OpenAI-compatible: "
        "https://api.moonshot.ai/v1.",
    ),
    Preset(
        "zhipu",
        "Zhipu GLM / Z.AI (Anthropic-compatible endpoint)",
        "anthropic",
        "https://api.z.ai/api/anthropic",
        "ZAI_API_KEY",
        "glm-4.7",
        "docs.z.ai/scenario-example (GLM models in Claude Code through an Anthropic-"
        "compatible endpoint; GLM-4.7 the default model) and peer evidence for the URL "
        "and Bearer key (jackin Z.AI guide, antigravity-manager notes quoting "
        "docs.z.ai/devpack/tool/claude: ANTHROPIC_BASE_URL=https://api.z.ai/api/"
        "anthropic, ANTHROPIC_AUTH_TOKEN); ZAI_API_KEY: peer evidence (jackin); no "
        "Anthropic beta features documented (betas strip); output cap unverified",
        auth="bearer",
        betas="strip",
        note="China (bigmodel.cn): https://open.bigmodel.cn/api/anthropic.",
    ),
    Preset(
        "minimax",
        "MiniMax (Anthropic-compatible endpoint)",
        "anthropic",
        "https://api.minimax.io/anthropic",
        "MINIMAX_API_KEY",
        "MiniMax-M2.7",
        "platform.minimax.io/docs/api-reference/text-anthropic-api (base URL, "
        "ANTHROPIC_API_KEY i.e. x-api-key, supported models, full assistant content "
        "incl. thinking must be sent back) and /docs/m-plan/claude-code (Claude Code "
        "integration; its parameter table lists core fields only, hence betas strip); "
        "MINIMAX_API_KEY: peer evidence (pi minimax provider); 204,800-token context, "
        "output cap unverified",
        betas="strip",
        note="China: https://api.minimaxi.com/anthropic.",
    ),
    Preset(
        "qwen",
        "Qwen / Alibaba Cloud Model Studio (Anthropic-compatible endpoint)",
        "anthropic",
        "https://dashscope-intl.aliyuncs.com/apps/anthropic",
        "DASHSCOPE_API_KEY",
        "qwen3-coder-plus",
        "alibabacloud.com/help/en/model-studio/claude-code and "
        "/anthropic-api-messages (Singapore-region base URL, ANTHROPIC_API_KEY = the "
        "Model Studio key, qwen3-coder-plus example); DASHSCOPE_API_KEY: the name those "
        "pages use for the key; core Messages API only, hence betas strip; output cap "
        "depends on the model (unverified)",
        betas="strip",
        note="China (Beijing) region keys: https://dashscope.aliyuncs.com/apps/anthropic."
        " Coding Plan keys need the plan's own base URL.",
    ),
    Preset(
        "groq",
        "Groq (OpenAI-compatible)",
        "openai",
        "https://api.groq.com/openai/v1",
        "GROQ_API_KEY",
        "openai/gpt-oss-120b",
        "console.groq.com/docs/openai (base URL, GROQ_API_KEY, fields that 400: "
        "logprobs, logit_bias, messages[].name; no Anthropic endpoint documented); "
        "output cap depends on the model",
    ),
    Preset(
        "mistral",
        "Mistral AI (OpenAI-compatible chat completions)",
        "openai",
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
        "devstral-medium-latest",
        "peer evidence (Continue, Tabby, LlamaIndex, Mastra provider docs: base "
        "https://api.mistral.ai/v1, MISTRAL_API_KEY, devstral/codestral model ids); "
        "tool-call ids must be 9 alphanumerics (protocol.md §7 item 3); output cap "
        "depends on the model",
        note="Codestral-only keys: https://codestral.mistral.ai/v1.",
    ),
    Preset(
        "xai",
        "xAI Grok (OpenAI-compatible)",
        "openai",
        "https://api.x.ai/v1",
        "XAI_API_KEY",
        "grok-code-fast-1",
        "docs.x.ai/api/integrations (OpenAI SDK base URL https://api.x.ai/v1, "
        "XAI_API_KEY in its examples); output cap depends on the model",
    ),
    Preset(
        "gemini",
        "Google Gemini (native generateContent API)",
        "gemini",
        "https://generativelanguage.googleapis.com/v1beta",
        "GEMINI_API_KEY",
        "gemini-2.5-pro",
        "protocol.md §5.1 (v1beta base, x-goog-api-key, GET /v1beta/models); 65536 "
        "output tokens for gemini-2.5-pro/-flash: Google Cloud model page 'Gemini 2.5 "
        "Pro' (65,535) and peer evidence (UiPath model table); GEMINI_API_KEY: "
        "protocol.md and the Gen AI SDK's variable",
        max_tokens=65536,
        note="OpenAI-compatible instead: wire openai, base "
        "https://generativelanguage.googleapis.com/v1beta/openai (§5.9).",
    ),
    Preset(
        "ollama",
        "Ollama (local, OpenAI-compatible /v1)",
        "openai",
        "http://localhost:11434/v1",
        None,
        "qwen3-coder",
        "docs.ollama.com/api/openai-compatibility (base http://localhost:11434/v1, key "
        "required by clients but ignored); docs.ollama.com/api/anthropic-compatibility "
        "and ollama.com/blog/claude (Anthropic endpoint since v0.14.0, qwen3-coder "
        "suggested for Claude Code, at least 64k context recommended)",
        note="Ollama >= 0.14 also serves Anthropic: wire anthropic, base http://localhost:11434.",
    ),
    Preset(
        "lmstudio",
        "LM Studio (local, OpenAI-compatible /v1)",
        "openai",
        "http://localhost:1234/v1",
        None,
        "openai/gpt-oss-20b",
        "lmstudio.ai/docs/api/openai-api (base http://localhost:1234/v1, GET "
        "/v1/models) and lmstudio.ai/docs/integrations/claude-code (Anthropic "
        "/v1/messages at http://localhost:1234, openai/gpt-oss-20b example, more than "
        "~25k context advised; with Require Authentication on, a token is needed)",
        note="Also Anthropic: wire anthropic, base http://localhost:1234. With "
        "Require Authentication on: 'ccroute keys set lmstudio'.",
    ),
    Preset(
        "vllm",
        "vLLM (local, OpenAI-compatible /v1)",
        "openai",
        "http://localhost:8000/v1",
        None,
        "openai/gpt-oss-120b",
        "docs.vllm.ai serving/openai_compatible_server (base http://localhost:8000/v1; "
        "--api-key optional) and serving/integrations/claude_code (vLLM also "
        "implements the Anthropic Messages API; gpt-oss-120b example; the model must "
        "support tool calling)",
        note="Served with --api-key: 'ccroute keys set vllm'. Anthropic: wire "
        "anthropic, base http://localhost:8000.",
    ),
    Preset(
        "llamacpp",
        "llama.cpp llama-server (local, OpenAI-compatible /v1)",
        "openai",
        "http://localhost:8080/v1",
        None,
        "local-model",
        "llama.cpp server docs (default port 8080, OpenAI-compatible /v1) and "
        "huggingface.co/blog/ggml-org/anthropic-messages-api-in-llamacpp (Anthropic "
        "/v1/messages since Jan 2026, converted to OpenAI internally); llama-server "
        "answers with the loaded model whatever the model name",
        note="Also Anthropic: wire anthropic, base http://localhost:8080.",
    ),
)

PRESETS: Mapping[str, Preset] = MappingProxyType({preset.name: preset for preset in _ALL})
"""The built-in presets by name, in the order `ccroute providers presets` lists them."""

ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "kimi": "moonshot",
        "glm": "zhipu",
        "zai": "zhipu",
        "z.ai": "zhipu",
        "dashscope": "qwen",
        "alibaba": "qwen",
        "grok": "xai",
        "google": "gemini",
        "claude": "anthropic",
        "lm-studio": "lmstudio",
        "llama.cpp": "llamacpp",
        "llama-cpp": "llamacpp",
        "llama-server": "llamacpp",
    }
)
"""Other names for presets (case-insensitive), e.g. "kimi" → "moonshot"."""


def find_preset(name: str) -> Preset:
    """The preset called `name` (or one of its `ALIASES`), case-insensitively.

    Raises `ConfigError` naming the closest preset, or listing them all, when there is none.
    """
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    found = PRESETS.get(key)
    if found is not None:
        return found
    close = difflib.get_close_matches(key, [*PRESETS, *ALIASES], n=1, cutoff=0.6)
    hint = f" Did you mean {ALIASES.get(close[0], close[0])!r}?" if close else ""
    raise ConfigError(
        f"No preset called {name!r}.{hint} Presets: {', '.join(PRESETS)}. For any other "
        f"OpenAI-compatible server, run 'ccroute config set providers.<name>.base_url URL'."
    )
