"""`ccroute route explain`: the routing decision for a request body or a captured fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ccroute.cli import _CcrouteGroup, route_cmds
from ccroute.config import paths

FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"

CONFIG = """
[router]
default = "a/main"
background = ["b/small", { ref = "c/small", weight = 2 }]
strategy = "weighted"
long_context = "c/long"
long_context_threshold = 30000
[router.fallbacks]
default = ["c/spare"]
[profiles.cheap.router]
default = "c/cheap"
[profiles.tight.router]
long_context_threshold = 10000
[[router.rules]]
name = "pinned"
route = "b/pinned"
session = "s-1"
[providers.a]
base_url = "http://a.test/v1"
[providers.b]
base_url = "http://b.test/v1"
[providers.c]
base_url = "http://c.test/v1"
"""


@pytest.fixture(autouse=True)
def configured() -> None:
    path = paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG, "utf-8")


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    root = typer.Typer(cls=_CcrouteGroup)
    root.callback()(lambda: None)
    root.add_typer(route_cmds.app, name="route")
    result = CliRunner().invoke(root, ["route", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def body(model: str = "claude-opus-4-8", text: str = "hi") -> str:
    return json.dumps(
        {"model": model, "max_tokens": 10, "messages": [{"role": "user", "content": text}]}
    )


def test_a_captured_haiku_request_explains_the_background_route() -> None:
    code, out, _ = run("explain", str(FIXTURES / "print_say_hi_haiku.json"))
    assert code == 0
    assert "route:      background" in out
    assert "targets:    b/small, c/small (weight 2)" in out
    assert "strategy:   weighted" in out
    assert "fallbacks:  c/spare" in out
    assert "haiku" in out.split("reason:", 1)[1]
    assert "long_context_threshold 30000" in out


def test_json_output_from_stdin_carries_the_whole_decision() -> None:
    code, out, _ = run("explain", "-", "--json", stdin=body())
    assert code == 0
    result = json.loads(out)
    assert result["route"] == "default"
    assert result["targets"] == [{"provider": "a", "model": "main", "weight": 1}]
    assert result["fallbacks"] == [{"provider": "c", "model": "spare", "weight": 1}]
    assert result["strategy"] == "priority"
    assert result["input_tokens_estimate"] > 0
    assert result["request_rewritten"] is False


def test_the_78_kb_fixture_goes_long_context_under_a_profiles_lower_threshold() -> None:
    fixture = str(FIXTURES / "write_tool_turn2_tool_result.json")
    assert json.loads(run("explain", fixture, "--json")[1])["route"] == "default"
    code, out, _ = run("explain", fixture, "--json", "--profile", "tight")
    result = json.loads(out)
    assert code == 0
    assert result["route"] == "long_context"
    assert 10000 < result["input_tokens_estimate"] < 30000
    assert result["long_context_threshold"] == 10000
    assert result["targets"][0]["model"] == "long"


def test_profile_and_session_options_reach_the_decision(tmp_path: Path) -> None:
    request = tmp_path / "req.json"
    request.write_text(body(), "utf-8")
    assert json.loads(run("explain", str(request), "--json", "--profile", "cheap")[1])[
        "targets"
    ] == [{"provider": "c", "model": "cheap", "weight": 1}]
    pinned = json.loads(run("explain", str(request), "--json", "--session", "s-1")[1])
    assert pinned["route"] == "rule:pinned"


def test_a_subagent_tag_is_reported_as_removed() -> None:
    tagged = body(text="<CCR-SUBAGENT-MODEL>c,agent</CCR-SUBAGENT-MODEL> go")
    code, out, _ = run("explain", "-", stdin=tagged)
    assert code == 0
    assert "route:      subagent" in out
    assert "subagent tag is removed" in out


@pytest.mark.parametrize(
    ("stdin", "said"),
    [
        ("not json", "is not JSON"),
        ('{"model": "x"}', "max_tokens"),
    ],
)
def test_bad_input_is_one_error_line(stdin: str, said: str) -> None:
    code, out, err = run("explain", "-", stdin=stdin)
    assert code != 0
    assert out == ""
    assert err.startswith("error: ")
    assert said in err


def test_an_unknown_profile_names_the_fix() -> None:
    code, _, err = run("explain", "-", "--profile", "nope", stdin=body())
    assert code == 2
    assert "[profiles.nope.router]" in err


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    code, _, err = run("explain", str(tmp_path / "none.json"))
    assert code == 1
    assert "none.json" in err
