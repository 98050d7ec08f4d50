"""Starts the services after ``initialized`` (index in the background, metrics endpoint), hands them the
open documents' events as paths, texts and buffer edits, and closes everything on shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from lsprotocol import types

from roost.lsp.config import RoostConfig
from roost.lsp.core.services import SERVICES_KEY, Services, services_of
from roost.lsp.handlers.content_changes import deferred_buffer_edits
from roost.lsp.handlers.workspace_edits import relative_path
from roost.lsp.metrics import serve_metrics
from roost.lsp.server import ContentChange, DocumentEvent, RoostServer

log = logging.getLogger(__name__)

METRICS_PORT_OVERRIDE = "metrics_port_override"  # `roost serve --metrics-port` sets it in server.services


def register(server: RoostServer) -> None:
    def start(ls: RoostServer) -> None:
        services = services_of(ls)
        services.config = ls.config
        override = ls.services.get(METRICS_PORT_OVERRIDE)
        port = override if isinstance(override, int) else ls.config.metrics.port
        if port:
            try:
                serve_metrics(port)
            except OSError as error:
                ls.show_error_once("metrics", f"Roost: cannot serve metrics on 127.0.0.1:{port}: {error}")
        services.start_index()

    def on_document(event: DocumentEvent, uri: str) -> None:
        services = services_of(server)
        path = relative_path(server, uri)
        if event == "open":
            services.document_opened(path, server.workspace.get_text_document(uri).source)
        elif event == "save":
            services.document_saved(path, server.workspace.get_text_document(uri).source)
        elif event == "close":
            services.document_closed(path)
        # "change": on_content_change has handed the change over already

    def on_content_change(change: ContentChange) -> None:
        edited_lines = [
            item.range.start.line
            for item in change.changes
            if isinstance(item, types.TextDocumentContentChangePartial)
        ]
        services_of(server).document_changed(
            relative_path(server, change.uri),
            change.text,
            deferred_buffer_edits(change.previous_text, change.changes),
            edited_lines,
        )

    def stop(ls: RoostServer) -> Awaitable[None]:
        return services_of(ls).aclose()

    def stop_before_exit(ls: RoostServer) -> None:
        # Without a completed shutdown (the client gone, or `exit` alone) nothing has stopped the engine;
        # its worker thread, inside a forward pass when the interpreter exits, would abort the process.
        services = ls.services.get(SERVICES_KEY)
        if isinstance(services, Services) and not services.closed:
            try:
                asyncio.run(services.aclose())
            except Exception:
                log.exception("closing the services at exit failed")

    def on_config(before: RoostConfig, after: RoostConfig) -> None:
        services = server.services.get(SERVICES_KEY)
        if isinstance(services, Services):
            services.reconfigure(after)

    server.initialized_hooks.append(start)
    server.config_listeners.append(on_config)
    server.document_listeners.append(on_document)
    server.content_change_listeners.append(on_content_change)
    server.shutdown_hooks.append(stop)
    server.exit_hooks.append(stop_before_exit)
