"""An edit answer that stops inside its closing fence (the bundled 0.5B's "fix the bug" on attrs'
``instance_of`` ended ``...\\n``\\n``): the cut fence is not code. Before, the "``" line was proposed as the
function's last line, and Python's parser rejects it."""

from __future__ import annotations

from roost.engine.prompts.answer import fenced_blocks
from roost.engine.prompts.edit import code_of_answer

ANSWER = "I will fix it.\n```python\ndef f(x):\n    return x + 1\n``\n"


def test_a_closing_fence_cut_short_is_dropped() -> None:
    assert fenced_blocks(ANSWER) == ["def f(x):\n    return x + 1"]
    assert code_of_answer(ANSWER, "def f(x):\n    return x\n") == "def f(x):\n    return x + 1"
    assert fenced_blocks(ANSWER.rstrip("\n")) == ["def f(x):\n    return x + 1"]
    assert fenced_blocks("~~~\nx = 1\n~\n") == ["x = 1"]


def test_backquotes_that_are_code_are_kept() -> None:
    # Inside the code (before a cut fence), in a closed block, or in an unterminated one without a cut fence.
    assert fenced_blocks("```js\nconst s = `a`;\n``") == ["const s = `a`;"]
    assert fenced_blocks("```md\nuse `x`\n```\n") == ["use `x`"]
    assert fenced_blocks("```python\nx = 1\n") == ["x = 1"]
