"""`ccroute doctor` through Typer: the table, `--json`, `--offline` and the exit status."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccroute.catalogue import cache
from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.sources import listings_for
from ccroute.cli import doctor_cmd
from ccroute.config import load_config
from ccroute.config.locations import paths

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def healthy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Everything in order for an offline doctor: claude, no settings overrides, a key, a
    cached list whose routed model takes tools, a free port."""
    script = tmp_path / "bin" / "claude"
    script.parent.mkdir()
    script.write_text('#!/bin/sh\necho "2.1.197 (Claude Code)"\n')
    script.chmod(0o755)
    monkeypatch.setenv("CCROUTE_CLAUDE_BIN", str(script))
    home = tmp_path / "user-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.setenv("FAKE_DOCTOR_KEY", "sk-doctor-0123456789")
    config = paths().config_file
    config.parent.mkdir(parents=True)
    config.write_text(
        f"""
[server]
port = {free_port()}

[router]
default = "fake/m-tools"

[providers.fake]
wire = "openai"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "FAKE_DOCTOR_KEY"
"""
    )
    provider = load_config().providers["fake"]
    model = ModelInfo(provider="fake", id="m-tools", supports_tools=True)
    cache.save("fake", listings_for(provider)[0].url, [model])
    return home


def test_json_lists_every_check_and_exits_0_when_nothing_fails(healthy: Path) -> None:
    result = runner.invoke(doctor_cmd.app, ["--offline", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert all(set(c) == {"check", "status", "detail", "fix"} for c in found)
    statuses = {c["check"]: c["status"] for c in found}
    assert statuses["claude"] == "ok"
    assert statuses["key fake"] == "ok"
    assert statuses["daemon"] == "ok"
    assert statuses["routes"] == "ok"
    assert "fail" not in statuses.values()
    assert "sk-doctor-0123456789" not in result.stdout


def test_settings_override_makes_doctor_exit_1(healthy: Path) -> None:
    settings = healthy / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"env": {"ANTHROPIC_AUTH_TOKEN": "sk-ant-real"}}))
    result = runner.invoke(doctor_cmd.app, ["--offline", "--json"])
    assert result.exit_code == 1
    [finding] = [c for c in json.loads(result.stdout) if c["check"] == f"settings {settings}"]
    assert finding["status"] == "fail"
    assert "ANTHROPIC_AUTH_TOKEN" in finding["fix"]


def test_missing_key_exits_1_and_table_names_the_fix(
    healthy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAKE_DOCTOR_KEY")
    monkeypatch.setenv("NO_COLOR", "1")
    result = runner.invoke(doctor_cmd.app, ["--offline"])
    assert result.exit_code == 1
    assert "ccroute keys set fake" in result.stdout
    assert "\x1b[" not in result.stdout
    assert result.stdout.rstrip().endswith("1 fail")


def test_table_shows_every_status(healthy: Path) -> None:
    result = runner.invoke(doctor_cmd.app, ["--offline"])
    assert result.exit_code == 0, result.output
    for name in ("claude", "keyring", "daemon", "key fake", "routes"):
        assert name in result.stdout
    assert "2.1.197" in result.stdout
    assert " 0 fail" in result.stdout
