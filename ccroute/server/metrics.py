"""Prometheus metrics: `GET /metrics` and the request observer that feeds it.

Owns: the app's own `CollectorRegistry` (never the library's global one, so every app counts
alone), the counters and histograms moved once per finished `POST /v1/messages` (from its
`RequestRecord`), the gauges read at scrape time (requests in flight, per-provider upstream
slots and queue, circuit-breaker state), and the `/metrics` handler (text exposition format,
negotiated with the scraper's `Accept`). The local-token check is `guards.guard_middleware`'s.

Labels come from the config (provider, upstream model, route) or small fixed sets (status,
error type, token kind); never session or request ids, so the number of series stays bounded.

Must not import `proxy`, `relay`, `exchange` or `app` (it only reads the app keys they share).
"""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ccroute import __version__
from ccroute.server.attempts import RESILIENCE
from ccroute.server.breaker import CLOSED, HALF_OPEN, OPEN
from ccroute.server.drain import DRAIN
from ccroute.server.observers import OBSERVERS
from ccroute.server.state import CONFIG
from ccroute.usage.record import RequestRecord

#: Seconds; whole requests run from well under a second to many minutes (long generations).
DURATION_BUCKETS = (0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600)
#: Seconds to the first content sent to Claude Code.
TTFT_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60)

_BREAKER_STATES = (CLOSED, OPEN, HALF_OPEN)


class Metrics:
    """One app's metrics and its registry.

    Series (all names `ccroute_…`; counters end in `_total` in the exposition):
    - `requests_total{provider, model, route, status, error_type}`: finished requests;
      `model` is the upstream model, `status` the HTTP status Claude Code got,
      `error_type` the Anthropic error type ("" on success); provider/model are "" when no
      provider was tried.
    - `request_duration_seconds{provider, model}` (histogram): arrival to last byte.
    - `time_to_first_token_seconds{provider, model}` (histogram): arrival to first content.
    - `tokens_total{provider, model, kind}`: kind is input, output, cache_read or
      cache_creation (the final usage reported to the client).
    - `cost_usd_total{provider, model}`: USD from catalogue prices (requests with a price).
    - `upstream_attempts_total{route}`: upstream calls, retries and fallbacks included.
    - `daemon_info{version}`; scrape-time gauges from `StateCollector`; `process_*` (Linux).
    """

    def __init__(self, app: web.Application) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        pm = ("provider", "model")
        self.requests = Counter(
            "ccroute_requests",
            "Finished POST /v1/messages requests.",
            (*pm, "route", "status", "error_type"),
            registry=r,
        )
        self.duration = Histogram(
            "ccroute_request_duration_seconds",
            "Time from a request's arrival to the last byte sent.",
            pm,
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "ccroute_time_to_first_token_seconds",
            "Time from a request's arrival to the first content sent to the client.",
            pm,
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "ccroute_tokens",
            "Tokens in the usage reported to the client, by kind.",
            (*pm, "kind"),
            registry=r,
        )
        self.cost = Counter(
            "ccroute_cost_usd", "Cost in USD from catalogue prices.", pm, registry=r
        )
        self.attempts = Counter(
            "ccroute_upstream_attempts",
            "Upstream calls made, retries and fallbacks included.",
            ("route",),
            registry=r,
        )
        Info("ccroute_daemon", "The ccroute daemon.", registry=r).info({"version": __version__})
        r.register(StateCollector(app))
        ProcessCollector(registry=r)

    def observe(self, record: RequestRecord) -> None:
        """Count one finished request (runs on the event loop: a few dict look-ups)."""
        provider, model = record.provider or "", record.upstream_model or ""
        self.requests.labels(
            provider, model, record.route, str(record.status), record.error_type or ""
        ).inc()
        self.duration.labels(provider, model).observe(record.latency_ms / 1000)
        if record.ttft_ms is not None:
            self.ttft.labels(provider, model).observe(record.ttft_ms / 1000)
        for kind, count in (
            ("input", record.input_tokens),
            ("output", record.output_tokens),
            ("cache_read", record.cache_read_tokens),
            ("cache_creation", record.cache_creation_tokens),
        ):
            if count:
                self.tokens.labels(provider, model, kind).inc(count)
        if record.cost_usd:
            self.cost.labels(provider, model).inc(record.cost_usd)
        if record.attempts:
            self.attempts.labels(record.route).inc(record.attempts)


class StateCollector(Collector):
    """Gauges read from the app when scraped (they follow hot reloads and test swaps of the
    resilience state): `ccroute_in_flight_requests`, and per configured provider
    `ccroute_upstream_in_flight_requests`, `ccroute_upstream_queued_requests` and
    `ccroute_breaker_state{provider, state}` (1 for the breaker's current state of closed,
    open, half-open; 0 for the others)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    def describe(self) -> list[Metric]:
        """Nothing: the registry must not read the app when this is registered."""
        return []

    def collect(self) -> Iterator[Metric]:
        app = self._app
        inflight = GaugeMetricFamily(
            "ccroute_in_flight_requests", "Requests on /v1/messages being served now."
        )
        inflight.add_metric([], app[DRAIN].inflight)
        yield inflight
        res = app[RESILIENCE]
        providers = list(app[CONFIG].providers.values())
        slots = GaugeMetricFamily(
            "ccroute_upstream_in_flight_requests",
            "Upstream requests holding one of the provider's slots.",
            labels=("provider",),
        )
        queued = GaugeMetricFamily(
            "ccroute_upstream_queued_requests",
            "Requests waiting for one of the provider's slots (max_concurrency).",
            labels=("provider",),
        )
        for provider in providers:
            slots.add_metric([provider.name], res.limits.in_flight(provider))
            queued.add_metric([provider.name], res.limits.queued(provider))
        yield slots
        yield queued
        breaker = GaugeMetricFamily(
            "ccroute_breaker_state",
            "Circuit-breaker state per provider: 1 for the current state, 0 for the others.",
            labels=("provider", "state"),
        )
        snapshot = res.breakers.snapshot()
        for provider in providers:
            known = snapshot.get(provider.name)
            current = known.state if known is not None else CLOSED
            for state in _BREAKER_STATES:
                breaker.add_metric([provider.name, state], 1 if state == current else 0)
        yield breaker


#: The app's metrics (set by `install`).
METRICS = web.AppKey("metrics", Metrics)


def install(app: web.Application) -> None:
    """Give `app` its metrics: an observer on `OBSERVERS` and the `GET /metrics` route.

    Call before the app starts. `/metrics` needs the local token like every route but
    `/health` (the guard middleware).
    """
    # No `_created` series (process-wide switch): they double the output for no use here.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    metrics = Metrics(app)
    app[METRICS] = metrics
    app[OBSERVERS].append(metrics.observe)
    app.router.add_get("/metrics", handle_metrics)


async def handle_metrics(request: web.Request) -> web.Response:
    """`GET /metrics`: every series in the Prometheus text format (0.0.4 by default;
    OpenMetrics or text 1.0.0 when the scraper's `Accept` asks for it)."""
    encode, content_type = choose_encoder(",".join(request.headers.getall("Accept", [])))
    body = encode(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": content_type})
