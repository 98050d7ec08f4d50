"""A "fix the bug" fix-up with the real offline model (Qwen2.5-Coder-0.5B), end to end over stdio, on tasks
of bench/edit_bench.py. HumanEval/54 (its comparison inverted): asked for the new code "and nothing else",
the model copied the code unchanged. HumanEval/60 (`range(n + 2)`): under the contract "say what you will
change, then the code" it restated the docstring and copied the code ("No applicable change"); asked as a
plain chat (the instruction, then the code) it rewrites it. Whether the 0.5B's rewrite is right is the
bench's to measure, not this test's."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsp_harness import lsp_session, server_env
from lsprotocol import types
from model_packages import shared_model_cache, skip_without_default_model

pytestmark = pytest.mark.model

# The bench's files as the user has them (HumanEval, MIT), with the bugs the bench injects.
# HumanEval/54: `!=` for `==`.
SAME_CHARS = '''

def same_chars(s0: str, s1: str):
    """
    Check if two words have the same characters.
    >>> same_chars('eabcdzzzz', 'dddzzzzzzzddeddabc')
    True
    >>> same_chars('abcd', 'dddddddabc')
    True
    >>> same_chars('dddddddabc', 'abcd')
    True
    >>> same_chars('eabcd', 'dddddddabc')
    False
    >>> same_chars('abcd', 'dddddddabce')
    False
    >>> same_chars('eabcdzzzz', 'dddzzzzzzzddddabc')
    False
    """

    return set(s0) != set(s1)
'''
# HumanEval/60: `n + 2` for `n + 1`.
SUM_TO_N = '''

def sum_to_n(n: int):
    """sum_to_n is a function that sums numbers from 1 to n.
    >>> sum_to_n(30)
    465
    >>> sum_to_n(100)
    5050
    >>> sum_to_n(5)
    15
    >>> sum_to_n(10)
    55
    >>> sum_to_n(1)
    1
    """

    return sum(range(n + 2))
'''


def _field(result: Any, name: str) -> Any:
    return result[name] if isinstance(result, dict) else getattr(result, name)


def _code(text: str) -> str:
    """The code as Python sees it: blank lines and the docstring's layout aside."""
    return ast.dump(ast.parse(text))


# The bench names its files by kind and number (as the user's file, it is kept).
@pytest.mark.parametrize(
    ("file", "source", "function"),
    [("fix_2.py", SAME_CHARS, "same_chars"), ("fix_7.py", SUM_TO_N, "sum_to_n")],
    ids=["HumanEval-54", "HumanEval-60"],
)
async def test_fix_the_bug_with_the_real_model_rewrites_the_code_instead_of_copying_it(
    tmp_path: Path, file: str, source: str, function: str
) -> None:
    skip_without_default_model()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / file).write_text(source)
    env = server_env(tmp_path, {"ROOST_CACHE_DIR": shared_model_cache()})
    async with lsp_session(workspace, env=env) as session:
        await session.wait_for_status("ready", timeout=600)
        uri = session.open(file, source, language_id="python")
        lines = source.split("\n")
        selection = {"start": {"line": 2, "character": 0}, "end": {"line": len(lines) - 1, "character": 0}}
        result = await asyncio.wait_for(
            session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="roost.fixup.start",
                    arguments=[{"uri": uri, "range": selection, "instruction": "fix the bug"}],
                )
            ),
            timeout=300,
        )
    edit = _field(result, "edit")
    assert edit is not None, _field(result, "message")
    (change,) = edit["documentChanges"]
    (text_edit,) = change["edits"]
    new_text = text_edit["newText"]
    assert "```" not in new_text and f"def {function}" in new_text
    assert _code(new_text) != _code(source), f"the code was copied unchanged: {new_text}"
