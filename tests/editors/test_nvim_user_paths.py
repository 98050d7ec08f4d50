"""The Neovim plugin where a user's editing goes beyond the main paths (session "clients" 17), in real headless
Neovim (0.7.2 and 0.11.4) against the scripted server (tests/editors/scripted_server.py): a buffer given a new
name (``:file``, ``:saveas``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_nvim import (
    NVIMS,
    Editor,
    nvim_binary,  # noqa: F401 (fixture)
    workspace,  # noqa: F401 (fixture)
)
from test_nvim_clients import neovim, scripted_command

pytestmark = pytest.mark.skipif(not NVIMS, reason="Neovim is not installed (apt-get install neovim)")

SETUP = "require('roost').setup({ cmd = select(1, ...), cmd_env = select(2, ...) })"


def open_documents(editor: Editor) -> list[str]:
    return editor.lua(
        "local r = vim.lsp.buf_request_sync(0, 'workspace/executeCommand',"
        " {command = 'scripted.openDocuments'}, 5000)"
        " for _, answer in pairs(r or {}) do return answer.result end"
    )


@pytest.mark.parametrize("rename", ["file", "saveas"])
def test_a_renamed_buffer_is_reopened_under_its_new_name(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
    rename: str,
) -> None:
    # Neovim's client tells the server of a new name only when the buffer is written, from 0.11 on: after
    # `:file new.py` the server kept the document under its old URI, and Roost refuses a document the editor
    # has not opened, so no suggestion came in that buffer again.
    command, env = scripted_command(tmp_path)
    with neovim(workspace, nvim_binary, SETUP, command, env) as editor:
        editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        old_uri = editor.lua("return vim.uri_from_bufnr(0)")
        editor.nvim.command(f"{rename} editor_test_renamed.py")
        new_uri = editor.lua("return vim.uri_from_bufnr(0)")
        assert new_uri.endswith("/editor_test_renamed.py")
        editor.wait_for(lambda: new_uri in open_documents(editor), 10, "the new name opened")
        assert old_uri not in open_documents(editor)
        # Its edits reach the server under the new name: the suggestion comes from the typed line.
        editor.nvim.input("Go    return ")
        assert editor.wait_for(editor.ghost, 20, "ghost text") == "width * height"
