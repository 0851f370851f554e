"""The pure routing decision: `resolve` (model name → route) and `decide` (request → Decision)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ccroute.config import (
    Config,
    ProviderConfig,
    RouterConfig,
    ServerConfig,
    load_config,
    paths,
    split_model_ref,
)
from ccroute.errors import ConfigError
from ccroute.routing import Decision, decide, resolve, route_refs


def config(default: str = "openrouter/anthropic/claude-sonnet-4.5") -> Config:
    providers = {
        name: ProviderConfig(name=name, wire="openai", base_url=f"http://{name}.test/v1")
        for name in ("openrouter", "local")
    }
    return Config(
        server=ServerConfig(),
        providers=providers,
        router=RouterConfig(default=default),
        source=Path("/cfg/config.toml"),
    )


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("openrouter/anthropic/claude-sonnet-4.5", ("openrouter", "anthropic/claude-sonnet-4.5")),
        ("openrouter,deepseek/deepseek-chat", ("openrouter", "deepseek/deepseek-chat")),
        ("local/qwen3:32b", ("local", "qwen3:32b")),
        ("claude-opus-4-8", None),
        ("/model", None),
        ("provider/", None),
    ],
)
def test_split_model_ref_cuts_at_the_first_separator(
    ref: str, expected: tuple[str, str] | None
) -> None:
    assert split_model_ref(ref) == expected


@pytest.mark.parametrize(
    "model", ["claude-opus-4-8", "claude-haiku-4-5-20251001", "claude-sonnet-5", "sonnet"]
)
def test_claude_model_names_take_the_default_route(model: str) -> None:
    route = resolve(model, config())
    assert route.provider.name == "openrouter"
    assert route.model == "anthropic/claude-sonnet-4.5"
    assert route.reason == "default"


def test_reference_to_a_configured_provider_is_routed_there_verbatim() -> None:
    route = resolve("local/qwen3-coder:30b", config())
    assert (route.provider.name, route.model, route.reason) == (
        "local",
        "qwen3-coder:30b",
        "explicit",
    )


def test_claude_code_router_comma_reference_is_accepted() -> None:
    route = resolve("openrouter,moonshotai/kimi-k2", config())
    assert (route.provider.name, route.model) == ("openrouter", "moonshotai/kimi-k2")


def test_reference_to_unknown_provider_falls_back_to_default() -> None:
    route = resolve("anthropic/claude-opus-4-8", config())
    assert route.provider.name == "openrouter"
    assert route.reason == "default"


def test_default_naming_unknown_provider_is_a_config_error_naming_the_fix() -> None:
    with pytest.raises(ConfigError) as info:
        resolve("claude-opus-4-8", config(default="nowhere/model"))
    assert "router.default" in info.value.message
    assert "ccroute config set router.default" in info.value.message


# --- decide(): the full routing decision -------------------------------------------------------


FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"

PROVIDERS = """
[providers.a]
base_url = "http://a.test/v1"
[providers.b]
base_url = "http://b.test/v1"
[providers.c]
base_url = "http://c.test/v1"
"""

FULL = """
[router]
default = "a/main"
background = "b/small"
think = "b/thinker"
long_context = "c/long"
long_context_threshold = 1000
web_search = "c/search"
image = "c/vision"
"""


def load(router: str, extra: str = "") -> Config:
    path = paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(router) + PROVIDERS + textwrap.dedent(extra), "utf-8")
    return load_config()


def request(model: str = "claude-opus-4-8", text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 100,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def decision(req: dict[str, Any], cfg: Config, tokens: int = 10, **kw: Any) -> Decision:
    return decide(req, cfg, input_tokens=tokens, **kw)  # type: ignore[arg-type]


def where(d: Decision) -> list[str]:
    return [f"{t.provider.name}/{t.model}" for t in d.targets]


IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}
WEB_SEARCH_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}

# One request per scenario route, each triggering only that route.
SCENARIOS: dict[str, tuple[dict[str, Any], int]] = {
    "web_search": (request(tools=[WEB_SEARCH_TOOL]), 10),
    "image": (request(messages=[{"role": "user", "content": [IMAGE]}]), 10),
    "long_context": (request(), 5000),
    "think": (request(output_config={"effort": "max"}), 10),
    "background": (request("claude-haiku-4-5-20251001"), 10),
}


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("web_search", "c/search"),
        ("image", "c/vision"),
        ("long_context", "c/long"),
        ("think", "b/thinker"),
        ("background", "b/small"),
    ],
)
def test_each_scenario_route_answers_its_kind_of_request(route: str, expected: str) -> None:
    req, tokens = SCENARIOS[route]
    d = decision(req, load(FULL), tokens)
    assert d.route == route
    assert where(d) == [expected]
    assert d.request is req
    assert d.reason


def test_a_plain_request_takes_the_default_route_and_says_why() -> None:
    d = decision(request(), load(FULL))
    assert (d.route, where(d), d.strategy, d.fallbacks) == ("default", ["a/main"], "priority", ())
    assert "router.default" in d.reason


@pytest.mark.parametrize("route", list(SCENARIOS))
def test_an_unconfigured_scenario_route_falls_through_to_default(route: str) -> None:
    req, tokens = SCENARIOS[route]
    d = decision(req, load('[router]\ndefault = "a/main"\n'), tokens)
    assert (d.route, where(d)) == ("default", ["a/main"])


# Scenario precedence: web_search > image > long_context > think > background; each pair.
ORDER = ["web_search", "image", "long_context", "think", "background"]


@pytest.mark.parametrize(
    ("higher", "lower"),
    [(ORDER[i], ORDER[j]) for i in range(len(ORDER)) for j in range(i + 1, len(ORDER))],
)
def test_scenario_precedence_for_every_pair(higher: str, lower: str) -> None:
    req = request("claude-haiku-4-5" if "background" in (higher, lower) else "claude-opus-4-8")
    for route in (higher, lower):
        part, _ = SCENARIOS[route]
        for key in ("tools", "output_config"):
            if key in part:
                req[key] = part[key]
        if route == "image":
            req["messages"] = part["messages"]
    tokens = 5000 if "long_context" in (higher, lower) else 10
    assert decision(req, load(FULL), tokens).route == higher


def test_image_inside_a_tool_result_counts() -> None:
    req = request(
        messages=[
            {"role": "user", "content": "look"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": {}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [IMAGE]}],
            },
        ]
    )
    assert decision(req, load(FULL)).route == "image"


def test_long_context_needs_more_than_the_threshold() -> None:
    cfg = load(FULL)
    assert decision(request(), cfg, 1000).route == "default"
    assert decision(request(), cfg, 1001).route == "long_context"


@pytest.mark.parametrize(
    ("extra", "route"),
    [
        ({"output_config": {"effort": "xhigh"}}, "think"),
        ({"output_config": {"effort": "max"}}, "think"),
        ({"output_config": {"effort": "high"}, "thinking": {"type": "adaptive"}}, "default"),
        ({"thinking": {"type": "enabled", "budget_tokens": 31999}}, "default"),
    ],
)
def test_think_means_an_effort_raised_above_claude_codes_default(
    extra: dict[str, Any], route: str
) -> None:
    assert decision(request(**extra), load(FULL)).route == route


@pytest.mark.parametrize(
    "fixture", ["print_say_hi_opus_default.json", "write_tool_turn2_tool_result.json"]
)
def test_claude_codes_real_default_requests_take_the_default_route(fixture: str) -> None:
    req = json.loads((FIXTURES / fixture).read_text())["body"]
    assert decision(req, load(FULL)).route == "default"


def test_claude_codes_real_haiku_request_takes_the_background_route() -> None:
    req = json.loads((FIXTURES / "print_say_hi_haiku.json").read_text())["body"]
    d = decision(req, load(FULL))
    assert (d.route, where(d)) == ("background", ["b/small"])


# --- explicit and subagent ---


@pytest.mark.parametrize("model", ["c/some/model", "c,some/model"])
def test_an_explicit_ref_beats_every_other_route(model: str) -> None:
    req = request(model, tools=[WEB_SEARCH_TOOL], output_config={"effort": "max"})
    d = decision(req, load(FULL + '[[router.rules]]\nname = "r"\nroute = "b/r"\nmodel = "*"\n'))
    assert (d.route, where(d)) == ("explicit", ["c/some/model"])


def test_a_ref_to_an_unknown_provider_is_not_explicit() -> None:
    assert decision(request("nowhere/x"), load(FULL)).route == "default"


TAG = "<CCR-SUBAGENT-MODEL>c,agent/model</CCR-SUBAGENT-MODEL>"


def test_subagent_tag_in_a_system_block_routes_and_is_removed_from_a_copy() -> None:
    system = [{"type": "text", "text": "billing"}, {"type": "text", "text": f"{TAG}\nYou are..."}]
    req = request(system=system, tools=[WEB_SEARCH_TOOL])
    before = json.dumps(req)
    d = decision(req, load(FULL))
    assert (d.route, where(d)) == ("subagent", ["c/agent/model"])
    assert d.request["system"] == [system[0], {"type": "text", "text": "You are..."}]
    assert json.dumps(req) == before  # the client's request is untouched


def test_subagent_tag_at_the_start_of_the_first_user_message_is_removed() -> None:
    req = request(
        messages=[
            {"role": "user", "content": [{"type": "text", "text": f"{TAG} do the thing"}]},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": f"{TAG} not the first"},
        ]
    )
    d = decision(req, load(FULL))
    assert d.route == "subagent"
    assert d.request["messages"][0]["content"] == [{"type": "text", "text": "do the thing"}]
    assert d.request["messages"][2] == req["messages"][2]
    assert req["messages"][0]["content"][0]["text"].startswith(TAG)


@pytest.mark.parametrize(
    "text",
    [
        f"please {TAG}",  # not at the start
        "<CCR-SUBAGENT-MODEL>nowhere,x</CCR-SUBAGENT-MODEL> hi",  # unknown provider
        "<CCR-SUBAGENT-MODEL>c,x hi",  # unclosed
    ],
)
def test_a_tag_that_is_not_a_valid_leading_tag_is_ignored(text: str) -> None:
    d = decision(request(text=text), load(FULL))
    assert d.route == "default"
    assert d.request["messages"][0]["content"] == text


def test_explicit_model_beats_the_subagent_tag() -> None:
    d = decision(request("a/x", text=f"{TAG} hi"), load(FULL))
    assert d.route == "explicit"


# --- rules ---

RULES = """
[[router.rules]]
name = "by-model"
route = "c/opus-like"
model = "*OPUS*"
[[router.rules]]
name = "big"
route = "c/big"
min_tokens = 500
max_tokens = 900
[[router.rules]]
name = "words"
route = "c/words"
keyword = ["refactor", "Rename"]
[[router.rules]]
name = "pattern"
route = "c/pattern"
regex = '\\bTODO\\(\\w+\\)'
[[router.rules]]
name = "bash"
route = "c/bash"
tools = ["Bash"]
[[router.rules]]
name = "pinned"
route = "c/pinned"
session = "sess-1"
"""


@pytest.mark.parametrize(
    ("req", "tokens", "session", "rule"),
    [
        (request("claude-opus-4-8"), 10, None, "by-model"),
        (request("claude-sonnet-5"), 700, None, "big"),
        (request("claude-sonnet-5"), 499, None, None),
        (request("claude-sonnet-5"), 901, None, None),
        (request("claude-sonnet-5", "please RENAME this"), 10, None, "words"),
        (request("claude-sonnet-5", "fix TODO(bob) now"), 10, None, "pattern"),
        (request("claude-sonnet-5", "fix TODO now"), 10, None, None),
        (
            request("claude-sonnet-5", tools=[{"name": "Bash", "input_schema": {}}]),
            10,
            None,
            "bash",
        ),
        (request("claude-sonnet-5"), 10, "sess-1", "pinned"),
        (request("claude-sonnet-5"), 10, "sess-2", None),
    ],
)
def test_each_rule_condition(
    req: dict[str, Any], tokens: int, session: str | None, rule: str | None
) -> None:
    d = decision(req, load('[router]\ndefault = "a/main"\n' + RULES), tokens, session_id=session)
    assert d.route == (f"rule:{rule}" if rule else "default")
    if rule:
        assert rule in d.reason


def test_all_conditions_of_a_rule_must_hold_and_the_first_matching_rule_wins() -> None:
    rules = """
