"""The ``roost context`` contract, the budget under the real tokenizer, and secrets kept out of prompts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = {
    "pkg/__init__.py": "from .geometry import Rectangle\n",
    "pkg/geometry.py": '''
        class Rectangle:
            """An axis-aligned rectangle."""

            def __init__(self, width: float, height: float) -> None:
                self.width = width
                self.height = height

            def area(self) -> float:
                return self.width * self.height

            def perimeter(self) -> float:
                return 2 * (self.width + self.height)
        ''',
    "pkg/settings.py": """
        DATABASE_PASSWORD = "Zr8#vQ2!mLx9@Tn4$Wp7&Yc3"
        GITHUB_TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
        TIMEOUT_SECONDS = 30


        def connect_url(host: str) -> str:
            return f"postgres://app:{DATABASE_PASSWORD}@{host}/db"
        """,
    ".env": "API_KEY=sk-live-0123456789abcdefghijklmnopqrstuv\n",
    "credentials.py": "def service_key() -> str:\n    return 'AKIAIOSFODNN7EXAMPLE'\n",
    "main.py": """
        from pkg import Rectangle
        from pkg.settings import connect_url, TIMEOUT_SECONDS
        from credentials import service_key


        def report(w, h):
            box = Rectangle(w, h)
            url = connect_url("db.internal")
            key = service_key()
            return box.
        """,
}
SECRET_VALUES = (
    "Zr8#vQ2!mLx9@Tn4$Wp7&Yc3",
    "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "sk-live-0123456789abcdefghijklmnopqrstuv",
    "AKIAIOSFODNN7EXAMPLE",
)


def _model_dir() -> Path:
    try:
        from roost.engine.models.default import ensure_default_model

        return ensure_default_model()
    except Exception as error:  # the demo extra (model parts) is not installed
        pytest.skip(f"the default model's tokenizer is not available: {error}")


def _roost(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roost.lsp.cli", "context", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(make_project) -> Path:
    return make_project(PROJECT)


def _main_position(root: Path) -> tuple[int, int]:
    lines = (root / "main.py").read_text().split("\n")
    line = next(i for i, text in enumerate(lines) if text.strip() == "return box.")
    return line + 1, len(lines[line]) + 1


def test_listing_shows_choices_reasons_and_prompt(project, half_typed_buffers):
    _model_dir()
    line, col = _main_position(project)
    done = _roost(str(project), f"main.py:{line}:{col}", "--budget", "1024")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "pkg/geometry.py:1-" in out and "type of `box`" in out
    assert "<|fim_prefix|>" in out and "<|file_sep|>pkg/geometry.py" in out


def test_json_and_buffer_override(project, tmp_path, half_typed_buffers):
    _model_dir()
    buffer = tmp_path / "unsaved.py"
    buffer.write_text("from pkg.geometry import Rectangle\n\nr = Rectangle(1, 2)\nr.")
    done = _roost(str(project), "main.py:4:3", "--buffer", str(buffer), "--json", "--budget", "1024")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    first = payload["items"][0]
    assert first["path"] == "pkg/geometry.py" and first["start_line"] == 1 and first["kind"] == "type"
    assert {"path", "start_line", "end_line", "kind", "score", "tokens", "reason", "text"} <= set(first)
    assert payload["prompt_tokens"] <= 1024 and payload["ms"] >= 0
    # The in-process model's prompt: suffix first, the cursor's partial token (".") left to the model.
    assert payload["prompt"].endswith(
        "<|fim_middle|>from pkg.geometry import Rectangle\n\nr = Rectangle(1, 2)\nr"
    )
    assert payload["forced_start"] == "."


def test_batch_contract_with_bad_lines(project):
    _model_dir()
    line, col = _main_position(project)
    buffer = (project / "main.py").read_text()
    lines = [
        json.dumps({"file": "main.py", "line": line, "col": col, "buffer": buffer}),
        "this is not json",
        json.dumps({"file": "main.py", "line": 999, "col": 1, "buffer": buffer}),
        json.dumps({"file": "main.py", "line": 1}),
        json.dumps({"file": ".env", "line": 1, "col": 1, "buffer": "API_KEY=x"}),
        json.dumps({"file": "main.py", "line": 1, "col": 1, "buffer": buffer}),
    ]
    done = _roost(str(project), "--batch", "--budget", "512", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    answers = [json.loads(raw) for raw in done.stdout.splitlines()]
    assert len(answers) == 6
    good = answers[0]
    assert set(good) == {"items", "prompt_tokens", "ms"}
    assert good["prompt_tokens"] <= 512
    for item in good["items"]:
        assert set(item) == {"path", "start_line", "end_line", "kind", "score", "tokens"}
        assert 1 <= item["start_line"] <= item["end_line"]
    scores = [item["score"] for item in good["items"]]
    assert scores == sorted(scores, reverse=True)
    assert "invalid JSON" in answers[1]["error"]
    assert "past the end" in answers[2]["error"]
    assert "missing keys" in answers[3]["error"]
    assert "secret" in answers[4]["error"]
    assert "items" in answers[5]


def test_position_errors_are_clear(project):
    done = _roost(str(project), "main.py:zero:1")
    assert done.returncode == 2 and "integers" in done.stderr
    done = _roost(str(project / "nope"), "main.py:1:1")
    assert done.returncode == 2 and "not a directory" in done.stderr


@pytest.mark.parametrize("budget", [256, 700, 2048])
def test_budget_never_exceeded_with_the_real_tokenizer(project, budget, half_typed_buffers):
    from roost.context.retrieval import RetrievalRequest
    from roost.engine.gate.secrets import redact
    from roost.engine.prompts import BudgetSplit, TransformersTokenCounter
    from roost.lsp.cli.commands.context import ContextPipeline

    counter = TransformersTokenCounter.from_pretrained(_model_dir())
    line, col = _main_position(project)
    pipeline = ContextPipeline(project, budget)
    answer = pipeline.answer("main.py", line, col, None)
    assert counter.count(answer.prompt) <= budget
    assert answer.prompt_tokens <= budget

    from retrieval_fixtures import retriever_for

    retriever = retriever_for(project, redact=redact)
    text = (project / "main.py").read_text()
    budgets = BudgetSplit().token_budgets(budget)
    result = retriever.retrieve(
        RetrievalRequest("main.py", text, line - 1, col - 1),
        counter.count,
        budgets.context,
        prefix_budget=budgets.prefix,
        suffix_budget=budgets.suffix,
    )
    assert result.items, "something fits in every budget tried"
    assert sum(counter.count(item.text) for item in result.items) <= result.tokens <= budgets.context


def test_secret_files_and_values_never_reach_a_prompt(project, half_typed_buffers):
    from retrieval_fixtures import retriever_for

    from roost.context.retrieval import RetrievalRequest
    from roost.engine.gate.secrets import redact
    from roost.lsp.cli.commands.context import ContextPipeline

    line, col = _main_position(project)
    text = (project / "main.py").read_text()
    retriever = retriever_for(project, redact=redact)
    request = RetrievalRequest("main.py", text, line - 1, col - 1)
    # The settings module is a candidate (connect_url is used nearby) but its secret values are redacted.
    candidates = retriever.candidates(request)
    assert any(c.path == "pkg/settings.py" for c in candidates)
    assert all(c.path not in (".env", "credentials.py") for c in candidates)
    result = retriever.retrieve(request, len, 20_000)
    rendered = "\n".join(item.text for item in result.items)
    assert "pkg/settings.py" in {item.path for item in result.items}
    for value in SECRET_VALUES:
        assert value not in rendered

    _model_dir()
    answer = ContextPipeline(project, 4096).answer("main.py", line, col, None)
    for value in SECRET_VALUES:
        assert value not in answer.prompt
    assert "credentials.py" not in {item.path for item in answer.items}
