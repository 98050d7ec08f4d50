"""Starts the services after ``initialized`` (each workspace folder's index in the background, the metrics
endpoint), starts and stops a folder's services as the editor adds and removes folders
(``workspace/didChangeWorkspaceFolders``), hands each open document's events to the folder that serves it
as paths, texts and buffer edits, and closes everything on shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from roost.lsp.config import RoostConfig
from roost.lsp.core.file_uris import file_uri_to_path
from roost.lsp.core.services import SERVICES_KEY, Services, services_of
from roost.lsp.core.workspace_folders import (
    FOLDERS_KEY,
    WorkspaceFolders,
    folder_config,
    folders_of,
    ignored_keys_message,
    with_outer_exclusions,
)
from roost.lsp.handlers.content_changes import deferred_buffer_edits
from roost.lsp.handlers.inline_completion import drop_pipeline
from roost.lsp.handlers.workspace_edits import relative_path
from roost.lsp.metrics import serve_metrics
from roost.lsp.server import ContentChange, DocumentEvent, RoostServer

log = logging.getLogger(__name__)

METRICS_PORT_OVERRIDE = "metrics_port_override"  # `roost serve --metrics-port` sets it in server.services


def serving_services(server: RoostServer, uri: str) -> Services | None:
    """The services of the folder that serves the document ``uri``; the first folder's for a document of
    another scheme (``untitled:``); None for a file outside every folder (no index takes its text)."""
    folders = folders_of(server)
    path = file_uri_to_path(uri)
    return folders.primary if path is None else folders.serving(path)


def add_folder(server: RoostServer, root: Path) -> Services | None:
    """Serve the workspace folder ``root``: its own settings (its file read as the window is trusted, the
    engine's keys the first folder's) and its index, fed the documents already open in it. None when it
    is served already (the first folder)."""
    if folders_of(server).find(root) is not None:
        return None
    made = folder_config(server.config_stack, root, trusted=server.workspace_is_trusted)
    server.report_config_problems(list(made.problems))
    if made.ignored:
        message = ignored_keys_message(root, made.ignored, server.engine_root())
        log.warning("%s", message)
        server.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    def start(services: Services) -> None:
        services.start_index()
        _offer_open_documents(server, services)

    # A folder nested in another of the window: what the outer one excludes stays out of its index.
    folders = folders_of(server)
    config = with_outer_exclusions(made.config, root, folders.enclosing(root))
    added = folders.add(root, config, start)
    if added is not None:
        _reindex_nested_folders(server, added)
    return added


def _reindex_nested_folders(server: RoostServer, outer: Services) -> None:
    """Folders of the window inside ``outer``, served before it came: served afresh, so that its
    exclusions reach their index (an index is built with its exclusions)."""
    folders = folders_of(server)
    for folder in list(folders):
        if folder is outer or folder is folders.primary or folder.root is None:
            continue
        if outer in folders.enclosing(folder.root):
            root = folder.root
            remove_folder(server, root)
            add_folder(server, root)


def remove_folder(server: RoostServer, root: Path) -> None:
    """Stop serving ``root``: its index, watcher and threads stop; its open documents go to the folder
    that serves them now (an outer one), if any."""
    removed = folders_of(server).remove(root)
    if removed is None:
        return
    drop_pipeline(server, removed)
    for services in folders_of(server):
        _offer_open_documents(server, services, only_under=root)
    removed.announce_folder_removed()


def _offer_open_documents(server: RoostServer, services: Services, only_under: Path | None = None) -> None:
    for uri, document in list(server.workspace.text_documents.items()):
        path = file_uri_to_path(uri)
        if path is None or serving_services(server, uri) is not services:
            continue
        if only_under is not None and not path.is_relative_to(only_under):
            continue
        services.document_opened(relative_path(server, uri), document.source)


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
        # A multi-root window: the other folders, each with its own index and settings, one model.
        for root in ls.workspace_folders():
            add_folder(ls, root)

    def on_document(event: DocumentEvent, uri: str) -> None:
        services = serving_services(server, uri)
        if services is None:
            return
        path = relative_path(server, uri)
        if event == "open":
            services.document_opened(path, server.workspace.get_text_document(uri).source)
        elif event == "save":
            services.document_saved(path, server.workspace.get_text_document(uri).source)
        elif event == "close":
            services.document_closed(path)
        # "change": on_content_change has handed the change over already

    def on_content_change(change: ContentChange) -> None:
        services = serving_services(server, change.uri)
        if services is None:
            return
        edited_lines = [
            item.range.start.line
            for item in change.changes
            if isinstance(item, types.TextDocumentContentChangePartial)
        ]
        services.document_changed(
            relative_path(server, change.uri),
            change.text,
            deferred_buffer_edits(change.previous_text, change.changes),
            edited_lines,
        )

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def on_folders_changed(ls: RoostServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        # pygls has updated ls.workspace.folders already.
        for folder in params.event.removed:
            path = to_fs_path(folder.uri)
            if path:
                remove_folder(ls, Path(path))
        for folder in params.event.added:
            path = to_fs_path(folder.uri)
            if path:
                add_folder(ls, Path(path))

    def stop(ls: RoostServer) -> Awaitable[None]:
        return folders_of(ls).aclose()

    def stop_before_exit(ls: RoostServer) -> None:
        # Without a completed shutdown (the client gone, or `exit` alone) nothing has stopped the engine;
        # its worker thread, inside a forward pass when the interpreter exits, would abort the process.
        services = ls.services.get(SERVICES_KEY)
        if isinstance(services, Services) and not services.closed:
            folders = ls.services.get(FOLDERS_KEY)
            try:
                asyncio.run(folders.aclose() if isinstance(folders, WorkspaceFolders) else services.aclose())
            except Exception:
                log.exception("closing the services at exit failed")

    def on_config(before: RoostConfig, after: RoostConfig) -> None:
        services = server.services.get(SERVICES_KEY)
        if isinstance(services, Services):
            services.reconfigure(after)
        folders = server.services.get(FOLDERS_KEY)
        if not isinstance(folders, WorkspaceFolders):
            return
        for folder in folders:
            if folder is services or folder.root is None:
                continue
            made = folder_config(server.config_stack, folder.root, trusted=server.workspace_is_trusted)
            outer = [f for f in folders.enclosing(folder.root) if f is not folder]
            config = with_outer_exclusions(made.config, folder.root, outer)
            if config != folder.config:
                folder.reconfigure(config)

    server.initialized_hooks.append(start)
    server.config_listeners.append(on_config)
    server.document_listeners.append(on_document)
    server.content_change_listeners.append(on_content_change)
    server.shutdown_hooks.append(stop)
    server.exit_hooks.append(stop_before_exit)