[[router.rules]]
name = "both"
route = "c/both"
model = "*sonnet*"
keyword = "deploy"
[[router.rules]]
name = "any-sonnet"
route = "c/sonnet"
model = "*sonnet*"
"""
    cfg = load('[router]\ndefault = "a/main"\n' + rules)
    assert decision(request("claude-sonnet-5", "deploy it"), cfg).route == "rule:both"
    assert decision(request("claude-sonnet-5", "ship it"), cfg).route == "rule:any-sonnet"
    assert decision(request("claude-opus-4-8", "deploy it"), cfg).route == "default"


def test_keywords_read_the_latest_user_text_across_a_tool_loop() -> None:
    req = request(
        "claude-sonnet-5",
        messages=[
            {"role": "user", "content": "please refactor this"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t", "name": "Read", "input": {}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x"}],
            },
        ],
    )
    assert decision(req, load('[router]\ndefault = "a/main"\n' + RULES)).route == "rule:words"


def test_rules_beat_scenario_routes_and_explicit_beats_rules() -> None:
    cfg = load(FULL + RULES)
    assert (
        decision(request("claude-haiku-4-5", tools=[WEB_SEARCH_TOOL, {"name": "Bash"}]), cfg).route
        == "rule:bash"
    )
    assert decision(request("a/direct", tools=[{"name": "Bash"}]), cfg).route == "explicit"


# --- router.models patterns ---

MODELS = """
[router.models]
"*sonnet*" = "c/sonnetish"
"claude-opus-4-?" = "c/opus4"
"*" = "b/anything"
"""


@pytest.mark.parametrize(
    ("model", "route", "expected"),
    [
        ("claude-sonnet-5", "model:*sonnet*", "c/sonnetish"),
        ("CLAUDE-SONNET-5", "model:*sonnet*", "c/sonnetish"),
        ("claude-opus-4-8", "model:claude-opus-4-?", "c/opus4"),
        ("claude-opus-4-10", "model:*", "b/anything"),
    ],
)
def test_model_patterns_are_case_insensitive_fnmatch_in_file_order(
    model: str, route: str, expected: str
) -> None:
    d = decision(request(model), load('[router]\ndefault = "a/main"\n' + MODELS))
    assert (d.route, where(d)) == (route, [expected])


def test_background_beats_a_model_pattern_and_scenarios_beat_both() -> None:
    cfg = load(FULL + '[router.models]\n"*haiku*" = "c/haiku"\n"*opus*" = "c/opus"\n')
    assert decision(request("claude-haiku-4-5"), cfg).route == "background"
    assert decision(request("claude-opus-4-8"), cfg).route == "model:*opus*"
    assert decision(request("claude-opus-4-8"), cfg, 5000).route == "long_context"


def test_without_a_background_route_a_haiku_pattern_maps_it() -> None:
    cfg = load('[router]\ndefault = "a/main"\n[router.models]\n"*haiku*" = "c/haiku"\n')
    d = decision(request("claude-haiku-4-5-20251001"), cfg)
    assert (d.route, where(d)) == ("model:*haiku*", ["c/haiku"])


# --- load-balanced targets, strategy, fallbacks ---


def test_a_list_route_gives_weighted_targets_and_the_configured_strategy() -> None:
    cfg = load(
        """
