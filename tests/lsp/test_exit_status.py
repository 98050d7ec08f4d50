"""``roost serve``'s exit status (LSP): 0 when ``shutdown`` came before ``exit``, 1 otherwise. Editors read
a non-zero status as a crash; before, the server always exited 0 (pygls's status was swallowed). The real
server over stdio, spoken to with raw JSON-RPC frames."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lsp_harness import SERVER_COMMAND, server_env

EXIT_WAIT_S = 60.0


def frame(message: dict) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def initialize(root: Path) -> bytes:
    params = {"processId": None, "rootUri": root.resolve().as_uri(), "capabilities": {}}
    return frame({"id": 1, "method": "initialize", "params": params}) + frame(
        {"method": "initialized", "params": {}}
    )


SHUTDOWN = frame({"id": 2, "method": "shutdown"})
EXIT = frame({"method": "exit"})


@pytest.mark.parametrize(
    ("messages", "status"),
    [
        pytest.param([SHUTDOWN, EXIT], 0, id="shutdown then exit"),
        pytest.param([EXIT], 1, id="exit without shutdown"),
        pytest.param([SHUTDOWN], 0, id="shutdown, then the client closes the pipe"),
        pytest.param([], 1, id="the client closes the pipe without shutdown"),
    ],
)
def test_exit_status_says_whether_the_client_shut_the_server_down(
    workspace: Path, messages: list[bytes], status: int
) -> None:
    server = subprocess.Popen(
        SERVER_COMMAND,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=server_env(workspace.parent),
    )
    try:
        # Sent at once: the server reads them in order, and ``exit`` may come before the shutdown's answer.
        server.communicate(initialize(workspace) + b"".join(messages), timeout=EXIT_WAIT_S)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == status
