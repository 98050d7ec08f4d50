"""``roost serve`` exits cleanly (its own exit status, not a signal: 0 after a shutdown, 1 without one, as
LSP says; no "terminate called without an active exception" from the C++ runtime) however the editor ends
the session while the in-process engine's thread runs.

A daemon thread still inside a torch operation when the interpreter finalizes is stopped by the runtime
from within C++ code that must not be unwound, and the process aborts (SIGABRT). The engine's worker
thread must therefore be stopped and joined before the process exits: by ``shutdown`` before it answers
(the client sends ``exit`` the moment it has the answer), and at exit when there was no shutdown or a
model load finished after it. Ending while the model loads is the case a test can hit every time: the
load completes while the server exits, and the engine's thread starts its first forward passes then.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from raw_client import RawClient

EXIT_WAIT_S = 120.0  # the tiny model loads in seconds; a loaded machine may take longer


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("mistral_common")
    from tiny_mistral import save_tiny_mistral

    return save_tiny_mistral(tmp_path_factory.mktemp("tiny-mistral"))


@pytest.mark.parametrize("ending", ["shutdown-then-exit", "client-gone"])
def test_ending_the_session_while_the_model_loads_exits_cleanly(
    tiny_model_dir: Path, tmp_path: Path, ending: str
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    text = "def add(a, b):\n    return a + b\n\n\nprint(add("
    (workspace / "app.py").write_text(text, encoding="utf-8")
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("wb") as stderr:
        client = RawClient(workspace, stderr=stderr)
    try:
        client.initialize(
            {
                "model": {"name": str(tiny_model_dir), "dtype": "float32", "device": "cpu"},
                "completion": {"debounce_ms": 0},
                "index": {"watch": False},
            }
        )
        uri = (workspace / "app.py").resolve().as_uri()
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        client.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "textDocument/inlineCompletion",
                "params": {
                    "textDocument": {"uri": uri},
                    "position": {"line": 4, "character": 10},
                    "context": {"triggerKind": 1},
                },
            }
        )
        client.wait_for(
            lambda m: m.get("method") == "roost/status" and m["params"]["state"] == "loading_model",
            timeout=60,
        )
        if ending == "shutdown-then-exit":
            client.request("shutdown", None, timeout=EXIT_WAIT_S)
            client.notify("exit", None)
        else:  # the editor crashed or closed the pipe: no shutdown, no exit
            assert client.process.stdin is not None
            client.process.stdin.close()
        returncode = client.process.wait(timeout=EXIT_WAIT_S)
    finally:
        client.close()
    output = stderr_path.read_text(errors="replace")
    assert "terminate called" not in output, output[-3000:]
    # An abort would be -6 (SIGABRT); a client gone without a shutdown gets LSP's 1.
    assert returncode == (0 if ending == "shutdown-then-exit" else 1), output[-3000:]


def test_the_shutdown_answer_waits_for_the_shutdown_hooks(tmp_path: Path) -> None:
    """The answer comes once every hook's work is done (here a hook that takes 0.3 s), not when it has
    merely been started: the ``exit`` that follows it would otherwise cut that work short."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    done = tmp_path / "shutdown-done"
    server = Path(__file__).resolve().parent.parent / "servers" / "slow_shutdown_hook_server.py"
    client = RawClient(
        workspace, env={"ROOST_TEST_SHUTDOWN_DONE": str(done)}, command=[sys.executable, str(server)]
    )
    try:
        client.initialize()
        client.request("shutdown", None)
        assert done.exists()
        client.notify("exit", None)
        assert client.process.wait(timeout=EXIT_WAIT_S) == 0
    finally:
        client.close()
