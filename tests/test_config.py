"""ccroute.config: paths, defaults, file/env precedence, validation, edits, atomic writes."""

from __future__ import annotations

import copy
import json
import os
import stat
import sys
import tomllib
from pathlib import Path

import pytest

from ccroute import atomicfile, config
from ccroute.config import (
    Config,
    get_value,
    load_config,
    paths,
    set_value,
    settings,
    unset_value,
    write_atomic,
)
from ccroute.errors import ConfigError

OPENROUTER_ATTRIBUTION = {
    "HTTP-Referer": "https://github.com/ccroute/ccroute",
    "X-OpenRouter-Title": "ccroute",
    "X-Title": "ccroute",
}


def config_file() -> Path:
    return paths().config_file


def write_config(text: str) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(text: str) -> str:
    write_config(text)
    with pytest.raises(ConfigError) as info:
        load_config()
    return info.value.message


def file_doc() -> dict[str, object]:
    return tomllib.loads(config_file().read_text(encoding="utf-8"))


# --- paths -----------------------------------------------------------------------------------


def test_ccroute_home_reroots_config_state_and_logs(isolated_home: Path) -> None:
    p = paths()
    assert p.config_file == isolated_home / "config" / "config.toml"
    assert p.state_dir == isolated_home / "state"
    assert p.log_dir == isolated_home / "logs"


def test_without_ccroute_home_paths_are_absolute_platform_dirs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CCROUTE_HOME")
    p = paths()
    assert p.config_file.name == "config.toml"
    assert all(path.is_absolute() for path in (p.config_file, p.state_dir, p.log_dir))
    assert "ccroute" in str(p.config_file.parent)


def test_reading_the_config_creates_no_directories(isolated_home: Path) -> None:
    load_config()
    assert list(isolated_home.iterdir()) == []


# --- defaults and precedence -----------------------------------------------------------------


def test_without_a_file_the_builtin_defaults_apply() -> None:
    cfg = load_config()
    assert (cfg.server.host, cfg.server.port) == ("127.0.0.1", 3456)
    assert cfg.router.default == "openrouter/anthropic/claude-sonnet-4.5"
    openrouter = cfg.providers["openrouter"]
    assert openrouter.wire == "openai"
    assert openrouter.base_url == "https://openrouter.ai/api/v1"
    assert openrouter.api_key_env == "OPENROUTER_API_KEY"
    assert openrouter.max_tokens == 32000
    assert dict(openrouter.headers) == OPENROUTER_ATTRIBUTION
    assert cfg.source == config_file()


def test_file_overrides_builtin_provider_field_by_field() -> None:
    write_config(
        "[providers.openrouter]\nmax_tokens = 8000\n"
        '[providers.openrouter.headers]\nX-Title = "me"\n'
    )
    openrouter = load_config().providers["openrouter"]
    assert openrouter.max_tokens == 8000
    assert openrouter.base_url == "https://openrouter.ai/api/v1"
    assert openrouter.api_key_env == "OPENROUTER_API_KEY"
    assert dict(openrouter.headers) == {**OPENROUTER_ATTRIBUTION, "X-Title": "me"}


def test_new_provider_needs_only_base_url_and_defaults_to_openai_wire() -> None:
    write_config('[providers.local]\nbase_url = "http://localhost:11434/v1/"\n')
    local = load_config().providers["local"]
    assert local.wire == "openai"
    assert local.base_url == "http://localhost:11434/v1"
    assert local.api_key_env is None
    assert local.max_tokens is None


def test_env_overrides_file_for_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    write_config('[server]\nhost = "127.0.0.2"\nport = 4000\n')
    assert load_config().server.port == 4000
    monkeypatch.setenv("CCROUTE_PORT", "5000")
    monkeypatch.setenv("CCROUTE_HOST", "localhost")
    cfg = load_config()
    assert (cfg.server.host, cfg.server.port) == ("localhost", 5000)


def test_invalid_ccroute_port_env_names_the_variable_and_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CCROUTE_PORT", "seventy")
    with pytest.raises(ConfigError) as info:
        load_config()
    assert "CCROUTE_PORT" in info.value.message
    assert "'seventy'" in info.value.message
    assert "CCROUTE_PORT=3456" in info.value.message


def test_router_default_accepts_claude_code_router_comma_form() -> None:
    write_config('[router]\ndefault = "openrouter,deepseek/deepseek-chat"\n')
    assert load_config().router.default == "openrouter/deepseek/deepseek-chat"


def test_config_is_frozen() -> None:
    cfg = load_config()
    with pytest.raises(AttributeError):
        cfg.server.port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.providers["x"] = cfg.providers["openrouter"]  # type: ignore[index]


# --- validation messages name the file, the key and the fix ----------------------------------


@pytest.mark.parametrize(
    ("text", "key", "fix"),
    [
        ("[server]\nport = 'abc'\n", "server.port", "ccroute config set server.port 3456"),
        ("[server]\nport = 70000\n", "server.port", "ccroute config set server.port 3456"),
        ("[server]\nport = true\n", "server.port", "ccroute config set server.port 3456"),
        ("[server]\nhost = ''\n", "server.host", "ccroute config set server.host 127.0.0.1"),
        (
            "[providers.openrouter]\nwire = 'grpc'\n",
            "providers.openrouter.wire",
            "ccroute config set providers.openrouter.wire openai",
        ),
        (
            "[providers.openrouter]\nbase_url = 'ftp://x'\n",
            "providers.openrouter.base_url",
            "ccroute config set providers.openrouter.base_url http",
        ),
        (
            "[providers.openrouter]\nmax_tokens = 0\n",
            "providers.openrouter.max_tokens",
            "ccroute config set providers.openrouter.max_tokens 32000",
        ),
        (
            "[providers.openrouter]\napi_key_env = 'NOT A NAME'\n",
            "providers.openrouter.api_key_env",
            "ccroute config set providers.openrouter.api_key_env",
        ),
        (
            "[providers.openrouter.headers]\nX-Title = 3\n",
            "providers.openrouter.headers.X-Title",
            "ccroute config set providers.openrouter.headers.X-Title",
        ),
        (
            "[providers.local]\nwire = 'openai'\n",
            "providers.local.base_url",
            "ccroute config set providers.local.base_url",
        ),
        (
            "[router]\ndefault = 'nowhere/model'\n",
            "router.default",
            "ccroute config set router.default openrouter/",
        ),
        (
            "[router]\ndefault = 'no-separator'\n",
            "router.default",
            "ccroute config set router.default openrouter/",
        ),
        ("server = 3\n", "server", "ccroute config unset server"),
        (
            "[providers.'bad/name']\nbase_url = 'http://x'\n",
            "providers.bad/name",
            "ccroute config unset providers.bad/name",
        ),
    ],
)
def test_invalid_value_message_names_file_key_and_fix(text: str, key: str, fix: str) -> None:
    message = load_error(text)
    assert str(config_file()) in message
    assert key in message
    assert fix in message


def test_unknown_key_suggests_the_nearest_known_key() -> None:
    message = load_error("[server]\nprot = 1\n")
    assert str(config_file()) in message
    assert "'server.prot'" in message
    assert "did you mean 'server.port'" in message
    assert "ccroute config unset server.prot" in message


def test_unknown_table_suggests_the_nearest_table() -> None:
    message = load_error("[routr]\ndefault = 'x/y'\n")
    assert "did you mean 'router'" in message


