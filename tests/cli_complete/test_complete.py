"""``roost complete`` as a user runs it: a subprocess that runs the language server's core in process on
``examples/`` for one inline completion (real index, retrieval, prompt, model, post-processing and gate),
and the core's one-shot use case itself."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from roost.lsp.cli.commands.complete import CompleteError, resolve_cursor
from roost.lsp.core.completion.one_shot import OneShotDocument, complete_once
from roost.lsp.core.context_preview import workspace_config
from roost.lsp.core.events import ProgressReport, StatusState

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


def test_cursor_columns_are_characters(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\ns = '𝔘x'\n", encoding="utf-8")
    cursor = resolve_cursor(str(tmp_path), "a.py:2:8", None)  # after the x
    assert (cursor.rel_path, cursor.line, cursor.col) == ("a.py", 2, 8)
    document = cursor.document
    assert (document.line, document.col) == (1, 7)
    assert document.text[: document.offset] == "x = 1\ns = '𝔘x"  # 𝔘 is one character (two UTF-16 units)


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


def _fake_openai() -> type:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lsp_features"))
    from fake_openai import FakeOpenAI

    return FakeOpenAI


def test_excluded_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "generated").mkdir(parents=True)
    (root / "roost.toml").write_text('[completion]\nexclude = ["generated/**"]\n')
    (root / "generated" / "api.py").write_text("def handler():\n    return \n")
    with _fake_openai()(rules=[("", "42")]) as fake:
        result = run_complete(
            str(root), "generated/api.py:2:12", "--endpoint", fake.endpoint, "--json", "--timeout", "60"
        )
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert (answer["verdict"], answer["suggestion"]) == ("refused", None)
        assert "excluded files (generated/api.py" in answer["message"]
        assert fake.requests == []


def test_completes_in_process_with_status_and_progress_on_stderr(tmp_path: Path) -> None:
    """The whole path with a model server: index (with its status lines and progress on stderr), the
    graph's context, the prompt, the model, the gate; the JSON keeps its keys."""
    checkout = (EXAMPLES / "shop/services/checkout.py").read_text(encoding="utf-8")
    buffer = tmp_path / "checkout.py"
    buffer.write_text(checkout + "\n\ndef total_cents(cart) -> int:\n    return ", encoding="utf-8")
    line = buffer.read_text(encoding="utf-8").count("\n") + 1
    with _fake_openai()(rules=[("", "price_cart(cart).cents")]) as fake:
        result = run_complete(
            str(EXAMPLES),
            f"shop/services/checkout.py:{line}:12",
            "--buffer",
            str(buffer),
            "--endpoint",
            fake.endpoint,
            "--model",
            "qwen2.5-coder",
            "--json",
            "--timeout",
            "120",
        )
        assert result.returncode == 0, result.stderr
        assert len(fake.requests) == 1
    answer = json.loads(result.stdout)
    assert set(answer) == {
        "file", "line", "col", "suggestion", "suggestions", "source", "shape", "message", "verdict",
        "blocked", "context", "timings_ms", "client_ms",
    }  # fmt: skip
    assert (answer["suggestion"], answer["verdict"], answer["source"]) == (
        "price_cart(cart).cents",
        "passed",
        "model",
    )
    assert "shop/services/pricing.py" in {item["path"] for item in answer["context"]}
    assert set(answer["client_ms"]) == {"start_and_index", "request"}
    # The user sees what the services are doing: indexing with its progress, then ready.
    assert "Roost is indexing the workspace" in result.stderr
    assert "Roost: indexing: " in result.stderr and "files in" in result.stderr
    assert "Roost is ready (" in result.stderr
    assert "Traceback" not in result.stderr


# -- the core's one-shot use case, in this process -------------------------------------------------------


class RecordingEvents:
    """ServiceEvents that remember the statuses and errors sent, and the progress reports' titles."""

    def __init__(self) -> None:
        self.status_state: StatusState = "starting"
        self.status_message = ""
        self.states: list[StatusState] = []
        self.errors: list[str] = []
        self.progress_titles: list[str] = []

    def send_status(self, state: StatusState, message: str = "", percentage: int | None = None) -> None:
        self.status_state, self.status_message = state, message
        self.states.append(state)

    def show_error_once(self, key: str, message: str) -> None:
        self.errors.append(message)

    def progress_report(self, title: str) -> ProgressReport:
        self.progress_titles.append(title)
        return SilentProgress()


class SilentProgress:
    async def begin(self, message: str = "") -> None:
        return None

    def report(self, message: str, percentage: int | None = None) -> None:
        return None

    def end(self, message: str = "") -> None:
        return None


def _workspace(root: Path) -> OneShotDocument:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "util.py").write_text("def greeting(name: str) -> str:\n    return 'hi ' + name\n")
    text = "from pkg.util import greeting\n\nmessage = gre"
    (root / "pkg" / "main.py").write_text(text)
    return OneShotDocument(root.resolve(), "pkg/main.py", text, 2, len("message = gre"))


async def test_complete_once_indexes_then_answers_and_closes(tmp_path: Path) -> None:
    document = _workspace(tmp_path / "ws")
    events = RecordingEvents()
    with _fake_openai()(rules=[("", "eting('you')")]) as fake:
        config = workspace_config(
            document.root,
            {"backend": {"kind": "openai", "endpoint": fake.endpoint}, "model": {"name": "qwen2.5-coder"}},
        )
        result = await complete_once(document, config, events, timeout=60)
        assert len(fake.requests) == 1
    assert (result.outcome.source, result.outcome.texts) == ("model", ["eting('you')"])
    assert events.states[0] == "indexing" and "ready" in events.states
    assert "Roost: indexing" in events.progress_titles
    assert set(result.wall_ms) == {"start_and_index", "request"}


async def test_complete_once_refuses_a_secret_file_before_starting_anything(tmp_path: Path) -> None:
    root = (tmp_path / "ws").resolve()
    root.mkdir()
    text = "API_KEY=AKIAZ7RM2KX4TQW9B3NV\n"
    (root / ".env").write_text(text)
    events = RecordingEvents()
    document = OneShotDocument(root, ".env", text, 0, 4)
    result = await complete_once(document, workspace_config(root), events, timeout=60)
    assert result.outcome.source == "refused" and "secret files (.env)" in result.outcome.message
    assert events.states == [] and events.progress_titles == []  # no index, no backend


def test_a_timeout_during_the_model_load_is_told_at_once_and_the_loaded_engine_closed(tmp_path: Path) -> None:
    """``--timeout`` running out while the model loads: the user is told at once (not when the load ends),
    and the backend the load ends with is closed (its engine thread stopped) before the command exits."""
    document = _workspace(tmp_path / "ws")
    report_path = tmp_path / "report.json"
    command = [sys.executable, str(Path(__file__).with_name("slow_load_complete.py")), str(report_path)]
    position = f"{document.path}:{document.line + 1}:{document.col + 1}"
    result = subprocess.run(
        [*command, str(document.root), position, "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    assert report["load_started"], result.stderr  # the timeout ran out during the load, not the indexing
    assert report["rc"] == 1 and "the completion took longer than 5 s (--timeout)" in result.stderr
    assert report["told_before_load_ended"], "the timeout was told only once the model load had ended"
    assert report["closed"], "the backend loaded after the timeout was never closed"
    assert "fake-engine-worker" not in report["threads"]
