"""`ccroute doctor`: find what would stop `ccroute code` from working, and say how to fix it.

Owns: `Check` (one finding: check name, status "ok" / "warn" / "fail", detail, fix command) and
`run_checks`, which runs every check and returns the findings in a fixed order. The checks are:
the `claude` binary and its version; Claude Code settings files whose `env` block overrides what
`ccroute code` sets (protocol.md §6.9); the keyring backend; a key for every routed provider and,
online, the provider accepting it (a model-list GET through `ccroute.server.probe`: 401/403 =
rejected); the daemon healthy or its port free; every route's model listed with tool support
(`ccroute.catalogue.warnings.route_warnings` over the cached or fetched catalogue); the clock
against a provider's HTTP `Date` header (online); config and state permissions (POSIX).

Network checks run concurrently with short timeouts, and only when not offline; aiohttp and the
keyring are imported inside the functions that need them (the CLI must start fast).

Must not: print, exit, raise for a failed check (every problem is a `Check`), or start, stop or
change the daemon, the config or the catalogue cache beyond what `ccroute models` does (a fetched
list is saved to the cache).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ccroute import daemon, keys, launcher, wires
from ccroute.claude_settings import BYPASS_ENV, MODEL_ENV, settings_files
from ccroute.config import Config, ProviderConfig, load_config
from ccroute.config.locations import Paths, paths
from ccroute.config.model import split_model_ref
from ccroute.errors import (
    CcrouteError,
    ClaudeNotFoundError,
    DaemonNotRunningError,
    KeyringUnavailableError,
)

if TYPE_CHECKING:
    from ccroute.catalogue.collect import FetchResult, Plan
    from ccroute.server.probe import ProbeResult, ProbeTarget

OK, WARN, FAIL = "ok", "warn", "fail"
"""The statuses of a `Check`; the command exits 1 when any check is FAIL."""

VERSION_TIMEOUT = 5.0
"""Seconds `claude --version` may take."""
NETWORK_TIMEOUT = 3.0
"""Seconds each provider request may take (the probe's default, Claude Code's discovery)."""
MAX_SKEW = 300.0
"""Seconds of clock difference from a provider's `Date` header before warning."""

_FAILING_ROUTE_KINDS = ("unknown_provider", "no_tools")  # Claude Code cannot work through these


@dataclass(frozen=True, slots=True)
class Check:
    """One finding.

    Attributes:
        check: what was checked, e.g. "claude", "key openrouter", "route openrouter/x".
        status: OK, WARN or FAIL.
        detail: what was found, one or two sentences.
        fix: the exact command (or edit) that fixes it; "" when there is nothing to fix.
    """

    check: str
    status: str
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        """`{"check", "status", "detail", "fix"}`."""
        return {"check": self.check, "status": self.status, "detail": self.detail, "fix": self.fix}


def run_checks(
    *,
    offline: bool = False,
    cwd: Path | None = None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
    p: Paths | None = None,
    timeout: float = NETWORK_TIMEOUT,
) -> list[Check]:
    """Every check, in a fixed order. `home` is the user's home (for `~/.claude`), `cwd` the
    project directory; both default to the real ones. Never raises for a failed check."""
    env = os.environ if environ is None else environ
    p = p or paths()
    found = [*check_claude(env), *check_settings(home or Path.home(), cwd or Path.cwd())]
    found.append(check_keyring())
    found += check_permissions(p)
    try:
        config = load_config(p)
    except CcrouteError as exc:
        found.append(Check("config", FAIL, str(exc), f"edit {p.config_file}"))
        return found
    from ccroute.catalogue.collect import plan

    found.append(check_daemon(config, p))
    routed = routed_providers(config)
    found += check_keys(routed)
    now = time.time()
    decided = plan(routed, now=now, offline=offline, p=p)
    probes, fetched, date = ([], {}, None) if offline else _online(routed, decided, timeout)
    found += check_probes(probes)
    found += check_routes(config, decided, fetched, now=now, offline=offline, p=p)
    if not offline:
        found.append(check_clock(date, time.time()))
    return found


