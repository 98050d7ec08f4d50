"""Issue "quality", edits: what a chat model wraps around an edit (fences, chatter, the file's imports
pasted back on top) never reaches the code that replaces the selection."""

from __future__ import annotations

from roost.engine.prompts.edit import parse_edit_blocks, trim_echoed_context

BEFORE = "import os\nfrom typing import Any\n\n\n"
SELECTION = "def total(items):\n    return sum(items)\n"
AFTER = "\n\nprint(total([1]))\n"


def _replacement(answer: str) -> str:
    (block,) = parse_edit_blocks(answer)
    assert block.path is None
    return trim_echoed_context(block.replace, BEFORE, SELECTION, AFTER)


def test_a_fenced_answer_with_chatter_gives_only_the_code() -> None:
    # An unterminated fence (the model ran out of tokens) with chatter before it: the observed failure.
    answer = (
        "Sure! Here is the code with a docstring:\n```py\n"
        'def total(items):\n    """Sum of the items."""\n    return sum(items)\n'
    )
    code = _replacement(answer)
    assert code == 'def total(items):\n    """Sum of the items."""\n    return sum(items)'
    assert "```" not in code and "Sure" not in code


def test_chatter_after_a_closed_fence_is_dropped() -> None:
    answer = "```python\ndef total(items):\n    return sum(items)\n```\nThis keeps the behaviour.\n"
    assert _replacement(answer) == "def total(items):\n    return sum(items)"


def test_import_lines_copied_from_the_top_of_the_file_are_not_inserted() -> None:
    # The first line of the selection changed (type hints), so it cannot anchor the echo trimming.
    answer = (
        "```py\nimport os\nfrom typing import Any\n\n"
        "def total(items: list[Any]) -> Any:\n    return sum(items)\n```"
    )
    code = _replacement(answer)
    assert code == "def total(items: list[Any]) -> Any:\n    return sum(items)"


def test_imports_of_the_selection_itself_are_kept() -> None:
    selection = "import os\nimport sys\n"
    answer = "```python\nimport os\nimport sys\nimport json\n```"
    (block,) = parse_edit_blocks(answer)
    assert (
        trim_echoed_context(block.replace, "", selection, "\nx = 1\n") == "import os\nimport sys\nimport json"
    )
