"""`ccroute config ...` through the real Typer app."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from ccroute.cli import app
from ccroute.config import paths

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_config_path_prints_the_rerooted_file(isolated_home: Path) -> None:
    code, out, _ = run("config", "path")
    assert code == 0
    assert out.strip() == str(isolated_home / "config" / "config.toml")


def test_config_set_then_get_round_trips() -> None:
    code, out, _ = run("config", "set", "server.port", "4000")
    assert code == 0
    assert "server.port = 4000" in out
    assert run("config", "get", "server.port")[1] == "4000\n"
    assert tomllib.loads(paths().config_file.read_text())["server"]["port"] == 4000


def test_config_get_prints_defaults_and_json() -> None:
    assert run("config", "get", "router.default")[1] == "openrouter/anthropic/claude-sonnet-4.5\n"
    code, out, _ = run("config", "get", "providers.openrouter", "--json")
    assert code == 0
    assert json.loads(out)["base_url"] == "https://openrouter.ai/api/v1"


def test_config_get_table_prints_toml() -> None:
    code, out, _ = run("config", "get", "server")
    assert code == 0
    assert tomllib.loads(out) == {"host": "127.0.0.1", "port": 3456}


def test_config_get_unset_leaf_prints_nothing_and_json_null() -> None:
    run("config", "set", "providers.local.base_url", "http://localhost:1/v1")
    assert run("config", "get", "providers.local.api_key_env") == (0, "", "")
    assert run("config", "get", "providers.local.api_key_env", "--json")[1] == "null\n"


def test_config_set_invalid_value_prints_one_error_and_exits_2() -> None:
    code, out, err = run("config", "set", "server.port", "abc")
    assert code == 2
    assert out == ""
    assert err.count("error:") == 1
    assert "server.port must be an integer from 1 to 65535, got 'abc'" in err
    assert "Traceback" not in err
    assert not paths().config_file.exists()


def test_config_set_secret_key_points_to_keys_set() -> None:
    code, _, err = run("config", "set", "providers.openrouter.api_key", "sk-or-v1-xyz")
    assert code == 2
    assert "ccroute keys set openrouter" in err
    assert "sk-or-v1-xyz" not in err


def test_config_unset_reverts_to_default() -> None:
    run("config", "set", "server.port", "4000")
    code, out, _ = run("config", "unset", "server.port")
    assert code == 0
    assert "server.port" in out
    assert run("config", "get", "server.port")[1] == "3456\n"


def test_config_unset_missing_key_is_an_error_naming_the_key() -> None:
    code, _, err = run("config", "unset", "server.port")
    assert code == 2
    assert "error: server.port is not set in" in err


def test_config_show_marks_defaults_and_is_valid_toml() -> None:
    run("config", "set", "server.port", "4000")
    code, out, _ = run("config", "show")
    assert code == 0
    lines = out.splitlines()
    assert "port = 4000" in lines
    assert 'host = "127.0.0.1"  # default' in lines
    parsed = tomllib.loads(out)
    assert parsed["server"] == {"host": "127.0.0.1", "port": 4000}
    assert parsed["providers"]["openrouter"]["max_tokens"] == 32000


def test_config_show_prints_model_overrides_and_nested_routing_as_valid_toml() -> None:
    run("config", "set", 'providers.openrouter.models."deepseek/deepseek-r1".reasoning', "none")
    run("config", "set", "providers.openrouter.provider_routing.sort", '{ by = "price" }')
    run("config", "set", "providers.openrouter.provider_routing.order", "anthropic,google-vertex")
    code, out, _ = run("config", "show")
    assert code == 0
    assert '[providers.openrouter.models."deepseek/deepseek-r1"]' in out.splitlines()
    parsed = tomllib.loads(out)["providers"]["openrouter"]
    assert parsed["models"] == {"deepseek/deepseek-r1": {"reasoning": "none"}}
    assert parsed["provider_routing"] == {
        "sort": {"by": "price"},
        "order": ["anthropic", "google-vertex"],
    }


def test_config_show_json_gives_config_and_origins(monkeypatch: object) -> None:
    run("config", "set", "providers.local.base_url", "http://localhost:1/v1")
    code, out, _ = run("config", "show", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["file"] == str(paths().config_file)
    assert data["config"]["providers"]["local"]["base_url"] == "http://localhost:1/v1"
    assert data["config"]["providers"]["local"]["api_key_env"] is None
    assert data["origins"]["providers.local.base_url"] == "file"
    assert data["origins"]["server.port"] == "default"


def test_config_show_with_a_broken_file_reports_the_file_and_line() -> None:
    path = paths().config_file
    path.parent.mkdir(parents=True)
    path.write_text("[server\n")
    code, _, err = run("config", "show")
    assert code == 2
    assert str(path) in err
    assert "line 1" in err
    assert "ccroute config path" in err
