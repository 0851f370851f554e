"""`ccroute statusline`: one line from Claude Code's statusLine JSON, never a failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ccroute.cli import statusline_cmd
from ccroute.cli.statusline_cmd import context_percent, format_tokens, render
from ccroute.config import paths

ROOT = Path(__file__).parent.parent

CONFIG = """
[router]
default = "a/main-model"
background = "b/small-model"
[profiles.cheap.router]
default = "b/cheap-model"
[providers.a]
base_url = "http://a.test/v1"
[providers.b]
base_url = "http://b.test/v1"
"""

# What Claude Code 2.1.197 wrote to a statusLine command's stdin after one answer through
# ccroute (captured with `tee`; paths shortened), protocol.md §6.9.
RECORDED: dict[str, Any] = {
    "session_id": "6e7dc8ca-35b6-4bed-8db6-4dd571f0cee6",
    "transcript_path": "/home/u/.claude/projects/-home-u-app/6e7dc8ca.jsonl",
    "cwd": "/home/u/app",
    "prompt_id": "9696940f-2254-447d-bf6d-458360d89085",
    "effort": {"level": "high"},
    "model": {"id": "claude-opus-4-8[1m]", "display_name": "Opus 4.8 (1M context)"},
    "workspace": {"current_dir": "/home/u/app", "project_dir": "/home/u/app", "added_dirs": []},
    "version": "2.1.197",
    "output_style": {"name": "default"},
    "cost": {
        "total_cost_usd": 0.4187,
        "total_duration_ms": 8768,
        "total_api_duration_ms": 105,
        "total_lines_added": 0,
        "total_lines_removed": 0,
    },
    "context_window": {
        "total_input_tokens": 48213,
        "total_output_tokens": 2317,
        "context_window_size": 1000000,
        "current_usage": {
            "input_tokens": 812,
            "output_tokens": 304,
            "cache_creation_input_tokens": 1904,
            "cache_read_input_tokens": 52100,
        },
        "used_percentage": 5,
        "remaining_percentage": 95,
    },
    "exceeds_200k_tokens": False,
    "fast_mode": False,
    "thinking": {"enabled": True},
}


@pytest.fixture(autouse=True)
def configured() -> None:
    path = paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG, "utf-8")


def run(stdin: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    app = typer.Typer()
    statusline_cmd.register(app)

    @app.command()
    def _other() -> None:  # a second command keeps `statusline` a named subcommand
        """Unused."""

    result = CliRunner().invoke(
        app, ["statusline"], input=stdin, env={"NO_COLOR": "1", **(env or {})}
    )
    return result.exit_code, result.output


def test_recorded_status_gives_model_route_tokens_context_and_cost() -> None:
    code, out = run(json.dumps(RECORDED))
    assert code == 0
    assert out == (
        "claude-opus-4-8[1m] → a/main-model (default) · 48.2k in / 2.3k out · ctx 5% · $0.42\n"
    )


def test_haiku_shows_the_background_route() -> None:
    status = {**RECORDED, "model": {"id": "claude-haiku-4-5", "display_name": "Haiku 4.5"}}
    code, out = run(json.dumps(status))
    assert code == 0
    assert out.startswith("claude-haiku-4-5 → b/small-model (background) · ")


def test_the_1m_suffix_is_not_part_of_the_routed_name() -> None:
    status = {**RECORDED, "model": {"id": "b/some/model[1m]"}}
    _, out = run(json.dumps(status))
    assert out.startswith("b/some/model[1m] → b/some/model · ")


def test_explicit_model_reference_has_no_route_label() -> None:
    status = {**RECORDED, "model": {"id": "b/some/model", "display_name": "b/some/model"}}
    _, out = run(json.dumps(status))
    assert out.startswith("b/some/model → b/some/model · ")


def test_profile_from_claude_codes_custom_headers_is_used() -> None:
    headers = "X-Other: 1\nX-Ccroute-Profile: cheap"
    _, out = run(json.dumps(RECORDED), env={"ANTHROPIC_CUSTOM_HEADERS": headers})
    assert out.startswith("claude-opus-4-8[1m] → b/cheap-model (default) · ")
    _, unknown = run(
        json.dumps(RECORDED), env={"ANTHROPIC_CUSTOM_HEADERS": "X-Ccroute-Profile: nope"}
    )
    assert unknown.startswith("claude-opus-4-8[1m] → a/main-model (default) · ")


def test_colour_unless_NO_COLOR() -> None:
    _, plain = run(json.dumps(RECORDED))
    assert "\033[" not in plain
    _, coloured = run(json.dumps(RECORDED), env={"NO_COLOR": ""})
    assert "\033[36ma/main-model (default)\033[0m" in coloured
    assert "\033[" + "2m · \033[0m" in coloured


@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]", "null", '{"model": 7}', "{"])
def test_bad_input_prints_a_fallback_and_exits_0(stdin: str) -> None:
    assert run(stdin) == (0, "ccroute\n")


def test_missing_fields_leave_their_parts_out() -> None:
    status = {"model": {"display_name": "Opus"}, "cost": {"total_cost_usd": "n/a"}}
    _, out = run(json.dumps(status))
    assert out == "Opus → a/main-model (default)\n"
    _, only_cost = run(json.dumps({"cost": {"total_cost_usd": 1.5}}))
    assert only_cost == "$1.50\n"


def test_broken_config_still_prints_the_rest() -> None:
    paths().config_file.write_text("[router\n", "utf-8")
    code, out = run(json.dumps(RECORDED))
    assert code == 0
    assert out == "claude-opus-4-8[1m] · 48.2k in / 2.3k out · ctx 5% · $0.42\n"


def test_context_percent_falls_back_to_current_usage_over_window() -> None:
    window = dict(RECORDED["context_window"], used_percentage=None)
    assert context_percent({"context_window": window}) == pytest.approx(
        (812 + 1904 + 52100) / 1000000 * 100
    )
    assert context_percent({"context_window": {"context_window_size": 0}}) is None
    assert context_percent({}) is None


def test_format_tokens() -> None:
    assert [format_tokens(n) for n in (0, 999, 1000, 48213, 1_250_000)] == [
        "0",
        "999",
        "1.0k",
        "48.2k",
        "1.2M",
    ]


def test_render_without_anything_known() -> None:
    assert render({}, None, color=True) == "ccroute"


def test_runs_without_loading_aiohttp_or_rich() -> None:
    program = (
        "import io, json, sys\n"
        "from ccroute.cli import statusline_cmd\n"
        "sys.stdin = io.StringIO(sys.argv[1])\n"
        "statusline_cmd.statusline()\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'aiohttp', 'rich'})\n"
        "print(json.dumps(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, json.dumps(RECORDED)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    line, heavy = done.stdout.splitlines()
    assert line.startswith("claude-opus-4-8[1m] → a/main-model (default)")
    assert json.loads(heavy) == []
