"""Helpers shared by the index's trust tests (points 1, 9, 10, 11): workspaces big enough for the cold
index's process pool, and the file count the server reports when it is ready."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from roost.context.index import _POOL_THRESHOLD
from roost.context.store import store_path_for

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


def indexed_files(workspace: Path, cache_dir: Path) -> set[str] | None:
    """The files the server's index holds with facts, read from its store (SQLite, written in the same step
    as the in-memory graph) under ``cache_dir`` ($ROOST_CACHE_DIR); None while it cannot be read."""
    store = store_path_for(workspace.resolve(), cache_dir)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)) as db:
            return {row[0] for row in db.execute("SELECT path FROM files WHERE facts IS NOT NULL")}
    except sqlite3.Error:
        return None


async def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds passed; returns whether it held."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.2)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        return False
    return True
