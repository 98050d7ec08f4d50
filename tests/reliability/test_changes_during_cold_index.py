"""Trust, point 10: files created or deleted on disk while the cold index runs are not lost (the watcher
used to start only after the index: 30 deleted files stayed indexed and 173 new ones were missing until a
restart).

The test makes the cold index's worker pool wait (SIGSTOP of the fork server and its workers) once parsing
has begun, so the changes happen after the scan and before the index ends whatever the machine's speed;
then it checks that the index converges to the disk. What the server holds is read from its index store
(SQLite, updated in the same step as the in-memory graph).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import psutil
import pytest
from index_helpers import SERVE_COMMAND, indexed_files, wait_until, write_modules
from lsp_harness import lsp_session, server_env

ORIGINAL_FILES = 1500
DELETED = 30
CREATED = 173
CONVERGE_WAIT_S = 20.0

pytestmark = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="the cold index uses its process pool only with 2+ CPUs"
)


def _python_files_on_disk(workspace: Path) -> set[str]:
    return {path.relative_to(workspace).as_posix() for path in workspace.rglob("*.py")}


async def _pool_processes(server: psutil.Process) -> list[psutil.Process]:
    """The fork server and the workers under it, once at least one worker exists."""

    async def poll() -> list[psutil.Process]:
        while True:
            for child in server.children():
                with contextlib.suppress(psutil.Error):
                    if "forkserver" in " ".join(child.cmdline()) and child.children():
                        return [child, *child.children()]
            await asyncio.sleep(0.01)

    return await asyncio.wait_for(poll(), 60)


def _signal_all(processes: list[psutil.Process], signum: int) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.send_signal(signum)


async def test_files_created_and_deleted_during_the_cold_index_are_indexed(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    modules = write_modules(workspace, ORIGINAL_FILES)
    # The pool parses the biggest files first: the ones deleted are the smallest, so they are still waiting
    # for a worker when the pool is paused.
    doomed = modules[:DELETED]
    for path in doomed:
        path.write_text("x = 1\n")
    cache = tmp_path / "cache"
    env = server_env(tmp_path, {"ROOST_CACHE_DIR": str(cache)})

    async with lsp_session(workspace, command=SERVE_COMMAND, env=env) as session:
        server = psutil.Process(session.client._server.pid)
        pool = await _pool_processes(server)
        _signal_all(pool, signal.SIGSTOP)
        try:
            for path in doomed:
                path.unlink()
            write_modules(workspace, CREATED, folder="generated")
        finally:
            _signal_all(pool, signal.SIGCONT)
        await session.wait_for_status("ready", timeout=60)

        on_disk = _python_files_on_disk(workspace)
        assert len(on_disk) == ORIGINAL_FILES - DELETED + CREATED
        await wait_until(lambda: indexed_files(workspace, cache) == on_disk, CONVERGE_WAIT_S)
        indexed = indexed_files(workspace, cache) or set()
        assert not indexed - on_disk, f"deleted files still indexed: {sorted(indexed - on_disk)[:5]}"
        assert not on_disk - indexed, f"new files not indexed: {sorted(on_disk - indexed)[:5]}"

    # The changes did overlap the cold index: it found deleted files gone when it came to read them.
    log = (tmp_path / "state" / "logs" / "roost.log").read_text(encoding="utf-8", errors="replace")
    assert any(f"skipped {path.relative_to(workspace).as_posix()}: No such file" in log for path in doomed)