[router]
default = ["a/one", { ref = "b/two", weight = 3 }]
strategy = "weighted"
"""
    )
    d = decision(request(), cfg)
    assert [(t.provider.name, t.model, t.weight) for t in d.targets] == [
        ("a", "one", 1),
        ("b", "two", 3),
    ]
    assert d.strategy == "weighted"
    assert cfg.router.default == "a/one"


def test_fallbacks_are_the_routes_own_else_the_defaults_without_repeating_a_target() -> None:
    cfg = load(
        FULL
        + """
[router.fallbacks]
default = ["b/spare", "a/main", "c/last"]
think = ["a/deep"]
"""
    )
    plain = decision(request(), cfg)
    assert [f"{t.provider.name}/{t.model}" for t in plain.fallbacks] == ["b/spare", "c/last"]
    think = decision(request(output_config={"effort": "max"}), cfg)
    assert [f"{t.provider.name}/{t.model}" for t in think.fallbacks] == ["a/deep"]
    background = decision(request("claude-haiku-4-5"), cfg)
    assert [t.model for t in background.fallbacks] == ["spare", "main", "last"]
    explicit = decision(request("c/x"), cfg)
    assert explicit.fallbacks == ()


def test_a_rules_fallbacks_are_keyed_by_its_name() -> None:
    cfg = load(
        '[router]\ndefault = "a/main"\n'
        + RULES
        + '[router.fallbacks]\nbash = ["b/bash-spare"]\ndefault = ["b/spare"]\n'
    )
    d = decision(request("claude-sonnet-5", tools=[{"name": "Bash"}]), cfg)
    assert d.route == "rule:bash"
    assert [t.model for t in d.fallbacks] == ["bash-spare"]


# --- profiles ---


def test_a_profile_overrides_router_fields_and_keeps_the_rest() -> None:
    cfg = load(
        FULL,
        """
