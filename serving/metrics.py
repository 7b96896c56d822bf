"""Prometheus metrics of the HTTP API: requests, latency, and the cache client's counters."""

from __future__ import annotations

from collections import Counter as Counts
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

# Loopback reads take well under a millisecond; the top buckets catch a slow or dead Redis.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class _ClientCounters(Collector):
    """Exports the client's own counters at scrape time (one source of truth, no double counting)."""

    def __init__(self, stats: Counts[str]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("kgrec_cache_lookups", "Ids looked up, by result.", labels=["result"])
        for result in ("hits", "misses", "fallbacks"):
            family.add_metric([result], float(self._stats[result]))
        yield family
        errors = CounterMetricFamily("kgrec_cache_redis_errors", "Reads that failed: timeout or connection.")
        errors.add_metric([], float(self._stats["redis_errors"]))
        yield errors


class ApiMetrics:
    """The API's metrics in a registry of their own (no global state between apps or tests)."""

    def __init__(self, client_stats: Counts[str]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("kgrec_api_requests", "HTTP requests, by route and status.",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("kgrec_api_request_seconds", "Request latency, by route.", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(_ClientCounters(client_stats))
