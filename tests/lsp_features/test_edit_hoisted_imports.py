"""A rewritten selection that starts with new import lines: they go to the file's imports, not into the
middle of the module. Found driving the server: "convert to a dataclass" on a class below a function put
``from dataclasses import dataclass`` right above the class (ruff E402 once accepted), "add type hints" a
``from typing import ...`` above the function."""

from __future__ import annotations

import ast
from pathlib import Path

from roost.engine.gate.gate import Gate
from roost.lsp.core.model_edits import Proposal, build_proposal
from roost.lsp.core.workspace_documents import Documents, OpenDocument, Snapshot

TEXT = (
    "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd)\n\n\n"
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
)
CLASS = TEXT[TEXT.index("class Point") :]
DATACLASS = "@dataclass\nclass Point:\n    x: float\n    y: float\n"


def _proposal(answer: str, text: str, selection: tuple[int, int]) -> Proposal:
    root = Path("/w")
    documents = Documents(
        root, lambda path: OpenDocument(text, 1, "python") if path == root / "m.py" else None
    )
    return build_proposal(answer, documents, Snapshot("m.py", text, 1, "python"), selection, Gate())


def test_a_new_import_goes_after_the_files_imports() -> None:
    answer = f"I will use a dataclass.\n```python\nfrom dataclasses import dataclass\n\n{DATACLASS}```"
    start = TEXT.index("class Point")
    (edit,) = _proposal(answer, TEXT, (start, len(TEXT))).edits
    after = edit.apply()
    assert after == (
        "import subprocess\nfrom dataclasses import dataclass\n\n\ndef run(cmd):\n    return subprocess.call(cmd)"
        "\n\n\n" + DATACLASS
    )
    ast.parse(after)


def test_the_selections_leading_blank_lines_stay() -> None:
    answer = f"```python\nfrom dataclasses import dataclass\n\n{DATACLASS}```"
    start = TEXT.index("\n\nclass Point") + 1  # the blank line above the class is selected too
    (edit,) = _proposal(answer, TEXT, (start, len(TEXT))).edits
    assert edit.apply().endswith("subprocess.call(cmd)\n\n\n" + DATACLASS)


def test_without_imports_above_the_selection_the_answer_is_kept_as_it_is() -> None:
    text = "def run(cmd):\n    return cmd\n\n\n" + CLASS
    answer = f"```python\nfrom dataclasses import dataclass\n\n{DATACLASS}```"
    start = text.index("class Point")
    (edit,) = _proposal(answer, text, (start, len(text))).edits
    assert edit.apply() == text[:start] + "from dataclasses import dataclass\n\n" + DATACLASS
