"""Trust, point 1: code in the workspace never runs, even when the server's working directory is the
workspace (Neovim started in the project does this).

The workspace plants modules that shadow what Roost and its helper processes import (``multiprocessing``,
``tree_sitter``, ``json``), the files the interpreter runs by itself at start-up (``sitecustomize``,
``usercustomize``, a ``.pth``), and enough ordinary files that the cold index parses them in the process
pool (the fork server and resource tracker are started with ``python -c``, which used to put the working
directory first on ``sys.path``). Every planted file writes a marker outside the workspace if it runs.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from index_helpers import POOL_SIZED, SERVE_COMMAND, indexed_count, write_modules
from lsp_harness import lsp_session, server_env

POISON_FILES = (
    "multiprocessing/__init__.py",
    "tree_sitter/__init__.py",
    "json.py",
    "sitecustomize.py",
    "usercustomize.py",
)


def plant_poison(workspace: Path, markers: Path) -> int:
    """Write the poisoned workspace; returns how many source files the index should hold."""
    write_modules(workspace, POOL_SIZED)
    for relative in POISON_FILES:
        target = workspace / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        marker = markers / relative.replace("/", "_")
        target.write_text(f"open({str(marker)!r}, 'a').write('ran\\n')\n", encoding="utf-8")
    pth_marker = markers / "poison.pth"
    (workspace / "poison.pth").write_text(f"import os; open({str(pth_marker)!r}, 'a').write('ran\\n')\n")
    return POOL_SIZED + len(POISON_FILES)


@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="the cold index uses its process pool only with 2+ CPUs"
)
@pytest.mark.parametrize(
    "command",
    [SERVE_COMMAND, [sys.executable, "-m", "roost.lsp.cli", "serve", "--stdio"]],
    ids=["console-script", "python-m"],
)
async def test_poisoned_workspace_as_working_directory_runs_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    workspace = tmp_path / "workspace"
    markers = tmp_path / "markers"
    workspace.mkdir()
    markers.mkdir()
    expected_files = plant_poison(workspace, markers)

    async with lsp_session(workspace, command=command, cwd=workspace, env=server_env(tmp_path)) as session:
        ready = await session.wait_for_status("ready", timeout=60)

    ran = sorted(marker.name for marker in markers.iterdir())
    assert not ran, f"workspace code ran in a process Roost started: {ran}"
    assert indexed_count(ready) == expected_files
    # Give a helper that would run the poison late (a worker started at shutdown) no chance to hide it.
    await asyncio.sleep(0.5)
    assert not list(markers.iterdir())


def test_the_shared_engine_child_runs_nothing_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared engine (``python -m roost.engine.server``) is started with ``-P`` and a working directory
    of its own, even by a host whose environment does not ask for safe paths (this test process)."""
    from roost.engine.shared import SharedEngineOptions, shared_engine_url
    from roost.engine.types import BackendUnavailableError

    workspace = tmp_path / "workspace"
    markers = tmp_path / "markers"
    workspace.mkdir()
    markers.mkdir()
    plant_poison(workspace, markers)
    monkeypatch.chdir(workspace)
    monkeypatch.delenv("PYTHONSAFEPATH", raising=False)
    options = SharedEngineOptions(
        model=str(tmp_path / "no-such-model"), state_dir=str(tmp_path / "engine-state"), start_timeout_s=60
    )
    # The model does not exist, so the engine exits right after importing what it needs.
    with pytest.raises(BackendUnavailableError):
        shared_engine_url(options)
    assert not sorted(marker.name for marker in markers.iterdir())


def test_children_get_safe_paths_and_no_working_directory_on_pythonpath(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative PYTHONPATH entries ('.', 'src', '') resolve against the working directory in every child."""
    from roost.lsp.cli.isolation import isolate_child_interpreters

    monkeypatch.chdir(tmp_path)
    kept = str(tmp_path.parent)
    environment = {"PYTHONPATH": os.pathsep.join([".", "src", "", str(tmp_path), kept])}
    isolate_child_interpreters(environment)
    assert environment == {"PYTHONPATH": kept, "PYTHONSAFEPATH": "1"}
    only_relative = {"PYTHONPATH": "."}
    isolate_child_interpreters(only_relative)
    assert only_relative == {"PYTHONSAFEPATH": "1"}
