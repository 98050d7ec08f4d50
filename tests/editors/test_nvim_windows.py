"""The Neovim plugin's ghost text as the window shows it (``screenstring()``), in real headless Neovim (0.7.2 and
0.11.4) against the scripted server (tests/editors/scripted_server.py): with one buffer in two windows (a split) the
suggestion is drawn only in the window where the cursor and the request are; a multi-line suggestion on the
window's last line is scrolled into view."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_nvim import (
    NVIMS,
    Editor,
    nvim_binary,  # noqa: F401 (fixture)
    workspace,  # noqa: F401 (fixture)
)
from test_nvim_clients import neovim, scripted_command, version_of

pytestmark = pytest.mark.skipif(not NVIMS, reason="Neovim is not installed (apt-get install neovim)")

SETUP = "require('roost').setup({ cmd = select(1, ...), cmd_env = select(2, ...) })"


def window_screen(editor: Editor, window: int) -> list[str]:
    """What the screen shows in `window`'s text area, row by row (right-trimmed), after a full redraw."""
    return editor.lua(
        """
        local window = ...
        vim.cmd('redraw!')
        local position = vim.fn.win_screenpos(window)
        local rows = {}
        for row = 0, vim.api.nvim_win_get_height(window) - 1 do
          local text = ''
          for col = 0, vim.api.nvim_win_get_width(window) - 1 do
            text = text .. vim.fn.screenstring(position[1] + row, position[2] + col)
          end
          table.insert(rows, (text:gsub('%s+$', '')))
        end
        return rows
        """,
        window,
    )


def two_windows_on_one_buffer(editor: Editor) -> tuple[int, int]:
    """The buffer split in two; returns (the window the user types in, the other one)."""
    editor.nvim.command("set lines=30 columns=80")
    editor.open("editor_test_typing.py")
    editor.wait_ready(30)
    editor.nvim.command("split")
    current = editor.lua("return vim.api.nvim_get_current_win()")
    (other,) = [window for window in editor.lua("return vim.api.nvim_list_wins()") if window != current]
    assert editor.lua("return vim.api.nvim_win_get_buf(...)", other) == editor.nvim.current.buffer.number
    return current, other


@pytest.mark.parametrize(
    ("typed", "first_line", "multi_line"),
    [("    return ", "    return width * height", False), ("crlf = ", "crlf = first()", True)],
    ids=["one-line", "multi-line"],
)
def test_the_suggestion_is_drawn_only_in_the_window_of_the_cursor(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
    typed: str,
    first_line: str,
    multi_line: bool,
) -> None:
    command, env = scripted_command(tmp_path)
    with neovim(workspace, nvim_binary, SETUP, command, env) as editor:
        current, other = two_windows_on_one_buffer(editor)
        editor.nvim.input(f"Go{typed}")
        editor.wait_for(lambda: editor.lua("return require('roost.ghost').text()"), 20, "a suggestion")
        here = editor.wait_for(
            lambda: (rows := window_screen(editor, current))[1].startswith(first_line) and rows,
            10,
            f"{first_line!r} drawn in the window of the cursor",
        )
        there = window_screen(editor, other)
        # The other window shows the buffer as it is: no suggestion on the line, no line of it below.
        assert there[:3] == ["def area(width, height):", typed.rstrip(), "~"], (here, there)
        if not multi_line:
            return
        # The rest of a multi-line suggestion is in the cursor's window too: below its line where Neovim can scope
        # virtual lines to a window (0.11), else said to follow.
        if version_of(editor) >= (0, 11):
            assert here[1:3] == ["crlf = first()", "second()"], here
        else:
            assert here[1:3] == ["crlf = first()  (+1 more line)", "~"], here

        # Accepting inserts it all, in the buffer both windows show.
        editor.nvim.input("<Tab>")
        editor.wait_for(lambda: editor.lines()[-2:] == ["crlf = first()", "second()"], 5, "the accepted text")


@pytest.mark.parametrize("scrolloff", [0, 3])
def test_a_multi_line_suggestion_on_the_last_line_of_the_window_is_scrolled_into_view(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
    scrolloff: int,
) -> None:
    (workspace / "editor_test_long.py").write_text("".join(f"x{number} = {number}\n" for number in range(40)))
    command, env = scripted_command(tmp_path)
    with neovim(workspace, nvim_binary, SETUP, command, env) as editor:
        editor.nvim.command(f"set lines=12 columns=60 scrolloff={scrolloff}")
        editor.open("editor_test_long.py")
        editor.wait_ready(30)
        window = editor.lua("return vim.api.nvim_get_current_win()")
        editor.nvim.input("Gocrlf = ")
        editor.wait_for(lambda: editor.lua("return require('roost.ghost').text()"), 20, "a suggestion")
        rows = editor.wait_for(
            lambda: (rows := window_screen(editor, window))[-2:] == ["crlf = first()", "second()"] and rows,
            10,
            "the suggestion's last line on screen",
        )
        assert rows[-3] == "x39 = 39", "scrolled no further than needed"
        assert editor.lua("return vim.api.nvim_win_get_cursor(0)") == [41, 7], "the cursor stays"
