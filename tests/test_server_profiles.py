"""The routing context a request's ccroute headers give (`server.profiles.request_profile`):
a project's `.ccroute.toml` overrides `[router]` key by key, a named profile applies over that,
and every problem is a 400 naming the file and the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request

from ccroute.config import load_config, paths
from ccroute.errors import TranslationError
from ccroute.routing import decide
from ccroute.server.profiles import PROFILE_HEADER, PROJECT_HEADER, request_profile

USER_CONFIG = """
[router]
default = "openrouter/user/default"
background = "openrouter/user/background"

[profiles.cheap.router]
default = "openrouter/cheap/default"
"""


def request(**headers: str) -> object:
    return make_mocked_request("POST", "/v1/messages", headers=headers)


@pytest.fixture
def user_config() -> None:
    path = paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(USER_CONFIG)


def project(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "proj" / ".ccroute.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def routed(config: object, profile: str | None, model: str = "claude-sonnet-4-5") -> str:
    req = {"model": model, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    decision = decide(req, config, input_tokens=10, profile=profile)  # type: ignore[arg-type]
    target = decision.targets[0]
    return f"{target.provider.name}/{target.model}"


def test_no_headers_leave_the_config_and_no_profile(user_config: None) -> None:
    config = load_config()
    assert request_profile(request(), config) == (config, None)  # type: ignore[arg-type]


def test_project_router_overrides_the_users_key_by_key(user_config: None, tmp_path: Path) -> None:
    path = project(tmp_path, '[router]\ndefault = "openrouter/project/default"\n')
    config, profile = request_profile(request(**{PROJECT_HEADER: str(path)}), load_config())  # type: ignore[arg-type]
    assert profile is None
    assert routed(config, None) == "openrouter/project/default"
    assert routed(config, None, "claude-3-5-haiku") == "openrouter/user/background"  # kept


def test_profile_applies_over_the_project(user_config: None, tmp_path: Path) -> None:
    path = project(tmp_path, '[router]\nbackground = "openrouter/project/bg"\n')
    headers = {PROJECT_HEADER: str(path), PROFILE_HEADER: "cheap"}
    config, profile = request_profile(request(**headers), load_config())  # type: ignore[arg-type]
    assert profile == "cheap"
    assert routed(config, profile) == "openrouter/cheap/default"
    assert routed(config, profile, "claude-3-5-haiku") == "openrouter/project/bg"


def test_unknown_profile_is_a_400_naming_the_fix(user_config: None) -> None:
    with pytest.raises(TranslationError) as info:
        request_profile(request(**{PROFILE_HEADER: "nope"}), load_config())  # type: ignore[arg-type]
    assert "profiles.nope" in info.value.message
    assert "cheap" in info.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[router]\nstrategy = "fastest"\n', "router.strategy"),
        ('[router]\ndefault = "nowhere/model"\n', "router.default"),
        ("[server]\nport = 1\n", "server"),
        ("[router\n", "invalid TOML"),
    ],
)
def test_bad_project_file_names_the_file_and_key(
    user_config: None, tmp_path: Path, text: str, expected: str
) -> None:
    path = project(tmp_path, text)
    with pytest.raises(TranslationError) as info:
        request_profile(request(**{PROJECT_HEADER: str(path)}), load_config())  # type: ignore[arg-type]
    assert str(path) in info.value.message
    assert expected in info.value.message


def test_missing_or_relative_project_path_is_a_400(user_config: None, tmp_path: Path) -> None:
    for value in (str(tmp_path / "gone" / ".ccroute.toml"), "relative/.ccroute.toml"):
        with pytest.raises(TranslationError):
            request_profile(request(**{PROJECT_HEADER: value}), load_config())  # type: ignore[arg-type]


def test_project_config_is_cached_until_the_file_changes(user_config: None, tmp_path: Path) -> None:
    path = project(tmp_path, '[router]\ndefault = "openrouter/project/one"\n')
    req = request(**{PROJECT_HEADER: str(path)})
    first, _ = request_profile(req, load_config())  # type: ignore[arg-type]
    again, _ = request_profile(req, load_config())  # type: ignore[arg-type]
    assert again is first
    path.write_text('[router]\ndefault = "openrouter/project/two-changed"\n')
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    changed, _ = request_profile(req, load_config())  # type: ignore[arg-type]
    assert routed(changed, None) == "openrouter/project/two-changed"
