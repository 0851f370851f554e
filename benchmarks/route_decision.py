"""Benchmark: the cost of one routing decision (`ccroute.routing.decide`) per request.

Owns nothing the package uses. Runs `decide` on the captured ~78 KB Claude Code request
tests/fixtures/claude_code/write_tool_turn2_tool_result.json under a router that configures
every scenario route, two rules (neither matching, so each is evaluated in full), a model
pattern and fallbacks — the slowest ordinary path, ending at router.default — and prints the
median, p90 and minimum in microseconds. The input-token estimate is computed once outside the
timing: the server computes it for every request anyway.

Usage: python benchmarks/route_decision.py [ROUNDS]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from types import MappingProxyType

from ccroute.config import Config, ProviderConfig, ServerConfig
from ccroute.config.model import RefEntry, RouterConfig, RouteRule
from ccroute.routing import decide
from ccroute.translate.tokens import estimate_input_tokens

FIXTURE = (
    Path(__file__).resolve().parent.parent
    / "tests/fixtures/claude_code/write_tool_turn2_tool_result.json"
)


def _config() -> Config:
    providers = {
        name: ProviderConfig(name=name, wire="openai", base_url=f"http://{name}.invalid/v1")
        for name in ("a", "b", "c")
    }
    route = {
        name: (RefEntry(f"b/{name}"),)
        for name in ("background", "think", "long_context", "web_search", "image")
    }
    router = RouterConfig(
        default="a/main",
        routes=MappingProxyType({"default": (RefEntry("a/main"), RefEntry("c/main")), **route}),
        long_context_threshold=10**9,
        strategy="round-robin",
        models=MappingProxyType({"*gpt*": (RefEntry("c/gpt"),)}),
        fallbacks=MappingProxyType({"default": (RefEntry("b/spare"),)}),
        rules=(
            RouteRule(name="refactor", route=(RefEntry("c/big"),), keyword=("refactor",)),
            RouteRule(
                name="bash-long", route=(RefEntry("c/big"),), tools=("Bash",), min_tokens=10**9
            ),
        ),
    )
    return Config(
        server=ServerConfig(),
        providers=MappingProxyType(providers),
        router=router,
        source=Path("bench.toml"),
    )


def main(rounds: int = 20000) -> None:
    req = json.loads(FIXTURE.read_text())["body"]
    req["model"] = "claude-opus-4-8"
    req.pop("output_config", None)
    config = _config()
    tokens = estimate_input_tokens(req)
    decision = decide(req, config, input_tokens=tokens, session_id="s")
    assert decision.route == "default", decision
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        decide(req, config, input_tokens=tokens, session_id="s")
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    size = len(json.dumps(req)) // 1024
    print(
        f"decide() on {FIXTURE.name} ({size} KB, {len(req['messages'])} messages, "
        f"{len(req['tools'])} tools), {rounds} rounds: median {statistics.median(samples):.1f} µs, "
        f"p90 {samples[int(rounds * 0.9)]:.1f} µs, min {samples[0]:.1f} µs"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
