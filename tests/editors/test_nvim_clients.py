"""The Neovim plugin's everyday parts (issue "clients") in real headless Neovim (0.7.2 and 0.11.4):
``:checkhealth roost`` with the server present and absent, ``vim.lsp.enable("roost")`` (0.11+), the ``<Plug>``
mappings, ``:RoostToggle`` (global and buffer-local: the server receives no inline request while off) and
``:RoostExplain``. The server is the scripted double (tests/editors/scripted_server.py), except where the health
check needs the real ``roost`` command."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_nvim import (
    NVIMS,
    PLUGIN,
    SCRIPTED,
    Editor,
    embedded_nvim,
    nvim_binary,  # noqa: F401 (fixture)
    real_server_env,
    workspace,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.skipif(not NVIMS, reason="Neovim is not installed (apt-get install neovim)")

ROOST = Path(sys.executable).parent / "roost"
# Every inline action on a key of the test's choosing (the default keys are switched off).
PLUG_KEYS = {
    "accept": "<F7>",
    "accept-word": "<F2>",
    "accept-line": "<F3>",
    "next": "<F4>",
    "previous": "<F5>",
    "dismiss": "<F6>",
    "suggest": "<F8>",
}
NO_DEFAULT_KEYS = {
    "accept": False,
    "accept_word": False,
    "accept_line": False,
    "dismiss": False,
    "next": False,
    "prev": False,
    "suggest": False,
}


@contextlib.contextmanager
def neovim(root: Path, binary: str, setup: str | None, *args: Any) -> Iterator[Editor]:
    nvim = embedded_nvim(root, binary)
    try:
        nvim.exec_lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        if setup is not None:
            nvim.exec_lua(setup, *args)
        yield Editor(nvim, root)
    finally:
        with contextlib.suppress(Exception):
            nvim.command("qa!")
        nvim.close()


def scripted_command(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in real_server_env(tmp_path).items() if k.startswith(("ROOST_", "PYTHON"))}
    return [sys.executable, str(SCRIPTED)], env


def checkhealth(editor: Editor) -> str:
    editor.nvim.command("checkhealth roost")
    return "\n".join(editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))


def version_of(editor: Editor) -> tuple[int, int]:
    version = editor.lua("return vim.version()")
    return version["major"], version["minor"]


def server_inline_requests(editor: Editor) -> list[str]:
    """What the scripted server received: the line before the cursor of every inline request."""
    return editor.lua(
        "local r = vim.lsp.buf_request_sync(0, 'workspace/executeCommand',"
        " {command = 'scripted.inlineRequests'}, 5000)"
        " for _, answer in pairs(r or {}) do return answer.result end"
    )


def test_checkhealth_with_the_server_present(workspace: Path, tmp_path: Path, nvim_binary: str) -> None:  # noqa: F811
    env = {k: v for k, v in real_server_env(tmp_path).items() if k.startswith(("ROOST_", "PYTHON"))}
    doctor = subprocess.run(
        [str(ROOST), "doctor"], cwd=workspace, capture_output=True, text=True, timeout=120
    )
    setup = "require('roost').setup({ cmd = select(1, ...), cmd_env = select(2, ...) })"
    with neovim(workspace, nvim_binary, setup, [str(ROOST), "serve", "--stdio"], env) as editor:
        editor.open("editor_test_typing.py")
        editor.wait_ready()
        report = checkhealth(editor)
    major, minor = version_of_binary(nvim_binary)
    assert f"Neovim {major}.{minor}." in report
    assert "inline suggestions: Roost's ghost text" in report  # 0.7 and 0.11 have no built-in inline path
    assert f"{ROOST} found: roost " in report
    if doctor.returncode == 0:
        assert "roost doctor: every required check passed" in report, report
    else:
        assert "roost doctor: " in report and "ERROR" in report, report
    assert "server attached to editor_test_typing.py" in report and ": ready" in report, report


def version_of_binary(binary: str) -> tuple[int, int]:
    from test_nvim import neovim_version

    major, minor, *_ = neovim_version(binary).split(".")
    return int(major), int(minor)


def test_checkhealth_with_the_server_absent(workspace: Path, nvim_binary: str) -> None:  # noqa: F811
    missing = str(workspace / "no-such-dir" / "roost")
    setup = "require('roost').setup({ cmd = { ..., 'serve', '--stdio' } })"
    with neovim(workspace, nvim_binary, setup, missing) as editor:
        report = checkhealth(editor)
    assert f"{missing} is not found or not executable" in report, report
    assert "ERROR" in report
    assert "roost doctor" not in report  # nothing to run
    assert "no server attached" in report


def test_checkhealth_without_setup(workspace: Path, nvim_binary: str) -> None:  # noqa: F811
    with neovim(workspace, nvim_binary, None) as editor:
        editor.nvim.command("edit editor_test_typing.py")
        report = checkhealth(editor)
    assert "no server attached: the plugin is not set up" in report, report


def test_vim_lsp_enable_starts_roost(workspace: Path, tmp_path: Path, nvim_binary: str) -> None:  # noqa: F811
    if version_of_binary(nvim_binary) < (0, 11):
        pytest.skip("vim.lsp.enable and lsp/*.lua configurations are Neovim 0.11+")
    command, env = scripted_command(tmp_path)
    setup = (
        "vim.lsp.config('roost', { cmd = select(1, ...), cmd_env = select(2, ...) }); vim.lsp.enable('roost')"
    )
    with neovim(workspace, nvim_binary, setup, command, env) as editor:
        bufnr = editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        status = editor.lua("return require('roost').status()")
        assert status["root"] == str(workspace) and status["inline"] == "ghost"
        editor.nvim.input("Go    return ")
        assert editor.wait_for(editor.ghost, 20, "ghost text") == "width * height"
        editor.nvim.input("<Tab>")
        editor.wait_for(
            lambda: editor.lines(bufnr)[-1] == "    return width * height", 10, "the accepted text"
        )
        # One client: the plugin's own start path stayed out of it.
        assert editor.lua("return #vim.lsp.get_clients({ name = 'roost' })") == 1


@pytest.fixture
def scripted_editor(workspace: Path, tmp_path: Path, nvim_binary: str) -> Iterator[Editor]:  # noqa: F811
    command, env = scripted_command(tmp_path)
    setup = """
    local cmd, env, keymaps, plugs = ...
    require('roost').setup({ cmd = cmd, cmd_env = env, keymaps = keymaps })
    for name, key in pairs(plugs) do
      vim.api.nvim_set_keymap('i', key, '<Plug>(roost-' .. name .. ')', {})
    end
    """
    with neovim(workspace, nvim_binary, setup, command, env, NO_DEFAULT_KEYS, PLUG_KEYS) as editor:
        yield editor


def test_plug_mappings(scripted_editor: Editor) -> None:
    editor = scripted_editor
    bufnr = editor.open("editor_test_typing.py")
    editor.wait_ready(30)
    editor.nvim.input("Go    return ")
    assert editor.wait_for(editor.ghost, 20, "ghost text") == "width * height"
    editor.nvim.input(PLUG_KEYS["next"])
    editor.wait_for(lambda: editor.ghost() == "height * width", 5, "the next suggestion")
    editor.nvim.input(PLUG_KEYS["previous"])
    editor.wait_for(lambda: editor.ghost() == "width * height", 5, "the previous suggestion")
    editor.nvim.input(PLUG_KEYS["accept-word"])
    editor.wait_for(lambda: editor.lines(bufnr)[-1] == "    return width", 5, "one word accepted")
    editor.nvim.input(PLUG_KEYS["accept-line"])
    editor.wait_for(lambda: editor.lines(bufnr)[-1] == "    return width * height", 5, "the line accepted")
    editor.nvim.input("<Esc>ddGo    return ")
    editor.wait_for(editor.ghost, 20, "a new suggestion")
    editor.nvim.input(PLUG_KEYS["dismiss"])
    editor.wait_for(lambda: editor.ghost() is None, 5, "the suggestion dismissed")
    editor.nvim.input(PLUG_KEYS["suggest"])
    editor.wait_for(editor.ghost, 20, "a suggestion asked for")
    editor.nvim.input(PLUG_KEYS["accept"])
    editor.wait_for(lambda: editor.lines(bufnr)[-1] == "    return width * height", 5, "the whole accepted")
    # The default keys were switched off: <Tab> is a plain tab again.
    editor.nvim.input("<Tab><Esc>")
    editor.wait_for(lambda: editor.lines(bufnr)[-1] == "    return width * height\t", 5, "a tab")


def test_toggle_global_and_buffer_sends_nothing_while_off(scripted_editor: Editor) -> None:
    editor = scripted_editor
    other = editor.open("editor_test_fixup.py")
    typing = editor.open("editor_test_typing.py")
    editor.wait_ready(30)

    editor.nvim.command("RoostToggle")  # global: off everywhere
    assert editor.lua("return require('roost').status().enabled") is False
    assert "(turned off here: :RoostToggle)" in editor.lua("return vim.fn.execute('RoostStatus')")
    editor.nvim.input("Go    return OFF_GLOBAL = ")
    editor.nvim.input(PLUG_KEYS["suggest"])  # asking explicitly sends nothing either
    editor.nvim.input("<Esc>")
    editor.nvim.command("RoostToggle")  # on again
    editor.nvim.input("Go    return ")
    assert editor.wait_for(editor.ghost, 20, "ghost text once on again") == "width * height"
    editor.nvim.input("<Esc>")

    editor.nvim.command("RoostToggle buffer")  # off in this buffer only
    assert editor.lua("return require('roost').status().enabled") is False
    editor.nvim.input("Go    return OFF_BUFFER = ")
    editor.nvim.input(PLUG_KEYS["suggest"])
    editor.nvim.input("<Esc>")
    editor.nvim.command(f"buffer {other}")
    assert editor.lua("return require('roost').status().enabled") is True
    editor.nvim.input("Go    return ")
    assert editor.wait_for(editor.ghost, 20, "ghost text in the other buffer") == "width * height"
    editor.nvim.input("<Esc>")

    # Requests reach the server in the order they were sent: any sent while off came before these.
    received = server_inline_requests(editor)
    assert received and not any("OFF_" in line for line in received), received
    assert editor.lua("return vim.b[...].roost_enabled", typing) is False


def test_explain_view(scripted_editor: Editor) -> None:
    editor = scripted_editor
    editor.open("editor_test_typing.py")
    editor.wait_ready(30)
    editor.nvim.command("RoostExplain")
    view = editor.wait_for(explain_view(editor), 10, "the explain view")
    assert view[0] == "Roost: No suggestion asked for yet [nothing_yet]", view
    editor.nvim.input("Go    return ")
    editor.wait_for(editor.ghost, 20, "ghost text")
    editor.nvim.input("<Esc>")
    editor.nvim.command("RoostExplain")
    view = editor.wait_for(explain_view(editor, "[offered]"), 10, "the explain view of the suggestion")
    assert (
        "Context used:" in view
        and "  editor_test_shapes.py:4-5  definition (called near the cursor, 21 tokens)" in view
    )
    assert "Timings: model 40 ms, retrieval 2 ms, total 45 ms" in view, view
    assert "  width * height" in view

    # Every verdict the server can give has its own headline.
    headlines = editor.lua(
        """
        local explain = require('roost.explain')
        local out = {}
        for _, verdict in ipairs({ 'offered', 'nothing_yet', 'loading', 'refused', 'blocked', 'backend_down',
                                   'degraded', 'empty', 'error' }) do
          local lines = explain.lines({ verdict = verdict, reason = 'because', state = 'ready',
                                        state_message = '', last = vim.NIL })
          out[verdict] = lines[1]
        end
        return out
        """
    )
    assert len(set(headlines.values())) == 9 and all("[" in line for line in headlines.values()), headlines
    assert headlines["refused"] == "Roost: Roost does not complete in this file [refused]"
    assert headlines["backend_down"] == "Roost: The model backend is down [backend_down]"

    editor.nvim.command("RoostToggle buffer")
    editor.nvim.command("RoostExplain")
    view = editor.wait_for(explain_view(editor, "turned off"), 10, "the explain view of a toggled-off buffer")
    assert view[1] == "  suggestions are turned off here (:RoostToggle)"


def explain_view(editor: Editor, needle: str = "") -> Any:
    def lines() -> list[str] | None:
        found = editor.lua(
            "local b = vim.fn.bufnr('roost://explain')"
            " if b == -1 then return vim.NIL end return vim.api.nvim_buf_get_lines(b, 0, -1, false)"
        )
        if found and needle in "\n".join(found):
            return found
        return None

    return lines


def readme_lazy_spec() -> str:
    """The lazy.nvim spec the README documents (the ```lua block after its marker comment)."""
    readme = (PLUGIN.parents[1] / "README.md").read_text(encoding="utf-8")
    after_marker = readme.split("<!-- lazy.nvim spec", 1)[1]
    return after_marker.split("```lua\n", 1)[1].split("```", 1)[0]


def test_readme_lazy_spec_loads_the_plugin_from_its_subfolder(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
) -> None:
    """lazy.nvim calls the spec's config(plugin) with plugin.dir = the clone; a copy of the repository's plugin
    folder and README stands in for the clone (the spec's helptags writes into it)."""
    clone = tmp_path / "clone"
    shutil.copytree(PLUGIN, clone / "editors" / "nvim")
    spec = readme_lazy_spec()
    nvim = embedded_nvim(workspace, nvim_binary)
    try:
        found = nvim.exec_lua(
            """
            local spec_source, dir = ...
            local spec = assert(loadstring('return ' .. spec_source))()
            assert(spec[1] == 'roost-lsp/roost', 'the spec names the repository')
            spec.config({ dir = dir, name = 'roost' })
            return {
              commands = vim.fn.exists(':RoostToggle') == 2 and vim.fn.exists(':RoostExplain') == 2,
              lsp_config = #vim.api.nvim_get_runtime_file('lsp/roost.lua', true),
              help = vim.fn.filereadable(dir .. '/editors/nvim/doc/tags'),
              health = #vim.api.nvim_get_runtime_file('lua/roost/health.lua', true),
            }
            """,
            spec,
            str(clone),
        )
        nvim.command("help :RoostExplain")
        assert nvim.current.buffer.name.endswith("roost.txt")
    finally:
        with contextlib.suppress(Exception):
            nvim.command("qa!")
        nvim.close()
    assert found == {"commands": True, "lsp_config": 1, "help": 1, "health": 1}, found


SHAPES = '''"""Shapes."""


def rectangle_area(width, height):
    return width * height
'''
REPORT = """from shapes import rectangle_area


def report(width, height):
    print(rectangle_area(width, height))
"""


def test_move_to_another_module_creates_it(tmp_path: Path, nvim_binary: str) -> None:  # noqa: F811
    """The real server (no model needed): "Move to another module…" → vim.ui.select → "New module…" →
    vim.ui.input → the symbol moves to a module that did not exist, and its importer follows."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "roost.toml").write_text("")
    (root / "shapes.py").write_text(SHAPES)
    (root / "report.py").write_text(REPORT)
    env = {k: v for k, v in real_server_env(tmp_path).items() if k.startswith(("ROOST_", "PYTHON"))}
    setup = "require('roost').setup({ cmd = select(1, ...), cmd_env = select(2, ...) })"
    with neovim(root, nvim_binary, setup, [str(ROOST), "serve", "--stdio"], env) as editor:
        editor.open("shapes.py")
        editor.wait_ready()
        editor.nvim.command("call search('def rectangle_area')")
        editor.nvim.command("normal! w")
        editor.lua(
            """
            _G.roost_test = {}
            vim.ui.select = function(items, opts, on_choice)
              for index, item in ipairs(items) do
                local title = type(item) == 'table' and (item.action or item[2]).title or item
                if title == 'Move `rectangle_area` to another module…' or title == 'New module…' then
                  if title == 'New module…' then _G.roost_test.modules = items end
                  return on_choice(item, index)
                end
              end
              _G.roost_test.unmatched = items
              on_choice(nil, nil)
            end
            vim.ui.input = function(opts, on_confirm)
              _G.roost_test.default = opts.default
              on_confirm('geometry')
            end
            vim.lsp.buf.code_action()
            """
        )
        editor.wait_for(
            lambda: "def rectangle_area(" in "\n".join(buffer_lines(editor, root / "geometry.py")),
            60,
            "the symbol in the new module",
        )
        editor.wait_for(
            lambda: (
                "from geometry import rectangle_area" in "\n".join(buffer_lines(editor, root / "report.py"))
            ),
            30,
            "the importer rewritten",
        )
        assert "def rectangle_area(" not in "\n".join(buffer_lines(editor, root / "shapes.py"))
        state = editor.lua("return _G.roost_test")
        assert state["modules"][-1] == "New module…" and "report.py" in state["modules"], state
        assert state["default"] == ""  # the source is at the root: nothing to pre-fill
    assert (root / "geometry.py").exists(), "the new module was created"


def buffer_lines(editor: Editor, path: Path) -> list[str]:
    return editor.lua(
        "local b = vim.fn.bufnr(...) if b == -1 then return {} end"
        " vim.fn.bufload(b) return vim.api.nvim_buf_get_lines(b, 0, -1, false)",
        str(path),
    )
