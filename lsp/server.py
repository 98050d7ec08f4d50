"""The Roost language server: pygls wiring shared by every feature.

Features live in :mod:`roost.lsp.handlers`, one module each with ``register(server)``; this module holds
what they share: configuration, status notifications, progress, error reporting and document events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcException, JsonRpcInvalidParams, PyglsError
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from roost.lsp.config import ConfigProblem, ConfigStack, RoostConfig
from roost.lsp.core.document_policy import ServingFolder
from roost.lsp.core.events import StatusState
from roost.lsp.core.file_uris import file_uri_to_path
from roost.lsp.core.workspace_folders import folders_of
from roost.lsp.framing import DEFAULT_MAX_MESSAGE_BYTES, READ_CHUNK_BYTES, MessageFramer, read_frames
from roost.lsp.handlers import register_all
from roost.lsp.progress import ProgressReporter
from roost.lsp.protocol import RoostProtocol
from roost.lsp.text_documents import is_open
from roost.lsp.version import VERSION

log = logging.getLogger(__name__)

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
    """The language server; it implements the core's ``ServiceEvents`` (status, errors shown once,
    progress) and ``OpenDocuments`` over the protocol."""

    def __init__(self) -> None:
        super().__init__(
            "roost",
            VERSION,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=RoostProtocol,
        )
        # The largest message body read from the client (``roost serve --max-message-bytes``).
        self.max_message_bytes = DEFAULT_MAX_MESSAGE_BYTES
        self.config_stack = ConfigStack()
        # False where the editor said the user has not trusted the window (every folder's file is read so).
        self.workspace_is_trusted = True
        self.status_state: StatusState = "starting"
        self.status_message = ""
        self.document_listeners: list[DocumentListener] = []
        # Told every didChange with its content changes, before the document listeners' "change" event.
        self.content_change_listeners: list[ContentChangeListener] = []
        self.config_listeners: list[ConfigListener] = []
        # Called once after ``initialized``, in registration order; long work must start a task and return.
        self.initialized_hooks: list[Callable[[RoostServer], None]] = []
        # Called on ``shutdown``, in registration order; the answer waits for what a hook returns.
        self.shutdown_hooks: list[Callable[[RoostServer], Awaitable[None] | None]] = []
        # Called once the connection has ended (``exit``, or the client gone) and the event loop has stopped,
        # before the process exits: what must stop even without a shutdown (threads inside native code).
        self.exit_hooks: list[Callable[[RoostServer], None]] = []
        self._reporting_error = False
        # Feature modules keep their long-lived objects here (index, engine, gate …) by name; each
        # checks the type of what it reads back.
        self.services: dict[str, object] = {}
        self._errors_shown: set[str] = set()

    # -- transport -----------------------------------------------------------------------------
    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """pygls's stdio server, reading through Roost's bounded framing (:mod:`roost.lsp.framing`)
        instead of pygls's reader, which a bad ``Content-Length`` kills or deafens."""
        self._stop_event = stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        source = stdin or sys.stdin.buffer
        framer = MessageFramer(self.max_message_bytes)
        protocol: RoostProtocol = self.protocol  # type: ignore[assignment]

        async def serve() -> None:
            await read_frames(
                _stdin_chunks(source),
                framer,
                protocol.handle_body,
                stop_event.is_set,
                protocol.handle_framing_fault,
            )

        try:
            asyncio.run(serve())
        except BrokenPipeError:
            log.error("connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):  # SystemExit: pygls's ``exit`` (see exit_code)
            pass
        finally:
            self.shutdown()
            self.run_exit_hooks()

    def start_tcp(self, host: str, port: int) -> None:
        """pygls's TCP server (one client), reading through the same bounded framing as stdio."""
        self._stop_event = stop_event = threading.Event()
        protocol: RoostProtocol = self.protocol  # type: ignore[assignment]

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            protocol.set_writer(writer)  # a StreamWriter writes like pygls's writers
            framer = MessageFramer(self.max_message_bytes)
            await read_frames(
                lambda: reader.read(READ_CHUNK_BYTES),
                framer,
                protocol.handle_body,
                stop_event.is_set,
                protocol.handle_framing_fault,
            )
            self.shutdown()

        async def serve() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        try:
            with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt, SystemExit):
                asyncio.run(serve())
        finally:
            self.run_exit_hooks()

    @property
    def exit_code(self) -> int:
        """The process's exit status once the connection has ended. LSP: 0 when ``shutdown`` came before
        ``exit``, 1 otherwise; a client that went away without ``exit`` is judged the same way. pygls's
        ``exit`` handler ends the loop with that status too, but it counts a shutdown only once its hooks
        are done (an ``exit`` right behind the ``shutdown`` request would get 1), and ``start_io`` catches
        its ``SystemExit`` so that the exit hooks run; ``roost serve`` returns this."""
        protocol: RoostProtocol = self.protocol  # type: ignore[assignment]
        return 0 if protocol.shutdown_requested else 1

    def run_exit_hooks(self) -> None:
        for hook in list(self.exit_hooks):
            try:
                hook(self)
            except Exception:
                log.exception("exit hook failed")

    # -- configuration -------------------------------------------------------------------------
    @property
    def config(self) -> RoostConfig:
        return self.config_stack.current

    def workspace_root(self) -> Path | None:
        root = self.workspace.root_path
        if root:
            return Path(root)
        folders = list(self.workspace.folders.values())
        first_folder = to_fs_path(folders[0].uri) if folders else None  # None too for a non-file URI
        return Path(first_folder) if first_folder else None

    def engine_root(self) -> Path | None:
        """The folder whose file set the engine (model, backend, gate …): the workspace root at
        ``initialize``, for the server's whole life. Unlike :meth:`workspace_root`, it stays when the editor
        removes that folder (a client without ``rootUri`` would move its root to the next folder)."""
        return self.config_stack.workspace_root

    def workspace_folders(self) -> list[Path]:
        """Every workspace folder the editor named (a multi-root window has several), as paths."""
        paths = (to_fs_path(folder.uri) for folder in self.workspace.folders.values())
        return [Path(path) for path in paths if path]

    def serving_folder(self, uri: str) -> ServingFolder | None:
        """The workspace folder that serves the document ``uri`` (the innermost that contains it), with its
        settings; None for a file outside every folder. A document of another scheme (``untitled:``)
        is the first folder's."""
        folders = folders_of(self)
        path = file_uri_to_path(uri)
        services = folders.primary if path is None else folders.serving(path)
        if services is None:
            return None
        outer = [] if path is None else [f for f in folders.enclosing(path) if f is not services]
        return ServingFolder(
            services.root,
            services.config,
            tuple(
                (f.root, (*f.config.index.exclude, *f.config.completion.exclude))
                for f in outer
                if f.root is not None
            ),
        )

    def set_config_layer(self, name: str, raw: object) -> None:
        self._change_config(lambda: self.config_stack.set_layer(name, raw))

    def set_client_settings(self, raw: dict[str, Any]) -> None:
        """The editor's whole Roost settings (see :meth:`ConfigStack.set_client_settings`)."""
        self._change_config(lambda: self.config_stack.set_client_settings(raw))

    def _change_config(self, change: Callable[[], list[ConfigProblem]]) -> None:
        before = self.config
        problems = change()
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

    def progress_report(self, title: str) -> ProgressReporter:
        """A ``$/progress`` report titled ``title``, shown from its ``begin`` where the client supports it."""
        return ProgressReporter(self, title)

    def report_server_error(
        self, error: Exception, source: type[PyglsError] | type[JsonRpcException]
    ) -> None:
        # pygls already answered a failed request with a JSON-RPC error; keep the traceback in our log
        # and never let the report itself fail.
        if isinstance(error, JsonRpcInvalidParams) and source is FeatureRequestError:
            # A handler's refusal with its reason for the user ("no applicable change", a path outside the
            # workspace): the client has it as the request's error. Logged as an error with a traceback, it
            # reached the editor's output as a server fault (window/logMessage) on every refused action.
            log.info("request refused: %s", error)
            return
        if self._reporting_error:
            # Sending the report failed in turn (pygls reports a failed send as a server error): the client
            # is gone, e.g. stdout closed by `exit` while cancelled requests still answer. Reporting this
            # one too would recurse, each level formatting a longer traceback (minutes of CPU at exit).
            log.error("server error while reporting one: %s", error)
            return
        log.error(
            "server error from %s: %s\n%s",
            getattr(source, "__name__", source),
            error,
            "".join(traceback.format_exception(error)),
        )
        self._reporting_error = True
        try:
            super().report_server_error(error, source)
        except Exception:  # noqa: BLE001
            log.exception("could not report a server error to the client")
        finally:
            self._reporting_error = False

    # -- documents -----------------------------------------------------------------------------
    def is_document_open(self, uri: str) -> bool:
        return is_open(self.workspace, uri)

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


