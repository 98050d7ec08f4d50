"""The server's own Prometheus metrics (local only): completion stage timings, suggestions shown and
accepted, accept latency. Served together with the engine's registry on 127.0.0.1 only."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from roost.engine.metrics import ENGINE_REGISTRY

log = logging.getLogger(__name__)

LSP_REGISTRY = CollectorRegistry(auto_describe=True)

_STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

COMPLETION_STAGE_SECONDS = Histogram(
    "roost_completion_stage_seconds",
    "Per inline completion: seconds spent in each pipeline stage (cache, debounce, model_load, syntax, "
    "retrieval, prompt, model, postprocess, gate, total, overhead).",
    ["stage"],
    buckets=_STAGE_BUCKETS,
    registry=LSP_REGISTRY,
)
COMPLETION_REQUESTS = Counter(
    "roost_completion_requests_total",
    "Inline completion requests by outcome (model, cache, typed_ahead, superseded, blocked, empty, error).",
    ["outcome"],
    registry=LSP_REGISTRY,
)
SUGGESTIONS_SHOWN = Counter(
    "roost_suggestions_shown_total", "Suggestions returned to the editor.", registry=LSP_REGISTRY
)
SUGGESTIONS_ACCEPTED = Counter(
    "roost_suggestions_accepted_total", "Suggestions the user accepted.", registry=LSP_REGISTRY
)
ACCEPT_LATENCY_SECONDS = Histogram(
    "roost_accept_latency_seconds",
    "From the suggestion being returned to the user accepting it.",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60),
    registry=LSP_REGISTRY,
)
GATE_VERDICTS = Counter(
    "roost_gate_verdicts_total",
    "Gate verdicts on outgoing suggestions and edits.",
    ["verdict"],
    registry=LSP_REGISTRY,
)


class _Forward(Collector):
    """Exposes another registry's metrics through ours (one endpoint for LSP and engine metrics)."""

    def __init__(self, other: CollectorRegistry) -> None:
        self._other = other

    def collect(self) -> Iterator[Metric]:
        yield from self._other.collect()

    def describe(self) -> list[Metric]:
        return []


_served_port: int | None = None


def serve_metrics(port: int) -> int | None:
    """Serve LSP and engine metrics at http://127.0.0.1:PORT/metrics (idempotent). Returns the port."""
    global _served_port
    if _served_port is not None:
        return _served_port
    try:
        LSP_REGISTRY.register(_Forward(ENGINE_REGISTRY))
    except Exception:  # the engine's metrics are optional for ours
        log.warning("engine metrics are not available; serving LSP metrics only")
    start_http_server(port, addr="127.0.0.1", registry=LSP_REGISTRY)
    _served_port = port
    log.info("metrics on http://127.0.0.1:%d/metrics", port)
    return port


def accept_rate() -> float:
    shown = SUGGESTIONS_SHOWN._value.get()  # noqa: SLF001 - prometheus_client has no public getter
    return SUGGESTIONS_ACCEPTED._value.get() / shown if shown else 0.0  # noqa: SLF001
