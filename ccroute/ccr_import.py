"""Mapping a claude-code-router config (`~/.claude-code-router/config.json`) onto ccroute's.

Owns: `plan_import(ccr, env=...) -> ImportPlan`, which turns the parsed ccr JSON object into
`[providers.<name>]` tables, per-model overrides, `[router]` keys, the literal API keys to store
in the keyring (never in the config) and a three-part report (imported / mapped with changes /
not imported, each line saying why). Pure: no file, keyring or environment access; `env` is
passed in for `$VAR`/`${VAR}` interpolation.

ccr's shape: `Providers` (list of {name, api_base_url, api_key, models, transformer: {use:
[name | [name, options]], <model>: {use: [...]}}}), `Router` ({default, background, think,
longContext, longContextThreshold, webSearch, image} as "provider,model"), and top-level
`PORT`, `HOST`, `APIKEY`, `CUSTOM_ROUTER_PATH`, ...

Must not import: typer, rich, aiohttp, keyring, ccroute.keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ccroute.errors import ConfigError

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_WHOLE_VAR = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")
_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")

_ROUTES: dict[str, str] = {
    "default": "default",
    "background": "background",
    "think": "think",
    "longContext": "long_context",
    "webSearch": "web_search",
    "image": "image",
}
"""ccr `Router` key → ccroute `[router]` key (both hold a model reference)."""

_NOT_NEEDED: dict[str, str] = {
    "anthropic": "chose the anthropic wire",
    "gemini": "chose the gemini wire",
    "openrouter": 'chose the openai wire with reasoning = "openrouter"',
    "groq": "ccroute's openai wire already sends Groq-compatible requests",
}

_NO_EQUIVALENT: dict[str, str] = {
    "tooluse": "ccroute has no setting that forces tool_choice or adds an exit tool",
    "enhancetool": "ccroute has no setting for it; tool arguments are parsed as streamed",
    "sampling": "ccroute has no sampling-parameter override",
    "customparams": "ccroute has no extra-body-parameter setting",
    "vertex-gemini": "ccroute's gemini wire uses an API key, not Vertex AI credentials",
    "gemini-cli": "ccroute's gemini wire uses an API key, not Gemini CLI's OAuth login",
}

_TOP_LEVEL_REASONS: dict[str, str] = {
    "HOST": "ccroute's server.host is left as is (it listens on loopback by default)",
    "APIKEY": "ccroute's local server does not take a client API key",
    "CUSTOM_ROUTER_PATH": (
        "a JavaScript router cannot run in ccroute; router.custom takes a Python "
        "'path.py:function' — port the function and set it with 'ccroute config set "
        "router.custom PATH.py:FUNCTION'"
    ),
    "transformers": "custom JavaScript transformers cannot run in ccroute",
}


@dataclass
class ImportPlan:
    """The result of mapping a ccr config.

    Attributes:
        providers: provider name → `[providers.<name>]` fields (TOML values; no secrets).
        model_overrides: provider name → upstream model → override fields (e.g. max_tokens).
        router: `[router]` key → value ("provider/model" refs, long_context_threshold int).
        keys: provider name → the literal API key found in the ccr file (keyring only).
        port: ccr's PORT, or None; written to server.port only when asked.
        imported, changed, skipped: report lines (skipped = not imported, with why).
    """

    providers: dict[str, dict[str, object]] = field(default_factory=dict)
    model_overrides: dict[str, dict[str, dict[str, object]]] = field(default_factory=dict)
    router: dict[str, object] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    imported: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def strip_json5(text: str) -> str:
    """`text` with `//` and `/* */` comments and trailing commas blanked out, strings untouched.

    ccr reads its config.json as JSON5 and its README examples carry `//` comments; blanking
    (not deleting) keeps line and column numbers right for `json.loads` errors.
    """
    parts: list[str] = []  # alternately: code outside strings, one string literal, code, ...
    code: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            parts += ["".join(code), text[i : j + 1]]
            code = []
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            code.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            code.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            code.append(c)
            i += 1
    parts.append("".join(code))
    trailing = re.compile(r",(\s*[}\]])")
    return "".join(part if k % 2 else trailing.sub(r" \1", part) for k, part in enumerate(parts))


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """`value` with each `$VAR`/`${VAR}` replaced from `env`; raises KeyError for an unset one."""

    def sub(match: re.Match[str]) -> str:
        return env[match.group(1) or match.group(2)]

    return _VAR.sub(sub, value)


def provider_name(ccr_name: str) -> str:
    """A ccroute provider name for ccr's `name`: lower-case, runs of other characters → "-"."""
    return _BAD_NAME_CHARS.sub("-", ccr_name.strip().lower()).strip("-") or "provider"


