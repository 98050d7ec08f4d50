"""The Neovim plugin where a user's editing goes beyond the main paths (session "clients" 17), in real headless
Neovim (0.7.2 and 0.11.4) against the scripted server (tests/editors/scripted_server.py): a buffer given a new
name (``:file``, ``:saveas``); a file in no project."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_nvim import (
    NVIMS,
    Editor,
    nvim_binary,  # noqa: F401 (fixture)
    workspace,  # noqa: F401 (fixture)
)
from test_nvim_clients import neovim, scripted_command, server_inline_requests

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


def server_workspace(editor: Editor) -> dict[str, object]:
    return editor.lua(
        "local r = vim.lsp.buf_request_sync(0, 'workspace/executeCommand',"
        " {command = 'scripted.workspace'}, 5000)"
        " for _, answer in pairs(r or {}) do return answer.result end"
    )


def test_a_file_in_no_project_is_served_without_a_root(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    # ~/notes.py: no root marker above it. Its folder was taken as the project root, and for a file in the home
    # directory the server indexed the whole of it.
    loose = tmp_path / "home" / "notes.py"
    loose.parent.mkdir()
    loose.write_text("def area(width, height):\n", encoding="utf-8")
    markers = ("roost.toml", "pyproject.toml", "package.json", "go.mod", "Cargo.toml", "pom.xml", ".git")
    if any((folder / marker).exists() for folder in loose.parents for marker in markers):
        pytest.skip("a root marker above the test's temporary directory")
    command, env = scripted_command(tmp_path)
    with neovim(workspace, nvim_binary, SETUP, command, env) as editor:
        project = editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        project_client = editor.lua("return require('roost').status().client_id")
        editor.nvim.command(f"edit {loose}")
        editor.wait_for(
            lambda: editor.lua("return require('roost').status().attached"), 30, "a server on notes.py"
        )
        editor.wait_ready(30)
        status = editor.lua("return require('roost').status()")
        assert status["client_id"] != project_client, "a file outside the project is not the project's"
        assert status.get("root") is None
        initialized_with = server_workspace(editor)
        assert initialized_with.get("root_uri") is None and initialized_with["folders"] == [], (
            initialized_with
        )
        editor.nvim.input("Go    return ")
        assert editor.wait_for(editor.ghost, 20, "ghost text") == "width * height"
        assert "root: none" in editor.lua("return vim.fn.execute('RoostStatus')")

        # Another such file shares that server; the project's file keeps its own.
        other = tmp_path / "home" / "other.py"
        other.write_text("x = 1\n", encoding="utf-8")
        editor.nvim.input("<Esc>")
        editor.nvim.command(f"edit {other}")
        editor.wait_for(
            lambda: editor.lua("return require('roost').status().attached"), 30, "a server on other.py"
        )
        assert editor.lua("return require('roost').status().client_id") == status["client_id"]
        editor.nvim.command(f"buffer {project}")
        assert editor.lua("return require('roost').status().client_id") == project_client


def test_asking_for_another_suggestion_keeps_the_one_shown_when_there_is_none(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    # One suggestion on screen, and <M-]> asks the server for others: an answer with none (here: the typed "wi"
    # is no line the scripted server answers) took the one on screen away.
    command, env = scripted_command(tmp_path)
    with neovim(workspace, nvim_binary, SETUP, command, env) as editor:
        editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        editor.nvim.input("Go    return ")
        editor.wait_for(editor.ghost, 20, "ghost text")
        editor.nvim.input("wi")  # typed into the suggestion: "height * width" no longer fits
        editor.wait_for(lambda: editor.ghost() == "dth * height", 20, "the suggestion following the typing")
        asked = len(server_inline_requests(editor))
        editor.nvim.input("<M-]>")
        editor.wait_for(
            lambda: len(server_inline_requests(editor)) > asked, 10, "the server asked for others"
        )
        editor.wait_for(
            lambda: editor.lua("return require('roost.ghost').last_answer.items") == 0, 10, "its answer"
        )
        assert editor.ghost() == "dth * height"
        editor.nvim.input("<Tab>")
        editor.wait_for(
            lambda: editor.lines()[-1] == "    return width * height", 5, "the suggestion accepted"
        )
