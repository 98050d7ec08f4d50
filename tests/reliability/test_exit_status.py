"""``roost serve``'s exit status (LSP): 0 when ``shutdown`` came before ``exit``, 1 otherwise. Editors read
a non-zero status as a crash; before, the server always exited 0 (pygls's status was swallowed). The real
server over stdio, through the raw JSON-RPC client."""

from __future__ import annotations

from pathlib import Path

import pytest
from raw_client import RawClient

EXIT_WAIT_S = 60.0


@pytest.mark.parametrize(
    ("ending", "status"),
    [
        pytest.param(["shutdown", "exit"], 0, id="shutdown then exit"),
        pytest.param(["exit"], 1, id="exit without shutdown"),
        pytest.param(["shutdown"], 0, id="shutdown, then the client closes the pipe"),
        pytest.param([], 1, id="the client closes the pipe without shutdown"),
    ],
)
def test_exit_status_says_whether_the_client_shut_the_server_down(
    tmp_path: Path, ending: list[str], status: int
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "main.py").write_text("def greet(name):\n    return 'hi ' + name\n")
    client = RawClient(workspace)
    try:
        client.initialize()
        # Sent without waiting for the shutdown's answer: ``exit`` may come before it.
        for method in ending:
            if method == "shutdown":
                client.send({"jsonrpc": "2.0", "id": client.new_id(), "method": "shutdown"})
            else:
                client.notify(method, None)
        assert client.process.stdin is not None
        client.process.stdin.close()
        returncode = client.process.wait(timeout=EXIT_WAIT_S)
    finally:
        client.close()
    assert returncode == status