def test_unknown_provider_field_suggests_the_nearest_field() -> None:
    message = load_error("[providers.openrouter]\nbase_ur = 'http://x'\n")
    assert "did you mean 'providers.openrouter.base_url'" in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[providers.openrouter]\napi_key = 'sk-secret'\n", "providers.openrouter.api_key"),
        ("[providers.openrouter]\ntoken = 'sk-secret'\n", "providers.openrouter.token"),
        (
            "[providers.openrouter.headers]\nAuthorization = 'Bearer sk-secret'\n",
            "providers.openrouter.headers.Authorization",
        ),
        (
            "[providers.openrouter.headers]\nX-Auth-Token = 'sk-secret'\n",
            "providers.openrouter.headers.X-Auth-Token",
        ),
    ],
)
def test_secret_in_file_points_to_keys_set(text: str, key: str) -> None:
    message = load_error(text)
    assert str(config_file()) in message
    assert key in message
    assert "ccroute keys set openrouter" in message
    assert "sk-secret" not in message


def test_toml_syntax_error_names_file_position_and_config_path() -> None:
    message = load_error("[server]\nport = = 3\n")
    assert str(config_file()) in message
    assert "line 2" in message
    assert "ccroute config path" in message


def test_provider_that_is_not_a_table_is_one_problem() -> None:
    message = load_error("[providers]\nlocal = 'http://localhost:1/v1'\n")
    assert message.splitlines() == [
        f"{config_file()}: providers.local must be a table, got 'http://localhost:1/v1'. "
        "Remove it with 'ccroute config unset providers.local'."
    ]


def test_all_problems_are_reported_at_once() -> None:
    message = load_error("[server]\nport = 0\nhost = ''\n")
    assert "server.port" in message
    assert "server.host" in message
    assert len(message.splitlines()) == 2


# --- get / set / unset -----------------------------------------------------------------------


def test_set_value_round_trips_through_the_file() -> None:
    assert set_value("server.port", "4000") == 4000
    assert set_value("providers.local.base_url", "http://localhost:8080/v1/") == (
        "http://localhost:8080/v1"
    )
    assert set_value("providers.local.headers.X-Title", "ccroute") == "ccroute"
    assert set_value("router.default", "local/qwen3") == "local/qwen3"
    assert file_doc() == {
        "server": {"port": 4000},
        "providers": {
            "local": {"base_url": "http://localhost:8080/v1", "headers": {"X-Title": "ccroute"}}
        },
        "router": {"default": "local/qwen3"},
    }
    cfg: Config = load_config()
    assert cfg.server.port == 4000
    assert cfg.providers["local"].headers == {"X-Title": "ccroute"}
    assert get_value("providers.local.headers.X-Title") == "ccroute"


def test_set_value_keeps_the_rest_of_the_file() -> None:
    write_config(
        '# a comment\n[server]\nhost = "localhost"\n[providers.local]\nbase_url = "http://a"\n'
    )
    set_value("server.port", "4001")
    assert file_doc() == {
        "server": {"host": "localhost", "port": 4001},
        "providers": {"local": {"base_url": "http://a"}},
    }


def test_set_value_rejects_a_bad_value_without_writing() -> None:
    with pytest.raises(ConfigError) as info:
        set_value("server.port", "abc")
    assert "server.port" in info.value.message
    assert "'abc'" in info.value.message
    assert str(config_file()) in info.value.message
    assert "ccroute config set server.port 3456" in info.value.message
    assert not config_file().exists()


def test_set_value_validates_the_whole_config_before_writing() -> None:
    with pytest.raises(ConfigError) as info:
        set_value("router.default", "ghost/model")
    assert "router.default" in info.value.message
    assert "ghost" in info.value.message
    assert not config_file().exists()


def test_set_value_can_fix_one_problem_while_another_remains() -> None:
    write_config("[server]\nport = 0\nhost = ''\n")
    set_value("server.port", "4000")
    assert file_doc()["server"] == {"port": 4000, "host": ""}


@pytest.mark.parametrize(
    "key", ["providers.openrouter.api_key", "providers.x.headers.Authorization", "server.token"]
)
def test_set_value_refuses_secrets(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        set_value(key, "sk-or-v1-secret")
    assert "ccroute keys set" in info.value.message
    assert "sk-or-v1-secret" not in info.value.message
    assert not config_file().exists()


def test_set_value_unknown_key_suggests_nearest() -> None:
    with pytest.raises(ConfigError) as info:
        set_value("server.prot", "1")
    assert "did you mean 'server.port'" in info.value.message


def test_get_value_returns_defaults_and_tables() -> None:
    assert get_value("server.port") == 3456
    assert get_value("providers.openrouter.api_key_env") == "OPENROUTER_API_KEY"
    assert get_value("server") == {"host": "127.0.0.1", "port": 3456}
    assert get_value("providers.openrouter")["max_tokens"] == 32000  # type: ignore[index]


def test_get_value_unknown_provider_lists_configured_ones() -> None:
    with pytest.raises(ConfigError) as info:
        get_value("providers.nope.base_url")
    assert "'nope'" in info.value.message
    assert "openrouter" in info.value.message


def test_unset_value_reverts_to_default_and_prunes_empty_tables() -> None:
    set_value("server.port", "4000")
    set_value("providers.openrouter.headers.X-Title", "me")
    unset_value("server.port")
    unset_value("providers.openrouter.headers.X-Title")
    assert file_doc() == {}
    assert get_value("server.port") == 3456


def test_unset_value_of_a_key_not_in_the_file_names_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        unset_value("server.port")
    assert "server.port" in info.value.message
    assert str(config_file()) in info.value.message


def test_unset_value_removes_an_unknown_key_so_the_file_loads_again() -> None:
    write_config("[server]\nprot = 1\n")
    unset_value("server.prot")
    assert load_config().server.port == 3456


def test_unset_value_refuses_to_break_the_router_default() -> None:
    set_value("providers.local.base_url", "http://localhost:1/v1")
    set_value("router.default", "local/m")
    with pytest.raises(ConfigError) as info:
        unset_value("providers.local")
    assert "router.default" in info.value.message
    assert "local" in file_doc()["providers"]  # type: ignore[operator]


def test_settings_report_where_each_value_comes_from(monkeypatch: pytest.MonkeyPatch) -> None:
    set_value("server.host", "localhost")
    monkeypatch.setenv("CCROUTE_PORT", "4444")
    origins = {s.key: (s.value, s.origin) for s in settings()}
    assert origins["server.host"] == ("localhost", "file")
    assert origins["server.port"] == (4444, "env:CCROUTE_PORT")
    assert origins["router.default"][1] == "default"


# --- atomic writes and permissions ----------------------------------------------------------


def test_failed_replace_leaves_the_old_file_intact(monkeypatch: pytest.MonkeyPatch) -> None:
    set_value("server.port", "4000")
    before = config_file().read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomicfile.os, "replace", broken_replace)
    with pytest.raises(ConfigError) as info:
        set_value("server.port", "5000")
    assert "left unchanged" in info.value.message
    assert config_file().read_bytes() == before
    assert [p.name for p in config_file().parent.iterdir()] == ["config.toml"]


def test_write_atomic_replaces_content_and_sets_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "token"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    if sys.platform != "win32":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_config_dir_and_file_are_private_after_set() -> None:
    set_value("server.port", "4000")
    assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
    assert stat.S_IMODE(config_file().parent.stat().st_mode) == 0o700


