"""After ``shutdown`` the server answers every request with InvalidRequest and waits for ``exit`` (LSP),
whenever the request comes: while the shutdown's hooks still run, or after its answer. Nothing sent
meanwhile changes the shutdown's own answer. The real server over stdio, driven by pytest-lsp's client;
``held_shutdown_server.py`` holds the shutdown's answer, its hooks done, until the client's next message,
so that message comes while the shutdown is under way."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest

HELD_SHUTDOWN = [
    sys.executable,
    str(Path(__file__).resolve().parent.parent / "servers" / "held_shutdown_server.py"),
]
# Only a guard against waiting for good: a request pygls never answers would hang the test.
ANSWER_WAIT_S = 30.0
DEBUG_STATS = "roost/debugStats"


async def answer(future: Future[Any]) -> Any:
    return await asyncio.wait_for(asyncio.wrap_future(future), ANSWER_WAIT_S)


@contextlib.contextmanager
def exit_at_the_end(session: LspSession) -> Iterator[None]:
    """``exit`` once the test is done, passed or failed: the harness's own shutdown at the end of the
    session is refused (a second ``shutdown``), and its client waits for the server process to end."""
    try:
        yield
    finally:
        session.client.protocol.notify(types.EXIT, None)


async def refused_after_shutdown(session: LspSession, request_id: str) -> None:
    with pytest.raises(JsonRpcInvalidRequest, match="shutting down"):
        await answer(session.client.protocol.send_request(DEBUG_STATS, None, msg_id=request_id))


async def test_a_request_while_the_shutdown_runs_is_refused_and_the_shutdown_answers(workspace: Path) -> None:
    async with lsp_session(workspace, command=HELD_SHUTDOWN) as session:
        await session.wait_for_status("ready", timeout=120)
        with exit_at_the_end(session):
            protocol = session.client.protocol
            shutdown = protocol.send_request(types.SHUTDOWN, None, msg_id="shutdown")
            during = protocol.send_request(DEBUG_STATS, None, msg_id="during")  # served, before the fix
            with pytest.raises(JsonRpcInvalidRequest, match="shutting down"):
                await answer(during)
            assert await answer(shutdown) is None
            await refused_after_shutdown(session, "after")


async def test_a_cancel_of_the_shutdown_under_way_does_not_undo_it(workspace: Path) -> None:
    # pygls cancelled it: answered "cancelled" with its hooks run (the engine closed), and the server never
    # counted as shut down, so the requests that followed were served by closed services.
    async with lsp_session(workspace, command=HELD_SHUTDOWN) as session:
        await session.wait_for_status("ready", timeout=120)
        with exit_at_the_end(session):
            protocol = session.client.protocol
            shutdown = protocol.send_request(types.SHUTDOWN, None, msg_id="shutdown")
            protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="shutdown"))
            try:
                assert await answer(shutdown) is None
            except JsonRpcException as error:
                pytest.fail(f"the shutdown's answer was {error!r}")
            await refused_after_shutdown(session, "after")


async def test_a_request_after_the_shutdown_answer_gets_invalid_request(workspace: Path) -> None:
    # pygls dropped it without a word: the client's request waited until the process ended.
    async with lsp_session(workspace) as session:
        await session.wait_for_status("ready", timeout=120)
        with exit_at_the_end(session):
            protocol = session.client.protocol
            assert await answer(protocol.send_request(types.SHUTDOWN, None, msg_id="shutdown")) is None
            await refused_after_shutdown(session, "after")


async def test_a_session_the_test_shut_down_itself_still_ends(workspace: Path) -> None:
    # No exit from the test: the harness's own shutdown is refused, and it must send exit itself rather
    # than wait for a server that waits for it (a hung test run).
    async with lsp_session(workspace) as session:
        shutdown = session.client.protocol.send_request(types.SHUTDOWN, None, msg_id="shutdown")
        assert await answer(shutdown) is None
        server = session.client._server
    assert server is not None and server.returncode is not None
