"""The linters are part of the test command, so the README's one command (and CI) enforces them: ruff's
lint rules and formatting, and mypy on the packages listed in [tool.mypy] of pyproject.toml. (The import
contracts are run by tests/test_layering.py.) Each test fails with the tool's own output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("lsp", "context", "engine")
# All three layers (see the comment on [tool.mypy] in pyproject.toml for the level and the exceptions).
TYPE_CHECKED_PACKAGES = ("roost.context", "roost.engine", "roost.lsp")
# Kept between runs (a warm check takes seconds, a cold one about 20-30 s on 2 cores); git ignores it.
MYPY_STATE = REPO_ROOT / ".pytest_cache" / "mypy"


def _tool(name: str) -> str:
    """A console script of the test environment (beside this Python, as `.venv/bin/...`)."""
    beside_python = Path(sys.executable).with_name(name)
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    assert found, f"{name} is not installed (it is in the `test` extra)"
    return found


def _ruff() -> list[str]:
    return [_tool("ruff")]


def test_ruff_check_is_clean() -> None:
    result = subprocess.run(
        [*_ruff(), "check", "--no-cache", "."], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    """`ruff format --check`: the code is as `ruff format .` leaves it (fix with that command)."""
    result = subprocess.run(
        [*_ruff(), "format", "--check", "--no-cache", "--output-format", "concise", "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _mypy_source_root() -> Path:
    """A folder where the three layers are `roost/lsp`, `roost/context`, `roost/engine` (symlinks to the
    checkout). The editable install maps lsp/ onto roost.lsp with an import hook, which mypy cannot
    follow; through these links it sees the packages under their real names."""
    source_root = MYPY_STATE / "src"
    package = source_root / "roost"
    package.mkdir(parents=True, exist_ok=True)
    for layer in LAYERS:
        link = package / layer
        if not link.is_symlink() or link.resolve() != (REPO_ROOT / layer).resolve():
            if link.is_symlink():
                link.unlink()
            link.symlink_to(REPO_ROOT / layer, target_is_directory=True)
    return source_root


def test_mypy_is_clean() -> None:
    """mypy at the level set in pyproject.toml ([tool.mypy]) reports nothing on the checked packages."""
    source_root = _mypy_source_root()
    packages = [arg for name in TYPE_CHECKED_PACKAGES for arg in ("-p", name)]
    result = subprocess.run(
        [_tool("mypy"), "--cache-dir", str(MYPY_STATE / "cache"), *packages],
        cwd=REPO_ROOT,
        env={**os.environ, "MYPYPATH": str(source_root)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    # Name files as they are in the checkout (lsp/x.py), not through the links.
    report = (
        (result.stdout + result.stderr)
        .replace(f"{source_root}/roost/", "")
        .replace(f"{source_root.relative_to(REPO_ROOT)}/roost/", "")
    )
    assert result.returncode == 0, report