def test_config_module_imports_no_cli_server_or_keyring_libraries() -> None:
    import subprocess

    code = (
        "import sys, ccroute.config; "
        "heavy = ('typer', 'rich', 'aiohttp', 'keyring', 'tomli_w'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    ).stdout
    assert out.strip() == "[]"


def test_known_wires_is_a_tuple_including_openai() -> None:
    assert isinstance(config.KNOWN_WIRES, tuple)
    assert "openai" in config.KNOWN_WIRES


def test_a_key_pasted_into_api_key_env_is_never_repeated() -> None:
    secret = "sk-or-v1-0123456789abcdef"
    message = load_error(f"[providers.openrouter]\napi_key_env = '{secret}'\n")
    assert "providers.openrouter.api_key_env" in message
    assert "ccroute keys set openrouter" in message
    assert secret not in message
    with pytest.raises(ConfigError) as info:
        set_value("providers.openrouter.api_key_env", secret)
    assert secret not in info.value.message
    assert "ccroute keys set openrouter" in info.value.message


# --- per-provider upstream controls: reasoning, caching, user, routing, fallbacks -------------


def test_new_provider_fields_have_their_defaults() -> None:
    write_config('[providers.local]\nbase_url = "http://localhost:1/v1"\n')
    for provider in load_config().providers.values():
        assert provider.reasoning == "auto"
        assert provider.return_reasoning is True
        assert provider.cache_control == "auto"
        assert provider.send_user is True
        assert provider.provider_routing is None
        assert provider.fallback_models == ()


def test_new_provider_fields_are_read_from_the_file() -> None:
    write_config(
        "[providers.openrouter]\n"
        'reasoning = "effort"\n'
        "return_reasoning = false\n"
        'cache_control = "strip"\n'
        "send_user = false\n"
        'fallback_models = ["openai/gpt-4o", " google/gemini-2.5-pro "]\n'
    )
    openrouter = load_config().providers["openrouter"]
    assert openrouter.reasoning == "effort"
    assert openrouter.return_reasoning is False
    assert openrouter.cache_control == "strip"
    assert openrouter.send_user is False
    assert openrouter.fallback_models == ("openai/gpt-4o", "google/gemini-2.5-pro")


@pytest.mark.parametrize("mode", ["auto", "openrouter", "effort", "none"])
def test_every_reasoning_mode_is_accepted(mode: str) -> None:
    write_config(f'[providers.openrouter]\nreasoning = "{mode}"\n')
    assert load_config().providers["openrouter"].reasoning == mode


@pytest.mark.parametrize("mode", ["auto", "keep", "strip"])
def test_every_cache_control_mode_is_accepted(mode: str) -> None:
    write_config(f'[providers.openrouter]\ncache_control = "{mode}"\n')
    assert load_config().providers["openrouter"].cache_control == mode


def test_provider_routing_is_stored_verbatim_read_only_and_json_serialisable() -> None:
    write_config(
        "[providers.openrouter.provider_routing]\n"
        'order = ["anthropic", "google-vertex"]\n'
        "allow_fallbacks = false\n"
        "require_parameters = true\n"
        'data_collection = "deny"\n'
        "zdr = true\n"
        'only = ["anthropic"]\n'
        'ignore = ["deepinfra"]\n'
        'quantizations = ["fp8"]\n'
        'sort = { by = "throughput", partition = "none" }\n'
        "max_price = { prompt = 1, completion = 2.5 }\n"
        "future_field = [1, { deep = true }]\n"
    )
    routing = load_config().providers["openrouter"].provider_routing
    assert routing is not None
    assert json.loads(json.dumps(routing)) == {
        "order": ["anthropic", "google-vertex"],
        "allow_fallbacks": False,
        "require_parameters": True,
        "data_collection": "deny",
        "zdr": True,
        "only": ["anthropic"],
        "ignore": ["deepinfra"],
        "quantizations": ["fp8"],
        "sort": {"by": "throughput", "partition": "none"},
        "max_price": {"prompt": 1, "completion": 2.5},
        "future_field": [1, {"deep": True}],
    }
    assert routing["order"] == ("anthropic", "google-vertex")
    with pytest.raises(TypeError):
        routing["zdr"] = False  # type: ignore[index]
    with pytest.raises(TypeError):
        routing["sort"]["by"] = "price"
    assert copy.deepcopy(routing) == routing


def test_provider_routing_sort_may_be_a_plain_name() -> None:
    write_config('[providers.openrouter.provider_routing]\nsort = "price"\n')
    assert load_config().providers["openrouter"].provider_routing == {"sort": "price"}


def test_an_empty_provider_routing_table_means_none() -> None:
    write_config("[providers.openrouter.provider_routing]\n")
    assert load_config().providers["openrouter"].provider_routing is None


@pytest.mark.parametrize(
    ("text", "key", "fix"),
    [
        (
            "reasoning = 'high'",
            "providers.openrouter.reasoning",
            "ccroute config set providers.openrouter.reasoning auto",
        ),
        (
            "return_reasoning = 'yes'",
            "providers.openrouter.return_reasoning",
            "ccroute config set providers.openrouter.return_reasoning true",
        ),
        (
            "return_reasoning = 1",
            "providers.openrouter.return_reasoning",
            "ccroute config set providers.openrouter.return_reasoning true",
        ),
        (
            "cache_control = true",
            "providers.openrouter.cache_control",
            "ccroute config set providers.openrouter.cache_control auto",
        ),
        (
            "send_user = 'no'",
            "providers.openrouter.send_user",
            "ccroute config set providers.openrouter.send_user true",
        ),
        (
            "fallback_models = 'openai/gpt-4o'",
            "providers.openrouter.fallback_models",
            "ccroute config set providers.openrouter.fallback_models openai/gpt-4o,",
        ),
        (
            "fallback_models = ['openai/gpt-4o', '']",
            "providers.openrouter.fallback_models",
            "ccroute config set providers.openrouter.fallback_models openai/gpt-4o,",
        ),
        (
            "fallback_models = [3]",
            "providers.openrouter.fallback_models",
            "ccroute config set providers.openrouter.fallback_models openai/gpt-4o,",
        ),
        (
            "provider_routing = 'anthropic'",
            "providers.openrouter.provider_routing",
            "ccroute config unset providers.openrouter.provider_routing",
        ),
        (
            "provider_routing = { order = 'anthropic' }",
            "providers.openrouter.provider_routing.order",
            "ccroute config set providers.openrouter.provider_routing.order anthropic,",
        ),
        (
            "provider_routing = { only = ['anthropic', 1] }",
            "providers.openrouter.provider_routing.only",
            "ccroute config set providers.openrouter.provider_routing.only anthropic,",
        ),
        (
            "provider_routing = { ignore = [''] }",
            "providers.openrouter.provider_routing.ignore",
            "ccroute config set providers.openrouter.provider_routing.ignore anthropic,",
        ),
        (
            "provider_routing = { quantizations = 'fp8' }",
            "providers.openrouter.provider_routing.quantizations",
            "ccroute config set providers.openrouter.provider_routing.quantizations fp8,int8",
        ),
        (
            "provider_routing = { allow_fallbacks = 'no' }",
            "providers.openrouter.provider_routing.allow_fallbacks",
            "ccroute config set providers.openrouter.provider_routing.allow_fallbacks false",
        ),
        (
            "provider_routing = { require_parameters = 1 }",
            "providers.openrouter.provider_routing.require_parameters",
            "ccroute config set providers.openrouter.provider_routing.require_parameters true",
        ),
        (
            "provider_routing = { zdr = 'true' }",
            "providers.openrouter.provider_routing.zdr",
            "ccroute config set providers.openrouter.provider_routing.zdr true",
        ),
        (
            "provider_routing = { data_collection = 'maybe' }",
            "providers.openrouter.provider_routing.data_collection",
            "ccroute config set providers.openrouter.provider_routing.data_collection deny",
        ),
        (
            "provider_routing = { sort = 3 }",
            "providers.openrouter.provider_routing.sort",
            "ccroute config set providers.openrouter.provider_routing.sort throughput",
        ),
        (
            "provider_routing = { sort = '' }",
            "providers.openrouter.provider_routing.sort",
            "ccroute config set providers.openrouter.provider_routing.sort throughput",
        ),
        (
            "provider_routing = { when = 2025-01-01 }",
            "providers.openrouter.provider_routing.when",
            "ccroute config set providers.openrouter.provider_routing.when",
        ),
        (
            "provider_routing = { ratio = nan }",
            "providers.openrouter.provider_routing.ratio",
            "ccroute config set providers.openrouter.provider_routing.ratio",
        ),
    ],
)
def test_invalid_new_provider_field_names_file_key_and_fix(text: str, key: str, fix: str) -> None:
    message = load_error(f"[providers.openrouter]\n{text}\n")
    assert message.startswith(f"{config_file()}: {key} ")
    assert fix in message
    assert len(message.splitlines()) == 1


def test_invalid_choice_lists_the_valid_ones() -> None:
    message = load_error("[providers.openrouter]\nreasoning = 'high'\n")
    assert "one of auto, openrouter, effort, none, got 'high'" in message
    message = load_error("[providers.openrouter]\ncache_control = 'drop'\n")
    assert "one of auto, keep, strip, got 'drop'" in message


def test_every_bad_routing_field_is_reported_at_once() -> None:
    message = load_error(
        "[providers.openrouter.provider_routing]\nzdr = 'x'\norder = 3\norder_ok = ['fine']\n"
    )
    assert len(message.splitlines()) == 2


def test_secret_looking_routing_field_points_to_keys_set() -> None:
    message = load_error("[providers.openrouter.provider_routing]\napi_key = 'sk-secret'\n")
    assert "providers.openrouter.provider_routing.api_key looks like a secret" in message
    assert "sk-secret" not in message


def test_misspelt_provider_routing_table_suggests_the_right_name() -> None:
    message = load_error("[providers.openrouter.provider_routng]\norder = ['x']\n")
    assert "did you mean 'providers.openrouter.provider_routing'" in message


# --- built-in attribution headers ----------------------------------------------------------


def test_only_the_builtin_openrouter_provider_gets_attribution_headers() -> None:
    write_config('[providers.local]\nbase_url = "http://localhost:1/v1"\n')
    cfg = load_config()
    assert dict(cfg.providers["openrouter"].headers) == OPENROUTER_ATTRIBUTION
    assert dict(cfg.providers["local"].headers) == {}


def test_user_header_replaces_the_builtin_one_whatever_its_case() -> None:
    write_config('[providers.openrouter.headers]\nx-title = "mine"\nX-Extra = "1"\n')
    assert dict(load_config().providers["openrouter"].headers) == {
        "HTTP-Referer": "https://github.com/ccroute/ccroute",
        "X-OpenRouter-Title": "ccroute",
        "x-title": "mine",
        "X-Extra": "1",
    }


def test_an_empty_header_value_drops_the_builtin_header() -> None:
    set_value("providers.openrouter.headers.HTTP-Referer", "")
    headers = load_config().providers["openrouter"].headers
    assert "HTTP-Referer" not in headers
    assert headers["X-Title"] == "ccroute"
    assert get_value("providers.openrouter.headers.HTTP-Referer") is None
    unset_value("providers.openrouter.headers.HTTP-Referer")
    assert get_value("providers.openrouter.headers.HTTP-Referer") == (
        "https://github.com/ccroute/ccroute"
    )


# --- set / get / unset of the new fields ---------------------------------------------------


def test_set_value_parses_switches_choices_and_model_lists() -> None:
    assert set_value("providers.openrouter.send_user", "False") is False
    assert set_value("providers.openrouter.return_reasoning", "true") is True
    assert set_value("providers.openrouter.reasoning", "none") == "none"
    assert set_value("providers.openrouter.cache_control", "keep") == "keep"
    assert set_value("providers.openrouter.fallback_models", "openai/gpt-4o, x/y") == [
        "openai/gpt-4o",
        "x/y",
    ]
    assert file_doc() == {
        "providers": {
            "openrouter": {
                "send_user": False,
                "return_reasoning": True,
                "reasoning": "none",
                "cache_control": "keep",
                "fallback_models": ["openai/gpt-4o", "x/y"],
            }
        }
    }
    openrouter = load_config().providers["openrouter"]
    assert openrouter.send_user is False
    assert openrouter.fallback_models == ("openai/gpt-4o", "x/y")
    assert get_value("providers.openrouter.fallback_models") == ["openai/gpt-4o", "x/y"]
    assert get_value("providers.openrouter.send_user") is False


def test_set_value_accepts_a_toml_array_for_a_list() -> None:
    assert set_value("providers.openrouter.fallback_models", '["a/b", "c,d"]') == ["a/b", "c,d"]
    assert set_value("providers.openrouter.fallback_models", "[]") == []
    assert load_config().providers["openrouter"].fallback_models == ()


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("providers.openrouter.send_user", "yes", "true or false, got 'yes'"),
        ("providers.openrouter.reasoning", "max", "one of auto, openrouter, effort, none"),
        ("providers.openrouter.fallback_models", "a/b,,c/d", "a list of upstream model names"),
        ("providers.openrouter.fallback_models", "[1, 2]", "a list of upstream model names"),
        ("providers.openrouter.provider_routing.zdr", "1", "true or false, got '1'"),
        ("providers.openrouter.provider_routing.data_collection", "no", "allow or deny"),
    ],
)
def test_set_value_refuses_a_bad_new_value_without_writing(
    key: str, raw: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        set_value(key, raw)
    assert key in info.value.message
    assert expected in info.value.message
    assert f"ccroute config set {key} " in info.value.message
    assert not config_file().exists()


def test_provider_routing_is_set_field_by_field_and_read_back_as_a_table() -> None:
    assert set_value("providers.openrouter.provider_routing.order", "anthropic,google-vertex") == [
        "anthropic",
        "google-vertex",
    ]
    assert set_value("providers.openrouter.provider_routing.allow_fallbacks", "false") is False
    assert set_value("providers.openrouter.provider_routing.sort", "latency") == "latency"
    assert set_value("providers.openrouter.provider_routing.max_price", "{ prompt = 1 }") == {
        "prompt": 1
    }
    assert set_value("providers.openrouter.provider_routing.new_thing", "abc") == "abc"
    routing = {
        "order": ["anthropic", "google-vertex"],
        "allow_fallbacks": False,
        "sort": "latency",
        "max_price": {"prompt": 1},
        "new_thing": "abc",
    }
    assert file_doc() == {"providers": {"openrouter": {"provider_routing": routing}}}
    assert json.loads(json.dumps(load_config().providers["openrouter"].provider_routing)) == (
        routing
    )
    assert get_value("providers.openrouter.provider_routing") == routing
    assert get_value("providers.openrouter.provider_routing.sort") == "latency"
    assert get_value("providers.openrouter.provider_routing.zdr") is None
    assert get_value("providers.openrouter")["provider_routing"] == routing  # type: ignore[index]


def test_provider_routing_table_cannot_be_set_whole() -> None:
    with pytest.raises(ConfigError) as info:
        set_value("providers.openrouter.provider_routing", "{ zdr = true }")
    assert "is a table" in info.value.message
    assert "ccroute config set providers.openrouter.provider_routing.order" in info.value.message


def test_unsetting_the_last_routing_field_removes_the_table() -> None:
    set_value("providers.openrouter.provider_routing.zdr", "true")
    assert get_value("providers.openrouter.provider_routing") == {"zdr": True}
    unset_value("providers.openrouter.provider_routing.zdr")
    assert file_doc() == {}
    assert get_value("providers.openrouter.provider_routing") is None
    assert load_config().providers["openrouter"].provider_routing is None


def test_settings_list_the_new_fields_with_plain_values() -> None:
    set_value("providers.openrouter.fallback_models", "a/b")
    items = {s.key: (s.value, s.origin) for s in settings()}
    assert items["providers.openrouter.reasoning"] == ("auto", "default")
    assert items["providers.openrouter.send_user"] == (True, "default")
    assert items["providers.openrouter.fallback_models"] == (["a/b"], "file")
    assert items["providers.openrouter.provider_routing"] == (None, "default")
    assert items["providers.openrouter.headers.X-Title"] == ("ccroute", "default")
    set_value("providers.openrouter.provider_routing.only", "anthropic")
    items = {s.key: (s.value, s.origin) for s in settings()}
    assert "providers.openrouter.provider_routing" not in items
    assert items["providers.openrouter.provider_routing.only"] == (["anthropic"], "file")


# --- per-model overrides: [providers.<p>.models."<model>"] ----------------------------------

MODELS_TOML = """\
[providers.openrouter.models."deepseek/deepseek-r1"]
reasoning = "none"
max_tokens = 8192

[providers.openrouter.models."openai/gpt-5"]
reasoning = "effort"
send_user = false

[providers.openrouter.models."qwen/qwen3.5:free"]
return_reasoning = false
cache_control = "keep"
"""


def test_model_overrides_are_read_with_unset_fields_as_none() -> None:
    write_config(MODELS_TOML)
    openrouter = load_config().providers["openrouter"]
    assert set(openrouter.models) == {"deepseek/deepseek-r1", "openai/gpt-5", "qwen/qwen3.5:free"}
    assert openrouter.models["deepseek/deepseek-r1"] == config.ModelOverrides(
        reasoning="none", max_tokens=8192
    )
    assert openrouter.models["openai/gpt-5"] == config.ModelOverrides(
        reasoning="effort", send_user=False
    )
    assert openrouter.models["qwen/qwen3.5:free"] == config.ModelOverrides(
        return_reasoning=False, cache_control="keep"
    )
    assert (openrouter.reasoning, openrouter.max_tokens) == ("auto", 32000)  # provider unchanged


def test_model_overrides_default_to_none_and_are_read_only() -> None:
    write_config(MODELS_TOML)
    cfg = load_config()
    assert dict(cfg.providers["openrouter"].models)
    with pytest.raises(TypeError):
        cfg.providers["openrouter"].models["x"] = config.ModelOverrides()  # type: ignore[index]
    with pytest.raises(AttributeError):
        cfg.providers["openrouter"].models["openai/gpt-5"].reasoning = "none"  # type: ignore[misc]
    write_config('[providers.local]\nbase_url = "http://localhost:1/v1"\n')
    assert all(dict(p.models) == {} for p in load_config().providers.values())


def _openrouter_with(models: dict[str, config.ModelOverrides]) -> config.ProviderConfig:
    from dataclasses import replace
    from types import MappingProxyType

    return replace(config.BUILTIN_PROVIDERS["openrouter"], models=MappingProxyType(models))


def test_for_model_applies_the_exact_entry_and_inherits_unset_fields() -> None:
    provider = _openrouter_with(
        {"deepseek/deepseek-r1": config.ModelOverrides(reasoning="none", max_tokens=8192)}
    )
    r1 = provider.for_model("deepseek/deepseek-r1")
    assert (r1.reasoning, r1.max_tokens) == ("none", 8192)
    assert (r1.return_reasoning, r1.cache_control, r1.send_user) == (True, "auto", True)
    assert (r1.name, r1.base_url, r1.headers) == (
        provider.name,
        provider.base_url,
        provider.headers,
    )
    assert provider.for_model("deepseek/deepseek-chat") is provider
    assert (
        config.BUILTIN_PROVIDERS["openrouter"].for_model("x/y")
        is (config.BUILTIN_PROVIDERS["openrouter"])
    )


@pytest.mark.parametrize(
    ("entries", "requested", "expected"),
    [
        (["anthropic/claude-sonnet-latest"], "~anthropic/claude-sonnet-latest", "effort"),
        (["deepseek/deepseek-r1"], "deepseek/deepseek-r1:free", "effort"),
        (["deepseek/deepseek-r1"], "deepseek/deepseek-r1:nitro", "effort"),
        (["deepseek/deepseek-r1"], "~deepseek/deepseek-r1:floor", "effort"),
        (["qwen3"], "qwen3:8b", "effort"),  # any ":suffix" counts as a variant
        (["a/b:c/d"], "a/b:c/d", "effort"),  # an exact id with a colon matches as it is
        (["a/b"], "a/b:c/d", None),  # text after ":" with a "/" is not a variant
        (["deepseek/deepseek-r1"], "deepseek/deepseek-r1-distill", None),  # no prefix matching
        (["~x/y"], "x/y", None),  # an entry's "~" is part of its name
        (["x/y:free"], "x/y", None),
        (["X/Y"], "x/y", None),  # case matters
    ],
)
def test_for_model_falls_back_to_the_id_without_tilde_or_variant(
    entries: list[str], requested: str, expected: str | None
) -> None:
    provider = _openrouter_with({e: config.ModelOverrides(reasoning="effort") for e in entries})
    assert provider.for_model(requested).reasoning == (expected or "auto")


def test_for_model_prefers_the_most_specific_entry() -> None:
    provider = _openrouter_with(
        {
            "x/y": config.ModelOverrides(reasoning="none"),
            "x/y:free": config.ModelOverrides(reasoning="effort"),
            "~x/y": config.ModelOverrides(reasoning="openrouter"),
        }
    )
    assert provider.for_model("x/y").reasoning == "none"
    assert provider.for_model("x/y:free").reasoning == "effort"
    assert provider.for_model("~x/y").reasoning == "openrouter"
    assert provider.for_model("~x/y:free").reasoning == "effort"  # "x/y:free" before "~x/y"
    assert provider.for_model("x/y:nitro").reasoning == "none"
    # Entries are not merged: the chosen one alone overlays the provider.
    merged = _openrouter_with(
        {
            "x/y": config.ModelOverrides(max_tokens=100),
            "x/y:free": config.ModelOverrides(reasoning="none"),
        }
    ).for_model("x/y:free")
    assert (merged.reasoning, merged.max_tokens) == ("none", 32000)


M = 'providers.openrouter.models."deepseek/deepseek-r1"'


@pytest.mark.parametrize(
    ("text", "field", "fix"),
    [
        ("reasoning = 'high'", "reasoning", "reasoning auto"),
        ("return_reasoning = 'yes'", "return_reasoning", "return_reasoning true"),
        ("cache_control = 'drop'", "cache_control", "cache_control auto"),
        ("send_user = 1", "send_user", "send_user true"),
        ("max_tokens = 0", "max_tokens", "max_tokens 32000"),
        ("max_tokens = true", "max_tokens", "max_tokens 32000"),
        ("max_tokens = '8192'", "max_tokens", "max_tokens 32000"),
    ],
)
def test_invalid_model_override_names_file_quoted_key_and_fix(
    text: str, field: str, fix: str
) -> None:
    message = load_error(f"[{M}]\n{text}\n")
    assert message.startswith(f"{config_file()}: {M}.{field} must be ")
    assert f"Fix it with 'ccroute config set {M}.{fix}'." in message
    assert len(message.splitlines()) == 1


def test_invalid_model_override_choice_lists_the_valid_ones() -> None:
    message = load_error(f"[{M}]\nreasoning = 'max'\n")
    assert "must be one of auto, openrouter, effort, none, got 'max'" in message


def test_unknown_key_in_a_model_table_suggests_the_nearest_field() -> None:
    message = load_error(f"[{M}]\nreasonin = 'none'\nbase_url = 'http://x'\n")
    first, second = message.splitlines()
    assert f"unknown key '{M}.reasonin' (did you mean '{M}.reasoning'?)" in first
    assert f"Remove it with 'ccroute config unset {M}.reasonin'." in first
    # Nothing close: the fields a model table may hold are listed.
    assert f"unknown key '{M}.base_url' (known: reasoning, return_reasoning, " in second


def test_secret_in_a_model_table_points_to_keys_set() -> None:
    message = load_error(f"[{M}]\napi_key = 'sk-secret'\n")
    assert f"{M}.api_key looks like a secret" in message
    assert "ccroute keys set openrouter" in message
    assert "sk-secret" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[providers.openrouter]\nmodels = 'x'\n",
            "providers.openrouter.models must be a table, got 'x'. "
            "Remove it with 'ccroute config unset providers.openrouter.models'.",
        ),
        (
            "[providers.openrouter.models]\n'a/b' = 3\n",
            'providers.openrouter.models."a/b" must be a table, got 3. '
            "Remove it with 'ccroute config unset providers.openrouter.models.\"a/b\"'.",
        ),
        (
            "[providers.openrouter.models.' a/b']\nreasoning = 'none'\n",
            'providers.openrouter.models." a/b": a model table is named by the upstream model '
            "name exactly",
        ),
        (
            "[providers.openrouter.modles.'a/b']\nreasoning = 'none'\n",
            "did you mean 'providers.openrouter.models'?",
        ),
    ],
)
def test_malformed_model_tables_are_one_problem_each(text: str, expected: str) -> None:
    message = load_error(text)
    assert len(message.splitlines()) == 1
    assert expected in message