def key_env_for(name: str) -> str:
    """The env-var name offered for a provider whose ccr key was literal, e.g. DEEPSEEK_API_KEY."""
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") + "_API_KEY"


def _uses(spec: object) -> list[tuple[str, dict[str, Any]]]:
    """ccr `{use: [name | [name, options]]}` → [(name, options)]."""
    if not isinstance(spec, Mapping):
        return []
    out: list[tuple[str, dict[str, Any]]] = []
    for item in spec.get("use") or []:
        if isinstance(item, str):
            out.append((item, {}))
        elif isinstance(item, list) and item and isinstance(item[0], str):
            opts = item[1] if len(item) > 1 and isinstance(item[1], Mapping) else {}
            out.append((item[0], dict(opts)))
    return out


def _wire_and_base(url: str, uses: set[str]) -> tuple[str, str]:
    """(wire, base_url) for ccr's `api_base_url` (a full endpoint URL) and its transformers."""
    base = url.rstrip("/")
    if "anthropic" in uses or base.endswith("/messages"):
        for suffix in ("/v1/messages", "/messages"):
            if base.endswith(suffix):
                return "anthropic", base[: -len(suffix)]
        return "anthropic", base
    if "gemini" in uses or "generativelanguage.googleapis.com" in base:
        return "gemini", base[: -len("/models")] if base.endswith("/models") else base
    suffix = "/chat/completions"
    return "openai", base[: -len(suffix)] if base.endswith(suffix) else base


def _apply_transformer(
    where: str, name: str, opts: dict[str, Any], fields: dict[str, object], plan: ImportPlan
) -> None:
    """Set the ccroute field with the same effect as transformer `name` into `fields`."""
    if name == "maxtoken" and isinstance(opts.get("max_tokens"), int):
        fields["max_tokens"] = opts["max_tokens"]
        plan.imported.append(f"{where}: transformer maxtoken → max_tokens = {opts['max_tokens']}")
    elif name == "deepseek":
        fields.setdefault("max_tokens", 8192)
        plan.changed.append(
            f"{where}: transformer deepseek → max_tokens = {fields['max_tokens']} "
            "(ccroute reads reasoning_content itself)"
        )
    elif name == "reasoning":
        fields["reasoning"] = "effort"
        plan.changed.append(
            f'{where}: transformer reasoning → reasoning = "effort" (ccroute sends '
            "reasoning_effort rather than enable_thinking)"
        )
    elif name == "cleancache":
        fields["cache_control"] = "strip"
        plan.imported.append(f'{where}: transformer cleancache → cache_control = "strip"')
    elif name == "openrouter":
        fields["reasoning"] = "openrouter"
        if isinstance(opts.get("provider"), Mapping):
            fields["provider_routing"] = dict(opts["provider"])
            plan.imported.append(f"{where}: openrouter provider options → provider_routing")
    elif name in _NOT_NEEDED:
        pass
    else:
        why = _NO_EQUIVALENT.get(name, "unknown to ccroute")
        plan.skipped.append(f"{where}: transformer {name}: {why}")


