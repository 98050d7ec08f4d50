"""``workspace/didChangeConfiguration``: the editor's settings, the last configuration layer, applied live."""

from __future__ import annotations

from lsprotocol import types

from roost.lsp.config import apply_layer, as_dict, carries_client_settings, unwrap_client_settings
from roost.lsp.core.workspace_folders import folder_config
from roost.lsp.server import RoostServer

EFFECTIVE_CONFIGURATION = "roost/effectiveConfiguration"


def register(server: RoostServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_change(ls: RoostServer, params: types.DidChangeConfigurationParams) -> None:
        settings = unwrap_client_settings(params.settings)
        if carries_client_settings(params.settings):
            ls.set_client_settings(settings)
        elif settings:  # nothing of ours (other servers' sections, a typo): said, and nothing changes
            ls.report_config_problems(apply_layer(ls.config, settings, "didChangeConfiguration")[1])

    # Editors show this in their status command (`:RoostStatus`); tests use it to observe layering.
    @server.feature(EFFECTIVE_CONFIGURATION)
    def effective(ls: RoostServer, params: object) -> dict[str, object]:
        # ``{"uri": ...}``: the settings of the workspace folder serving that document (a multi-root window);
        # without one, the engine folder's (the first at initialize, even once removed from the window).
        uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
        folder = ls.serving_folder(uri) if isinstance(uri, str) else None
        if folder is not None and folder.root is not None and folder.root != ls.engine_root():
            made = folder_config(ls.config_stack, folder.root, trusted=ls.workspace_is_trusted)
            return {
                "settings": as_dict(folder.config),
                "workspaceFile": made.workspace_file,
                "problems": [str(problem) for problem in made.problems],
                "ignoredEngineKeys": list(made.ignored),
            }
        return {
            "settings": as_dict(ls.config),
            "workspaceFile": ls.config_stack.workspace_file,
            "problems": [str(problem) for problem in ls.config_stack.problems],
        }