def test_every_bad_model_override_is_reported_at_once() -> None:
    message = load_error(
        f"[{M}]\nreasoning = 'x'\nmax_tokens = -1\n"
        "[providers.openrouter.models.'openai/gpt-5']\nsend_user = 'no'\n"
    )
    assert len(message.splitlines()) == 3


def test_a_custom_provider_takes_model_overrides_too() -> None:
    write_config(
        '[providers.local]\nbase_url = "http://localhost:1/v1"\n'
        '[providers.local.models."qwen3:32b"]\nreasoning = "effort"\n'
    )
    local = load_config().providers["local"]
    assert local.for_model("qwen3:32b").reasoning == "effort"
    assert local.for_model("qwen3:8b").reasoning == "auto"


def test_set_get_unset_round_trip_with_slashes_dots_and_colons() -> None:
    r1 = 'providers.openrouter.models."deepseek/deepseek-r1"'
    gpt = "providers.openrouter.models.'openai/gpt-4.1'"  # TOML literal quoting works too
    free = 'providers.openrouter.models."qwen/qwen3.5-32b:free"'
    assert set_value(f"{r1}.reasoning", "none") == "none"
    assert set_value(f"{r1}.max_tokens", "8192") == 8192
    assert set_value(f"{gpt}.send_user", "false") is False
    assert set_value(f"{free}.cache_control", "strip") == "strip"
    assert set_value(f"{free}.return_reasoning", "False") is False
    assert file_doc() == {
        "providers": {
            "openrouter": {
                "models": {
                    "deepseek/deepseek-r1": {"reasoning": "none", "max_tokens": 8192},
                    "openai/gpt-4.1": {"send_user": False},
                    "qwen/qwen3.5-32b:free": {"cache_control": "strip", "return_reasoning": False},
                }
            }
        }
    }
    text = config_file().read_text(encoding="utf-8")
    assert '[providers.openrouter.models."deepseek/deepseek-r1"]' in text
    openrouter = load_config().providers["openrouter"]
    assert openrouter.for_model("deepseek/deepseek-r1").max_tokens == 8192
    assert openrouter.for_model("openai/gpt-4.1").send_user is False

    assert get_value(f"{r1}.reasoning") == "none"
    assert get_value(f"{gpt}.send_user") is False
    assert get_value(f"{gpt}.reasoning") is None  # not overridden: the model inherits
    assert get_value(gpt) == {"send_user": False}
    assert get_value(free) == {"cache_control": "strip", "return_reasoning": False}
    assert get_value('providers.openrouter.models."not/configured"') == {}
    assert get_value("providers.openrouter.models")["openai/gpt-4.1"] == {  # type: ignore[index]
        "send_user": False
    }
    assert get_value("providers.openrouter")["models"]["deepseek/deepseek-r1"] == {  # type: ignore[index]
        "reasoning": "none",
        "max_tokens": 8192,
    }

    unset_value(f"{r1}.reasoning")
    assert file_doc()["providers"]["openrouter"]["models"]["deepseek/deepseek-r1"] == {  # type: ignore[index]
        "max_tokens": 8192
    }
    unset_value(f"{r1}.max_tokens")  # its last field: the model's table goes too
    assert "deepseek/deepseek-r1" not in file_doc()["providers"]["openrouter"]["models"]  # type: ignore[index]
    unset_value(gpt)
    unset_value(free)
    assert file_doc() == {}
    assert dict(load_config().providers["openrouter"].models) == {}


