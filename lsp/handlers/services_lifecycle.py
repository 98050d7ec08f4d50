"""Starts the services after ``initialized`` (index in the background, metrics endpoint), feeds open
buffers to the index (opened with their text, then each didChange as incremental edits), and closes
everything on shutdown."""

from __future__ import annotations

import asyncio
import logging

from roost.context.retrieval.retriever import Retriever
from roost.lsp.config import RoostConfig
from roost.lsp.core.index_service import IndexService
from roost.lsp.core.services import SERVICES_KEY, Services, services_of
from roost.lsp.handlers.content_changes import deferred_buffer_edits
from roost.lsp.handlers.inline_completion import relative_path
from roost.lsp.metrics import serve_metrics
from roost.lsp.server import ContentChange, DocumentEvent, RoostServer

log = logging.getLogger(__name__)

METRICS_PORT_OVERRIDE = "metrics_port_override"  # `roost serve --metrics-port` sets it in server.services


def _note_open_document(index: IndexService, retriever: Retriever, path: str, text: str) -> bool:
    """Offer an open document to retrieval, unless it is over ``index.max_file_bytes``: every completion
    would re-window it. False for such a document (it completes with its local context only)."""
    if index.over_limit(text):
        retriever.activity.close_document(path)
        return False
    retriever.activity.open_document(path, text)
    return True


def _indexed(index: IndexService, path: str, text: str) -> str | None:
    """The text the retriever may index for an open buffer: None (the disk's) when it is over the limit."""
    return None if index.is_oversized(path) else text


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
        index = services.index
        if index is None:
            return
        path = relative_path(server, uri)
        retriever = services.retriever
        # The retriever reads the index for the new text: it follows on the index's buffer worker, after
        # the update, so that no parse or re-windowing of the file runs on the event loop.
        if event == "close":
            index.close_buffer(path)
            if retriever is not None:
                retriever.activity.close_document(path)
                index.after_buffer_updates(lambda: retriever.file_changed(path))  # back to the disk
            return
        if event == "open":  # changes arrive through on_content_change
            text = server.workspace.get_text_document(uri).source
            index.update_buffer(path, text)
            if retriever is not None:
                _note_open_document(index, retriever, path, text)
                index.after_buffer_updates(lambda: retriever.file_changed(path, _indexed(index, path, text)))
        elif event == "save" and retriever is not None:
            # The lexical fallback index follows saves, not keystrokes: the request's own buffer wins anyway.
            text = server.workspace.get_text_document(uri).source
            index.after_buffer_updates(lambda: retriever.file_changed(path, _indexed(index, path, text)))

    def on_content_change(change: ContentChange) -> None:
        services = services_of(server)
        index = services.index
        if index is None:
            return
        path = relative_path(server, change.uri)
        index.apply_changes(path, change.text, deferred_buffer_edits(change.previous_text, change.changes))
        retriever = services.retriever
        if retriever is not None and _note_open_document(index, retriever, path, change.text):
            # Recently edited regions and open documents are retrieval candidates of their own.
            for item in change.changes:
                edited = getattr(item, "range", None)
                if edited is not None:
                    retriever.activity.note_edit(path, edited.start.line)

    def stop(ls: RoostServer) -> None:
        services = services_of(ls)
        try:
            loop = asyncio.get_running_loop()
            loop.create_task(services.aclose())
        except RuntimeError:
            if services.index is not None:
                services.index.close()

    def on_config(before: RoostConfig, after: RoostConfig) -> None:
        services = server.services.get(SERVICES_KEY)
        if isinstance(services, Services):
            services.reconfigure(after)

    server.initialized_hooks.append(start)
    server.config_listeners.append(on_config)
    server.document_listeners.append(on_document)
    server.content_change_listeners.append(on_content_change)
    server.shutdown_hooks.append(stop)
