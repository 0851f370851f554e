"""keys.py: env over keyring, masking, and a clear message when there is no keyring."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringError, NoKeyringError

from ccroute.config import ProviderConfig, load_config
from ccroute.errors import ConfigError, KeyringUnavailableError, MissingKeyError
from ccroute.keys import SERVICE, delete_key, get_key, key_source, mask, require_key, set_key

KEY = "sk-or-v1-0123456789abcdef"


class NoBackendKeyring(KeyringBackend):
    """Behaves like a machine with no keyring: every call raises NoKeyringError."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise NoKeyringError("no backend")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NoKeyringError("no backend")

    def delete_password(self, service: str, username: str) -> None:
        raise NoKeyringError("no backend")


class DBusBrokenKeyring(NoBackendKeyring):
    """A headless-Linux secret service: calls fail with a non-keyring exception."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError(f"cannot store {password}")


@pytest.fixture
def openrouter() -> ProviderConfig:
    return load_config().providers["openrouter"]


@pytest.fixture
def local() -> ProviderConfig:
    return ProviderConfig(name="local", wire="openai", base_url="http://localhost:1/v1")


@pytest.fixture
def broken(request: pytest.FixtureRequest) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(request.param())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_key_is_stored_under_service_ccroute_and_provider_name(
    openrouter: ProviderConfig, memory_keyring: object
) -> None:
    set_key("openrouter", f"  {KEY}\n")
    assert memory_keyring.store == {(SERVICE, "openrouter"): KEY}  # type: ignore[attr-defined]
    assert get_key(openrouter) == KEY


def test_env_var_wins_over_keyring(
    openrouter: ProviderConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_key("openrouter", KEY)
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-from-env-9999")
    assert get_key(openrouter) == "sk-from-env-9999"
    assert key_source(openrouter) == ("env:OPENROUTER_API_KEY", "…9999")


def test_empty_env_var_falls_back_to_keyring(
    openrouter: ProviderConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_key("openrouter", KEY)
    monkeypatch.setenv("OPENROUTER_API_KEY", "  ")
    assert get_key(openrouter) == KEY
    assert key_source(openrouter) == ("keyring", "…cdef")


def test_no_key_anywhere_gives_none_source(openrouter: ProviderConfig) -> None:
    assert get_key(openrouter) is None
    assert key_source(openrouter) == ("none", None)


def test_require_key_missing_names_both_fixes(openrouter: ProviderConfig) -> None:
    with pytest.raises(MissingKeyError) as info:
        require_key(openrouter)
    assert info.value.message == (
        "No key for provider 'openrouter'. Run 'ccroute keys set openrouter' or set "
        "OPENROUTER_API_KEY."
    )


def test_require_key_keyless_provider_returns_none(local: ProviderConfig) -> None:
    assert require_key(local) is None


def test_require_key_keyless_provider_still_uses_a_stored_key(local: ProviderConfig) -> None:
    set_key("local", KEY)
    assert require_key(local) == KEY


def test_mask_shows_only_the_last_four_characters() -> None:
    assert mask(KEY) == "…cdef"
    assert KEY[:-4] not in mask(KEY)
    assert mask("short") == "…"


def test_set_key_refuses_an_empty_key() -> None:
    with pytest.raises(ConfigError):
        set_key("openrouter", "   ")


def test_delete_key_reports_whether_a_key_was_stored(openrouter: ProviderConfig) -> None:
    set_key("openrouter", KEY)
    assert delete_key("openrouter") is True
    assert delete_key("openrouter") is False
    assert get_key(openrouter) is None


@pytest.mark.parametrize("broken", [NoBackendKeyring, fail.Keyring], indirect=True)
@pytest.mark.usefixtures("broken")
def test_no_keyring_lookup_is_quiet_and_writes_name_the_env_var(
    openrouter: ProviderConfig,
) -> None:
    assert get_key(openrouter) is None
    assert key_source(openrouter) == ("none", None)
    with pytest.raises(KeyringUnavailableError) as info:
        set_key("openrouter", KEY, env_var="OPENROUTER_API_KEY")
    assert info.value.message == (
        "No OS keyring is available on this machine. Set OPENROUTER_API_KEY in your "
        "environment instead, or install a keyring backend (e.g. 'pip install keyrings.alt')."
    )
    with pytest.raises(KeyringUnavailableError):
        delete_key("openrouter", env_var="OPENROUTER_API_KEY")


@pytest.mark.parametrize("broken", [DBusBrokenKeyring], indirect=True)
@pytest.mark.usefixtures("broken")
def test_failing_backend_never_leaks_the_key(openrouter: ProviderConfig) -> None:
    assert get_key(openrouter) is None
    with pytest.raises(KeyringUnavailableError) as info:
        set_key("openrouter", KEY, env_var="OPENROUTER_API_KEY")
    assert KEY not in info.value.message
    assert "OPENROUTER_API_KEY" in info.value.message


def test_no_keyring_still_serves_the_env_key(
    openrouter: ProviderConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(NoBackendKeyring())
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    assert require_key(openrouter) == KEY