def test_a_key_whose_quotes_the_shell_ate_still_names_the_model() -> None:
    # bash turns models."openai/gpt-4.1".reasoning into models.openai/gpt-4.1.reasoning: an
    # unquoted model id runs to the last dot, and the whole rest is tried as a table name.
    assert set_value("providers.openrouter.models.openai/gpt-4.1.reasoning", "none") == "none"
    set_value("providers.openrouter.models.deepseek/deepseek-r1.max_tokens", "100")
    assert file_doc()["providers"]["openrouter"]["models"] == {  # type: ignore[index]
        "openai/gpt-4.1": {"reasoning": "none"},
        "deepseek/deepseek-r1": {"max_tokens": 100},
    }
    assert get_value("providers.openrouter.models.openai/gpt-4.1.reasoning") == "none"
    assert get_value("providers.openrouter.models.openai/gpt-4.1") == {"reasoning": "none"}
    assert get_value("providers.openrouter.models.gone/gpt-4.1") == {}
    unset_value("providers.openrouter.models.openai/gpt-4.1")  # the table, not field "1"
    unset_value("providers.openrouter.models.deepseek/deepseek-r1")
    assert file_doc() == {}


def test_unset_removes_a_bad_model_key_named_as_the_error_says() -> None:
    message = load_error(f"[{M}]\nreasonin = 'none'\n")
    command = message.split("Remove it with 'ccroute config unset ")[1].rstrip("'.")
    unset_value(command)
    assert file_doc() == {}
    write_config(f"[{M}]\nreasonin = 'none'\n")
    unset_value(command.replace('"', ""))  # as pasted into a shell
    assert file_doc() == {}


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        (f"{M}.reasoning", "high", f"{M}.reasoning must be one of auto, openrouter, effort, none"),
        (f"{M}.max_tokens", "lots", f"{M}.max_tokens must be a positive integer, got 'lots'"),
        (f"{M}.send_user", "yes", f"{M}.send_user must be true or false, got 'yes'"),
        (
            f"{M}.reasonin",
            "none",
            f"unknown config key '{M}.reasonin' (did you mean '{M}.reasoning'?)",
        ),
        (f"{M}.fallback_models", "a/b", f"'{M}.fallback_models' (known: reasoning, "),
        (f"{M}.reasoning.x", "none", f"unknown config key '{M}.reasoning.x'"),
        (M, "none", f"{M} is a table; set one of its keys (reasoning, "),
        (M, "none", f"e.g. 'ccroute config set {M}.reasoning none'"),
        (
            "providers.openrouter.models",
            "x",
            "e.g. 'ccroute config set providers.openrouter.models",
        ),
        ('providers.openrouter.models." a/b".reasoning', "none", "without surrounding spaces"),
        (f"{M}.api_key", "sk-or-v1-secret", "ccroute keys set openrouter"),
    ],
)
def test_set_value_refuses_a_bad_model_override_without_writing(
    key: str, raw: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        set_value(key, raw)
    assert expected in info.value.message
    assert "sk-or-v1-secret" not in info.value.message
    assert not config_file().exists()


def test_set_value_of_a_bad_model_override_gives_a_working_example() -> None:
    with pytest.raises(ConfigError) as info:
        set_value(f"{M}.reasoning", "high")
    assert f"Example: 'ccroute config set {M}.reasoning auto'." in info.value.message
    example = info.value.message.split("Example: 'ccroute config set ")[1].rstrip("'.")
    key, raw = example.rsplit(" ", 1)
    assert set_value(key, raw) == "auto"


@pytest.mark.parametrize(
    "key",
    [
        'providers.openrouter.models."a/b',  # unterminated
        "providers.openrouter.models.'a/b",
        'providers.openrouter.models."a/b"x.reasoning',  # text after the closing quote
        'providers.openrouter.models."a\\q".reasoning',  # not a TOML escape
        'providers.openrouter.models."".reasoning',  # empty part
        "providers.openrouter..reasoning",
    ],
)
def test_malformed_quoted_keys_are_refused(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        set_value(key, "none")
    assert "is not a config key" in info.value.message
    assert not config_file().exists()


@pytest.mark.parametrize(
    "model",
    ["a/b", "openai/gpt-4.1", "qwen/qwen3:free", "~anthropic/claude", 'we"ird\\id', "plain"],
)
def test_settings_keys_quote_model_ids_and_read_back(model: str) -> None:
    write_config(f"[providers.openrouter.models.{json.dumps(model)}]\nreasoning = 'none'\n")
    [item] = [s for s in settings() if s.path[2:3] == ("models",)]
    assert item.path == ("providers", "openrouter", "models", model, "reasoning")
    assert item.origin == "file"
    assert (
        item.key
        == "providers.openrouter.models."
        + (model if model == "plain" else json.dumps(model))
        + ".reasoning"
    )
    assert get_value(item.key) == "none"
    assert set_value(item.key, "effort") == "effort"
    unset_value(item.key)
    assert file_doc() == {}


def test_settings_paths_split_every_key_into_tables_and_leaf() -> None:
    write_config(
        MODELS_TOML + '[providers.openrouter.headers]\n"X.Dotted" = "1"\n'
        "[providers.openrouter.provider_routing]\nzdr = true\n"
    )
    for item in settings():
        assert item.path[:1] in (("server",), ("log",), ("code",), ("providers",), ("router",))
        assert get_value(item.key) == item.value
    paths_ = {s.path for s in settings()}
    assert ("log", "bodies") in paths_
    assert ("providers", "openrouter", "headers", "X.Dotted") in paths_
    assert ("providers", "openrouter", "models", "qwen/qwen3.5:free", "cache_control") in paths_


# --- set_provider: a whole provider table in one write -----------------------------------------


def test_set_provider_writes_the_whole_table_in_one_valid_write() -> None:
    from ccroute.config.edit import set_provider

    set_provider(
        "deepseek",
        {
            "wire": "anthropic",
            "base_url": "https://api.deepseek.com/anthropic/",
            "api_key_env": "DEEPSEEK_API_KEY",
            "max_tokens": 384000,
            "headers": {"X-Trace": "1"},
        },
    )
    assert file_doc() == {
        "providers": {
            "deepseek": {
                "wire": "anthropic",
                "base_url": "https://api.deepseek.com/anthropic",  # normalised like config set
                "api_key_env": "DEEPSEEK_API_KEY",
                "max_tokens": 384000,
                "headers": {"X-Trace": "1"},
            }
        }
    }
    provider = load_config().providers["deepseek"]
    assert (provider.wire, provider.max_tokens) == ("anthropic", 384000)
    assert dict(provider.headers) == {"X-Trace": "1"}


def test_set_provider_replaces_an_existing_table_and_keeps_the_rest_of_the_file() -> None:
    from ccroute.config.edit import set_provider

    write_config(
        "[server]\nport = 4000\n[providers.local]\nbase_url = 'http://localhost:1/v1'\n"
        "max_tokens = 10\n[providers.local.headers]\nX-Old = 'y'\n"
    )
    set_provider("local", {"wire": "openai", "base_url": "http://localhost:8000/v1"})
    assert file_doc() == {
        "server": {"port": 4000},
        "providers": {"local": {"wire": "openai", "base_url": "http://localhost:8000/v1"}},
    }


@pytest.mark.parametrize(
    ("name", "fields", "expected"),
    [
        ("bad name", {"base_url": "http://x"}, "may only use letters"),
        ("p", {"wire": "soap", "base_url": "http://x"}, "providers.p.wire must be one of"),
        ("p", {"base_url": "ftp://x"}, "providers.p.base_url must be an http(s) URL"),
        ("p", {"max_tokens": 0, "base_url": "http://x"}, "must be a positive integer"),
        ("p", {"base_url": "http://x", "api_key": "sk-1"}, "looks like a secret"),
        ("p", {"base_url": "http://x", "colour": "red"}, "unknown config key"),
        ("p", {"base_url": "http://x", "headers": {"Authorization": "x"}}, "looks like a secret"),
        ("p", {"wire": "openai"}, "base_url is required"),
    ],
)
def test_set_provider_refuses_bad_input_and_leaves_the_file_unchanged(
    name: str, fields: dict[str, object], expected: str
) -> None:
    from ccroute.config.edit import set_provider

    write_config("[server]\nport = 4000\n")
    before = config_file().read_bytes()
    with pytest.raises(ConfigError) as info:
        set_provider(name, fields)
    assert expected in info.value.message
    assert config_file().read_bytes() == before


# --- the router tables -----------------------------------------------------------------------

ROUTER_PROVIDERS = """
[providers.a]
base_url = "http://a.test/v1"
[providers.b]
base_url = "http://b.test/v1"
"""


def test_router_scenario_routes_lists_weights_and_tables_are_read() -> None:
    write_config(
        """
[router]
default = ["a/one", { ref = "b,two", weight = 3 }]
background = "b/small"
long_context_threshold = 1000
strategy = "round-robin"
custom = "~/route.py:choose"
[router.models]
"*Sonnet*" = "a/sonnetish"
[router.fallbacks]
default = ["b/spare"]
[[router.rules]]
name = "big"
route = "b/big"
min_tokens = 10
keyword = "Refactor"
"""
        + ROUTER_PROVIDERS
    )
    router = load_config().router
    assert router.default == "a/one"
    assert [(e.ref, e.weight) for e in router.route("default")] == [("a/one", 1), ("b/two", 3)]
    assert [e.ref for e in router.route("background")] == ["b/small"]
    assert router.route("think") == ()
    assert (router.long_context_threshold, router.strategy) == (1000, "round-robin")
    assert router.custom == "~/route.py:choose"
    assert [e.ref for e in router.models["*sonnet*"]] == ["a/sonnetish"]
    assert [e.ref for e in router.fallbacks["default"]] == ["b/spare"]
    [rule] = router.rules
    assert (rule.name, rule.min_tokens, rule.keyword) == ("big", 10, ("refactor",))
    assert [e.ref for e in rule.route] == ["b/big"]


@pytest.mark.parametrize(
    ("text", "key", "fix"),
    [
        ('[router]\nbackground = "nowhere/x"\n', "router.background", "providers.nowhere"),
        ('[router]\nthink = ["a/x", "nowhere/y"]\n', "router.think", "providers.nowhere"),
        ('[router.models]\n"*haiku*" = "nowhere/x"\n', 'router.models."*haiku*"', "nowhere"),
        ('[router.fallbacks]\ndefault = ["nowhere/x"]\n', "router.fallbacks.default", "nowhere"),
        (
            '[[router.rules]]\nname = "r"\nroute = "nowhere/x"\nmodel = "*"\n',
            "router.rules[0].route",
            "nowhere",
        ),
        ('[profiles.p.router]\ndefault = "nowhere/x"\n', "profiles.p.router.default", "nowhere"),
        ('[router]\nimage = "no-slash"\n', "router.image", "ccroute config set router.image"),
        ('[router]\nstrategy = "random"\n', "router.strategy", "priority"),
        ("[router]\nlong_context_threshold = 0\n", "router.long_context_threshold", "60000"),
        ('[router]\ncustom = "route.py"\n', "router.custom", ":choose"),
        ('[router]\ndefault = [{ ref = "a/x", weight = 0 }]\n', "router.default", "provider/model"),
        ("[router]\ndefault = []\n", "router.default", "router.default"),
    ],
)
def test_router_problems_name_the_key_and_the_fix(text: str, key: str, fix: str) -> None:
    message = load_error(text + ROUTER_PROVIDERS)
    assert key in message
    assert fix in message
    assert str(config_file()) in message


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ('name = "r"\nmodel = "*"\n', "has no route"),
        ('route = "a/x"\nmodel = "*"\n', "has no name"),
        ('name = "r"\nroute = "a/x"\n', "has no condition"),
        ('name = "r"\nroute = "a/x"\nregex = "("\n', "router.rules[0].regex"),
        ('name = "r"\nroute = "a/x"\nmodel = "*"\ncolour = "red"\n', "router.rules[0].colour"),
    ],
)
def test_a_bad_rule_is_reported(rule: str, said: str) -> None:
    assert said in load_error(f"[[router.rules]]\n{rule}" + ROUTER_PROVIDERS)


