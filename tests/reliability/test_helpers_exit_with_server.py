"""Trust, point 11: the processes the server starts (the cold index's fork server, its workers and
multiprocessing's resource tracker) exit within seconds when the server dies, however it dies: here
``kill -9``, which gives the server no chance to clean up.

Killed while the pool parses (workers busy or waiting for work) and killed after the index is ready (only
the fork server and the resource tracker left) are both covered.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

import psutil
import pytest
from index_helpers import SERVE_COMMAND, write_modules
from lsp_harness import LspSession, lsp_session, server_env

# Large enough that the cold index is still parsing when its workers have started.
BUSY_WORKSPACE_FILES = 3000
EXIT_WAIT_S = 10.0

pytestmark = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="the cold index uses its process pool only with 2+ CPUs"
)


def _server_process(session: LspSession) -> psutil.Process:
    return psutil.Process(session.client._server.pid)


async def _helpers_once_started(server: psutil.Process, workers_too: bool) -> list[psutil.Process]:
    """The server's descendant processes, once the pool's helpers exist (with workers: a grandchild)."""

    async def poll() -> list[psutil.Process]:
        while True:
            descendants = server.children(recursive=True)
            direct = {child.pid for child in server.children()}
            grandchildren = [process for process in descendants if process.pid not in direct]
            if len(direct) >= 2 and (grandchildren or not workers_too):
                return descendants
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(poll(), 60)


def _still_running(processes: list[psutil.Process]) -> list[str]:
    """The processes among ``processes`` that still run (a zombie waiting for its parent counts as gone)."""
    alive = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
    return alive


async def _wait_until_gone(processes: list[psutil.Process]) -> list[str]:
    deadline = time.monotonic() + EXIT_WAIT_S
    while _still_running(processes) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return _still_running(processes)


def _kill_leftovers(processes: list[psutil.Process]) -> None:
    """Never leave a test's processes behind, whatever the assertion said."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()


@pytest.mark.parametrize("moment", ["while-parsing", "after-ready"])
async def test_kill_9_of_the_server_takes_its_helpers_along(tmp_path: Path, moment: str) -> None:
    workspace = tmp_path / "workspace"
    write_modules(workspace, BUSY_WORKSPACE_FILES if moment == "while-parsing" else 200)
    async with lsp_session(workspace, command=SERVE_COMMAND, env=server_env(tmp_path)) as session:
        server = _server_process(session)
        if moment == "after-ready":
            await session.wait_for_status("ready", timeout=60)
        helpers = await _helpers_once_started(server, workers_too=moment == "while-parsing")
        try:
            os.kill(server.pid, signal.SIGKILL)
            left = await _wait_until_gone(helpers)
        finally:
            # Inside the session: a helper left alive holds the server's stdout, and the client would wait
            # for it to close.
            _kill_leftovers(helpers)
    assert not left, f"helpers still running {EXIT_WAIT_S:.0f} s after kill -9 of the server: {left}"
