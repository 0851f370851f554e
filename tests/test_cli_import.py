"""`ccroute import ccr` through its Typer app, against a temp CCROUTE_HOME and in-memory keyring."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from typer.testing import CliRunner

from ccroute.cli.import_cmd import app
from ccroute.config import load_config, paths, set_value
from ccroute.errors import ConfigError
from ccroute.keys import SERVICE

runner = CliRunner()
LITERAL = "sk-deepseek-literal-0123456789"
CCR: dict[str, Any] = {
    "PORT": 3999,
    "CUSTOM_ROUTER_PATH": "~/.claude-code-router/router.js",
    "Providers": [
        {
            "name": "deepseek",
            "api_base_url": "https://api.deepseek.com/chat/completions",
            "api_key": LITERAL,
            "models": ["deepseek-chat", "deepseek-reasoner"],
            "transformer": {"use": ["deepseek"], "deepseek-chat": {"use": ["tooluse"]}},
        },
        {
            "name": "openrouter-x",
            "api_base_url": "https://openrouter.ai/api/v1/chat/completions",
            "api_key": "$OPENROUTER_API_KEY",
            "models": ["anthropic/claude-sonnet-4"],
            "transformer": {
                "use": ["openrouter"],
                "anthropic/claude-sonnet-4": {"use": [["maxtoken", {"max_tokens": 16384}]]},
            },
        },
    ],
    "Router": {
        "default": "deepseek,deepseek-chat",
        "think": "deepseek,deepseek-reasoner",
        "longContext": "openrouter-x,anthropic/claude-sonnet-4",
        "longContextThreshold": 80000,
    },
}


def write_ccr(tmp_path: Path, data: object = CCR) -> Path:
    path = tmp_path / "ccr" / "config.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["ccr", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_dry_run_prints_toml_and_report_and_writes_nothing(
    tmp_path: Path, memory_keyring: Any
) -> None:
    code, out, _ = run(str(write_ccr(tmp_path)), "--dry-run", "--port-too")
    assert code == 0
    toml_text = out[: out.index("Imported:")]
    doc = tomllib.loads(toml_text)
    assert doc["server"] == {"port": 3999}
    assert doc["providers"]["deepseek"] == {
        "wire": "openai",
        "base_url": "https://api.deepseek.com",
        "api_key_env": "DEEPSEEK_API_KEY",
        "max_tokens": 8192,
    }
    assert doc["router"]["long_context"] == "openrouter-x/anthropic/claude-sonnet-4"
    assert LITERAL not in out
    assert "Not imported:" in out and "CUSTOM_ROUTER_PATH" in out
    assert "transformer tooluse" in out
    assert not paths().config_file.exists()
    assert memory_keyring.store == {}


def test_import_writes_a_valid_config_and_stores_the_literal_key(
    tmp_path: Path, memory_keyring: Any
) -> None:
    code, out, err = run(str(write_ccr(tmp_path)), "--yes")
    assert code == 0, err
    cfg = load_config()
    deepseek = cfg.providers["deepseek"]
    assert (deepseek.wire, deepseek.base_url, deepseek.max_tokens) == (
        "openai",
        "https://api.deepseek.com",
        8192,
    )
    orx = cfg.providers["openrouter-x"]
    assert orx.api_key_env == "OPENROUTER_API_KEY" and orx.reasoning == "openrouter"
    assert orx.for_model("anthropic/claude-sonnet-4").max_tokens == 16384
    assert cfg.router.default == "deepseek/deepseek-chat"
    assert cfg.router.long_context_threshold == 80000
    assert cfg.server.port == 3456  # PORT only with --port-too
    assert "pass --port-too" in out
    assert memory_keyring.store[(SERVICE, "deepseek")] == LITERAL
    assert LITERAL not in paths().config_file.read_text(encoding="utf-8")
    assert LITERAL not in out


def test_port_too_sets_server_port(tmp_path: Path) -> None:
    code, _, err = run(str(write_ccr(tmp_path)), "--yes", "--port-too")
    assert code == 0, err
    assert load_config().server.port == 3999


def test_declining_the_prompt_stores_no_key_and_names_the_env_var(
    tmp_path: Path, memory_keyring: Any
) -> None:
    code, out, _ = run(str(write_ccr(tmp_path)), stdin="n\n")
    assert code == 0
    assert memory_keyring.store == {}
    assert "set DEEPSEEK_API_KEY in your environment for deepseek" in out
    assert load_config().providers["deepseek"].api_key_env == "DEEPSEEK_API_KEY"


def test_without_a_keyring_the_env_var_is_printed_instead(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    code, out, _ = run(str(write_ccr(tmp_path)), "--yes")
    assert code == 0
    assert "No OS keyring: set DEEPSEEK_API_KEY in your environment for deepseek." in out


def test_existing_providers_are_kept_unless_force(tmp_path: Path) -> None:
    set_value("providers.deepseek.base_url", "https://example.test/v1")
    set_value("providers.deepseek.wire", "openai")
    before = paths().config_file.read_text(encoding="utf-8")
    code, _, err = run(str(write_ccr(tmp_path)), "--yes")
    assert code == ConfigError.exit_code
    assert "already has providers.deepseek" in err and "--force" in err
    assert paths().config_file.read_text(encoding="utf-8") == before
    code, _, err = run(str(write_ccr(tmp_path)), "--yes", "--force")
    assert code == 0, err
    assert load_config().providers["deepseek"].base_url == "https://api.deepseek.com"


def test_broken_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"Providers": [', encoding="utf-8")
    code, _, err = run(str(path))
    assert code == ConfigError.exit_code
    assert err.startswith(f"error: {path}: not valid JSON (line 1")
    assert not paths().config_file.exists()


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "nope.json"))
    assert code == ConfigError.exit_code
    assert f"{tmp_path / 'nope.json'}: no claude-code-router config there" in err


def test_env_references_in_urls_are_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_HOST", "127.0.0.1:8080")
    data = {
        "Providers": [{"name": "local", "api_base_url": "http://${LLM_HOST}/v1/chat/completions"}],
        "Router": {"default": "local,qwen"},
    }
    code, _, err = run(str(write_ccr(tmp_path, data)))
    assert code == 0, err
    cfg = load_config()
    assert cfg.providers["local"].base_url == "http://127.0.0.1:8080/v1"
    assert cfg.providers["local"].api_key_env is None


def test_a_readme_style_config_with_comments_imports(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(
        '{\n  "Providers": [\n    {\n      "name": "ollama",\n'
        "      // IMPORTANT: api_base_url must be a complete (full) URL.\n"
        '      "api_base_url": "http://localhost:11434/v1/chat/completions",\n'
        '      "api_key": "ollama",\n      "models": ["qwen2.5-coder:latest"],\n    },\n  ],\n'
        '  "Router": { "default": "ollama,qwen2.5-coder:latest", },\n}\n',
        encoding="utf-8",
    )
    code, _, err = run(str(path), "--yes")
    assert code == 0, err
    cfg = load_config()
    assert cfg.providers["ollama"].base_url == "http://localhost:11434/v1"
    assert cfg.router.default == "ollama/qwen2.5-coder:latest"


def test_a_refused_edit_leaves_config_toml_untouched(tmp_path: Path) -> None:
    set_value("server.port", "4000")
    before = paths().config_file.read_bytes()
    data = {
        "Providers": [
            {"name": "good", "api_base_url": "https://a.test/v1/chat/completions"},
            {
                "name": "bad",
                "api_base_url": "https://b.test/v1/chat/completions",
                "transformer": {"use": [["maxtoken", {"max_tokens": -5}]]},
            },
        ],
        "Router": {"default": "good,m"},
    }
    code, _, err = run(str(write_ccr(tmp_path, data)), "--yes")
    assert code == ConfigError.exit_code
    assert (
        "providers.bad.max_tokens must be a positive integer, got -5; "
        f"{paths().config_file} was not changed." in err
    )
    assert paths().config_file.read_bytes() == before
    assert "good" not in load_config().providers


def test_json_dry_run_reports_without_writing_or_asking(
    tmp_path: Path, memory_keyring: Any
) -> None:
    code, out, _ = run(str(write_ccr(tmp_path)), "--dry-run", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["written"] is False
    assert tomllib.loads(report["toml"])["router"]["default"] == "deepseek/deepseek-chat"
    assert any("CUSTOM_ROUTER_PATH" in line for line in report["not_imported"])
    assert any("pass --port-too" in line for line in report["not_imported"])
    assert report["keys"] == [
        {"provider": "deepseek", "env_var": "DEEPSEEK_API_KEY", "keyring": "not asked"}
    ]
    assert LITERAL not in out
    assert not paths().config_file.exists()
    assert memory_keyring.store == {}


def test_json_import_never_prompts_and_stores_keys_only_with_yes(
    tmp_path: Path, memory_keyring: Any
) -> None:
    code, out, _ = run(str(write_ccr(tmp_path)), "--json")
    assert code == 0
    report = json.loads(out)  # nothing but the JSON: no question was printed
    assert report["written"] is True and report["toml"] is None
    assert report["keys"][0]["keyring"] == "not asked"
    assert memory_keyring.store == {}
    assert load_config().router.default == "deepseek/deepseek-chat"
    code, out, _ = run(str(write_ccr(tmp_path)), "--json", "--yes", "--force")
    assert code == 0
    assert json.loads(out)["keys"][0]["keyring"] == "stored"
    assert memory_keyring.store[(SERVICE, "deepseek")] == LITERAL