def _stdin_chunks(source: BinaryIO) -> Callable[[], Awaitable[bytes]]:
    """Chunks of ``source`` read by a daemon thread (a blocked read must not keep the process alive at
    exit, as an executor's worker would), handed to the event loop through a small queue so that a fast
    client waits for the server instead of filling memory."""
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[bytes] = asyncio.Queue(maxsize=16)
    read = _unbuffered_reader(source)

    def pump() -> None:
        while True:
            try:
                chunk = read(READ_CHUNK_BYTES)
            except (OSError, ValueError):  # closed under us
                chunk = b""
            try:
                asyncio.run_coroutine_threadsafe(chunks.put(chunk), loop).result()
            except RuntimeError:  # the loop is gone: the server is exiting
                return
            if not chunk:
                return

    threading.Thread(target=pump, name="roost-stdin", daemon=True).start()
    return chunks.get


def _unbuffered_reader(source: BinaryIO) -> Callable[[int], bytes]:
    """``os.read`` on the source's file descriptor where it has one: a daemon thread blocked inside a
    buffered reader holds the reader's lock, and the interpreter aborts at exit when it cannot take that lock
    ("Fatal Python error: _enter_buffered_busy"). ``os.read`` holds no Python-level lock. Other sources (tests'
    in-memory streams) are read as they are."""
    try:
        descriptor = source.fileno()
    except (AttributeError, OSError, ValueError):
        return getattr(source, "read1", source.read)
    return lambda size: os.read(descriptor, size)


def create_server() -> RoostServer:
    """A server with every feature module registered."""
    server = RoostServer()
    register_all(server)
    return server
