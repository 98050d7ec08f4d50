"""The Neovim plugin where a user goes beyond the main paths (issue "clients"), in real headless Neovim (0.7.2 and
0.11.4) against the scripted server (tests/editors/scripted_server.py): suggestions holding non-ASCII words or a
CRLF line break, ``:RoostRestart`` with several buffers open, a server command that is not installed, a server
that fails every request, the keys' fallback to the user's Lua mappings, setup() run again and <C-c>."""

from __future__ import annotations

import time
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


def attached_clients(editor: Editor, bufnr: int) -> int:
    return editor.lua("return #require('roost.util').buf_clients(...)", bufnr)


def test_accept_word_takes_non_ascii_words_whole(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    command, env = scripted_command(tmp_path)
    with neovim(workspace, nvim_binary, SETUP, command, env) as editor:
        bufnr = editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        editor.nvim.input("Gogröße = ")
        assert editor.wait_for(editor.ghost, 20, "ghost text") == "straße_länge + 名前"
        editor.nvim.input("<M-Right>")
        editor.wait_for(lambda: editor.lines(bufnr)[-1] == "größe = straße_länge", 5, "one word accepted")
        assert editor.ghost() == " + 名前"
        editor.nvim.input("<M-Right>")
        editor.wait_for(lambda: editor.lines(bufnr)[-1] == "größe = straße_länge +", 5, "the operator")
        editor.nvim.input("<M-Right>")
        editor.wait_for(lambda: editor.lines(bufnr)[-1] == "größe = straße_länge + 名前", 5, "the last word")
        assert editor.ghost() is None


def test_a_crlf_line_break_in_a_suggestion_is_one_line_break(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    (workspace / "editor_test_dos.py").write_bytes(b"x = 1\r\n")
    command, env = scripted_command(tmp_path)
    with neovim(workspace, nvim_binary, SETUP, command, env) as editor:
        bufnr = editor.open("editor_test_dos.py")
        editor.wait_ready(30)
        assert editor.lua("return vim.bo.fileformat") == "dos"
        editor.nvim.input("Gocrlf = ")
        assert editor.wait_for(editor.ghost, 20, "ghost text") == "first()\nsecond()"
        editor.nvim.input("<Tab><Esc>")
        editor.wait_for(lambda: editor.lines(bufnr)[-1] == "second()", 5, "the accepted suggestion")
        assert editor.lines(bufnr) == ["x = 1", "crlf = first()", "second()"]
        editor.nvim.command("write")
    assert (workspace / "editor_test_dos.py").read_bytes() == b"x = 1\r\ncrlf = first()\r\nsecond()\r\n"


def crash(editor: Editor) -> None:
    editor.lua(
        "vim.lsp.buf_request(0, 'workspace/executeCommand', { command = 'scripted.crash' }, function() end)"
    )


def a_new_client(editor: Editor, before: int) -> int:
    return editor.wait_for(
        lambda: editor.lua(
            "local s = require('roost').status() return s.attached and s.state == 'ready' and s.client_id ~= ..."
            " and s.client_id",
            before,
        ),
        30,
        "a new server attached and ready",
    )


def test_restart_reattaches_every_buffer_and_starts_the_restart_count_afresh(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    command, env = scripted_command(tmp_path)
    setup = "require('roost').setup({ cmd = select(1, ...), cmd_env = select(2, ...), max_restarts = 1 })"
    with neovim(workspace, nvim_binary, setup, command, env) as editor:
        shapes = editor.open("editor_test_shapes.py")
        typing = editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        first = editor.lua("return require('roost').status().client_id")
        crash(editor)
        second = a_new_client(editor, first)  # one restart allowed
        crash(editor)
        editor.wait_for(lambda: attached_clients(editor, typing) == 0, 30, "the crashed server gone")
        time.sleep(1)
        assert attached_clients(editor, shapes) == 0, "stopped twice: given up"

        editor.nvim.command("RoostRestart")
        third = a_new_client(editor, second)
        editor.wait_for(lambda: attached_clients(editor, shapes) == 1, 30, "the other buffer reattached")
        editor.nvim.command(f"buffer {shapes}")
        assert editor.lua("return require('roost').status().client_id") == third

        # The restart by hand started the count afresh: the next crash is restarted again.
        crash(editor)
        a_new_client(editor, third)


def test_a_server_command_that_is_not_installed(workspace: Path, nvim_binary: str) -> None:  # noqa: F811
    missing = str(workspace / "no-such-dir" / "roost")
    setup = "require('roost').setup({ cmd = { ..., 'serve', '--stdio' } })"
    with neovim(workspace, nvim_binary, setup, missing) as editor:
        # The user's own FileType autocommand, defined after setup(): it still runs.
        editor.nvim.command("autocmd FileType python let b:user_autocmd_ran = 1")
        editor.nvim.command(
            "edit editor_test_typing.py"
        )  # pynvim raises on an error raised in the autocommand
        assert editor.lua("return vim.b.user_autocmd_ran") == 1
        editor.nvim.command("edit editor_test_shapes.py")
        assert editor.lua("return vim.b.user_autocmd_ran") == 1
        messages = editor.wait_for(
            lambda: (
                (text := editor.lua("return vim.fn.execute('messages')"))
                and "Roost: could not start" in text
                and text
            ),
            5,
            "the plugin's message",
        )
        assert messages.count("Roost: could not start") == 1, messages
        assert f"could not start {missing} serve --stdio" in messages
        assert "stack traceback" not in messages and "Error executing lua" not in messages, messages


def test_a_server_that_fails_every_request_is_reported_once_not_per_keystroke(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    command, env = scripted_command(tmp_path)
    with neovim(workspace, nvim_binary, SETUP, command, env) as editor:
        editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        editor.nvim.command("messages clear")
        editor.nvim.input("GoFAIL")
        for key in "abcdef":  # each keystroke's request fails, answered before the next key
            editor.lua("require('roost.ghost').last_answer = nil")
            editor.nvim.input(key)
            error = editor.wait_for(
                lambda: editor.lua("local a = require('roost.ghost').last_answer return a and a.error"),
                10,
                f"the failed answer to {key!r}",
            )
            assert "scripted failure" in error
        editor.nvim.input("<Esc>")
        messages = editor.lua("return vim.fn.execute('messages')")
        assert messages.count("inline completion failed") == 1, messages
        assert "scripted failure" in messages
        assert "scripted failure" in editor.lua("return vim.fn.execute('RoostStatus')")


def test_tab_falls_back_to_the_users_lua_mapping_also_after_setup_runs_again(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    command, env = scripted_command(tmp_path)
    # A completion plugin's <Tab>: a Lua function (Neovim 0.7's maparg() gives it as a number).
    user_tab = "vim.keymap.set('i', '<Tab>', function() vim.api.nvim_put({ 'USER' }, 'c', false, true) end)"
    with neovim(workspace, nvim_binary, f"{user_tab}; {SETUP}", command, env) as editor:
        bufnr = editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        editor.nvim.input("Go<Tab>x<Esc>")
        editor.wait_for(lambda: editor.mode() == "n", 10, "normal mode")
        assert editor.lines(bufnr)[-1] == "USERx", editor.messages()
        # A re-sourced config runs setup() again: <Tab> is then Roost's, and still falls back to the user's.
        editor.lua(SETUP, command, env)
        editor.nvim.input("o<Tab>y<Esc>")
        editor.wait_for(lambda: editor.mode() == "n", 10, "normal mode")
        assert editor.lines(bufnr)[-1] == "USERy", editor.messages()
        editor.nvim.input("o    return ")
        assert editor.wait_for(editor.ghost, 20, "ghost text") == "width * height"
        editor.nvim.input("<Tab><Esc>")
        editor.wait_for(
            lambda: editor.lines(bufnr)[-1] == "    return width * height", 10, "the accepted text"
        )


def test_setup_run_again_forwards_changed_settings_to_the_running_server(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    command, env = scripted_command(tmp_path)
    setup = "local cmd, env, budget = ...; require('roost').setup({ cmd = cmd, cmd_env = env, settings = { context = { budget = budget } } })"
    with neovim(workspace, nvim_binary, setup, command, env, 1024) as editor:
        editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        first = editor.lua("return require('roost').status().client_id")
        editor.lua(setup, command, env, 4096)  # a re-sourced config with another budget
        received = editor.wait_for(
            lambda: (
                (log := configurations(editor))
                and log[-1] == {"roost": {"context": {"budget": 4096}}}
                and log
            ),
            10,
            "the new settings at the server",
        )
        assert editor.lua("return require('roost').status().client_id") == first, (
            "the same server, not a restart"
        )
        # workspace/configuration answers the new settings too.
        assert editor.lua("return require('roost').client().config.settings") == received[-1]
        editor.lua(setup, command, env, 4096)  # unchanged: nothing more is sent
        time.sleep(0.5)
        assert configurations(editor) == received


def configurations(editor: Editor) -> list[object]:
    return editor.lua(
        "local r = vim.lsp.buf_request_sync(0, 'workspace/executeCommand',"
        " {command = 'scripted.configurations'}, 5000)"
        " for _, answer in pairs(r or {}) do return answer.result end"
    )


def test_leaving_insert_mode_with_ctrl_c_hides_the_suggestion(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    command, env = scripted_command(tmp_path)
    with neovim(workspace, nvim_binary, SETUP, command, env) as editor:
        editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        editor.nvim.input("Go    return ")
        assert editor.wait_for(editor.ghost, 20, "ghost text") == "width * height"
        editor.nvim.input("<C-c>")  # no InsertLeave
        editor.wait_for(lambda: editor.mode() == "n", 10, "normal mode")
        editor.wait_for(lambda: editor.ghost() is None, 5, "the suggestion hidden")
        assert not editor.lua("return require('roost.ghost').visible()")


def test_a_suggestion_replacing_the_closer_after_the_cursor_leaves_one_closer_on_its_own_line(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    # Roost answers `x = {▮}` with a block that closes the brace itself, its item's range covering the "}"
    # after the cursor: accepting it line by line, then whole, must replace that brace, not keep a second one.
    (workspace / "editor_test_closer.py").write_text("settings = {}\n", encoding="utf-8")
    command, env = scripted_command(tmp_path)
    with neovim(workspace, nvim_binary, SETUP, command, env) as editor:
        bufnr = editor.open("editor_test_closer.py")
        editor.wait_ready(30)
        editor.nvim.input("$i")  # insert mode between the braces
        editor.wait_for(lambda: editor.mode().startswith("i"), 5, "insert mode")
        editor.lua("require('roost.ghost').suggest()")
        editor.wait_for(editor.ghost, 20, "ghost text")
        assert editor.lua("return require('roost.ghost').text()") == '\n    "a": 1,\n    "b": 2,\n}'
        editor.nvim.input("<M-C-Right>")
        editor.wait_for(lambda: len(editor.lines(bufnr)) == 2, 5, "the first line accepted")
        assert editor.lines(bufnr) == ["settings = {", '    "a": 1,}'], (
            "the brace goes with the last part only"
        )
        editor.nvim.input("<Tab><Esc>")
        expected = ["settings = {", '    "a": 1,', '    "b": 2,', "}"]
        editor.wait_for(lambda: editor.lines(bufnr) == expected, 5, f"the buffer to be {expected!r}")
