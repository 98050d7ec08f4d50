"""The plugin's Neovim >= 0.12 path (built-in vim.lsp.inline_completion) on the Neovims we can run.

No 0.12 binary can be had here, so the test installs tests/editors/nvim_inline_double.lua as
``vim.lsp.inline_completion`` before setup() and selects the path with ``inline = { builtin = true }`` (no
version faking in the product). The double checks every call strictly against the 0.12 signatures and records
it; the tests assert what the plugin called, that its own ghost text stays off, and that keys fall back to
their own meaning. Everything else (the LSP client, the server, mappings, typing) is real.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_nvim import (
    FIXUP,
    NVIMS,
    PLUGIN,
    REAL_MODEL_WAIT_S,
    SCRIPTED,
    SERVERS,
    Editor,
    embedded_nvim,
    nvim_binary,  # noqa: F401 (fixture)
    pynvim,
    real_server_env,
    server_command_and_env,
    workspace,  # noqa: F401 (fixture)
)

DOUBLE = Path(__file__).with_name("nvim_inline_double.lua")

pytestmark = pytest.mark.skipif(not NVIMS, reason="Neovim is not installed (apt-get install neovim)")

INSTALL_DOUBLE_AND_SETUP = """
local plugin, double_path, cmd, env = ...
vim.opt.rtp:prepend(plugin)
_G.roost_inline_double = dofile(double_path)
vim.lsp.inline_completion = _G.roost_inline_double
require('roost').setup({ cmd = cmd, cmd_env = env, inline = { builtin = true } })
"""


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def editor(server: str, workspace: Path, tmp_path: Path, nvim_binary: str) -> Iterator[Editor]:  # noqa: F811
    command, env = server_command_and_env(server, tmp_path)
    nvim = embedded_nvim(workspace, nvim_binary)
    try:
        nvim.exec_lua(INSTALL_DOUBLE_AND_SETUP, str(PLUGIN), str(DOUBLE), command, env)
        yield Editor(nvim, workspace)
    finally:
        with contextlib.suppress(Exception):
            nvim.command("qa!")
        nvim.close()


def calls(editor: Editor, fn: str) -> list[dict[str, Any]]:
    return editor.lua(
        "local out = {} for _, c in ipairs(_G.roost_inline_double.calls) do"
        " if c.fn == ... then table.insert(out, c.args) end end return out",
        fn,
    )


def our_extmarks(editor: Editor, bufnr: int) -> list[Any]:
    return editor.lua(
        "return vim.api.nvim_buf_get_extmarks(..., require('roost.ghost').namespace, 0, -1, {})", bufnr
    )


def errors(editor: Editor) -> str:
    """Lua errors raised in mappings (e.g. by the double) end up in :messages, not in the test."""
    return str(editor.lua("return vim.fn.execute('messages')"))


def test_attach_enables_builtin_inline_completion_for_this_buffer_and_client(
    editor: Editor, server: str
) -> None:
    bufnr = editor.open("editor_test_typing.py")
    editor.wait_ready()
    status = editor.lua("return require('roost').status()")
    assert status["inline"] == "builtin"
    client_id = status["client_id"]
    enables = editor.wait_for(lambda: calls(editor, "enable"), 10, "enable()")
    assert enables == [{"enable": True, "filter": {"bufnr": bufnr, "client_id": client_id}}], errors(editor)
    assert "Roost: ready" in editor.lua("return vim.fn.execute('RoostStatus')")


def test_no_ghost_text_or_requests_of_ours_after_typing(editor: Editor, server: str) -> None:
    bufnr = editor.open("editor_test_typing.py")
    editor.wait_ready()
    editor.nvim.input("Go    return ")
    editor.wait_for(lambda: editor.lines(bufnr)[-1] == "    return ", 10, "the typing")
    # Well past the ghost text's debounce (25 ms) and the scripted server's answer time.
    deadline_s = 1.5 if server == "scripted" else 5
    editor.nvim.command(f"sleep {int(deadline_s * 1000)}m")
    assert our_extmarks(editor, bufnr) == []
    assert editor.lua("return require('roost.ghost').visible()") is False
    # Our requests and their timer start only from the ghost text's autocommands (and its suggest key,
    # not mapped on this path): none are installed for the buffer.
    assert editor.lua("return vim.fn.exists('#roost_ghost_' .. ...)", bufnr) == 0
    assert editor.lua("return vim.fn.maparg('<M-\\\\>', 'i')") == "", "no suggest key of ours"


def test_tab_calls_get_and_falls_back_to_a_real_tab(editor: Editor, server: str) -> None:
    bufnr = editor.open("editor_test_typing.py")
    editor.wait_ready()
    editor.lua("_G.roost_inline_double.get_result = false")
    editor.nvim.input("Go# note<Tab>x<Esc>")
    editor.wait_for(lambda: editor.mode() == "n", 10, "normal mode")
    assert editor.lines(bufnr)[-1] == "# note\tx", errors(editor)
    assert calls(editor, "get") == [{"opts": {"bufnr": bufnr}}]

    # When get() says the suggestion is applied, the key inserts nothing itself.
    editor.lua("_G.roost_inline_double.get_result = true")
    editor.nvim.input("A<Tab>y<Esc>")
    editor.wait_for(lambda: editor.mode() == "n", 10, "normal mode")
    assert editor.lines(bufnr)[-1] == "# note\txy", errors(editor)
    assert len(calls(editor, "get")) == 2


def test_next_and_prev_call_select_with_count(editor: Editor, server: str) -> None:
    bufnr = editor.open("editor_test_typing.py")
    editor.wait_ready()
    editor.nvim.input("Go<M-]><M-[><Esc>")
    editor.wait_for(lambda: editor.mode() == "n", 10, "normal mode")
    assert calls(editor, "select") == [
        {"opts": {"bufnr": bufnr, "count": 1}},
        {"opts": {"bufnr": bufnr, "count": -1}},
    ], errors(editor)
    assert editor.lines(bufnr)[-1] == "", "next/prev insert nothing"


def test_roost_fix_still_works(editor: Editor, server: str) -> None:
    bufnr = editor.open("editor_test_fixup.py")
    editor.wait_ready()
    original = editor.lines(bufnr)
    assert original == FIXUP.rstrip("\n").split("\n")
    editor.nvim.command("2,4RoostFix add a comment explaining the loop")
    timeout = 20 if server == "scripted" else REAL_MODEL_WAIT_S
    editor.wait_for(
        lambda: editor.lua("return require('roost.fixup').current() ~= nil"), timeout, "a proposal"
    )
    editor.nvim.command("RoostAccept")
    editor.wait_for(lambda: editor.lines(bufnr) != original, timeout, "the accepted fix-up in the buffer")
    if server == "scripted":
        assert editor.lines(bufnr)[1] == "    # add a comment explaining the loop"


@pytest.mark.parametrize("builtin", ["auto", False])
def test_auto_and_false_keep_our_ghost_text_below_012(
    builtin: str | bool,
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    """With the double present, "auto" still follows the version (these Neovims are < 0.12) and false
    always keeps Roost's ghost text: the built-in API is never called."""
    nvim = pynvim.attach(
        "child", argv=[nvim_binary, "--embed", "--headless", "-u", "NONE", "-i", "NONE", "-n"]
    )
    try:
        nvim.command("filetype on")
        nvim.command(f"cd {workspace}")
        setup = INSTALL_DOUBLE_AND_SETUP.replace("builtin = true", "builtin = select(5, ...)")
        env = {k: v for k, v in real_server_env(tmp_path).items() if k.startswith(("ROOST_", "PYTHON"))}
        nvim.exec_lua(setup, str(PLUGIN), str(DOUBLE), [sys.executable, str(SCRIPTED)], env, builtin)
        editor = Editor(nvim, workspace)
        if (nvim.exec_lua("return vim.version().minor") or 0) >= 12 and builtin == "auto":
            pytest.skip("on 0.12 'auto' is the built-in path, covered above")
        bufnr = editor.open("editor_test_typing.py")
        editor.wait_ready()
        assert editor.lua("return require('roost').status().inline") == "ghost"
        assert editor.lua("return vim.fn.exists('#roost_ghost_' .. ...)", bufnr) == 1
        assert editor.lua("return #_G.roost_inline_double.calls") == 0
    finally:
        with contextlib.suppress(Exception):
            nvim.command("qa!")
        nvim.close()


@pytest.mark.parametrize("server", ["scripted"])
def test_roost_toggle_switches_the_builtin_inline_completion(editor: Editor, server: str) -> None:
    """On the >= 0.12 path :RoostToggle turns Neovim's own inline completion off (and on) for this client."""
    bufnr = editor.open("editor_test_typing.py")
    editor.wait_ready()
    client_id = editor.lua("return require('roost').status().client_id")
    editor.wait_for(lambda: calls(editor, "enable"), 10, "enable()")
    editor.nvim.command("RoostToggle buffer")
    editor.nvim.command("RoostToggle")  # global off: this buffer's own switch (off) still wins
    editor.nvim.command("RoostToggle buffer")
    switches = [
        call["enable"]
        for call in calls(editor, "enable")
        if call["filter"] == {"bufnr": bufnr, "client_id": client_id}
    ]
    assert switches == [True, False, False, True], errors(editor)