def _import_provider(entry: Mapping[str, Any], env: Mapping[str, str], plan: ImportPlan) -> None:
    raw_name = entry.get("name")
    if not isinstance(raw_name, str) or not raw_name.strip():
        plan.skipped.append(f"provider without a name: {entry.get('api_base_url', '?')}")
        return
    name = provider_name(raw_name)
    where = f"providers.{name}"
    if name in plan.providers:
        plan.skipped.append(f"provider {raw_name!r}: a second provider named {name!r}")
        return
    url = entry.get("api_base_url")
    if not isinstance(url, str) or not url:
        plan.skipped.append(f"provider {raw_name!r}: no api_base_url")
        return
    try:
        url = interpolate(url, env)
    except KeyError as exc:
        plan.skipped.append(f"provider {raw_name!r}: api_base_url uses ${exc.args[0]}, unset")
        return
    spec = entry.get("transformer")
    uses = _uses(spec)
    wire, base = _wire_and_base(url, {n for n, _ in uses})
    fields: dict[str, object] = {"wire": wire, "base_url": base}
    if name != raw_name:
        plan.changed.append(f"provider {raw_name!r} → {where} (ccroute names use a-z, 0-9, - _)")
    line = f"{where}: wire {wire}, base_url {base}"
    (plan.changed if base != url.rstrip("/") else plan.imported).append(
        line + (f" (from {url})" if base != url.rstrip("/") else "")
    )
    key = entry.get("api_key")
    if isinstance(key, str) and key.strip():
        whole = _WHOLE_VAR.match(key.strip())
        if whole:
            fields["api_key_env"] = whole.group(1)
            plan.imported.append(f"{where}: api_key ${whole.group(1)} → api_key_env")
        else:
            fields["api_key_env"] = key_env_for(name)
            plan.keys[name] = key.strip()
            plan.changed.append(
                f"{where}: literal api_key → OS keyring (not the config); or set "
                f"{key_env_for(name)}"
            )
    for tname, opts in uses:
        _apply_transformer(where, tname, opts, fields, plan)
    if isinstance(spec, Mapping):
        for model, model_spec in spec.items():
            if model == "use" or not isinstance(model_spec, Mapping):
                continue
            over: dict[str, object] = {}
            for tname, opts in _uses(model_spec):
                _apply_transformer(f"{where} model {model}", tname, opts, over, plan)
            over.pop("provider_routing", None)
            if over:
                plan.model_overrides.setdefault(name, {})[str(model)] = over
    models = [m for m in entry.get("models") or [] if isinstance(m, str)]
    if models:
        plan.imported.append(
            f"{where}: models {', '.join(models)} (refer to them as {name}/<model>)"
        )
    plan.providers[name] = fields


def _ref(value: object, names: Mapping[str, str]) -> str | None:
    """ccr "provider,model" → ccroute "provider/model", or None when it names no provider."""
    if not isinstance(value, str) or "," not in value:
        return None
    prov, model = (part.strip() for part in value.split(",", 1))
    target = names.get(prov)
    return f"{target}/{model}" if target and model else None


def plan_import(ccr: object, env: Mapping[str, str] | None = None) -> ImportPlan:
    """Map a parsed ccr config to an `ImportPlan`.

    `env` supplies `$VAR`/`${VAR}` values for URLs (API-key references become `api_key_env`
    and are not resolved). Raises `ConfigError` if `ccr` is not a JSON object.
    """
    if not isinstance(ccr, Mapping):
        raise ConfigError("a claude-code-router config must be a JSON object.")
    env = env or {}
    plan = ImportPlan()
    names: dict[str, str] = {}
    for entry in ccr.get("Providers") or ccr.get("providers") or []:
        if isinstance(entry, Mapping):
            before = set(plan.providers)
            _import_provider(entry, env, plan)
            for new in set(plan.providers) - before:
                names[str(entry.get("name"))] = new
    router = ccr.get("Router")
    if isinstance(router, Mapping):
        for key, value in router.items():
            if key in _ROUTES:
                if value in (None, ""):
                    continue
                ref = _ref(value, names)
                if ref is None:
                    plan.skipped.append(f"Router.{key} {value!r}: names no imported provider")
                else:
                    plan.router[_ROUTES[key]] = ref
                    plan.imported.append(f"router.{_ROUTES[key]} = {ref}")
            elif key == "longContextThreshold" and isinstance(value, int) and value > 0:
                plan.router["long_context_threshold"] = value
                plan.imported.append(f"router.long_context_threshold = {value}")
            else:
                plan.skipped.append(f"Router.{key}: no ccroute route of that name")
    port = ccr.get("PORT")
    if isinstance(port, int) and 1 <= port <= 65535:
        plan.port = port
    for key, why in _TOP_LEVEL_REASONS.items():
        if ccr.get(key):
            plan.skipped.append(f"{key}: {why}")
    return plan
