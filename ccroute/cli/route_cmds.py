"""`ccroute route ...`: see how the router would route a request, without sending it.

Owns: `ccroute route explain [FILE.json | -]`, which reads a Messages API body (or a captured
fixture, whose request is under a "body" key), validates it, estimates its input tokens the way
the server does, runs `ccroute.routing.decide` on the effective configuration and prints the
decision (route, targets, strategy, fallbacks, reason, estimate) as text or, with `--json`, as
one JSON object. Errors are raised as `CcrouteError` and printed once by the root app.

Must not import: aiohttp or keyring (nothing is sent; no key is needed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ccroute.errors import CcrouteError

if TYPE_CHECKING:
    from ccroute.routing import RouteTarget

app = typer.Typer(
    help="See which provider and model a request would be routed to, and why.",
    no_args_is_help=True,
)


def _read_body(source: str) -> object:
    """The request body in `source` (a path, or "-" for stdin); a fixture's "body" if it has one."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise CcrouteError(f"cannot read {source}: {exc.strerror or exc}.") from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise CcrouteError(
            f"{source} is not JSON ({exc}). Give a Messages API request body, or a captured "
            'request with the body under "body".'
        ) from None
    if isinstance(doc, dict) and isinstance(doc.get("body"), dict) and "messages" not in doc:
        return doc["body"]
    return doc


def _target(target: RouteTarget) -> dict[str, object]:
    return {"provider": target.provider.name, "model": target.model, "weight": target.weight}


@app.command("explain")
def explain(
    source: str = typer.Argument(
        "-", help="A request body as JSON (or a captured request with a 'body' key); - = stdin."
    ),
    profile: str | None = typer.Option(
        None, "--profile", help="Route as 'ccroute code --profile NAME' would."
    ),
    session: str | None = typer.Option(
        None, "--session", help="The X-Claude-Code-Session-Id to route with (session rules)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as one JSON object."),
) -> None:
    """Print the route a request would take: targets, strategy, fallbacks and the reason."""
    from ccroute.config import load_config
    from ccroute.routing import decide
    from ccroute.translate.messages import validate_request
    from ccroute.translate.tokens import estimate_input_tokens

    req = validate_request(_read_body(source))
    config = load_config()
    tokens = estimate_input_tokens(req)
    decision = decide(req, config, input_tokens=tokens, session_id=session, profile=profile)
    router = config.profiles[profile] if profile else config.router
    targets = [_target(t) for t in decision.targets]
    fallbacks = [_target(t) for t in decision.fallbacks]
    result = {
        "model": req["model"],
        "route": decision.route,
        "targets": targets,
        "strategy": decision.strategy,
        "fallbacks": fallbacks,
        "reason": decision.reason,
        "input_tokens_estimate": tokens,
        "long_context_threshold": router.long_context_threshold,
        "request_rewritten": decision.request is not req,
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return

    def refs(targets: list[dict[str, object]]) -> str:
        return ", ".join(
            f"{t['provider']}/{t['model']}"
            + (f" (weight {t['weight']})" if t["weight"] != 1 else "")
            for t in targets
        )

    lines = [
        f"model:      {req['model']}",
        f"route:      {decision.route}",
        f"targets:    {refs(targets)}",
        f"strategy:   {decision.strategy}",
        f"fallbacks:  {refs(fallbacks) or 'none'}",
        f"reason:     {decision.reason}",
        f"estimate:   ~{tokens} input tokens (long_context_threshold "
        f"{router.long_context_threshold})",
    ]
    if decision.request is not req:
        lines.append("request:    the subagent tag is removed before sending")
    typer.echo("\n".join(lines))
