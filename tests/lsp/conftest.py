"""Fixtures of the LSP server tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace folder with one small Python file."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "main.py").write_text("def greet(name):\n    return 'hi ' + name\n")
    return root