def test_duplicate_rule_names_are_reported() -> None:
    rule = '[[router.rules]]\nname = "r"\nroute = "a/x"\nmodel = "*"\n'
    assert "used twice" in load_error(rule + rule + ROUTER_PROVIDERS)


def test_a_profile_merges_over_the_router_key_by_key() -> None:
    write_config(
        '[router]\ndefault = "a/main"\nbackground = "b/small"\n'
        '[profiles.cheap.router]\ndefault = "b/cheap"\nstrategy = "least-busy"\n' + ROUTER_PROVIDERS
    )
    cfg = load_config()
    cheap = cfg.profiles["cheap"]
    assert (cheap.default, cheap.strategy) == ("b/cheap", "least-busy")
    assert [e.ref for e in cheap.route("background")] == ["b/small"]
    assert cfg.router.default == "a/main"


def test_a_profile_table_other_than_router_is_an_unknown_key() -> None:
    assert "profiles.p.routr" in load_error('[profiles.p.routr]\ndefault = "a/x"\n')


def test_config_set_router_routes_single_list_and_scalar() -> None:
    set_value("providers.a.base_url", "http://a.test/v1")
    assert set_value("router.background", "a/small") == "a/small"
    assert set_value("router.think", '["a/deep", "openrouter/x/y"]') == ["a/deep", "openrouter/x/y"]
    assert set_value("router.long_context_threshold", "90000") == 90000
    assert set_value("router.strategy", "weighted") == "weighted"
    assert file_doc()["router"] == {
        "background": "a/small",
        "think": ["a/deep", "openrouter/x/y"],
        "long_context_threshold": 90000,
        "strategy": "weighted",
    }
    assert get_value("router.think") == ["a/deep", "openrouter/x/y"]
    items = {s.key: (s.value, s.origin) for s in settings()}
    assert items["router.background"] == ("a/small", "file")
    assert items["router.image"] == (None, "default")
    assert items["router.long_context_threshold"] == (90000, "file")


