"""Edit handling without a server: parsing model answers, tolerant location, exact verification."""

from __future__ import annotations

import pytest

from roost.lsp.edits import (
    EditError,
    FileEdit,
    TextReplacement,
    locate,
    parse_edit_blocks,
    position_at,
    trim_echoed_context,
    verify,
)

TEXT = "def a():\n    return 1\n\n\ndef b():\n    return 2\n"


def test_edit_blocks_with_paths_and_a_plain_fenced_answer() -> None:
    answer = (
        "Here you go:\npkg/one.py\n<<<<<<< SEARCH\n    return 1\n=======\n    return 10\n>>>>>>> REPLACE\n"
        "pkg/two.py\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n"
    )
    blocks = parse_edit_blocks(answer)
    assert [(b.path, b.search, b.replace) for b in blocks] == [
        ("pkg/one.py", "    return 1", "    return 10"),
        ("pkg/two.py", "x = 1", "x = 2"),
    ]
    (fenced,) = parse_edit_blocks("Sure.\n```python\ndef a() -> int:\n    return 1\n```\nDone.")
    assert fenced.path is None and fenced.replace == "def a() -> int:\n    return 1"


def test_locate_tolerates_indentation_and_trailing_space_then_is_exact() -> None:
    start, end = locate(TEXT, "def b():\nreturn 2   ")
    assert TEXT[start:end] == "def b():\n    return 2"
    with pytest.raises(EditError, match="not found"):
        locate(TEXT, "def c():")


def test_verification_refuses_stale_or_overlapping_edits() -> None:
    edit = FileEdit("file:///x.py", "x.py", 3, TEXT, (TextReplacement(0, 3, "async def"),))
    verify(edit, TEXT)
    with pytest.raises(EditError, match="changed"):
        verify(edit, TEXT + "# edited\n")
    overlapping = FileEdit(
        "file:///x.py", "x.py", 3, TEXT, (TextReplacement(0, 5, "a"), TextReplacement(3, 8, "b"))
    )
    with pytest.raises(EditError, match="overlap"):
        verify(overlapping, TEXT)


def test_positions_are_utf16() -> None:
    text = "s = '😀'\nx = 1\n"
    assert position_at(text, text.index("'", 5) + 1).character == 8  # the emoji is two UTF-16 units


def test_echoed_surroundings_are_trimmed() -> None:
    before = "import os\n\n\n"
    selection = "def f(x):\n    return x\n"
    after = "\n\nVALUE = f(1)\n"
    answer = "import os\n\n\ndef f(x: int) -> int:\n    return x\n\n\nVALUE = f(1)"
    # The first line changed, so the echoed head cannot be told apart and is kept; the echoed tail is cut.
    assert (
        trim_echoed_context(answer, before, selection, after)
        == "import os\n\n\ndef f(x: int) -> int:\n    return x"
    )
    answer = "import os\n\n\ndef f(x):\n    return x + 1\n\n\nVALUE = f(1)"
    assert trim_echoed_context(answer, before, selection, after) == "def f(x):\n    return x + 1"


def test_a_reinvented_class_before_the_selection_is_dropped() -> None:
    from roost.engine.gate.gate import Gate
    from roost.lsp.model_edits import Snapshot, build_proposal

    text = "class Money:\n    cents: int = 0\n\n\ndef show(amount: Money) -> str:\n    return str(amount.cents)\n"
    start = text.index("def show")
    answer = (
        "```python\nclass Money:\n    cents: int\n\n"
        "def show(amount: Money) -> str:\n    if amount.cents < 0:\n        raise ValueError\n"
        "    return str(amount.cents)\n```"
    )
    snapshot = Snapshot("file:///w/m.py", "m.py", text, 1, "python")
    documents = type("Docs", (), {"snapshot": lambda self, uri: snapshot})()
    proposal = build_proposal(answer, documents, snapshot, (start, len(text)), Gate())
    (edit,) = proposal.edits
    assert edit.apply() == text.replace(
        "def show(amount: Money) -> str:\n",
        "def show(amount: Money) -> str:\n    if amount.cents < 0:\n        raise ValueError\n",
    )
