"""The Roost language server: pygls wiring shared by every feature.

Features live in :mod:`roost.lsp.features`, one module each with ``register(server)``; this module holds
what they share: configuration, status notifications, progress, error reporting and document events.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from roost.lsp.config import ConfigProblem, ConfigStack, RoostConfig
from roost.lsp.version import VERSION

log = logging.getLogger(__name__)

StatusState = Literal["starting", "indexing", "loading_model", "ready", "error"]
STATUS_NOTIFICATION = "roost/status"

DocumentEvent = Literal["open", "change", "save", "close"]
DocumentListener = Callable[[DocumentEvent, str], None]


@dataclass(frozen=True)
class ContentChange:
    """One ``didChange`` as the editor sent it, with the text on both sides: what incremental consumers
    (the index) need to apply the edit instead of re-reading the whole document."""

    uri: str
    version: int
    changes: Sequence[types.TextDocumentContentChangeEvent]
    previous_text: str | None  # None when the server never saw the document opened
    text: str  # after the changes


ContentChangeListener = Callable[[ContentChange], None]
ConfigListener = Callable[[RoostConfig, RoostConfig], None]


class RoostServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("roost", VERSION, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.config_stack = ConfigStack()
        self.status_state: StatusState = "starting"
        self.status_message = ""
        self.document_listeners: list[DocumentListener] = []
        # Told every didChange with its content changes, before the document listeners' "change" event.
        self.content_change_listeners: list[ContentChangeListener] = []
        self.config_listeners: list[ConfigListener] = []
        # Called once after ``initialized``, in registration order; long work must start a task and return.
        self.initialized_hooks: list[Callable[[RoostServer], None]] = []
        self.shutdown_hooks: list[Callable[[RoostServer], None]] = []
        # Feature modules keep their long-lived objects here (index, engine, gate …) by name.
        self.services: dict[str, Any] = {}
        self._errors_shown: set[str] = set()

    # -- configuration -------------------------------------------------------------------------
    @property
    def config(self) -> RoostConfig:
        return self.config_stack.current

    def workspace_root(self) -> Path | None:
        root = self.workspace.root_path
        if root:
            return Path(root)
        folders = list(self.workspace.folders.values())
        return Path(to_fs_path(folders[0].uri)) if folders else None

    def set_config_layer(self, name: str, raw: Any) -> None:
        before = self.config
        problems = self.config_stack.set_layer(name, raw)
        self.report_config_problems(problems)
        after = self.config
        if after != before:
            for listener in list(self.config_listeners):
                try:
                    listener(before, after)
                except Exception:
                    log.exception("configuration listener failed")

    def report_config_problems(self, problems: list[ConfigProblem]) -> None:
        for problem in problems:
            if problem.severity == "error":
                log.error("configuration: %s", problem)
                self.window_show_message(
                    types.ShowMessageParams(
                        type=types.MessageType.Error, message=f"Roost configuration: {problem}"
                    )
                )
            else:
                log.warning("configuration: %s", problem)
                self.window_log_message(
                    types.LogMessageParams(
                        type=types.MessageType.Warning, message=f"Roost configuration: {problem}"
                    )
                )

    # -- status and user-visible errors --------------------------------------------------------
    def send_status(self, state: StatusState, message: str = "", percentage: int | None = None) -> None:
        self.status_state = state
        self.status_message = message
        self.protocol.notify(
            STATUS_NOTIFICATION, {"state": state, "message": message, "percentage": percentage}
        )

    def show_error_once(self, key: str, message: str) -> None:
        """A failure that stops a feature (no model, backend down) is shown once, then only logged."""
        log.error("%s", message)
        if key in self._errors_shown:
            return
        self._errors_shown.add(key)
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls already answered a failed request with a JSON-RPC error; keep the traceback in our log
        # and never let the report itself fail.
        log.error(
            "server error from %s: %s\n%s",
            getattr(source, "__name__", source),
            error,
            "".join(traceback.format_exception(error)),
        )
        try:
            super().report_server_error(error, source)
        except Exception:  # noqa: BLE001
            log.exception("could not report a server error to the client")

    # -- documents -----------------------------------------------------------------------------
    def emit_document_event(self, event: DocumentEvent, uri: str) -> None:
        for listener in list(self.document_listeners):
            try:
                listener(event, uri)
            except Exception:
                log.exception("document listener failed for %s %s", event, uri)

    def emit_content_change(self, change: ContentChange) -> None:
        for listener in list(self.content_change_listeners):
            try:
                listener(change)
            except Exception:
                log.exception("content change listener failed for %s", change.uri)


def create_server() -> RoostServer:
    """A server with every feature module registered."""
    from roost.lsp.features import register_all

    server = RoostServer()
    register_all(server)
    return server