def check_claude(environ: Mapping[str, str]) -> list[Check]:
    """`claude` found (`launcher.find_claude`) and `claude --version` answering in time."""
    try:
        binary = launcher.find_claude(environ)
    except ClaudeNotFoundError as exc:
        return [Check("claude", FAIL, str(exc), launcher.NPM_INSTALL)]
    try:
        done = subprocess.run(
            [binary, "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT,
            env=dict(environ),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return [Check("claude", WARN, f"{binary} --version did not answer in time.", "")]
    except OSError as exc:
        return [Check("claude", FAIL, f"{binary} could not run: {exc}.", launcher.NPM_INSTALL)]
    version = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if done.returncode != 0 or not version:
        why = done.stderr.strip()[:200] or f"exit status {done.returncode}"
        return [Check("claude", FAIL, f"{binary} --version failed: {why}", launcher.NPM_INSTALL)]
    return [Check("claude", OK, f"{binary}: {version}")]


def check_settings(home: Path, cwd: Path) -> list[Check]:
    """A finding per existing settings file: its `env` block (and `apiKeyHelper`) must not
    override what `ccroute code` sets (protocol.md §6.9). Bypassing variables are FAIL, model
    and header variables WARN."""
    found = []
    for path in dict.fromkeys(settings_files(home, cwd)):
        if not path.is_file():
            continue
        name = f"settings {path}"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            found.append(Check(name, WARN, f"Claude Code cannot read it: {exc}.", f"fix {path}"))
            continue
        env = doc.get("env") if isinstance(doc, dict) else None
        env = env if isinstance(env, dict) else {}
        bypass = [k for k in BYPASS_ENV if k in env]
        if isinstance(doc, dict) and "apiKeyHelper" in doc:
            bypass.append("apiKeyHelper")
        changed = [k for k in MODEL_ENV if k in env]
        if not bypass and not changed:
            found.append(Check(name, OK, "no env override of ccroute's variables"))
            continue
        names = ", ".join(bypass + changed)
        fix = f"remove {names} from {path}" + (' ("env" block)' if env else "")
        if bypass:
            detail = f"sets {names}, which sends Claude Code past ccroute or replaces its token."
        else:
            detail = f"sets {names}, which overrides the models or headers ccroute routes on."
        found.append(Check(name, FAIL if bypass else WARN, detail, fix))
    return found


def check_keyring() -> Check:
    """An OS keyring backend that can store keys (else keys must come from env variables)."""
    try:
        backend = keys._keyring()  # the one place that knows a usable backend from a stub
    except KeyringUnavailableError as exc:
        return Check("keyring", WARN, str(exc), _KEYRING_FIX)
    return Check("keyring", OK, f"backend {type(backend).__module__}.{type(backend).__name__}")


_KEYRING_FIX = "pip install keyrings.alt"


def routed_providers(config: Config) -> list[ProviderConfig]:
    """The configured providers that some route names, in route order (unknown names skipped:
    `check_routes` reports them)."""
    from ccroute.routing import route_refs

    names = [split[0] for ref in route_refs(config) if (split := split_model_ref(ref))]
    return [config.providers[n] for n in dict.fromkeys(names) if n in config.providers]


def check_keys(providers: Sequence[ProviderConfig]) -> list[Check]:
    """A key (env variable or keyring) for every provider that takes one."""
    found = []
    for provider in providers:
        name = f"key {provider.name}"
        if provider.api_key_env is None:
            found.append(Check(name, OK, "this provider takes no key"))
            continue
        source, masked = keys.key_source(provider)
        if masked is None:
            detail = f"no key in ${provider.api_key_env} or the keyring."
            found.append(Check(name, FAIL, detail, f"ccroute keys set {provider.name}"))
        else:
            found.append(Check(name, OK, f"{masked} from {source}"))
    return found


def check_probes(results: Sequence[ProbeResult]) -> list[Check]:
    """Online: each routed provider answering its model list with the key accepted."""
    found = []
    for result in results:
        name = f"provider {result.name}"
        detail = f"{result.summary}" + (f": {result.detail}" if result.detail else "")
        if result.status in (401, 403):
            fix = f"ccroute keys set {result.name}"
            found.append(Check(name, FAIL, f"the key was rejected ({detail}).", fix))
        elif result.ok:
            found.append(Check(name, OK, detail))
        elif not result.reachable:
            fix = f"ccroute config get providers.{result.name}.base_url"
            found.append(Check(name, WARN, f"not reachable ({detail}).", fix))
        else:
            found.append(Check(name, WARN, f"the model list answered {detail}."))
    return found


def check_daemon(config: Config, p: Paths) -> Check:
    """The daemon healthy, or else the configured port free for it to start on."""
    try:
        info = daemon.status(p)
    except DaemonNotRunningError:
        pass
    except CcrouteError as exc:
        return Check("daemon", FAIL, str(exc), "ccroute restart")
    else:
        return Check("daemon", OK, f"running and healthy at {info.url} (pid {info.pid})")
    host, port = config.server.host, config.server.port
    if port_free(host, port):
        return Check("daemon", OK, f"not running; port {port} on {host} is free")
    detail = f"not running, and port {port} on {host} is taken by another program."
    return Check("daemon", FAIL, detail, f"ccroute config set server.port {_other_port(port)}")


def port_free(host: str, port: int) -> bool:
    """True when a socket can bind `host:port` now (it is closed again at once)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _other_port(port: int) -> int:
    return port + 1 if port < 65535 else port - 1


def check_routes(
    config: Config,
    decided: Plan,
    fetched: Mapping[str, FetchResult],
    *,
    now: float,
    offline: bool,
    p: Paths | None = None,
) -> list[Check]:
    """Each route's model listed and supporting tools (`route_warnings`), from the cache or the
    lists `fetched` as `decided` planned (unix seconds `now`); unknown provider and no tool
    support are FAIL, the rest WARN."""
    from ccroute.catalogue.collect import combine
    from ccroute.catalogue.warnings import route_warnings
    from ccroute.routing import route_refs

    providers = routed_providers(config)
    lists = combine(providers, decided, fetched, now=now, offline=offline, p=p)
    found = []
    for lst in lists:
        if lst.status == "unavailable":
            why = lst.error or "no cached list"
            fix = f"ccroute models --provider {lst.provider} --refresh"
            detail = f"no model list to check routes against ({why})."
            found.append(Check(f"models {lst.provider}", WARN, detail, fix))
    catalogue = {lst.provider: lst.models for lst in lists if lst.status != "unavailable"}
    refs = route_refs(config)
    warnings = route_warnings(refs, config, catalogue)
    for w in warnings:
        status = FAIL if w.kind in _FAILING_ROUTE_KINDS else WARN
        fix = _route_fix(w.kind, w.provider, w.model)
        found.append(Check(f"route {w.route}", status, w.message, fix))
    warned = {w.route for w in warnings}
    checked = [
        r for r in refs if r not in warned and (s := split_model_ref(r)) and s[0] in catalogue
    ]
    if checked:
        found.append(Check("routes", OK, f"{len(checked)} route(s) listed with tool support"))
    return found


def _route_fix(kind: str, provider: str, model: str) -> str:
    """The `ccroute models` command that shows what to route to instead."""
    if not provider or kind == "unknown_provider":
        return "ccroute providers add <name>"
    if kind == "not_listed":
        return f"ccroute models {model.rsplit('/', 1)[-1]} --provider {provider}"
    return f"ccroute models --provider {provider}"


def check_clock(server_date: float | None, now: float) -> Check:
    """The local clock within `MAX_SKEW` seconds of a provider's `Date` header (unix seconds;
    None when no provider answered with one)."""
    if server_date is None:
        return Check("clock", WARN, "no provider answered with a Date header to compare with.")
    skew = now - server_date
    if abs(skew) <= MAX_SKEW:
        return Check("clock", OK, f"within {abs(skew):.0f} s of the provider's clock")
    direction = "ahead of" if skew > 0 else "behind"
    detail = f"the local clock is {abs(skew):.0f} s {direction} the provider's clock."
    return Check("clock", WARN, detail, "sync the clock (e.g. 'sudo timedatectl set-ntp true')")


def check_permissions(p: Paths) -> list[Check]:
    """Config file readable; on POSIX the state dir 0700 and the token file 0600."""
    config = p.config_file
    if config.exists() and not os.access(config, os.R_OK):
        found = [Check("config file", FAIL, f"{config} is not readable.", f"chmod u+r {config}")]
    else:
        absent = "" if config.exists() else " (absent: defaults)"
        found = [Check("config file", OK, f"{config}{absent}")]
    if os.name != "posix":
        return found
    token = p.state_dir / "token"
    for path, mode in ((p.state_dir, 0o700), (token, 0o600)):
        if not path.exists():
            continue
        actual = path.stat().st_mode & 0o777
        name = "state dir" if path == p.state_dir else "token file"
        if actual & 0o077:
            detail = f"{path} is mode {actual:o}: others can read it (want {mode:o})."
            found.append(Check(name, WARN, detail, f"chmod {mode:o} {path}"))
        else:
            found.append(Check(name, OK, f"{path} mode {actual:o}"))
    return found


def _online(
    providers: Sequence[ProviderConfig], decided: Plan, timeout: float
) -> tuple[list[ProbeResult], dict[str, FetchResult], float | None]:
    """Probe, fetch the catalogues `decided` names and read a `Date` header, all at once."""
    import asyncio

    return asyncio.run(_network(providers, decided.fetch, timeout))


async def _network(
    providers: Sequence[ProviderConfig], stale: Sequence[ProviderConfig], timeout: float
) -> tuple[list[ProbeResult], dict[str, FetchResult], float | None]:
    import asyncio

    from ccroute.server.catalogue_fetch import fetch_catalogue
    from ccroute.server.probe import probe_all

    targets = [_target(provider) for provider in providers]
    keyed = {x.name: keys.get_key(x) for x in stale}
    probes, fetched, date = await asyncio.gather(
        probe_all(targets, timeout=timeout),
        fetch_catalogue(stale, keyed, timeout=timeout, deadline=timeout * 2),
        _server_date([t.url for t in targets], timeout),
    )
    return probes, fetched, date


def _target(provider: ProviderConfig) -> ProbeTarget:
    from ccroute.catalogue.sources import ANTHROPIC_VERSION
    from ccroute.server.probe import ProbeTarget

    wire = wires.wire_for(provider.wire)
    key = keys.get_key(provider)
    headers = {name: value for name, value in provider.headers.items() if value}
    if wire.name == "anthropic":
        headers["anthropic-version"] = ANTHROPIC_VERSION
    headers.update(wire.auth_headers(provider, key))
    return ProbeTarget(provider.name, wire.models_url(provider.base_url), headers, bool(key))


async def _server_date(urls: Sequence[str], timeout: float) -> float | None:
    """The first `Date` header (unix seconds) that one of `urls` answers a HEAD with (stdlib
    HTTP in a thread: aiohttp stays inside `ccroute.server`)."""
    import asyncio

    for url in urls:
        header = await asyncio.to_thread(_date_header, url, timeout)
        if header:
            try:
                return parsedate_to_datetime(header).timestamp()
            except (TypeError, ValueError):
                continue
    return None


def _date_header(url: str, timeout: float) -> str | None:
    """`url`'s `Date` response header to a HEAD (any status), or None when nothing answers."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            date = response.headers.get("Date")
    except urllib.error.HTTPError as exc:  # a 401 still carries the server's Date
        date = exc.headers.get("Date")
    except (OSError, ValueError):
        return None
    return str(date) if date else None
