"""`ccroute.doctor`: each problem staged for real (fake `claude`, settings files, keys, a loopback
provider, a taken port, file modes, a catalogue cache) and the finding it must produce."""

from __future__ import annotations

import json
import socket
import stat
import threading
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ccroute import doctor
from ccroute.catalogue import cache
from ccroute.catalogue.model import ModelInfo
from ccroute.catalogue.sources import listings_for
from ccroute.config import load_config
from ccroute.config.locations import paths
from ccroute.doctor import FAIL, OK, WARN, Check


def by_name(found: list[Check], name: str) -> Check:
    matches = [c for c in found if c.check == name]
    assert len(matches) == 1, [c.check for c in found]
    return matches[0]


def fake_claude(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "bin" / "claude"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def write_config(text: str) -> Path:
    config = paths().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text)
    return config


class _Upstream(BaseHTTPRequestHandler):
    """An OpenAI-style model list: 401 with an OpenAI error body unless the key is "good"."""

    date_offset = 0.0

    def _answer(self, with_body: bool) -> None:
        good = self.headers.get("Authorization") == "Bearer good-key-123456"
        body = (
            {"object": "list", "data": [{"id": "m-tools", "object": "model"}]}
            if good
            else {
                "error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}
            }
        )
        raw = json.dumps(body).encode()
        self.send_response(200 if good else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if with_body:
            self.wfile.write(raw)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header `send_response` sends, shifted by `date_offset` seconds."""
        import time

        return formatdate(time.time() + self.date_offset, usegmt=True)

    def do_GET(self) -> None:
        self._answer(True)

    def do_HEAD(self) -> None:
        self._answer(False)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[tuple[str, type[_Upstream]]]:
    handler = type("Handler", (_Upstream,), {"date_offset": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    finally:
        server.shutdown()
        server.server_close()


def provider_config(base_url: str, *, port: int = 3456) -> str:
    return f"""
[server]
port = {port}

[router]
default = "fake/m-tools"

[providers.fake]
wire = "openai"
base_url = "{base_url}"
api_key_env = "FAKE_DOCTOR_KEY"
"""


# --- claude ---------------------------------------------------------------------------------------


def test_claude_found_reports_its_version(tmp_path: Path) -> None:
    script = fake_claude(tmp_path, 'echo "2.1.197 (Claude Code)"')
    [found] = doctor.check_claude({"CCROUTE_CLAUDE_BIN": str(script), "PATH": ""})
    assert found.status == OK
    assert "2.1.197 (Claude Code)" in found.detail


def test_claude_on_path_is_found(tmp_path: Path) -> None:
    script = fake_claude(tmp_path, 'echo "9.9.9 (Claude Code)"')
    [found] = doctor.check_claude({"PATH": str(script.parent)})
    assert (found.status, found.detail.endswith("9.9.9 (Claude Code)")) == (OK, True)


def test_claude_missing_fails_with_install_command(tmp_path: Path) -> None:
    [found] = doctor.check_claude({"PATH": str(tmp_path)})
    assert found.status == FAIL
    assert found.fix == "npm install -g @anthropic-ai/claude-code"


def test_claude_version_failing_is_a_failure(tmp_path: Path) -> None:
    script = fake_claude(tmp_path, "echo broken >&2; exit 3")
    [found] = doctor.check_claude({"CCROUTE_CLAUDE_BIN": str(script), "PATH": ""})
    assert found.status == FAIL
    assert "broken" in found.detail


def test_claude_version_hanging_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doctor, "VERSION_TIMEOUT", 0.2)
    script = fake_claude(tmp_path, "exec /bin/sleep 5")
    [found] = doctor.check_claude({"CCROUTE_CLAUDE_BIN": str(script), "PATH": ""})
    assert found.status == WARN
    assert "did not answer" in found.detail


# --- settings.json --------------------------------------------------------------------------------


def test_user_settings_env_base_url_fails(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "project"
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://api.example.com"}}))
    [found] = doctor.check_settings(home, cwd)
    assert found.check == f"settings {settings}"
    assert found.status == FAIL
    assert "ANTHROPIC_BASE_URL" in found.detail
    assert found.fix == f'remove ANTHROPIC_BASE_URL from {settings} ("env" block)'


def test_project_local_settings_model_override_warns(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "project"
    local = cwd / ".claude" / "settings.local.json"
    local.parent.mkdir(parents=True)
    local.write_text(json.dumps({"env": {"ANTHROPIC_MODEL": "opus", "OTHER": "1"}}))
    (cwd / ".claude" / "settings.json").write_text(json.dumps({"env": {"FOO": "bar"}}))
    found = doctor.check_settings(home, cwd)
    assert [c.status for c in found] == [OK, WARN]
    assert "ANTHROPIC_MODEL" in found[1].detail and "OTHER" not in found[1].detail


def test_api_key_helper_fails(tmp_path: Path) -> None:
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"apiKeyHelper": "~/bin/key.sh"}))
    [found] = doctor.check_settings(tmp_path, tmp_path / "elsewhere")
    assert found.status == FAIL
    assert "apiKeyHelper" in found.fix


def test_unreadable_settings_json_warns(tmp_path: Path) -> None:
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{not json")
    [found] = doctor.check_settings(tmp_path, tmp_path / "elsewhere")
    assert found.status == WARN


def test_no_settings_files_no_findings(tmp_path: Path) -> None:
    assert doctor.check_settings(tmp_path / "home", tmp_path / "project") == []


# --- keyring and keys -----------------------------------------------------------------------------


def test_keyring_backend_present_is_ok() -> None:
    found = doctor.check_keyring()
    assert found.status == OK
    assert "MemoryKeyring" in found.detail


def test_keyring_missing_warns() -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    found = doctor.check_keyring()
    assert (found.status, found.fix) == (WARN, "pip install keyrings.alt")


def test_missing_key_fails_with_keys_set(upstream: tuple[str, object]) -> None:
    write_config(provider_config(upstream[0]))
    found = doctor.check_keys(doctor.routed_providers(load_config()))
    assert found == [
        Check(
            "key fake",
            FAIL,
            "no key in $FAKE_DOCTOR_KEY or the keyring.",
            "ccroute keys set fake",
        )
    ]


def test_key_from_env_is_ok_and_masked(
    upstream: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DOCTOR_KEY", "good-key-123456")
    write_config(provider_config(upstream[0]))
    [found] = doctor.check_keys(doctor.routed_providers(load_config()))
    assert found.status == OK
    assert "good-key-123456" not in found.detail
    assert "env:FAKE_DOCTOR_KEY" in found.detail


# --- online: key accepted, clock ------------------------------------------------------------------


def test_provider_answering_401_fails_as_rejected_key(
    upstream: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DOCTOR_KEY", "wrong-key-999999")
    write_config(provider_config(upstream[0]))
    found = doctor.run_checks(cwd=Path("/"), home=Path("/nonexistent"), environ={"PATH": ""})
    probe = by_name(found, "provider fake")
    assert probe.status == FAIL
    assert "rejected" in probe.detail and "401" in probe.detail
    assert probe.fix == "ccroute keys set fake"
    assert "wrong-key-999999" not in json.dumps([c.to_json() for c in found])
    assert by_name(found, "clock").status == OK


def test_good_key_lists_route_and_saves_catalogue(
    upstream: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DOCTOR_KEY", "good-key-123456")
    write_config(provider_config(upstream[0]))
    found = doctor.run_checks(cwd=Path("/"), home=Path("/nonexistent"), environ={"PATH": ""})
    assert by_name(found, "provider fake").status == OK
    assert by_name(found, "key fake").status == OK
    assert by_name(found, "routes").detail.startswith("1 route(s) listed")
    assert not [c for c in found if c.check.startswith("route ")]
    assert cache.load("fake").listing is not None


def test_skewed_clock_warns(
    upstream: tuple[str, type[_Upstream]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = upstream
    handler.date_offset = -3600.0
    monkeypatch.setenv("FAKE_DOCTOR_KEY", "good-key-123456")
    write_config(provider_config(url))
    found = doctor.run_checks(cwd=Path("/"), home=Path("/nonexistent"), environ={"PATH": ""})
    clock = by_name(found, "clock")
    assert clock.status == WARN
    assert "ahead of" in clock.detail


def test_clock_rule() -> None:
    assert doctor.check_clock(1000.0, 1000.0 + 299).status == OK
    assert doctor.check_clock(1000.0, 1000.0 - 301).status == WARN
    assert doctor.check_clock(None, 1000.0).status == WARN


def test_offline_contacts_no_provider(upstream: tuple[str, object]) -> None:
    write_config(provider_config("http://127.0.0.1:9/v1"))
    found = doctor.run_checks(
        offline=True, cwd=Path("/"), home=Path("/nonexistent"), environ={"PATH": ""}
    )
    names = [c.check for c in found]
    assert "provider fake" not in names and "clock" not in names
    assert by_name(found, "models fake").status == WARN


# --- daemon port ----------------------------------------------------------------------------------


def test_port_taken_by_another_program_fails() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        write_config(provider_config("http://127.0.0.1:9/v1", port=port))
        found = doctor.check_daemon(load_config(), paths())
    assert found.status == FAIL
    assert found.fix == f"ccroute config set server.port {port + 1}"


def test_free_port_is_ok() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    write_config(provider_config("http://127.0.0.1:9/v1", port=port))
    found = doctor.check_daemon(load_config(), paths())
    assert found.status == OK
    assert f"port {port}" in found.detail


# --- catalogue ------------------------------------------------------------------------------------


def test_cached_model_without_tools_fails_offline() -> None:
    write_config(provider_config("http://127.0.0.1:9/v1"))
    config = load_config()
    provider = config.providers["fake"]
    url = listings_for(provider)[0].url
    cache.save("fake", url, [ModelInfo(provider="fake", id="m-tools", supports_tools=False)])
    found = doctor.run_checks(
        offline=True, cwd=Path("/"), home=Path("/nonexistent"), environ={"PATH": ""}
    )
    route = by_name(found, "route fake/m-tools")
    assert route.status == FAIL
    assert "does not support tool calling" in route.detail
    assert route.fix == "ccroute models --provider fake"


def test_unlisted_model_warns_offline() -> None:
    write_config(provider_config("http://127.0.0.1:9/v1"))
    provider = load_config().providers["fake"]
    cache.save("fake", listings_for(provider)[0].url, [ModelInfo(provider="fake", id="other")])
    found = doctor.run_checks(
        offline=True, cwd=Path("/"), home=Path("/nonexistent"), environ={"PATH": ""}
    )
    route = by_name(found, "route fake/m-tools")
    assert (route.status, route.fix) == (WARN, "ccroute models m-tools --provider fake")


# --- permissions ----------------------------------------------------------------------------------


def test_open_state_dir_and_token_warn() -> None:
    p = paths()
    p.state_dir.mkdir(parents=True)
    token = p.state_dir / "token"
    token.write_text("secret")
    p.state_dir.chmod(0o755)
    token.chmod(0o644)
    found = doctor.check_permissions(p)
    state, tok = by_name(found, "state dir"), by_name(found, "token file")
    assert (state.status, state.fix) == (WARN, f"chmod 700 {p.state_dir}")
    assert (tok.status, tok.fix) == (WARN, f"chmod 600 {token}")


def test_private_state_is_ok() -> None:
    p = paths()
    p.state_dir.mkdir(parents=True, mode=0o700)
    (p.state_dir / "token").write_text("secret")
    (p.state_dir / "token").chmod(stat.S_IRUSR | stat.S_IWUSR)
    found = doctor.check_permissions(p)
    assert by_name(found, "state dir").status == OK
    assert by_name(found, "token file").status == OK


def test_unreadable_config_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config("")
    # root reads any file whatever its mode, so the access answer is staged instead of chmod 0
    monkeypatch.setattr(doctor.os, "access", lambda path, mode: Path(path) != config)
    found = doctor.check_permissions(paths())
    assert by_name(found, "config file") == Check(
        "config file", FAIL, f"{config} is not readable.", f"chmod u+r {config}"
    )


def test_broken_config_is_one_failure_and_stops() -> None:
    write_config("[server\n")
    found = doctor.run_checks(
        offline=True, cwd=Path("/"), home=Path("/nonexistent"), environ={"PATH": ""}
    )
    config = by_name(found, "config")
    assert config.status == FAIL
    assert str(paths().config_file) in config.fix
    assert "daemon" not in [c.check for c in found]


def test_route_to_unknown_provider_is_a_config_failure() -> None:
    write_config('[router]\ndefault = "nope/some-model"\n')
    found = doctor.run_checks(
        offline=True, cwd=Path("/"), home=Path("/nonexistent"), environ={"PATH": ""}
    )
    config = by_name(found, "config")
    assert config.status == FAIL
    assert "nope" in config.detail
