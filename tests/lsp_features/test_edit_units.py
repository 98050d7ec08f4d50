"""Edit handling without a server: tolerant location, exact verification, proposals from answers (the
answer parser itself is tested in tests/engine_prompts/test_edit_contract.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from roost.engine.gate.gate import Gate
from roost.lsp.core.model_edits import SENTENCE_TOKENS, Proposal, answer_token_budget, build_proposal
from roost.lsp.core.text_edits import (
    EditError,
    FileEdit,
    TextReplacement,
    locate,
    position_at,
    verify,
)
from roost.lsp.core.workspace_documents import Documents, OpenDocument, Snapshot

TEXT = "def a():\n    return 1\n\n\ndef b():\n    return 2\n"


def _proposal(answer: str, text: str, selection: tuple[int, int]) -> Proposal:
    """The proposal for ``answer`` with ``text`` open as m.py (version 1) and ``selection`` selected."""
    root = Path("/w")
    documents = Documents(
        root, lambda path: OpenDocument(text, 1, "python") if path == root / "m.py" else None
    )
    return build_proposal(answer, documents, Snapshot("m.py", text, 1, "python"), selection, Gate())


def test_locate_tolerates_indentation_and_trailing_space_then_is_exact() -> None:
    start, end = locate(TEXT, "def b():\nreturn 2   ")
    assert TEXT[start:end] == "def b():\n    return 2"
    with pytest.raises(EditError, match="not found"):
        locate(TEXT, "def c():")


def test_verification_refuses_stale_or_overlapping_edits() -> None:
    edit = FileEdit("x.py", 3, TEXT, (TextReplacement(0, 3, "async def"),))
    verify(edit, TEXT)
    with pytest.raises(EditError, match="changed"):
        verify(edit, TEXT + "# edited\n")
    overlapping = FileEdit("x.py", 3, TEXT, (TextReplacement(0, 5, "a"), TextReplacement(3, 8, "b")))
    with pytest.raises(EditError, match="overlap"):
        verify(overlapping, TEXT)


def test_positions_are_utf16() -> None:
    text = "s = '😀'\nx = 1\n"
    assert position_at(text, text.index("'", 5) + 1).character == 8  # the emoji is two UTF-16 units


def test_a_reinvented_class_before_the_selection_is_dropped() -> None:
    text = "class Money:\n    cents: int = 0\n\n\ndef show(amount: Money) -> str:\n    return str(amount.cents)\n"
    start = text.index("def show")
    answer = (
        "```python\nclass Money:\n    cents: int\n\n"
        "def show(amount: Money) -> str:\n    if amount.cents < 0:\n        raise ValueError\n"
        "    return str(amount.cents)\n```"
    )
    proposal = _proposal(answer, text, (start, len(text)))
    (edit,) = proposal.edits
    assert edit.apply() == text.replace(
        "def show(amount: Money) -> str:\n",
        "def show(amount: Money) -> str:\n    if amount.cents < 0:\n        raise ValueError\n",
    )


def test_a_sentence_quoting_the_fixed_line_before_the_whole_function_edits_the_whole_function() -> None:
    # The edit contract asks for one sentence first; the line it quotes is not the new selection.
    text = "import os\n\n\ndef same(a, b):\n    return set(a) != set(b)\n"
    start = text.index("def same")
    answer = (
        "The comparison is inverted; it should be:\n```python\nreturn set(a) == set(b)\n```\n"
        "```python\ndef same(a, b):\n    return set(a) == set(b)\n```"
    )
    proposal = _proposal(answer, text, (start, len(text)))
    (edit,) = proposal.edits
    assert edit.apply() == text.replace("!=", "==")


def test_the_answer_budget_leaves_room_for_the_sentence_before_the_code() -> None:
    assert answer_token_budget(100) == 2 * 100 + 96 + SENTENCE_TOKENS
    assert answer_token_budget(0) == 96 + SENTENCE_TOKENS
    assert answer_token_budget(1000) == 768


def test_an_edit_that_leaves_the_function_without_its_body_is_refused_with_the_reason() -> None:
    # edit_bench's hints task HumanEval/16: the answer was the new signature and docstring, no body.
    text = 'def count(text):\n    """How many distinct characters."""\n    return len(set(text.lower()))\n'
    answer = (
        "This adds the type hints.\n"
        '```python\ndef count(text: str) -> int:\n    """How many distinct characters."""\n```'
    )
    proposal = _proposal(answer, text, (0, len(text)))
    assert proposal.edits == []
    assert any("leaves `count` without a body" in problem for problem in proposal.problems)
    hinted = answer.replace('."""\n```', '."""\n    return len(set(text.lower()))\n```')
    (edit,) = _proposal(hinted, text, (0, len(text))).edits
    assert edit.apply().startswith("def count(text: str) -> int:\n")
