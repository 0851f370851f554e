"""`ccroute providers ...` through its Typer app, mounted the way the root app mounts it, with
the test-wide CCROUTE_HOME and in-memory keyring. The reachability check talks to loopback
servers only: the fake OpenAI upstream, a small model-list server that answers in the Anthropic
and Gemini shapes (or with errors, or not in time), and a closed port."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import typer
from aiohttp import web
from typer.testing import CliRunner

from ccroute import routing
from ccroute.cli import _CcrouteGroup
from ccroute.cli.providers_cmds import app as providers_app
from ccroute.config import load_config, paths
from ccroute.keys import SERVICE
from tests.fakes.openai_upstream import FakeOpenAI

KEY = "sk-test-0123456789abcdefWXYZ"
OTHER_KEY = "sk-other-99999999aaaaQQQQ"

root = typer.Typer(cls=_CcrouteGroup, add_completion=False)


@root.callback()
def _root() -> None:
    """Stands in for ccroute's root app, which registers the sub-app the same way."""


root.add_typer(providers_app, name="providers")
runner = CliRunner()


@dataclass
class Out:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run(*args: str) -> Out:
    result = runner.invoke(root, ["providers", *args], env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Out(result.exit_code, result.stdout, result.stderr)


def file_doc() -> dict[str, Any]:
    try:
        return tomllib.loads(paths().config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def write_config(text: str) -> None:
    path = paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DEEPSEEK_API_KEY", "MOONSHOT_API_KEY", "GROQ_API_KEY", "MY_KEY"):
        monkeypatch.delenv(var, raising=False)


# --- loopback servers ------------------------------------------------------------------------


@contextmanager
def serve(app: web.Application) -> Iterator[str]:
    """Serve `app` on 127.0.0.1:<free port> from a thread; yields `http://127.0.0.1:<port>`."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def start() -> None:
        app_runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await app_runner.setup()
        site = web.TCPSite(app_runner, "127.0.0.1", 0)
        await site.start()
        state["runner"] = app_runner
        state["port"] = app_runner.addresses[0][1]

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(10), "test server did not start"
    try:
        yield f"http://127.0.0.1:{state['port']}"
    finally:
        release = app.get(RELEASE)
        if release is not None:
            loop.call_soon_threadsafe(release.set)
        asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


RELEASE = web.AppKey("release", asyncio.Event)


@dataclass
class ModelLists:
    """Answers `GET /<route>/...` with the reply set for `<route>`; records what it received."""

    replies: dict[str, tuple[int, Any]] = field(default_factory=dict)
    received: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_get("/{route}/{tail:.*}", self.handle)
        application.on_startup.append(self._make_release)
        return application

    @staticmethod
    async def _make_release(application: web.Application) -> None:
        application[RELEASE] = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.received.append((request.path, dict(request.headers)))
        status, body = self.replies[request.match_info["route"]]
        if status == 0:  # never answer in time: wait until the test server shuts down
            await request.app[RELEASE].wait()
            status, body = 200, {"data": []}
        return web.json_response(body, status=status)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def openai_fake() -> Iterator[str]:
    """The fake OpenAI upstream, requiring KEY and listing two models; yields its `/v1` URL."""
    with FakeOpenAI(api_key=KEY, models=("m/one", "m/two")).serve_in_thread() as base_url:
        yield base_url


@pytest.fixture
def model_lists() -> Iterator[tuple[ModelLists, str]]:
    lists = ModelLists()
    with serve(lists.app()) as base:
        yield lists, base


# --- add -------------------------------------------------------------------------------------


def test_add_writes_the_preset_and_prints_the_key_and_route_steps() -> None:
    result = run("add", "deepseek")
    assert result.code == 0, result.err
    assert file_doc() == {
        "providers": {
            "deepseek": {
                "wire": "anthropic",
                "base_url": "https://api.deepseek.com/anthropic",
                "api_key_env": "DEEPSEEK_API_KEY",
                "max_tokens": 384000,
                "betas": "strip",
            }
        }
    }
    assert "Added provider 'deepseek'" in result.out
    assert "ccroute keys set deepseek" in result.out
    assert "DEEPSEEK_API_KEY" in result.out
    assert "ccroute config set router.default deepseek/deepseek-v4-pro" in result.out


def test_add_reports_a_key_already_in_the_environment_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", KEY)
    result = run("add", "deepseek")
    assert result.code == 0
    assert "env:DEEPSEEK_API_KEY …WXYZ" in result.out
    assert "ccroute keys set" not in result.out
    assert KEY not in result.out + result.err


def test_add_local_server_needs_no_key() -> None:
    result = run("add", "ollama")
    assert result.code == 0
    assert file_doc() == {
        "providers": {"ollama": {"wire": "openai", "base_url": "http://localhost:11434/v1"}}
    }
    assert load_config().providers["ollama"].api_key_env is None
    assert "none needed" in result.out
    assert "keys set" not in result.out
    assert "ccroute config set router.default ollama/qwen3-coder" in result.out


def test_add_refuses_to_replace_a_configured_provider_without_force() -> None:
    write_config("[providers.deepseek]\nbase_url = 'http://localhost:9/v1'\n")
    before = paths().config_file.read_bytes()
    result = run("add", "deepseek")
    assert result.code == 2
    assert "already configured" in result.err
    assert "--as NAME" in result.err and "--force" in result.err
    assert paths().config_file.read_bytes() == before


def test_add_force_replaces_the_whole_table() -> None:
    write_config(
        "[providers.deepseek]\nbase_url = 'http://localhost:9/v1'\nsend_user = false\n"
        "[providers.deepseek.headers]\nX-Old = '1'\n"
    )
    result = run("add", "deepseek", "--force")
    assert result.code == 0, result.err
    table = file_doc()["providers"]["deepseek"]
    assert table["base_url"] == "https://api.deepseek.com/anthropic"
    assert "send_user" not in table and "headers" not in table


def test_add_as_alias_with_base_url_and_key_env_overrides() -> None:
    result = run(
        "add",
        "kimi",
        "--as",
        "kimi-cn",
        "--base-url",
        "https://api.moonshot.cn/anthropic/",
        "--key-env",
        "MY_KEY",
    )
    assert result.code == 0, result.err
    assert file_doc()["providers"] == {
        "kimi-cn": {
            "wire": "anthropic",
            "base_url": "https://api.moonshot.cn/anthropic",
            "api_key_env": "MY_KEY",
            "auth": "bearer",
            "betas": "strip",
        }
    }
    assert "ccroute keys set kimi-cn" in result.out
    assert "router.default kimi-cn/kimi-k2.5" in result.out


def test_add_openrouter_makes_the_builtin_explicit_but_another_preset_may_not_take_its_name() -> (
    None
):
    assert run("add", "openrouter").code == 0
    assert file_doc()["providers"]["openrouter"]["base_url"] == "https://openrouter.ai/api/v1"
    paths().config_file.unlink()
    result = run("add", "groq", "--as", "openrouter")
    assert result.code == 2
    assert "already configured" in result.err
    assert file_doc() == {}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("add", "deepsek"), "Did you mean 'deepseek'?"),
        (("add", "groq", "--as", "no spaces"), "may only use letters"),
        (("add", "groq", "--base-url", "ftp://example"), "must be an http(s) URL"),
        (("add", "groq", "--key-env", "1BAD"), "must be an environment variable name"),
    ],
)
def test_add_refuses_bad_input_and_writes_nothing(args: tuple[str, ...], expected: str) -> None:
    result = run(*args)
    assert result.code == 2
    assert expected in result.err
    assert file_doc() == {}


def test_added_gemini_provider_routes_claude_code_requests_after_setting_the_default() -> None:
    assert run("add", "gemini", "--base-url", "http://127.0.0.1:9/v1beta").code == 0
    from ccroute.config import set_value

    set_value("router.default", "gemini/gemini-2.5-pro")
    route = routing.resolve("claude-sonnet-5", load_config())
    assert (route.provider.name, route.provider.wire, route.model) == (
        "gemini",
        "gemini",
        "gemini-2.5-pro",
    )
    assert route.provider.max_tokens == 65536


# --- remove ----------------------------------------------------------------------------------


def test_remove_deletes_the_provider_table() -> None:
    run("add", "groq")
    run("add", "xai")
    result = run("remove", "groq")
    assert result.code == 0, result.err
    assert "Removed provider 'groq'" in result.out
    assert set(file_doc()["providers"]) == {"xai"}


def test_remove_refuses_the_provider_router_default_uses() -> None:
    run("add", "groq")
    write_config(paths().config_file.read_text() + "[router]\ndefault = 'groq/some-model'\n")
    before = paths().config_file.read_bytes()
    result = run("remove", "groq")
    assert result.code == 2
    assert "router.default (groq/some-model)" in result.err
    assert paths().config_file.read_bytes() == before


def test_remove_unknown_or_builtin_provider_explains() -> None:
    result = run("remove", "nope")
    assert result.code == 2
    assert "No provider 'nope'" in result.err
    result = run("remove", "openrouter")
    assert result.code == 2
    assert "built in" in result.err


def test_remove_builtin_provider_drops_the_file_settings_and_keeps_the_builtin() -> None:
    run("add", "openrouter", "--base-url", "http://127.0.0.1:9/v1")
    result = run("remove", "openrouter")
    assert result.code == 0, result.err
    assert "built-in defaults apply" in result.out
    assert file_doc() == {}
    assert load_config().providers["openrouter"].base_url == "https://openrouter.ai/api/v1"


def test_remove_leaves_the_keyring_key_and_says_how_to_delete_it(memory_keyring: Any) -> None:
    run("add", "groq")
    memory_keyring.store[(SERVICE, "groq")] = KEY
    result = run("remove", "groq")
    assert result.code == 0
    assert "ccroute keys delete groq" in result.out
    assert memory_keyring.store[(SERVICE, "groq")] == KEY


# --- list ------------------------------------------------------------------------------------


def test_list_no_check_json_shows_key_sources_masked(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: Any
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    run("add", "groq")
    run("add", "vllm")
    run("add", "deepseek")
    memory_keyring.store[(SERVICE, "groq")] = OTHER_KEY
    result = run("list", "--no-check", "--json")
    assert result.code == 0
    rows = {row["name"]: row for row in result.json()}
    assert list(rows) == ["openrouter", "groq", "vllm", "deepseek"]
    assert rows["openrouter"]["key"] == {
        "source": "env:OPENROUTER_API_KEY",
        "masked": "…WXYZ",
        "needed": True,
    }
    assert rows["groq"]["key"] == {"source": "keyring", "masked": "…QQQQ", "needed": True}
    assert rows["vllm"]["key"] == {"source": "none", "masked": None, "needed": False}
    assert rows["deepseek"]["key"]["source"] == "none"
    assert rows["openrouter"]["default"] is True
    assert all(row["check"] is None for row in rows.values())
    assert KEY not in result.out and OTHER_KEY not in result.out


def test_list_checks_each_provider_against_its_model_list(
    monkeypatch: pytest.MonkeyPatch, openai_fake: str
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setenv("GROQ_API_KEY", OTHER_KEY)
    run("add", "openrouter", "--base-url", openai_fake)  # right key
    run("add", "groq", "--base-url", openai_fake)  # wrong key
    run("add", "deepseek", "--as", "nokey", "--base-url", openai_fake)  # no key at all
    run("add", "vllm", "--base-url", f"http://127.0.0.1:{closed_port()}/v1")
    result = run("list", "--json")
    assert result.code == 0, result.err
    checks = {row["name"]: row["check"] for row in result.json()}
    assert checks["openrouter"]["summary"] == "ok (2 models)"
    assert (checks["openrouter"]["ok"], checks["openrouter"]["models"]) == (True, 2)
    assert checks["groq"]["summary"] == "401 bad key"
    assert checks["groq"]["detail"] == "Incorrect API key provided."
    assert checks["nokey"]["summary"] == "401 no key"  # anthropic wire: base minus /v1
    assert checks["vllm"] == checks["vllm"] | {
        "ok": False,
        "reachable": False,
        "status": None,
        "summary": "unreachable",
    }
    assert KEY not in result.out and OTHER_KEY not in result.out


def test_list_sends_each_wires_key_header_and_reads_its_list_shape(
    monkeypatch: pytest.MonkeyPatch, model_lists: tuple[ModelLists, str]
) -> None:
    lists, base = model_lists
    lists.replies = {
        "router": (200, {"object": "list", "data": [{"id": "a"}]}),
        "ds": (200, {"data": [{"id": "deepseek-v4-pro"}], "has_more": True}),
        "gem": (200, {"models": [{"name": "models/g1"}, {"name": "models/g2"}]}),
        "moon": (401, {"type": "error", "error": {"type": "authentication_error"}}),
    }
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setenv("DEEPSEEK_API_KEY", KEY)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    run("add", "openrouter", "--base-url", f"{base}/router/api/v1")
    run("add", "deepseek", "--base-url", f"{base}/ds/anthropic")
    run("add", "gemini", "--base-url", f"{base}/gem/v1beta")
    run("add", "moonshot", "--base-url", f"{base}/moon/anthropic")
    result = run("list", "--json")
    summaries = {row["name"]: row["check"]["summary"] for row in result.json()}
    assert summaries == {
        "openrouter": "ok (1 model)",
        "deepseek": "ok (1+ model)",
        "gemini": "ok (2 models)",
        "moonshot": "401 no key",
    }
    received = dict(lists.received)
    router = received["/router/api/v1/models"]
    assert router["Authorization"] == f"Bearer {KEY}"
    assert router["X-OpenRouter-Title"] == "ccroute"  # the provider's own headers go too
    deepseek = received["/ds/anthropic/v1/models"]
    assert deepseek["x-api-key"] == KEY
    assert deepseek["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in deepseek
    assert received["/gem/v1beta/models"]["x-goog-api-key"] == KEY
    moonshot = received["/moon/anthropic/v1/models"]
    assert "Authorization" not in moonshot and "x-api-key" not in moonshot


def test_list_reports_server_errors_timeouts_and_masks_an_echoed_key(
    monkeypatch: pytest.MonkeyPatch, model_lists: tuple[ModelLists, str]
) -> None:
    lists, base = model_lists
    lists.replies = {
        "down": (503, {"error": {"message": "overloaded"}}),
        "slow": (0, None),
        "echo": (403, {"error": {"message": f"key {KEY} is not allowed here"}}),
        "google": (
            400,
            {
                "error": {
                    "code": 400,
                    "message": "API key not valid. Please pass a valid API key.",
                    "status": "INVALID_ARGUMENT",
                }
            },
        ),
    }
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setenv("GROQ_API_KEY", KEY)
    run("add", "openrouter", "--base-url", f"{base}/down/v1")
    run("add", "vllm", "--base-url", f"{base}/slow/v1")
    run("add", "groq", "--base-url", f"{base}/echo/v1")
    run("add", "gemini", "--base-url", f"{base}/google/v1beta")
    result = run("list", "--json", "--timeout", "0.5")
    checks = {row["name"]: row["check"] for row in result.json()}
    assert (checks["openrouter"]["summary"], checks["openrouter"]["detail"]) == (
        "503 server error",
        "overloaded",
    )
    assert checks["vllm"]["summary"] == "timeout"
    assert checks["groq"]["summary"] == "403 forbidden"
    assert checks["groq"]["detail"] == "key …WXYZ is not allowed here"
    assert (checks["gemini"]["summary"], checks["gemini"]["detail"]) == (
        "400 bad request",
        "API key not valid. Please pass a valid API key.",
    )
    assert KEY not in result.out


def test_list_table_marks_the_default_and_shows_answers(openai_fake: str) -> None:
    run("add", "openrouter", "--base-url", openai_fake)
    run("add", "ollama", "--base-url", f"http://127.0.0.1:{closed_port()}/v1")
    result = run("list")
    assert result.code == 0
    assert "openrouter (default)" in result.out
    assert "missing: OPENROUTER_API_KEY" in result.out
    assert "not needed" in result.out
    assert "401 no key" in result.out
    assert "ollama: unreachable:" in result.out  # the reason, under the table


def test_bare_providers_lists_with_the_check() -> None:
    run("add", "openrouter", "--base-url", f"http://127.0.0.1:{closed_port()}/v1")
    result = run()
    assert result.code == 0, result.err
    assert "openrouter (default)" in result.out
    assert "unreachable" in result.out


def test_list_no_check_contacts_nobody(model_lists: tuple[ModelLists, str]) -> None:
    lists, base = model_lists
    run("add", "openrouter", "--base-url", f"{base}/router/api/v1")
    result = run("list", "--no-check")
    assert result.code == 0
    assert "answers" not in result.out
    assert lists.received == []


# --- presets ---------------------------------------------------------------------------------


def test_presets_table_lists_every_preset() -> None:
    from ccroute.presets import PRESETS

    result = run("presets")
    assert result.code == 0
    for preset in PRESETS.values():
        assert f"{preset.name} " in result.out and preset.base_url in result.out
    assert "none (local)" in result.out


def test_presets_json_and_one_preset_show_the_sources() -> None:
    data = run("presets", "--json").json()
    assert {p["name"] for p in data} >= {"gemini", "deepseek", "llamacpp"}
    assert all(p["source"] for p in data)
    one = run("presets", "kimi")
    assert one.code == 0
    assert "moonshot" in one.out and "source" in one.out and "peer evidence" in one.out
    single = run("presets", "glm", "--json").json()
    assert single["name"] == "zhipu" and "glm" in single["aliases"]
    assert run("presets", "nothing-like-it").code == 2


def test_providers_commands_import_neither_aiohttp_nor_rich_until_needed() -> None:
    code = (
        "import sys, ccroute.cli.providers_cmds\n"
        "print(','.join(m for m in ('aiohttp', 'rich', 'keyring') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
