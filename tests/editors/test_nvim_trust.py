"""A project's own settings file and Neovim's trust database (session 17's leak, for Neovim), in real headless
Neovim (0.7.2 and 0.11.4).

A cloned repository's roost.toml may point the backend at a server of its own: every prompt typed in that folder
went there. Before a server starts for a root with such a file, the plugin asks Neovim's trust database
(vim.secure.read, 0.9+); unless the file is trusted it sends ``roostWorkspaceTrusted = false`` in
initializationOptions and the server leaves out the file's restricted keys (lsp.config). ``trust_workspace_config``
(true/false) decides without asking, and is the only way to distrust files on Neovim < 0.9.

The database is ``$XDG_STATE_HOME/nvim/trust`` (``<sha256> <realpath>``, ``! <realpath>`` for a denied file), each
test's own. A headless Neovim has no UI to ask on: vim.secure.read answers nil at once, so an unknown file is
untrusted, deterministically.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_nvim import (
    NVIMS,
    Editor,
    nvim_binary,  # noqa: F401 (fixture)
    workspace,  # noqa: F401 (fixture)
)
from test_nvim_clients import neovim, scripted_command, version_of_binary

_FAKES = str(Path(__file__).resolve().parents[1] / "lsp_features")
if _FAKES not in sys.path:
    sys.path.insert(0, _FAKES)
from fake_openai import FakeOpenAI  # noqa: E402

pytestmark = pytest.mark.skipif(not NVIMS, reason="Neovim is not installed (apt-get install neovim)")

SETUP = """
local cmd, env, trusting, settings = ...
require('roost').setup({ cmd = cmd, cmd_env = env, trust_workspace_config = trusting, settings = settings })
"""
ENABLE = """
local cmd, env = ...
vim.lsp.config('roost', { cmd = cmd, cmd_env = env })
vim.lsp.enable('roost')
"""
PROJECT_FILE = '[backend]\nkind = "openai"\nendpoint = "http://attacker.example/v1"\n'
TRUSTED_FLAG = "roostWorkspaceTrusted"


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's own trust database: Neovim's stdpath('state') is $XDG_STATE_HOME/nvim."""
    home = tmp_path / "state"
    (home / "nvim").mkdir(parents=True)
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


def record_trust(state_home: Path, path: Path, verdict: str) -> None:
    """Writes ``path`` into the trust database as Neovim's :trust does: "allow" (its content's hash), "deny"
    (``!``) or "stale" (the hash of other content: the file changed since it was trusted)."""
    content = path.read_bytes() if verdict != "stale" else b"# what it held when it was trusted\n"
    mark = "!" if verdict == "deny" else hashlib.sha256(content).hexdigest()
    with (state_home / "nvim" / "trust").open("a", encoding="utf-8") as database:
        database.write(f"{mark} {os.path.realpath(path)}\n")


def has_trust_database(binary: str) -> bool:
    return version_of_binary(binary) >= (0, 9)


def initialization_options(editor: Editor) -> dict[str, object]:
    return editor.lua(
        "local r = vim.lsp.buf_request_sync(0, 'workspace/executeCommand', {command = 'scripted.workspace'}, 5000)"
        " for _, answer in pairs(r or {}) do return answer.result end"
    )["initialization_options"]


def messages(editor: Editor) -> str:
    return str(editor.lua("return vim.fn.execute('messages')"))


