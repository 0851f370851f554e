"""`ccroute.cli.progress.working`: a spinner on a terminal, nothing in pipes or JSON runs."""

from __future__ import annotations

import io
import sys

import pytest

from ccroute.cli.progress import working


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_spinner_shows_its_message_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    with working("Fetching model lists…"):
        pass
    assert "Fetching model lists" in fake.getvalue()


@pytest.mark.parametrize("tty", [True, False])
def test_quiet_or_a_pipe_shows_nothing(monkeypatch: pytest.MonkeyPatch, tty: bool) -> None:
    fake = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    ran = []
    with working("Checking…", quiet=tty):
        ran.append(True)
    assert ran == [True]
    assert fake.getvalue() == ""
