"""Helpers shared by the index's trust tests (points 1, 9, 10, 11): workspaces big enough for the cold
index's process pool, and the file count the server reports when it is ready."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from roost.context.index import _POOL_THRESHOLD

# The console script editors start (`python -m` would itself put the working directory on sys.path).
SERVE_COMMAND = [str(Path(sys.executable).parent / "roost"), "serve", "--stdio"]

# Enough files that the cold index parses them in its worker pool (fork server, workers, resource tracker).
POOL_SIZED = _POOL_THRESHOLD + 12


def write_modules(root: Path, count: int = POOL_SIZED, folder: str = "pkg") -> list[Path]:
    """``count`` small Python modules under ``root/folder``, each defining ``function_<n>``."""
    written = []
    for number in range(count):
        module = root / folder / f"module_{number}.py"
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text(f"def function_{number}(value):\n    return value + {number}\n", encoding="utf-8")
        written.append(module)
    return written


def indexed_count(ready_status: dict[str, Any]) -> int:
    """The number of files the server says it indexed, from its ``ready`` status."""
    message = ready_status.get("message", "")
    match = re.search(r"\((\d+) files indexed\)", message)
    assert match, f"the ready status should say how many files are indexed: {message!r}"
    return int(match.group(1))
