"""The server's own Prometheus metrics (local only): completion stage timings, suggestions shown and
accepted, accept latency. Served together with the engine's registry on 127.0.0.1 only, and only to
requests that name a loopback ``Host`` (a web page that rebinds its own name to 127.0.0.1 gets 403)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from roost.engine.metrics import ENGINE_REGISTRY
from roost.engine.server import LOCAL_HOSTS, host_name

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
    server = make_server(
        "127.0.0.1",
        port,
        loopback_host_only(make_wsgi_app(LSP_REGISTRY)),
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="roost-metrics", daemon=True).start()
    _served_port = port
    log.info("metrics on http://127.0.0.1:%d/metrics", port)
    return port


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def loopback_host_only(app: WsgiApp) -> WsgiApp:
    """``app`` behind a ``Host`` check: a request naming anything but localhost, 127.0.0.1 or [::1] gets
    403. Binding 127.0.0.1 keeps other machines out, not a browser page on this one whose name was rebound
    to 127.0.0.1 (its requests carry its own name)."""

    def checked(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if host_name(environ.get("HTTP_HOST", "")) not in LOCAL_HOSTS:
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Host not allowed: Roost serves its metrics to local clients only\n"]
        return app(environ, start_response)

    return checked


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a stuck scraper never keeps the server's process alive


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Scrapes are not news: nothing on stderr (the LSP's stdout/stderr belong to the editor)."""


def accept_rate() -> float:
    shown = SUGGESTIONS_SHOWN._value.get()  # noqa: SLF001 - prometheus_client has no public getter
    return SUGGESTIONS_ACCEPTED._value.get() / shown if shown else 0.0  # noqa: SLF001
