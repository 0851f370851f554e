"""The ccroute error tree.

Owns: every exception ccroute raises on purpose. Each carries a message fit to show a user (it
names the fix where there is one) and never a secret. Converted exactly once per boundary: the
CLI turns them into `error: ...` on stderr and an exit code; the server turns them into
Anthropic error JSON (protocol.md §2.5).

Must not import anything from ccroute or third parties.
"""

from __future__ import annotations


class CcrouteError(Exception):
    """Base of all deliberate ccroute errors.

    Attributes:
        message: one or more sentences for the user, naming the fix where there is one.
        exit_code: the CLI exit status for this error (1 unless a subclass says otherwise).
    """

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(CcrouteError):
    """The configuration is unreadable or invalid; the message names the file, key and fix."""

    exit_code = 2


class MissingKeyError(ConfigError):
    """No API key was found for a provider that needs one (neither its env var nor the keyring)."""


class KeyringUnavailableError(CcrouteError):
    """The OS keyring has no usable backend; the message names the env-var alternative."""


class DaemonError(CcrouteError):
    """The daemon could not be started, stopped or reached."""


class DaemonNotRunningError(DaemonError):
    """The daemon is not running (`ccroute status` exits 3 for this, like `systemctl status`)."""

    exit_code = 3


class ClaudeNotFoundError(CcrouteError):
    """The `claude` binary was not found; the message gives the npm install command."""

    exit_code = 127


class TranslationError(CcrouteError):
    """A request cannot be translated because it is malformed.

    The server answers it with HTTP 400 `invalid_request_error` (protocol.md §2.5); the message
    names the offending field by its path, e.g. `messages.2.content.0.type`.
    """


class UpstreamError(CcrouteError):
    """The upstream provider failed or answered with an error.

    Attributes:
        status: the HTTP status to return to the client (an Anthropic status, protocol.md §2.5).
        error_type: the Anthropic `error.type` (`rate_limit_error`, `overloaded_error`, ...).
        retry_after: seconds the client should wait before retrying, if the upstream said so.
    """

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        *,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.retry_after = retry_after