@pytest.fixture
def scripted(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    return scripted_command(tmp_path)


@pytest.mark.parametrize("verdict", ["unknown", "deny", "stale", "allow"])
def test_the_trust_database_decides_what_the_server_is_told(
    workspace: Path,  # noqa: F811
    nvim_binary: str,  # noqa: F811
    state_home: Path,
    scripted: tuple[list[str], dict[str, str]],
    verdict: str,
) -> None:
    project_file = workspace / "roost.toml"
    project_file.write_text(PROJECT_FILE, encoding="utf-8")
    if verdict != "unknown":
        record_trust(state_home, project_file, verdict)
    with neovim(workspace, nvim_binary, SETUP, *scripted, "ask", {"context": {"budget": 1500}}) as editor:
        editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        options = initialization_options(editor)
        status = editor.lua("return require('roost').status().workspace_trust")
        shown = editor.lua("return vim.fn.execute('RoostStatus')")
        told = messages(editor)
    assert options["roost"] == {"context": {"budget": 1500}}, "the user's own settings go as before"
    if verdict == "allow" or not has_trust_database(nvim_binary):
        # Trusted, or Neovim < 0.9 (no database): as before, the server is told nothing.
        assert TRUSTED_FLAG not in options, options
        assert status["trusted"] is True and "is not trusted" not in told
    else:
        assert options[TRUSTED_FLAG] is False, options
        assert status == {"file": str(project_file), "trusted": False, "why": "not trusted (:trust)"}
        assert told.count(f"{project_file} is not trusted") == 1, told
        assert "settings are ignored (:edit it, :trust, then :RoostRestart)" in told
        assert f"settings file: {project_file}, not trusted (:trust)" in shown, shown


@pytest.mark.parametrize(
    ("trusting", "verdict"),
    [(True, "deny"), (False, "allow"), (False, "unknown")],
    ids=["true", "false", "false-"],
)
def test_the_option_decides_without_asking(
    workspace: Path,  # noqa: F811
    nvim_binary: str,  # noqa: F811
    state_home: Path,
    scripted: tuple[list[str], dict[str, str]],
    trusting: bool,
    verdict: str,
) -> None:
    project_file = workspace / "roost.toml"
    project_file.write_text(PROJECT_FILE, encoding="utf-8")
    if verdict != "unknown":
        record_trust(state_home, project_file, verdict)
    database = (state_home / "nvim" / "trust").read_bytes() if verdict != "unknown" else None
    with neovim(workspace, nvim_binary, SETUP, *scripted, trusting, {}) as editor:
        editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        options = initialization_options(editor)
        told = messages(editor)
    if trusting:
        assert TRUSTED_FLAG not in options, options
    else:
        assert options[TRUSTED_FLAG] is False, options
        assert "settings are ignored (trust_workspace_config = false)" in told, told
    # Not asked: the database is as it was.
    trust_file = state_home / "nvim" / "trust"
    assert (trust_file.read_bytes() if trust_file.exists() else None) == database


@pytest.mark.parametrize(
    ("files", "asked"),
    [
        ({"roost.toml": "# a root marker, nothing set\n\n"}, False),
        ({"pyproject.toml": '[project]\nname = "x"\n'}, False),
        (
            {
                "pyproject.toml": '[project]\nname = "x"\n[tool.roost.backend]\nendpoint = "http://a.example/v1"\n'
            },
            True,
        ),
        # "roost" spelled with an escape in a quoted key is still [tool.roost] to the server's TOML reader.
        ({"pyproject.toml": '[tool."\\u0072oost".backend]\nendpoint = "http://a.example/v1"\n'}, True),
        # roost.toml wins over pyproject.toml: the server reads only it.
        ({"roost.toml": "# nothing\n", "pyproject.toml": "[tool.roost.gate]\nunscanned = 'pass'\n"}, False),
    ],
    ids=["comments-only", "pyproject-without-roost", "tool-roost", "escaped-key", "roost-toml-wins"],
)
def test_only_a_file_the_server_takes_settings_from_is_distrusted(
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
    state_home: Path,
    scripted: tuple[list[str], dict[str, str]],
    files: dict[str, str],
    asked: bool,
) -> None:
    # trust_workspace_config = false distrusts every file it is asked about, on every Neovim: what reaches the
    # server shows which files are asked about.
    root = tmp_path / "project"
    root.mkdir()
    (root / "m.py").write_text("def f():\n", encoding="utf-8")
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    with neovim(root, nvim_binary, SETUP, *scripted, False, {}) as editor:
        editor.open("m.py")
        editor.wait_ready(30)
        assert editor.lua("return require('roost').status().root") == str(root)
        options = initialization_options(editor)
    if asked:
        assert options[TRUSTED_FLAG] is False, options
    else:
        assert TRUSTED_FLAG not in options, options


def test_vim_lsp_enable_asks_too(
    workspace: Path,  # noqa: F811
    nvim_binary: str,  # noqa: F811
    state_home: Path,
    scripted: tuple[list[str], dict[str, str]],
) -> None:
    if version_of_binary(nvim_binary) < (0, 11):
        pytest.skip("vim.lsp.enable and lsp/*.lua configurations are Neovim 0.11+")
    (workspace / "roost.toml").write_text(PROJECT_FILE, encoding="utf-8")
    with neovim(workspace, nvim_binary, ENABLE, *scripted) as editor:
        editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        options = initialization_options(editor)
        assert options[TRUSTED_FLAG] is False, options
        # The shared configuration's own table is left as it was (each start decides afresh).
        assert editor.lua("return vim.lsp.config.roost.init_options.roostWorkspaceTrusted") is None


@pytest.fixture
def attacker() -> Iterator[FakeOpenAI]:
    """The server a cloned repository's roost.toml points the backend at: it records every request."""
    with FakeOpenAI(rules=[("", "width * height")]) as fake:
        yield fake


def effective_configuration(editor: Editor) -> dict[str, object]:
    return editor.lua(
        "local r = vim.lsp.buf_request_sync(0, 'roost/effectiveConfiguration', {}, 10000)"
        " for _, answer in pairs(r or {}) do return answer.result end"
    )


def test_the_real_server_sends_nothing_to_an_untrusted_file_s_backend_until_it_is_trusted(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    nvim_binary: str,  # noqa: F811
    state_home: Path,
    attacker: FakeOpenAI,
) -> None:
    if not has_trust_database(nvim_binary):
        pytest.skip("Neovim < 0.9 has no trust database (trust_workspace_config decides there)")
    project_file = workspace / "roost.toml"
    project_file.write_text(
        f'[backend]\nkind = "openai"\nendpoint = "{attacker.endpoint}"\n', encoding="utf-8"
    )
    command = [sys.executable, "-m", "roost.lsp.cli", "serve", "--stdio"]
    env = scripted_command(tmp_path)[1]
    # The user's own settings: an OpenAI-compatible backend (no model loads in the test), endpoint unset.
    settings = {
        "backend": {"kind": "openai", "timeout_s": 10.0},
        "model": {"name": "qwen2.5-coder-0.5b", "family": "qwen2.5-coder"},
        "completion": {"debounce_ms": 0},
    }
    with neovim(workspace, nvim_binary, SETUP, command, env, "ask", settings) as editor:
        bufnr = editor.open("editor_test_typing.py")
        editor.wait_for(
            lambda: editor.lua("return require('roost').status().state") in ("ready", "degraded", "error"),
            120,
            "the server started",
        )
        effective = effective_configuration(editor)
        assert effective["settings"]["backend"]["endpoint"] == "", effective
        assert any(
            "backend.endpoint" in problem and "not trusted" in problem for problem in effective["problems"]
        )
        editor.nvim.input("Go    return ")
        editor.wait_for(
            lambda: editor.lua("return require('roost.ghost').last_answer ~= nil"), 60, "the server's answer"
        )
        assert editor.ghost() is None
        assert attacker.completion_requests() == [], "a prompt reached the untrusted file's backend"

        # The user reads the file, trusts it and restarts: now its backend is used.
        editor.nvim.input("<Esc>")
        editor.nvim.command("set hidden")
        editor.nvim.command(f"edit {project_file}")
        editor.nvim.command("trust")
        editor.nvim.command(f"buffer {bufnr}")
        first = editor.lua("return require('roost').status().client_id")
        editor.nvim.command("RoostRestart")
        editor.wait_for(
            lambda: editor.lua(
                "local s = require('roost').status() return s.attached and s.client_id ~= ... and s.state == 'ready'",
                first,
            ),
            120,
            "the restarted server ready",
        )
        assert effective_configuration(editor)["settings"]["backend"]["endpoint"] == attacker.endpoint
        assert editor.lua("return require('roost').status().workspace_trust.trusted") is True
        editor.nvim.command("normal! G$")
        editor.nvim.input("ax<BS>")  # typed and taken back: asked again at "    return "
        assert editor.wait_for(editor.ghost, 60, "ghost text from the trusted backend") == "width * height"
        assert attacker.completion_requests(), "the trusted file's backend was not asked"


def test_checkhealth_says_how_project_settings_files_are_trusted(
    workspace: Path,  # noqa: F811
    nvim_binary: str,  # noqa: F811
    state_home: Path,
    scripted: tuple[list[str], dict[str, str]],
) -> None:
    project_file = workspace / "roost.toml"
    project_file.write_text(PROJECT_FILE, encoding="utf-8")
    with neovim(workspace, nvim_binary, SETUP, *scripted, "ask", {}) as editor:
        editor.open("editor_test_typing.py")
        editor.wait_ready(30)
        editor.nvim.command("checkhealth roost")
        report = "\n".join(editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))
    if has_trust_database(nvim_binary):
        assert "project settings files are asked about through Neovim's trust database (:trust)" in report
        assert (
            f"{project_file}: not trusted (:trust); its model, backend, gate and exclusion settings" in report
        )
    else:
        assert "Neovim < 0.9 has no trust database: a project's roost.toml may choose the backend" in report
        assert "set trust_workspace_config = false" in report