def test_config_set_refuses_a_route_to_an_unknown_provider_without_writing() -> None:
    with pytest.raises(ConfigError) as info:
        set_value("router.background", "nowhere/x")
    assert "router.background" in info.value.message
    assert not config_file().exists()


def test_a_fallbacks_key_must_name_a_route() -> None:
    rule = '[[router.rules]]\nname = "big"\nroute = "a/x"\nmodel = "*"\n'
    message = load_error('[router.fallbacks]\ndefualt = ["a/x"]\n' + rule + ROUTER_PROVIDERS)
    assert "router.fallbacks.defualt" in message
    assert "default" in message
    assert "ccroute config unset router.fallbacks.defualt" in message
    write_config(
        '[router.fallbacks]\nbig = ["b/y"]\nthink = ["b/y"]\nexplicit = ["b/y"]\n'
        + rule
        + '[profiles.p.router.fallbacks]\nbig = ["a/z"]\n'
        + ROUTER_PROVIDERS
    )
    cfg = load_config()
    assert set(cfg.router.fallbacks) == {"big", "think", "explicit"}
    assert [e.ref for e in cfg.profiles["p"].fallbacks["big"]] == ["a/z"]


def test_config_set_a_profiles_router_key() -> None:
    set_value("providers.a.base_url", "http://a.test/v1")
    assert set_value("profiles.cheap.router.default", "a/cheap") == "a/cheap"
    assert set_value("profiles.cheap.router.strategy", "round-robin") == "round-robin"
    assert file_doc()["profiles"] == {
        "cheap": {"router": {"default": "a/cheap", "strategy": "round-robin"}}
    }
    cfg = load_config()
    assert (cfg.profiles["cheap"].default, cfg.profiles["cheap"].strategy) == (
        "a/cheap",
        "round-robin",
    )
    assert get_value("profiles.cheap.router.default") == "a/cheap"
    items = {s.key: (s.value, s.origin) for s in settings()}
    assert items["profiles.cheap.router.strategy"] == ("round-robin", "file")
    with pytest.raises(ConfigError) as info:
        set_value("profiles.cheap.router.background", "nowhere/x")
    assert "profiles.cheap.router.background" in info.value.message
    with pytest.raises(ConfigError):
        set_value("profiles.cheap.routr.default", "a/x")


