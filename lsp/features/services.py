"""Starts the services after ``initialized`` (index in the background, metrics endpoint), feeds open
buffers to the index (opened with their text, then each didChange as incremental edits), and closes
everything on shutdown."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from roost.lsp.services import services_of

if TYPE_CHECKING:
    from roost.lsp.server import ContentChange, DocumentEvent, RoostServer

log = logging.getLogger(__name__)


def register(server: RoostServer) -> None:
    def start(ls: RoostServer) -> None:
        services = services_of(ls)
        services.config = ls.config
        port = ls.services.get("metrics_port_override")
        if port is None:
            port = ls.config.metrics.port
        if port:
            from roost.lsp.metrics import serve_metrics

            try:
                serve_metrics(int(port))
            except OSError as error:
                ls.show_error_once("metrics", f"Roost: cannot serve metrics on 127.0.0.1:{port}: {error}")
        services.start_index()

    def on_document(event: DocumentEvent, uri: str) -> None:
        services = services_of(server)
        index = services.index
        if index is None:
            return
        from roost.lsp.features.completion import relative_path

        path = relative_path(server, uri)
        if event == "close":
            index.close_buffer(path)
            return
        if event == "open":  # changes arrive through on_content_change
            index.update_buffer(path, server.workspace.get_text_document(uri).source)

    def on_content_change(change: ContentChange) -> None:
        index = services_of(server).index
        if index is None:
            return
        from roost.lsp.features.completion import relative_path

        index.apply_changes(
            relative_path(server, change.uri), change.previous_text, change.changes, change.text
        )

    def stop(ls: RoostServer) -> None:
        services = services_of(ls)
        try:
            loop = asyncio.get_running_loop()
            loop.create_task(services.aclose())
        except RuntimeError:
            if services.index is not None:
                services.index.close()

    def on_config(before: object, after: object) -> None:
        services = server.services.get("roost")
        if services is not None:
            services.reconfigure(after)

    server.initialized_hooks.append(start)
    server.config_listeners.append(on_config)
    server.document_listeners.append(on_document)
    server.content_change_listeners.append(on_content_change)
    server.shutdown_hooks.append(stop)
