"""The daemon log's formats: JSON lines with the request id, and secrets masked in both formats."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from ccroute import daemon_serve, logformat
from ccroute.config import Config, ProviderConfig, RouterConfig, ServerConfig
from ccroute.logcontext import REQUEST_ID
from ccroute.logformat import MASK, JsonFormatter, KnownSecrets, RedactSecrets, redact

KNOWN_KEY = "or-live-4f9c2a7d1b8e"  # a provider key with no recognisable shape
TOKEN = "local-token-a8d93kd02"

# (text containing a secret, the secret, what must survive)
SHAPES = [
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "eyJhbGciOiJIUzI1NiJ9", "Bearer"),
    ("calling with sk-or-v1-0123456789abcdef now", "0123456789abcdef", "now"),
    ("key sk-ant-api03-AbCdEf_123-456 rejected", "AbCdEf_123-456", "rejected"),
    ("x-api-key: abcDEF123456789 sent", "abcDEF123456789", "sent"),
    ('headers {"x-goog-api-key": "zzTopSecret99"}', "zzTopSecret99", "headers"),
    (
        "GET https://generativelanguage.googleapis.com/v1beta/models?key=pLainSecret42&alt=sse",
        "pLainSecret42",
        "alt=sse",
    ),
    ("google key AIzaSyA1234567890abcdefghijklmnopqrstu in use", "SyA1234567890", "in use"),
    ("api_key=hunter2hunter2 done", "hunter2hunter2", "done"),
]


@pytest.fixture
def known() -> KnownSecrets:
    secrets = KnownSecrets()
    secrets.add(KNOWN_KEY)
    secrets.add(TOKEN)
    return secrets


def make_logger(
    fmt: logging.Formatter, known: KnownSecrets, name: str
) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(fmt)
    handler.addFilter(RedactSecrets(known))
    logger = logging.getLogger(f"ccroute.test.{name}")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, stream


@pytest.fixture
def json_log(known: KnownSecrets) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    logger, stream = make_logger(JsonFormatter(), known, "json")
    yield logger, stream
    logger.handlers.clear()


@pytest.fixture(params=["text", "json"])
def any_log(
    request: pytest.FixtureRequest, known: KnownSecrets
) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    logger, stream = make_logger(logformat.formatter(request.param), known, request.param)
    yield logger, stream
    logger.handlers.clear()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_parse_and_carry_time_level_logger_message(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_log
    logger.info("listening on %s (pid %d)", "http://127.0.0.1:3456", 42)
    logger.warning("breaker %s open — skipped", "openrouter")
    first, second = lines(stream)
    assert first["level"] == "INFO"
    assert first["logger"] == "ccroute.test.json"
    assert first["message"] == "listening on http://127.0.0.1:3456 (pid 42)"
    assert second["level"] == "WARNING"
    assert second["message"] == "breaker openrouter open — skipped"
    assert first["time"].endswith("Z")
    parsed = datetime.fromisoformat(first["time"].replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0)
    assert "request_id" not in first
    assert "exc_info" not in first


def test_json_lines_carry_the_request_id_only_inside_a_request(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_log
    logger.info("before")
    reset = REQUEST_ID.set("msg_01ABCdef")
    try:
        logger.info("during")
    finally:
        REQUEST_ID.reset(reset)
    logger.info("after")
    before, during, after = lines(stream)
    assert during["request_id"] == "msg_01ABCdef"
    assert "request_id" not in before
    assert "request_id" not in after


def test_json_lines_include_the_traceback(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    try:
        raise ValueError("the upstream said no")
    except ValueError:
        logger.exception("request failed")
    (entry,) = lines(stream)
    assert entry["level"] == "ERROR"
    assert entry["message"] == "request failed"
    assert entry["exc_info"].startswith("Traceback (most recent call last):")
    assert "ValueError: the upstream said no" in entry["exc_info"]


@pytest.mark.parametrize(("text", "secret", "kept"), SHAPES)
def test_every_secret_shape_is_masked_in_messages_and_args(
    any_log: tuple[logging.Logger, io.StringIO], text: str, secret: str, kept: str
) -> None:
    logger, stream = any_log
    logger.info(text)
    logger.info("upstream said: %s", text)
    output = stream.getvalue()
    assert secret not in output
    assert output.count(MASK) >= 2
    assert kept in output
    assert "upstream said: " in output


def test_known_key_values_are_masked_wherever_they_appear(
    any_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = any_log
    logger.info("provider openrouter: key %s failed", KNOWN_KEY)
    logger.info("token=%r", TOKEN)
    logger.info(f"embedded{KNOWN_KEY}inside")
    output = stream.getvalue()
    assert KNOWN_KEY not in output
    assert TOKEN not in output
    assert "provider openrouter: key *** failed" in output
    assert "embedded***inside" in output


def test_secrets_in_tracebacks_are_masked(any_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = any_log
    try:
        raise ConnectionError(f"cannot reach https://example.test/v1?key={KNOWN_KEY}")
    except ConnectionError:
        logger.exception("upstream failed")
    output = stream.getvalue()
    assert "ConnectionError: cannot reach https://example.test/v1?key=***" in output
    assert KNOWN_KEY not in output


def test_ordinary_lines_are_left_exactly_as_they_were(
    any_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = any_log
    ordinary = [
        "msg_01XFDUDYJgAACzvnptvVoYEL: 200 openrouter/anthropic/claude-sonnet-4.5 in 1.2s",
        "breaker openrouter open after 5 failure(s): skipped for 30s",
        "task-queue disk-usage ask-me keyboard monkey=3 tokens=1200 keyed",
        "POST /v1/messages?beta=true 529 overloaded_error",
        "config reloaded from /home/u/.config/ccroute/config.toml",
        "ünïcödé — fine",
    ]
    for message in ordinary:
        logger.info("%s", message)
    output = stream.getvalue()
    for message in ordinary:
        assert message in output
    assert MASK not in output


def test_short_values_are_not_remembered_as_secrets() -> None:
    known = KnownSecrets()
    known.add("abc")
    known.add(None)
    known.add("   ")
    assert redact("abc is a word", known) == "abc is a word"


def test_a_key_added_later_is_masked_from_then_on() -> None:
    known = KnownSecrets()
    assert redact("key lk-9981726354", known) == "key lk-9981726354"
    known.add("lk-9981726354")
    known.add("lk-9981726354-longer")
    assert redact("key lk-9981726354 and lk-9981726354-longer", known) == "key *** and ***"


def test_daemon_logging_uses_the_configured_format_and_masks_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_PROVIDER_KEY", "envkey-5551234567")
    provider = ProviderConfig(
        name="p", wire="openai", base_url="http://127.0.0.1:9/v1", api_key_env="TEST_PROVIDER_KEY"
    )
    config = Config(
        server=ServerConfig(),
        providers=MappingProxyType({"p": provider}),
        router=RouterConfig(default="p/m"),
        source=tmp_path / "config.toml",
    )
    log_file = tmp_path / "logs" / "daemon.log"
    names = ("ccroute", "aiohttp", "asyncio")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in names}
    monkeypatch.setattr(logformat, "SECRETS", KnownSecrets())
    try:
        daemon_serve._setup_logging(log_file, "json")
        daemon_serve._remember_secrets(config, "daemon-local-token-xyz")
        logging.getLogger("ccroute.daemon").info(
            "key %s token %s", "envkey-5551234567", "daemon-local-token-xyz"
        )
        logging.getLogger("aiohttp.server").error("Error handling ?key=AIzaLeak123456789")
        for handler in logging.getLogger("ccroute").handlers:
            handler.flush()
    finally:
        for name, (handlers, propagate) in saved.items():
            for handler in logging.getLogger(name).handlers:
                handler.close()
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
    entries = [json.loads(line) for line in log_file.read_text("utf-8").splitlines()]
    assert [e["message"] for e in entries] == ["key *** token ***", "Error handling ?key=***"]
    assert entries[1]["logger"] == "aiohttp.server"


async def test_a_key_the_server_looks_up_is_masked_in_later_log_lines() -> None:
    from ccroute.config import BUILTIN_PROVIDERS
    from ccroute.logformat import redact
    from ccroute.server.state import KeyCache

    key = "kr-looked-up-from-the-keyring-9f8e7d"  # no generic pattern matches this shape
    assert redact(f"upstream said {key}") == f"upstream said {key}"
    cache = KeyCache(lambda provider: key)
    assert await cache.get(BUILTIN_PROVIDERS["openrouter"]) == key
    assert key not in redact(f"upstream said {key}")
