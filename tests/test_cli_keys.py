"""`ccroute keys ...` through the real Typer app, against the in-memory keyring."""

from __future__ import annotations

import json
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from typer.testing import CliRunner

from ccroute.cli import app
from ccroute.keys import SERVICE

KEY = "sk-or-v1-0123456789abcdefWXYZ"
runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_keys_set_stdin_stores_the_stripped_first_line(memory_keyring: Any) -> None:
    code, out, _ = run("keys", "set", "openrouter", "--stdin", stdin=f"  {KEY}  \nignored\n")
    assert code == 0
    assert memory_keyring.store[(SERVICE, "openrouter")] == KEY
    assert "…WXYZ" in out
    assert KEY not in out


def test_keys_set_prompts_without_echoing_the_key(memory_keyring: Any) -> None:
    code, out, _ = run("keys", "set", "openrouter", stdin=f"{KEY}\n")
    assert code == 0
    assert memory_keyring.store[(SERVICE, "openrouter")] == KEY
    assert KEY not in out


def test_keys_set_refuses_an_empty_key(memory_keyring: Any) -> None:
    code, _, err = run("keys", "set", "openrouter", "--stdin", stdin="\n")
    assert code == 2
    assert "empty" in err
    assert memory_keyring.store == {}


def test_keys_set_unknown_provider_lists_configured_providers() -> None:
    code, _, err = run("keys", "set", "nope", "--stdin", stdin=f"{KEY}\n")
    assert code == 2
    assert "Unknown provider 'nope'" in err
    assert "openrouter" in err


def test_keys_set_warns_when_the_env_var_takes_precedence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-env-11112222")
    code, _, err = run("keys", "set", "openrouter", "--stdin", stdin=f"{KEY}\n")
    assert code == 0
    assert "OPENROUTER_API_KEY is set in your environment" in err


def test_keys_set_without_keyring_names_the_env_var_and_no_traceback() -> None:
    keyring.set_keyring(fail.Keyring())
    code, out, err = run("keys", "set", "openrouter", "--stdin", stdin=f"{KEY}\n")
    assert code == 1
    assert err == (
        "error: No OS keyring is available on this machine. Set OPENROUTER_API_KEY in your "
        "environment instead, or install a keyring backend (e.g. 'pip install keyrings.alt').\n"
    )
    assert KEY not in out + err


def test_keys_list_shows_sources_and_masks_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    run("config", "set", "providers.local.base_url", "http://localhost:1/v1")
    run("keys", "set", "local", "--stdin", stdin=f"{KEY}\n")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-env-secret-5678")
    code, out, _ = run("keys", "list")
    assert code == 0
    assert "env:OPENROUTER_API_KEY" in out
    assert "…5678" in out
    assert "keyring" in out
    assert "…WXYZ" in out
    assert KEY not in out
    assert "sk-env-secret" not in out


def test_keys_list_json_reports_none_for_missing_keys() -> None:
    code, out, _ = run("keys", "list", "--json")
    assert code == 0
    assert json.loads(out) == [{"provider": "openrouter", "source": "none", "key": None}]


def test_keys_delete_removes_the_stored_key(memory_keyring: Any) -> None:
    run("keys", "set", "openrouter", "--stdin", stdin=f"{KEY}\n")
    code, out, _ = run("keys", "delete", "openrouter")
    assert code == 0
    assert "Deleted" in out
    assert memory_keyring.store == {}
    code, out, _ = run("keys", "delete", "openrouter")
    assert code == 0
    assert "No key" in out


def test_keys_delete_unknown_provider_without_a_key_is_an_error() -> None:
    code, _, err = run("keys", "delete", "nope")
    assert code == 2
    assert "Unknown provider 'nope'" in err
