"""Hot reload of config.toml: in the app (`POST /ccroute/reload`, the file watch, a rejected
file keeping the old config and reporting why) and with a real daemon process (`ccroute config
set` takes effect at once, `ccroute reload`, SIGHUP, `ccroute status` showing a rejection)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from typer.testing import CliRunner

from ccroute import daemon, server
from ccroute.cli import app as cli
from ccroute.config import load_config, paths, set_value
from ccroute.server.lifecycle import CONFIG_STATUS, ConfigStatus, watch_config
from ccroute.server.state import CONFIG
from tests.fakes.openai_upstream import FakeOpenAI, text_reply
from tests.test_daemon import free_port
from tests.test_server import KEY, TOKEN, anthropic_request

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
runner = CliRunner()


def write_config(text: str) -> None:
    path = paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def provider_config(base_url: str, model: str) -> str:
    return (
        f'[providers.fake]\nwire = "openai"\nbase_url = "{base_url}"\n'
        f'api_key_env = "OPENROUTER_API_KEY"\n\n[router]\ndefault = "fake/{model}"\n'
    )


@pytest.fixture
async def reloadable(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> Callable[[FakeOpenAI], Awaitable[TestClient[Any, Any]]]:
    """A proxy app on config.toml (routing to `fake`) that can reload it."""
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)

    async def start(fake: FakeOpenAI) -> TestClient[Any, Any]:
        upstream = await aiohttp_server(fake.app)
        write_config(provider_config(str(upstream.make_url("/v1")), "model-a"))
        status = ConfigStatus(load=load_config, source=paths().config_file)
        app = server.create_app(load_config(), token=TOKEN, config_status=status)
        return await aiohttp_client(app)

    return start


def base_url_of(client: TestClient[Any, Any]) -> str:
    return client.app[CONFIG].providers["fake"].base_url  # type: ignore[index]


async def test_reload_endpoint_swaps_the_config_for_the_next_request(reloadable: Any) -> None:
    fake = FakeOpenAI([text_reply("one"), text_reply("two")], api_key=KEY)
    client = await reloadable(fake)
    first = await client.post("/v1/messages", json=anthropic_request(stream=False), headers=AUTH)
    assert first.status == 200
    write_config(provider_config(base_url_of(client), "model-b"))
    resp = await client.post("/ccroute/reload", headers=AUTH)
    assert resp.status == 200
    assert (await resp.json())["reloaded"] is True
    second = await client.post("/v1/messages", json=anthropic_request(stream=False), headers=AUTH)
    assert second.status == 200
    assert [r.json["model"] for r in fake.chat_requests] == ["model-a", "model-b"]


async def test_reload_endpoint_needs_the_token(reloadable: Any) -> None:
    client = await reloadable(FakeOpenAI(api_key=KEY))
    resp = await client.post("/ccroute/reload")
    assert resp.status == 401


async def test_invalid_config_is_rejected_old_one_kept_and_reason_reported(
    reloadable: Any,
) -> None:
    fake = FakeOpenAI([text_reply("still routed")], api_key=KEY)
    client = await reloadable(fake)
    write_config(provider_config(base_url_of(client), "model-a") + "\n[server]\nport = 0\n")
    resp = await client.post("/ccroute/reload", headers=AUTH)
    assert resp.status == 422
    answer = await resp.json()
    assert answer["reloaded"] is False
    assert str(paths().config_file) in answer["config_error"]
    assert "server.port" in answer["config_error"]
    health = await (await client.get("/health")).json()
    assert health["config_error"] == answer["config_error"]
    ok = await client.post("/v1/messages", json=anthropic_request(stream=False), headers=AUTH)
    assert ok.status == 200  # the previous config still routes
    assert fake.chat_requests[0].json["model"] == "model-a"


async def test_good_reload_clears_a_previous_rejection(reloadable: Any) -> None:
    client = await reloadable(FakeOpenAI(api_key=KEY))
    good = provider_config(base_url_of(client), "model-c")
    write_config("this is [ not toml")
    assert (await client.post("/ccroute/reload", headers=AUTH)).status == 422
    before = (await (await client.get("/health")).json())["config_loaded_at"]
    write_config(good)
    assert (await client.post("/ccroute/reload", headers=AUTH)).status == 200
    health = await (await client.get("/health")).json()
    assert health["config_error"] is None
    assert health["config_loaded_at"] >= before
    assert client.app[CONFIG].router.default == "fake/model-c"  # type: ignore[index]


async def test_request_in_flight_keeps_the_config_it_started_with(reloadable: Any) -> None:
    fake = FakeOpenAI([text_reply("slow", delay=0.5), text_reply("after")], api_key=KEY)
    client = await reloadable(fake)
    in_flight = asyncio.ensure_future(
        client.post("/v1/messages", json=anthropic_request(stream=False), headers=AUTH)
    )
    while not fake.chat_requests:
        await asyncio.sleep(0.01)
    write_config(provider_config(base_url_of(client), "model-b"))
    assert (await client.post("/ccroute/reload", headers=AUTH)).status == 200
    first = await in_flight
    assert first.status == 200
    body = await first.json()
    assert body["content"][0]["text"] == "slow"
    after = await client.post("/v1/messages", json=anthropic_request(stream=False), headers=AUTH)
    assert after.status == 200
    assert [r.json["model"] for r in fake.chat_requests] == ["model-a", "model-b"]


async def test_file_watch_reloads_when_the_file_changes(reloadable: Any) -> None:
    client = await reloadable(FakeOpenAI(api_key=KEY))
    app = client.app
    assert app is not None
    watcher = asyncio.create_task(watch_config(app, interval=0.02))
    try:
        write_config(provider_config(base_url_of(client), "model-watched") + "\n# longer\n")
        for _ in range(500):
            if app[CONFIG].router.default == "fake/model-watched":
                break
            await asyncio.sleep(0.02)
        assert app[CONFIG].router.default == "fake/model-watched"
        assert app[CONFIG_STATUS].error is None
    finally:
        watcher.cancel()


# --- with a real daemon process --------------------------------------------------------------


@pytest.fixture
def running_daemon() -> Iterator[daemon.DaemonInfo]:
    info = daemon.start(load_config(), port=free_port())
    try:
        yield info
    finally:
        daemon.stop()


def test_config_set_reloads_the_running_daemon_at_once(
    running_daemon: daemon.DaemonInfo,
) -> None:
    before = daemon.probe(running_daemon)
    assert before is not None
    result = runner.invoke(cli, ["config", "set", "router.default", "openrouter/x/reloaded"])
    assert result.exit_code == 0, result.output
    assert "running daemon now uses it" in result.stdout
    after = daemon.probe(running_daemon)
    assert after is not None
    assert after["config_loaded_at"] > before["config_loaded_at"]
    assert after["config_error"] is None


def test_ccroute_reload_and_status_report_a_rejected_file(
    running_daemon: daemon.DaemonInfo,
) -> None:
    write_config("[server]\nport = 0\n")
    result = runner.invoke(cli, ["reload"])
    assert result.exit_code == 2
    assert "kept its previous config" in result.output
    assert "server.port" in result.output
    status = runner.invoke(cli, ["status", "--json"])
    assert status.exit_code == 0, status.output
    report = json.loads(status.stdout)
    assert "server.port" in report["config_error"]
    text = runner.invoke(cli, ["status"])
    assert "config rejected, previous one kept" in text.stdout
    rejected = runner.invoke(cli, ["reload", "--json"])
    assert rejected.exit_code == 2
    answer = json.loads(rejected.stdout)
    assert answer["reloaded"] is False and "server.port" in answer["config_error"]
    write_config("")
    fixed = runner.invoke(cli, ["reload", "--json"])
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["reloaded"] is True
    assert json.loads(runner.invoke(cli, ["status", "--json"]).stdout)["config_error"] is None


@pytest.mark.skipif(sys.platform == "win32", reason="SIGHUP is POSIX")
def test_sighup_reloads(running_daemon: daemon.DaemonInfo) -> None:
    os.kill(running_daemon.pid, signal.SIGHUP)
    log = paths().log_dir / "daemon.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "config reloaded (SIGHUP)" not in log.read_text():
        time.sleep(0.05)
    assert "config reloaded (SIGHUP)" in log.read_text()
    assert daemon.probe(running_daemon) is not None  # still serving


def test_reload_without_a_daemon_says_it_is_not_running() -> None:
    result = runner.invoke(cli, ["reload"])
    assert result.exit_code == 3
    assert "not running" in result.output


def test_config_set_without_a_daemon_does_not_mention_one() -> None:
    set_value("router.default", "openrouter/x/y")
    result = runner.invoke(cli, ["config", "set", "router.default", "openrouter/x/z"])
    assert result.exit_code == 0, result.output
    assert "daemon" not in result.stdout