# --- [log] ---------------------------------------------------------------------------------------


def test_log_table_defaults_set_and_reload() -> None:
    config = load_config()
    assert (config.log.format, config.log.usage, config.log.bodies) == ("text", True, False)
    assert config.log.usage_max_mb == 64
    set_value("log.format", "json")
    set_value("log.bodies", "true")
    set_value("log.usage_max_mb", "8")
    config = load_config()
    assert (config.log.format, config.log.bodies, config.log.usage_max_mb) == ("json", True, 8)


def test_log_table_rejects_bad_values_naming_file_key_and_fix() -> None:
    with pytest.raises(ConfigError, match=r"log.format must be one of text, json"):
        set_value("log.format", "xml")
    write_config("[log]\nusage_max_mb = 0\n")
    with pytest.raises(ConfigError) as info:
        load_config()
    message = str(info.value)
    assert "config.toml" in message and "log.usage_max_mb" in message
    assert "ccroute config set log.usage_max_mb 64" in message


# --- staged_edits: several edits land together or not at all ------------------------------------


def test_staged_edits_install_all_at_once_or_nothing() -> None:
    from ccroute.config.staged import staged_edits

    set_value("server.port", "4100")
    before = paths().config_file.read_bytes()
    with pytest.raises(ConfigError) as info, staged_edits() as staged:
        set_value("server.port", "4200", staged)
        set_value("log.format", "xml", staged)  # refused: the port change is dropped too
    assert str(paths().config_file) in info.value.message
    assert "ccroute-edit-" not in info.value.message
    assert paths().config_file.read_bytes() == before
    with staged_edits() as staged:
        set_value("server.port", "4200", staged)
        set_value("log.format", "json", staged)
        assert load_config().server.port == 4100  # not installed until the block ends
    assert (load_config().server.port, load_config().log.format) == (4200, "json")
