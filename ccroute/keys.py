"""Provider API keys: looked up in the environment first, then the OS keyring.

Owns: every read and write of a secret. Keys are stored with keyring under service "ccroute"
and username = provider name; a provider's `api_key_env` variable, when set, wins over the
keyring. A machine without a usable keyring (no backend, the `fail`/`null` backends, DBus errors
on a headless Linux box) makes lookups quietly find nothing and makes writes raise
`KeyringUnavailableError` naming the env-var alternative, never a traceback.

A key never appears in a message, a log line or a repr; `mask` shows at most its last 4 chars.

Must not import: typer, rich, aiohttp. This is the only module that imports keyring, and it does
so lazily (backend discovery is slow and `ccroute status` must start fast).
"""

from __future__ import annotations

import os
from typing import Any

from ccroute.config import ProviderConfig
from ccroute.errors import ConfigError, KeyringUnavailableError, MissingKeyError

SERVICE = "ccroute"
"""The keyring service name; the username is the provider name."""

_MASK_MIN_LEN = 8  # shorter keys are shown as a bare "…": 4 chars would give too much away


def mask(key: str) -> str:
    """A display form of `key`: "…" plus its last 4 characters ("…" alone for short keys)."""
    return "…" + key[-4:] if len(key) >= _MASK_MIN_LEN else "…"


def _from_env(provider: ProviderConfig) -> str | None:
    if provider.api_key_env is None:
        return None
    value = os.environ.get(provider.api_key_env, "").strip()
    return value or None


def _keyring() -> Any:
    """The active keyring backend; raises `KeyringUnavailableError` when there is no usable one."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception:  # a broken backend can fail while being discovered
        raise _unavailable() from None
    if isinstance(backend, fail.Keyring | null.Keyring):
        raise _unavailable()
    return backend


def _unavailable(env_var: str | None = None, detail: str = "") -> KeyringUnavailableError:
    instead = (
        f"Set {env_var} in your environment instead"
        if env_var
        else "Set the provider's api_key_env variable in your environment instead"
    )
    problem = (
        f"The OS keyring failed ({detail})"
        if detail
        else "No OS keyring is available on this machine"
    )
    return KeyringUnavailableError(
        f"{problem}. {instead}, or install a keyring backend (e.g. 'pip install keyrings.alt')."
    )


def _from_keyring(provider_name: str) -> str | None:
    try:
        value = _keyring().get_password(SERVICE, provider_name)
    except Exception:  # no backend, locked keychain, DBus failure: treat as "no stored key"
        return None
    return value or None


def get_key(provider: ProviderConfig) -> str | None:
    """The provider's API key: its `api_key_env` variable if non-empty, else the keyring entry.

    Returns None when neither has one. Never raises, whatever state the keyring is in.
    """
    return _from_env(provider) or _from_keyring(provider.name)


def require_key(provider: ProviderConfig) -> str | None:
    """The provider's API key, or None for a keyless provider (no `api_key_env`, nothing stored).

    Raises `MissingKeyError` ("No key for provider 'openrouter'. Run 'ccroute keys set
    openrouter' or set OPENROUTER_API_KEY.") when the provider needs a key and none is found.
    """
    key = get_key(provider)
    if key is not None or provider.api_key_env is None:
        return key
    raise MissingKeyError(
        f"No key for provider {provider.name!r}. Run 'ccroute keys set {provider.name}' or set "
        f"{provider.api_key_env}."
    )


def key_source(provider: ProviderConfig) -> tuple[str, str | None]:
    """Where the provider's key would come from, and its masked form.

    Returns `("env:<VAR>", "…abcd")`, `("keyring", "…abcd")` or `("none", None)`. Never raises.
    """
    key = _from_env(provider)
    if key is not None:
        return f"env:{provider.api_key_env}", mask(key)
    key = _from_keyring(provider.name)
    if key is not None:
        return "keyring", mask(key)
    return "none", None


def set_key(provider_name: str, key: str, *, env_var: str | None = None) -> None:
    """Store `key` (surrounding whitespace stripped) in the OS keyring for `provider_name`.

    `env_var` (the provider's `api_key_env`) is only used to name the alternative in errors.
    Raises `ConfigError` for an empty key and `KeyringUnavailableError` when the keyring cannot
    store it (no backend, or the backend refused).
    """
    key = key.strip()
    if not key:
        raise ConfigError(f"The key for provider {provider_name!r} is empty; nothing was stored.")
    backend = _keyring_or_unavailable(env_var)
    try:
        backend.set_password(SERVICE, provider_name, key)
    except Exception as exc:
        raise _unavailable(env_var, _describe(exc, key)) from None


def delete_key(provider_name: str, *, env_var: str | None = None) -> bool:
    """Remove the stored key for `provider_name`; False when none was stored.

    Raises `KeyringUnavailableError` (naming `env_var` as the alternative) when the keyring
    cannot be used.
    """
    backend = _keyring_or_unavailable(env_var)
    try:
        if not backend.get_password(SERVICE, provider_name):
            return False
        backend.delete_password(SERVICE, provider_name)
    except Exception as exc:
        from keyring.errors import PasswordDeleteError

        if isinstance(exc, PasswordDeleteError):  # vanished between the two calls
            return False
        raise _unavailable(env_var, _describe(exc)) from None
    return True


def _keyring_or_unavailable(env_var: str | None) -> Any:
    try:
        return _keyring()
    except KeyringUnavailableError:
        raise _unavailable(env_var) from None


def _describe(exc: Exception, secret: str = "") -> str:
    """A short, secret-free description of a keyring failure for the user."""
    from keyring.errors import NoKeyringError

    if isinstance(exc, NoKeyringError):
        return ""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text.replace(secret, mask(secret)) if secret else text
