"""The Neovim plugin's ``roost/cursorIdle`` (issue 15: the first suggestion at a new cursor waits for its prompt's
prefill; the server prefills it while the cursor rests) in real headless Neovim (0.7.2 and 0.11.4).

Against the scripted double (tests/editors/scripted_server.py), which logs each notification's params: the
position in UTF-16 characters, one notification for a burst of moves, none while text is selected, one when a
buffer becomes current, none with ``completion.prefetch = false``. Against the real server: the count in
``roost/debugStats``'s ``prefetch.notifications``. No timing thresholds: the tests wait for what they expect
(or for the plugin's timer to have fired) with generous timeouts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_nvim import (
    NVIMS,
    PLUGIN,
    Editor,
    embedded_nvim,
    nvim_binary,  # noqa: F401 (fixture)
    server_command_and_env,
    workspace,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.skipif(not NVIMS, reason="Neovim is not installed (apt-get install neovim)")

# "😀" is 4 bytes in the buffer and 2 UTF-16 code units in LSP positions; "é" 2 bytes and 1 unit: the space
# after the emoji is byte 16, character 14; the closing quote byte 19, character 16.
IDLE = 'GREETING = "😀 é"\n\n\ndef greet(name):\n    return GREETING + name\n'
WAIT_S = 30


@contextlib.contextmanager
def neovim(
    root: Path, binary: str, server: str, tmp_path: Path, settings: str = "{}", **server_env: str
) -> Iterator[Editor]:
    command, env = server_command_and_env(server, tmp_path)
    env.update(server_env)
    (root / "editor_test_idle.py").write_text(IDLE, encoding="utf-8")
    (root / "editor_test_notes.txt").write_text("not a served file\n", encoding="utf-8")
    nvim = embedded_nvim(root, binary)
    try:
        nvim.exec_lua(
            "vim.opt.rtp:prepend(...); require('roost').setup({ cmd = select(2, ...), cmd_env = select(3, ...),"
            f" settings = {settings} }})",
            str(PLUGIN),
            command,
            env,
        )
        yield Editor(nvim, root)
    finally:
        with contextlib.suppress(Exception):
            nvim.command("qa!")
        nvim.close()


def logged(editor: Editor) -> list[dict[str, Any]]:
    """Every roost/cursorIdle the scripted server received, in order."""
    return editor.lua(
        "local r = vim.lsp.buf_request_sync(0, 'workspace/executeCommand', {command = 'scripted.cursorIdle'}, 5000)"
        " for _, answer in pairs(r or {}) do return answer.result end"
    )


def wait_until_rested(editor: Editor) -> None:
    """The plugin's timer has fired (and decided whether to send)."""
    editor.wait_for(
        lambda: not editor.lua("return require('roost.idle').waiting()"), WAIT_S, "the idle timer"
    )


def wait_for_count(editor: Editor, count: int) -> list[dict[str, Any]]:
    """The log once it holds `count` notifications (and the plugin sends no more for now)."""
    editor.wait_for(lambda: len(logged(editor)) >= count, WAIT_S, f"{count} rests")
    wait_until_rested(editor)
    return logged(editor)


def at(uri: str, line: int, character: int) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


def open_idle_file(editor: Editor) -> tuple[int, str]:
    bufnr = editor.open("editor_test_idle.py")
    editor.wait_ready()
    return bufnr, editor.lua("return vim.uri_from_bufnr(...)", bufnr)


