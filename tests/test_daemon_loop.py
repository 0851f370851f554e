"""The daemon's event loop: uvloop where it is installed, asyncio's on request or without it."""

from __future__ import annotations

import asyncio
import builtins
import sys
from typing import Any

import pytest

from ccroute.daemon_serve import event_loop_factory


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop has no Windows build")
def test_uvloop_is_used_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvloop

    monkeypatch.delenv("CCROUTE_EVENT_LOOP", raising=False)
    factory = event_loop_factory()
    assert factory is uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        assert isinstance(runner.get_loop(), uvloop.Loop)


def test_opt_out_and_missing_uvloop_give_the_default_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCROUTE_EVENT_LOOP", "asyncio")
    assert event_loop_factory() is None
    monkeypatch.delenv("CCROUTE_EVENT_LOOP")
    real_import = builtins.__import__

    def no_uvloop(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "uvloop":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_uvloop)
    assert event_loop_factory() is None
