"""``workspace/didChangeConfiguration``: the last configuration layer, applied live."""

from __future__ import annotations

from lsprotocol import types

from roost.lsp.config import as_dict, unwrap_client_settings
from roost.lsp.server import RoostServer

EFFECTIVE_CONFIGURATION = "roost/effectiveConfiguration"


def register(server: RoostServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_change(ls: RoostServer, params: types.DidChangeConfigurationParams) -> None:
        ls.set_config_layer("didChangeConfiguration", unwrap_client_settings(params.settings))

    # Editors show this in their status command (`:RoostStatus`); tests use it to observe layering.
    @server.feature(EFFECTIVE_CONFIGURATION)
    def effective(ls: RoostServer, params: object) -> dict[str, object]:
        return {
            "settings": as_dict(ls.config),
            "workspaceFile": ls.config_stack.workspace_file,
            "problems": [str(problem) for problem in ls.config_stack.problems],
        }
