"""``roost complete`` as a user runs it: a subprocess that starts the real server on ``examples/`` and asks
it for one inline completion (real index, retrieval, prompt, model, post-processing and gate)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from roost.lsp.cli.commands.complete import CompleteError, resolve_cursor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROOST = [sys.executable, "-m", "roost.lsp.cli", "complete"]


def run_complete(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ROOST, *args], capture_output=True, text=True, timeout=timeout)


def default_model_installed() -> bool:
    from roost.engine.models.default import DEFAULT_MODEL_NAME, installed_packaged_models

    return DEFAULT_MODEL_NAME in installed_packaged_models()


# -- bad input: a clear message and exit status 2, before any server or model is started ----------------


@pytest.mark.parametrize(
    ("position", "message"),
    [
        ("shop/services/checkout.py", "expected FILE:LINE:COL"),
        ("shop/services/checkout.py:x:1", "must be integers"),
        ("shop/services/checkout.py:0:1", "1-based"),
        ("shop/services/checkout.py:999:1", "line 999 is past the end"),
        ("shop/services/checkout.py:1:500", "column 500 is past the end of line 1"),
        ("../setup.py:1:1", "outside the workspace"),
        ("shop/services/no_such_file.py:1:1", "cannot read shop/services/no_such_file.py"),
    ],
)
def test_bad_cursor_is_a_clear_error(position: str, message: str) -> None:
    with pytest.raises(CompleteError, match=message):
        resolve_cursor(str(EXAMPLES), position, None)


def test_cursor_columns_are_characters_sent_as_utf16(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("s = '𝔘x'\n", encoding="utf-8")
    cursor = resolve_cursor(str(tmp_path), "a.py:1:8", None)  # after the x
    assert (cursor.rel_path, cursor.line, cursor.col) == ("a.py", 1, 8)
    assert cursor.lsp_character == 8  # 𝔘 is two UTF-16 code units


def test_missing_file_exits_2_without_starting_a_server() -> None:
    result = run_complete(str(EXAMPLES), "shop/nowhere.py:1:1", timeout=60)
    assert result.returncode == 2
    assert "roost complete: cannot read shop/nowhere.py" in result.stderr
    assert result.stdout == ""


def test_missing_buffer_and_bad_root_exit_2(tmp_path: Path) -> None:
    result = run_complete(str(EXAMPLES), "shop/cli.py:1:1", "--buffer", str(tmp_path / "gone.py"), timeout=60)
    assert result.returncode == 2 and f"cannot read --buffer {tmp_path / 'gone.py'}" in result.stderr
    result = run_complete(str(tmp_path / "no-root"), "a.py:1:1", timeout=60)
    assert result.returncode == 2 and "is not a directory" in result.stderr


def test_unreachable_model_server_exits_1_with_the_editors_message() -> None:
    # The whole path runs (server, index, pipeline); only the model server is missing.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}/v1"
    result = run_complete(
        str(EXAMPLES),
        "shop/services/checkout.py:22:19",
        "--endpoint",
        endpoint,
        "--model",
        "qwen2.5-coder",
        "--json",
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    answer = json.loads(result.stdout)
    assert answer["verdict"] == "unavailable" and answer["suggestion"] is None
    assert f"the model server at {endpoint} cannot be reached" in answer["message"]
    assert "Ignoring notification" not in result.stderr


# -- the real model ----------------------------------------------------------------------------------


@pytest.mark.model
def test_completion_uses_a_definition_from_another_file(tmp_path: Path) -> None:
    if not default_model_installed():
        pytest.skip("the offline default model is not installed (pip install 'roost[demo]')")
    checkout = (EXAMPLES / "shop/services/checkout.py").read_text(encoding="utf-8")
    buffer = checkout + "\n\ndef total_cents(cart) -> int:\n    return price_cart(cart)."
    (tmp_path / "checkout.py").write_text(buffer, encoding="utf-8")
    line = buffer.count("\n") + 1
    col = len(buffer.split("\n")[-1]) + 1
    result = run_complete(
        str(EXAMPLES),
        f"shop/services/checkout.py:{line}:{col}",
        "--buffer",
        str(tmp_path / "checkout.py"),
        "--json",
        "--max-tokens",
        "8",
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["source"] == "model" and answer["verdict"] == "passed"
    assert answer["suggestion"] and answer["suggestion"] == answer["suggestions"][0]
    # The context came from the graph: price_cart is defined in pricing.py, not in the buffer.
    assert any(
        item["path"] == "shop/services/pricing.py" and item["kind"] == "definition"
        for item in answer["context"]
    )
    assert all(item["start_line"] >= 1 for item in answer["context"])
    for stage in ("retrieval", "prompt", "model", "postprocess", "gate", "total"):
        assert answer["timings_ms"][stage] >= 0.0
    assert answer["timings_ms"]["model"] > 0.0
    # The file on disk is untouched: the buffer travelled only over the protocol.
    assert (EXAMPLES / "shop/services/checkout.py").read_text(encoding="utf-8") == checkout


@pytest.mark.model
def test_insecure_suggestion_is_blocked_and_reported(tmp_path: Path) -> None:
    if not default_model_installed():
        pytest.skip("the offline default model is not installed (pip install 'roost[demo]')")
    buffer = (
        '"""Running maintenance commands."""\n\nimport subprocess\n\n\n'
        'def run(command: str) -> int:\n    """Run a command line typed by the user."""\n'
        "    return subprocess.call(command, shell="
    )
    (tmp_path / "runner.py").write_text(buffer, encoding="utf-8")
    line, col = buffer.count("\n") + 1, len(buffer.split("\n")[-1]) + 1
    # A file that does not exist on disk yet: the buffer is the document, as for a new editor tab.
    position = f"shop/services/runner.py:{line}:{col}"
    result = run_complete(
        str(EXAMPLES), position, "--buffer", str(tmp_path / "runner.py"), "--timings", "--max-tokens", "8"
    )
    assert result.returncode == 0, result.stderr
    # Greedy decoding of the 0.5B model suggests ``True)``; whatever it suggests, nothing with
    # shell=True reaches stdout, and a blocked suggestion is explained with bandit's test id.
    assert "True" not in result.stdout
    if "the gate blocked" in result.stderr:
        assert "B602" in result.stderr and result.stdout == ""
    assert "stage timings (ms):" in result.stderr and " gate " in result.stderr
    assert not (EXAMPLES / "shop/services/runner.py").exists()


def test_secret_file_is_refused_and_nothing_reaches_the_model(tmp_path: Path) -> None:
    """The server's document policy applies to the command as to the editor: an empty answer, the
    reason, exit status 0, and no request to the model."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lsp_features"))
    from fake_openai import FakeOpenAI

    root = tmp_path / "ws"
    root.mkdir()
    (root / ".env").write_text("AWS_ACCESS_KEY_ID=AKIAZ7RM2KX4TQW9B3NV\nDATABASE_NAME=plain-env-value\n")
    with FakeOpenAI(rules=[("", "pass")]) as fake:
        result = run_complete(str(root), ".env:2:5", "--endpoint", fake.endpoint, "--json", "--timeout", "60")
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert (answer["verdict"], answer["suggestion"]) == ("refused", None)
        assert "secret files (.env)" in answer["message"]
        assert fake.requests == []
