""" "Edit selection by instruction" offers the instructions that mean something in the file's language.
Found driving the server: on a Markdown selection it offered all four, and "convert to a dataclass" replaced
the text with a Python class; "add type hints" in JavaScript asks for TypeScript, a dataclass in Go or
TypeScript does not exist."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from roost.engine.gate.gate import Gate
from roost.lsp.core.code_actions import CodeActions, EditSelection
from roost.lsp.core.text_edits import LineCharacter
from roost.lsp.core.workspace_documents import Documents, OpenDocument

TEXT = "first line\nsecond line\nthird line\n"


def _instructions(tmp_path: Path, name: str, language_id: str) -> list[str]:
    (tmp_path / name).write_text(TEXT)
    documents = Documents(
        tmp_path, lambda path: OpenDocument(TEXT, 1, language_id) if path.name == name else None
    )
    services: Any = SimpleNamespace(index_service=None, gate=Gate(), workspace_secrets=frozenset())
    planned = CodeActions(services, documents, lambda path: None).plan(
        name, LineCharacter(0, 0), LineCharacter(2, 0)
    )
    return [action.instruction for action in planned if isinstance(action, EditSelection)]


@pytest.mark.parametrize(
    ("name", "language_id", "expected"),
    [
        ("notes.md", "markdown", []),
        ("notes.txt", "plaintext", []),
        ("config.json", "json", []),
        ("app.js", "javascript", ["add a docstring", "make it async"]),
        ("app.ts", "typescript", ["add type hints", "add a docstring", "make it async"]),
        ("main.go", "go", ["add a docstring"]),
        ("Main.java", "java", ["add a docstring"]),
        ("lib.c", "c", ["add a docstring"]),
        (
            "tool.py",
            "python",
            ["add type hints", "add a docstring", "make it async", "convert to a dataclass"],
        ),
    ],
)
def test_the_instructions_offered_fit_the_language(
    tmp_path: Path, name: str, language_id: str, expected: list[str]
) -> None:
    assert _instructions(tmp_path, name, language_id) == expected


def test_a_file_without_a_language_id_is_known_by_its_path(tmp_path: Path) -> None:
    assert _instructions(tmp_path, "notes.md", "") == []
    assert "convert to a dataclass" in _instructions(tmp_path, "tool.py", "")
