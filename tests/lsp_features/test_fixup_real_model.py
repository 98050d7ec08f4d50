"""A "fix the bug" fix-up with the real offline model (Qwen2.5-Coder-0.5B), end to end over stdio, on a
task of bench/edit_bench.py (HumanEval/54 with its comparison inverted). Asked for the new code "and nothing
else", the model copied the code unchanged (a certain failure); asked to say first what it changes, it
rewrites the code. Whether the 0.5B's rewrite is right is the bench's to measure, not this test's."""

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

# The bench's file as the user has it (HumanEval/54, MIT), with the bug the bench injects: `!=` for `==`.
SOURCE = '''

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
# The bench names its files by kind and number; the name is in the prompt, so it is kept.
FILE = "fix_2.py"


def _field(result: Any, name: str) -> Any:
    return result[name] if isinstance(result, dict) else getattr(result, name)


def _code(text: str) -> str:
    """The code as Python sees it: blank lines and the docstring's layout aside."""
    return ast.dump(ast.parse(text))


async def test_fix_the_bug_with_the_real_model_rewrites_the_code_instead_of_copying_it(
    tmp_path: Path,
) -> None:
    skip_without_default_model()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / FILE).write_text(SOURCE)
    env = server_env(tmp_path, {"ROOST_CACHE_DIR": shared_model_cache()})
    async with lsp_session(workspace, env=env) as session:
        await session.wait_for_status("ready", timeout=600)
        uri = session.open(FILE, SOURCE, language_id="python")
        lines = SOURCE.split("\n")
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
    assert "```" not in new_text and "def same_chars" in new_text
    assert _code(new_text) != _code(SOURCE), f"the code was copied unchanged: {new_text}"