[profiles.cheap.router]
default = "c/cheap"
long_context_threshold = 100000
""",
    )
    assert where(decision(request(), cfg, profile="cheap")) == ["c/cheap"]
    assert decision(request(), cfg, 5000, profile="cheap").route == "default"
    assert decision(request("claude-haiku-4-5"), cfg, profile="cheap").route == "background"
    assert where(decision(request(), cfg)) == ["a/main"]


def test_an_unknown_profile_is_a_config_error_naming_the_fix() -> None:
    with pytest.raises(ConfigError) as info:
        decision(request(), load(FULL), profile="nope")
    assert "nope" in info.value.message
    assert "[profiles.nope.router]" in info.value.message


# --- custom function ---


def custom(tmp_path: Path, body: str) -> Config:
    script = tmp_path / "route.py"
    script.write_text(textwrap.dedent(body), "utf-8")
    return load(FULL + f'custom = "{script.as_posix()}:choose"\n')


def test_the_custom_function_sees_a_read_only_request_and_its_ref_wins(tmp_path: Path) -> None:
    cfg = custom(
        tmp_path,
        """
        def choose(request):
            try:
                request["model"] = "changed"
            except TypeError:
                pass
            if request["messages"][0]["content"] == "custom please":
                return "c,custom/model"
            return None
        """,
    )
    req = request(text="custom please", tools=[WEB_SEARCH_TOOL])
    d = decision(req, cfg)
    assert (d.route, where(d)) == ("custom", ["c/custom/model"])
    assert req["model"] == "claude-opus-4-8"
    assert decision(request(tools=[WEB_SEARCH_TOOL]), cfg).route == "web_search"


def test_rules_beat_the_custom_function(tmp_path: Path) -> None:
    cfg = custom(tmp_path, "def choose(request):\n    return 'c/custom'\n")
    path = paths().config_file
    path.write_text(
        path.read_text() + '[[router.rules]]\nname = "r"\nroute = "b/rule"\nmodel = "*opus*"\n'
    )
    cfg = load_config()
    assert decision(request(), cfg).route == "rule:r"
    assert decision(request("claude-sonnet-5"), cfg).route == "custom"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("def choose(request):\n    raise RuntimeError('boom')\n", "RuntimeError: boom"),
        ("def choose(request):\n    return 42\n", "returned 42"),
        ("def choose(request):\n    return 'nowhere/x'\n", "names no configured provider"),
        ("def other(request):\n    return None\n", "no function 'choose'"),
        ("this is not python(\n", "SyntaxError"),
    ],
)
def test_a_failing_custom_function_is_reported_and_routing_goes_on(
    tmp_path: Path, body: str, said: str
) -> None:
    cfg = custom(tmp_path, body)
    d = decision(request(), cfg)
    assert d.route == "default"
    assert said in d.reason
    assert decision(request("claude-haiku-4-5"), cfg).route == "background"


def test_a_missing_custom_file_is_reported(tmp_path: Path) -> None:
    cfg = load(FULL + f'custom = "{(tmp_path / "none.py").as_posix()}:choose"\n')
    d = decision(request(), cfg)
    assert d.route == "default"
    assert "FileNotFoundError" in d.reason


def test_an_edited_custom_file_is_reloaded(tmp_path: Path) -> None:
    import os

    cfg = custom(tmp_path, "def choose(request):\n    return 'c/first'\n")
    assert where(decision(request(), cfg)) == ["c/first"]
    script = tmp_path / "route.py"
    script.write_text("def choose(request):\n    return 'c/second'\n", "utf-8")
    stat = script.stat()
    os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert where(decision(request(), cfg)) == ["c/second"]


# --- route_refs ---


def test_route_refs_names_every_route_fallback_rule_pattern_and_profile_once() -> None:
    cfg = load(
        FULL
        + '[router.models]\n"*x*" = "a/pattern"\n'
        + '[router.fallbacks]\ndefault = ["b/spare", "a/main"]\n'
        + '[[router.rules]]\nname = "r"\nroute = ["c/rule", "a/main"]\nmodel = "*"\n',
        '[profiles.p.router]\ndefault = "c/profiled"\n',
    )
    assert route_refs(cfg) == [
        "a/main",
        "b/small",
        "b/thinker",
        "c/long",
        "c/search",
        "c/vision",
        "a/pattern",
        "b/spare",
        "c/rule",
        "c/profiled",
    ]
