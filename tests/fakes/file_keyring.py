"""A keyring backend that keeps passwords in a JSON file, for end-to-end tests.

Subprocesses (`ccroute code`, the daemon it starts) load it through
`PYTHON_KEYRING_BACKEND=tests.fakes.file_keyring.FileKeyring` with the repo on `PYTHONPATH`,
and share what one stores through the file named by `CCROUTE_TEST_KEYRING_FILE`. Test use only:
the file is plain JSON (mode 0600), like a keychain with no lock.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_ENV = "CCROUTE_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    """Passwords in the JSON file `$CCROUTE_TEST_KEYRING_FILE`: {"service\\tuser": password}."""

    priority = 1  # type: ignore[assignment]

    @property
    def _path(self) -> Path:
        return Path(os.environ[FILE_ENV])

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def _save(self, data: dict[str, str]) -> None:
        self._path.write_text(json.dumps(data), encoding="utf-8")
        self._path.chmod(0o600)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\t{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\t{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\t{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._save(data)
