"""initialize / initialized / shutdown: configuration layers, logging, and starting services."""

from __future__ import annotations

import logging

from lsprotocol import types

from roost.lsp.config import ConfigStack, unwrap_client_settings, workspace_trusted
from roost.lsp.logs import ForwardingHandler, configure_file_logging
from roost.lsp.server import RoostServer

log = logging.getLogger(__name__)

_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


def register(server: RoostServer) -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: RoostServer, params: types.InitializeParams) -> None:
        # An editor that knows the user has not trusted the workspace (VS Code) says so: that workspace's
        # own file may then not choose the backend, the model, the gate or the exclusions.
        trusted = workspace_trusted(params.initialization_options)
        ls.workspace_is_trusted = trusted  # every folder of a multi-root window, added later ones too
        ls.config_stack = ConfigStack.for_workspace(ls.workspace_root(), trusted=trusted)
        ls.report_config_problems(ls.config_stack.problems)
        ls.set_config_layer("initializationOptions", unwrap_client_settings(params.initialization_options))
        log_file = configure_file_logging(ls.config.log.level)
        _forward_warnings_to_client(ls)
        log.info(
            "initialize: client=%s root=%s config file=%s log=%s",
            params.client_info.name if params.client_info else "?",
            ls.workspace_root(),
            ls.config_stack.workspace_file,
            log_file,
        )

    @server.feature(types.INITIALIZED)
    def on_initialized(ls: RoostServer, params: types.InitializedParams) -> None:
        ls.send_status("starting", "Roost is starting")
        for hook in list(ls.initialized_hooks):
            try:
                hook(ls)
            except Exception as error:
                log.exception("start-up hook %s failed", getattr(hook, "__name__", hook))
                ls.show_error_once(f"hook:{hook!r}", f"Roost: a start-up step failed: {error}")
        if ls.status_state == "starting":
            ls.send_status("ready", "Roost is ready")

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(ls: RoostServer, params: None) -> None:
        # The answer waits for the hooks (the engine's worker stopped and joined): the client sends `exit`
        # the moment it has it, and an engine thread still inside a forward pass when the interpreter
        # exits aborts the process ("terminate called without an active exception").
        for hook in list(ls.shutdown_hooks):
            try:
                stopping = hook(ls)
                if stopping is not None:
                    await stopping
            except Exception:
                log.exception("shutdown hook failed")


def _forward_warnings_to_client(ls: RoostServer) -> None:
    def send(record: logging.LogRecord, text: str) -> None:
        kind = _LEVELS.get(record.levelno, types.MessageType.Log)
        ls.window_log_message(types.LogMessageParams(type=kind, message=text))

    roost_logger = logging.getLogger("roost")
    if not any(isinstance(h, ForwardingHandler) for h in roost_logger.handlers):
        roost_logger.addHandler(ForwardingHandler(send))