def test_where_the_cursor_rests_is_sent_in_utf16_once_per_burst(
    workspace: Path,  # noqa: F811
    nvim_binary: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    with neovim(workspace, nvim_binary, "scripted", tmp_path) as editor:
        _, uri = open_idle_file(editor)
        # Roost counts UTF-16 (Neovim >= 0.10 offers utf-8 first; the plugin offers only utf-16).
        assert editor.lua("return require('roost').client().offset_encoding") == "utf-16"
        # Opening the buffer counts as arriving at its cursor.
        assert wait_for_count(editor, 1) == [at(uri, 0, 0)]
        # One burst of moves (one input, handled long before the plugin's timer can fire): one notification,
        # for where the cursor came to rest: after the emoji, byte 16 but UTF-16 character 14.
        editor.nvim.input('0f"ll')
        assert wait_for_count(editor, 2)[1:] == [at(uri, 0, 14)]
        # Insert mode counts too (CursorMovedI).
        editor.nvim.input("G0i<Right><Right>")
        assert wait_for_count(editor, 3)[2:] == [at(uri, 4, 2)]
        editor.nvim.input("<Esc>")
        assert editor.lua("return require('roost').status().cursor_idle_sent") == len(logged(editor))


def test_nothing_is_sent_while_text_is_selected(
    workspace: Path,  # noqa: F811
    nvim_binary: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    with neovim(workspace, nvim_binary, "scripted", tmp_path) as editor:
        _, uri = open_idle_file(editor)
        wait_for_count(editor, 1)
        editor.nvim.input("3Gvj")  # a selection from line 2 to line 3, and it rests there
        wait_until_rested(editor)
        assert editor.nvim.api.get_mode()["mode"] == "v"
        editor.nvim.input("<Esc>gg$")  # the selection left, the cursor rests on the closing quote of line 0
        assert wait_for_count(editor, 2) == [at(uri, 0, 0), at(uri, 0, 16)]


def test_a_buffer_becoming_current_sends_its_cursor_and_other_buffers_send_nothing(
    workspace: Path,  # noqa: F811
    nvim_binary: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    with neovim(workspace, nvim_binary, "scripted", tmp_path) as editor:
        idle, uri = open_idle_file(editor)
        wait_for_count(editor, 1)
        editor.nvim.input("4G")
        wait_for_count(editor, 2)
        editor.nvim.command("edit editor_test_notes.txt")  # no Roost client on a text file
        editor.nvim.input("ll")
        wait_until_rested(editor)
        editor.nvim.command(f"buffer {idle}")  # back: the cursor it kept is sent again
        assert wait_for_count(editor, 3) == [at(uri, 0, 0), at(uri, 3, 0), at(uri, 3, 0)]


def test_prefetch_off_in_the_settings_sends_nothing(
    workspace: Path,  # noqa: F811
    nvim_binary: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    with neovim(
        workspace, nvim_binary, "scripted", tmp_path, "{ completion = { prefetch = false } }"
    ) as editor:
        open_idle_file(editor)
        editor.nvim.input("3G")
        wait_until_rested(editor)
        assert logged(editor) == []
        assert editor.lua("return require('roost').status().cursor_idle_sent") == 0


def test_nothing_is_sent_before_the_server_is_ready_then_the_resting_cursor_is(
    workspace: Path,  # noqa: F811
    nvim_binary: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """While it indexes, the server's prompt would lack the finished index (and the real server's status
    stayed "indexing" when a prefetch loaded the model meanwhile)."""
    with neovim(workspace, nvim_binary, "scripted", tmp_path, ROOST_SCRIPTED_READY="on-command") as editor:
        bufnr = editor.open("editor_test_idle.py")
        uri = editor.lua("return vim.uri_from_bufnr(...)", bufnr)
        editor.wait_for(
            lambda: editor.lua("return require('roost').status().state") == "indexing", WAIT_S, "indexing"
        )
        editor.nvim.input("4G")
        wait_until_rested(editor)
        assert logged(editor) == []
        editor.lua(
            "vim.lsp.buf_request_sync(0, 'workspace/executeCommand', {command = 'scripted.ready'}, 5000)"
        )
        assert wait_for_count(editor, 1) == [at(uri, 3, 0)]


@pytest.mark.model
@pytest.mark.slow
def test_the_real_server_counts_the_notifications(
    workspace: Path,  # noqa: F811
    nvim_binary: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    with neovim(workspace, nvim_binary, "real", tmp_path) as editor:
        open_idle_file(editor)

        def received() -> int:
            stats = editor.lua(
                "local r = vim.lsp.buf_request_sync(0, 'roost/debugStats', vim.empty_dict(), 10000)"
                " for _, answer in pairs(r or {}) do return answer.result end"
            )
            return int(((stats or {}).get("prefetch") or {}).get("notifications", 0))

        sent = editor.wait_for(
            lambda: editor.lua("return require('roost').status().cursor_idle_sent"), WAIT_S, "a notification"
        )
        editor.wait_for(lambda: received() >= sent, WAIT_S, f"the server to count {sent} roost/cursorIdle")
        editor.nvim.input("3G")
        editor.wait_for(
            lambda: editor.lua("return require('roost').status().cursor_idle_sent") > sent,
            WAIT_S,
            "another one",
        )
        total = editor.lua("return require('roost').status().cursor_idle_sent")
        editor.wait_for(lambda: received() == total, WAIT_S, f"the server to count {total}")
