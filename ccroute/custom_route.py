"""The user's routing function: `router.custom = "path/to/file.py:function"`.

Owns: loading the function from its file with importlib (cached per path and modification
time, so an edited file is picked up), the read-only view of the request it is given
(`RequestView`), and calling it (`call_custom`), which turns every failure — a missing file, an
import error, an exception in the function, a return value that is neither a string nor None —
into an error message instead of an exception. The only module of the routing decision that
touches the file system.

Must not import: aiohttp, typer, rich, keyring, or anything from ccroute but `config`.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

log = logging.getLogger("ccroute.routing")

_loaded: dict[str, tuple[float, Callable[..., object]]] = {}


class RequestView(Mapping[str, Any]):
    """A read-only view of a JSON object: nested objects are views, arrays are tuples-like views.

    Reading never copies the request; no method changes it.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return _view(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class _ListView(Sequence[Any]):
    __slots__ = ("_data",)

    def __init__(self, data: list[Any]) -> None:
        self._data = data

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [_view(item) for item in self._data[index]]
        return _view(self._data[index])

    def __len__(self) -> int:
        return len(self._data)


def _view(value: Any) -> Any:
    if isinstance(value, dict):
        return RequestView(value)
    if isinstance(value, list):
        return _ListView(value)
    return value


def _load(spec: str) -> Callable[..., object]:
    """The function `spec` ("file.py:name", `~` expanded) names; raises on any failure."""
    file, _, name = spec.rpartition(":")
    path = Path(file).expanduser()
    mtime = path.stat().st_mtime
    cached = _loaded.get(spec)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    module_spec = importlib.util.spec_from_file_location(f"ccroute_custom_route_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    function: Callable[..., object] | None = getattr(module, name, None)
    if not callable(function):
        raise AttributeError(f"{path} defines no function {name!r}")
    _loaded[spec] = (mtime, function)
    return function


def call_custom(spec: str, request: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Call the custom routing function with a `RequestView` of `request`.

    Returns `(ref, None)` when it returned a ref string ("provider/model"), `(None, None)` when
    it returned None (no opinion), and `(None, message)` when loading or calling it failed or it
    returned anything else; the message is one sentence for `Decision.reason` and is logged.
    """
    try:
        function = _load(spec)
        result = function(RequestView(request))
    except Exception as exc:  # the user's code: any failure falls back to the default route
        message = f"router.custom {spec!r} failed ({type(exc).__name__}: {exc})"
        log.warning("%s; using the default route", message)
        return None, message
    if result is None or (isinstance(result, str) and result.strip()):
        return result, None
    message = f"router.custom {spec!r} returned {result!r}, not a 'provider/model' ref or None"
    log.warning("%s; using the default route", message)
    return None, message
