"""The edit contract: the chat prompt for model-driven edits and the parser of the answers it asks for."""

from __future__ import annotations

from roost.engine.prompts.edit import (
    EDIT_SYSTEM_PROMPT,
    EditRequest,
    RelatedCode,
    asks_for_a_fix,
    code_of_answer,
    echoes_surroundings,
    edit_messages,
    parse_edit_blocks,
    trim_echoed_context,
)


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


def test_echoed_surroundings_are_trimmed() -> None:
    before = "import os\n\n\n"
    selection = "def f(x):\n    return x\n"
    after = "\n\nVALUE = f(1)\n"
    answer = "import os\n\n\ndef f(x: int) -> int:\n    return x\n\n\nVALUE = f(1)"
    # The first line changed, but the head is the file's own import: it is dropped; the echoed tail is cut.
    assert trim_echoed_context(answer, before, selection, after) == "def f(x: int) -> int:\n    return x"
    answer = "import os\n\n\ndef f(x):\n    return x + 1\n\n\nVALUE = f(1)"
    assert trim_echoed_context(answer, before, selection, after) == "def f(x):\n    return x + 1"


def test_an_answer_that_mostly_repeats_the_surroundings_is_recognised() -> None:
    before, selection, after = "import os\n\nA = 1\nB = 2\n", "def f():\n    pass\n", "C = 3\n"
    assert echoes_surroundings("A = 1\nB = 2\nC = 3\ndef f():", before, selection, after)
    assert not echoes_surroundings("def f():\n    return 1", before, selection, after)


def test_messages_show_only_the_selection_with_related_code_and_the_conversation() -> None:
    request = EditRequest(
        instruction="and a docstring",
        path="pkg/m.py",
        language="python",
        before="SECRET_AROUND = 1\n",
        selection="def f(x):\n    return x\n",
        after="",
        related=[RelatedCode("pkg/use.py", "f(1)", "uses f")],
        findings=["B101 assert used"],
        history=[("add type hints", "```python\ndef f(x: int) -> int:\n    return x\n```")],
        imports="import os\n",
    )
    messages = edit_messages(request)
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[0].content == EDIT_SYSTEM_PROMPT
    first = messages[1].content
    assert "pkg/use.py (uses f):\n```python\nf(1)\n```" in first
    assert "Imports of pkg/m.py:\n```python\nimport os\n```" in first
    assert "Code to change, from pkg/m.py:\n```python\ndef f(x):\n    return x\n```" in first
    assert "- B101 assert used" in first
    assert first.endswith("Instruction: add type hints")  # the first turn's instruction
    assert "SECRET_AROUND" not in first  # code around the selection is not shown
    assert messages[2].content.startswith("```python\ndef f(x: int)")
    assert messages[3].content == "and a docstring"


def test_an_edit_of_the_selection_alone_is_asked_as_a_plain_chat() -> None:
    # No related code: the instruction, then the code in a fence, and no system prompt of ours, file name
    # or imports (the shape in which the 0.5B changes the code of "fix the bug" as often as a plain chat).
    request = EditRequest(
        instruction="now add a docstring",
        path="pkg/m.py",
        language="python",
        before="import os\n\nSECRET_AROUND = 1\n",
        selection="def f(x):\n    return x - 1\n",
        after="",
        findings=["B101 assert used"],
        history=[("fix the bug", "The bug is the `- 1`.\n```python\ndef f(x):\n    return x\n```")],
        imports="import os\n",
    )
    messages = edit_messages(request)
    assert [m.role for m in messages] == ["user", "assistant", "user"]
    assert messages[0].content == (
        "fix the bug\n\n```python\ndef f(x):\n    return x - 1\n```\n\n"
        "Problems found in this code:\n- B101 assert used"
    )
    assert messages[1].content.startswith("The bug is")
    assert messages[2].content == "now add a docstring"
    (alone,) = edit_messages(EditRequest("fix the bug", "pkg/m.py", "python", "", "x = 1\n", ""))
    assert alone.role == "user" and alone.content == "fix the bug\n\n```python\nx = 1\n```"


def test_only_a_fix_is_asked_plainly_and_additive_instructions_keep_the_contract() -> None:
    assert asks_for_a_fix("fix the bug") and asks_for_a_fix("This returns the wrong total")
    assert asks_for_a_fix("it fails on an empty list") and asks_for_a_fix("Fix this security finding: B602")
    assert not asks_for_a_fix("add type hints to this function")
    assert not asks_for_a_fix("add error handling") and not asks_for_a_fix("better error messages, please")
    assert asks_for_a_fix("it raises an error on None") and asks_for_a_fix("errors out on None")
    assert not asks_for_a_fix("add a docstring that explains this code") and not asks_for_a_fix("prefix it")
    hints = edit_messages(EditRequest("add type hints", "pkg/m.py", "python", "", "x = 1\n", ""))
    assert [m.role for m in hints] == ["system", "user"] and hints[0].content == EDIT_SYSTEM_PROMPT
    assert hints[1].content.endswith("Instruction: add type hints")


def test_the_sentence_before_the_code_and_its_quoted_line_never_reach_the_code() -> None:
    # The contract asks for one sentence about the change first; a model may quote the changed line in a
    # fence of its own there. The new selection is the block that has the selection's first line.
    selection = "def same(a, b):\n    return set(a) != set(b)\n"
    answer = (
        "The comparison is inverted:\n```python\nreturn set(a) == set(b)\n```\nHere is the code:\n"
        "```python\ndef same(a, b):\n    return set(a) == set(b)\n```\nThis compares the sets."
    )
    (block,) = parse_edit_blocks(answer, selection)
    assert block.path is None and block.replace == "def same(a, b):\n    return set(a) == set(b)"
    # Without a block that has the selection's first line, the first block with code is the answer.
    assert code_of_answer("Fixed:\n```\n```\n```py\nx = 2\n```", "x = 1\n") == "x = 2"
    assert code_of_answer("x = 2", "x = 1\n") == "x = 2"


def test_the_system_prompt_asks_for_one_sentence_then_the_whole_new_code() -> None:
    assert "first say in one short sentence what you will change" in EDIT_SYSTEM_PROMPT
    assert "complete new version of the code to change in one fenced code block" in EDIT_SYSTEM_PROMPT
