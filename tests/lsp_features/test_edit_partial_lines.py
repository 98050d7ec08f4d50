"""A selection that starts or ends inside a line (a sloppy drag, a double-clicked word): the model is given
the whole lines it touches and its answer replaces them. Found driving the server on click: "Roost: add a
docstring" on a selection from inside one line to inside another was refused every time (the model answers
whole lines, which spliced in at the selection's columns no longer parsed, or read as code "repeated from
around the selection"). A fix-up on part of one line still edits just that part. Real server, the scripted
OpenAI-compatible fake as the model."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import LspSession, lsp_session
from lsprotocol import types

SOURCE = "import math\n\n\ndef area(r):\n    return math.pi * r * r\n\n\nprint(area(2))\n"
# From inside `def area(r):` (after "def ar") to inside the return line (after "math.pi").
PARTIAL = types.Range(start=types.Position(line=3, character=6), end=types.Position(line=4, character=18))
DOCUMENTED = 'def area(r):\n    """Area of a circle of radius r."""\n    return math.pi * r * r'
ANSWER = f"I will add a docstring.\n```python\n{DOCUMENTED}\n```"


def _field(result: Any, name: str) -> Any:
    return result[name] if isinstance(result, dict) else getattr(result, name)


def _applied(edit: dict[str, Any] | types.WorkspaceEdit) -> str:
    """SOURCE with the proposal's single text edit applied."""
    if isinstance(edit, types.WorkspaceEdit):
        (change,) = edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)
        (text_edit,) = change.edits
        start, end, new_text = text_edit.range.start, text_edit.range.end, text_edit.new_text
        positions = (start.line, start.character, end.line, end.character)
    else:
        (change,) = edit["documentChanges"]
        (raw,) = change["edits"]
        r, new_text = raw["range"], raw["newText"]
        positions = (r["start"]["line"], r["start"]["character"], r["end"]["line"], r["end"]["character"])
    lines = SOURCE.split("\n")

    def offset(line: int, character: int) -> int:
        return sum(len(text) + 1 for text in lines[:line]) + character

    start_offset, end_offset = offset(*positions[:2]), offset(*positions[2:])
    return SOURCE[:start_offset] + str(new_text) + SOURCE[end_offset:]


async def _session_on(workspace: Path, fake: FakeOpenAI) -> tuple[Any, LspSession]:
    (workspace / "shop" / "circle.py").write_text(SOURCE)
    context = lsp_session(workspace, initialization_options=fake_backend_options(fake))
    session = await context.__aenter__()
    await session.wait_for_status("ready")
    return context, session


async def test_a_fixup_on_a_selection_across_partial_lines_rewrites_the_whole_lines(workspace: Path) -> None:
    with FakeOpenAI(rules=[("docstring", ANSWER)]) as fake:
        context, session = await _session_on(workspace, fake)
        try:
            uri = session.open("shop/circle.py")
            arguments = {
                "uri": uri,
                "range": {
                    "start": {"line": 3, "character": 6},
                    "end": {"line": 4, "character": 18},
                },
                "instruction": "add a docstring",
            }
            result = await asyncio.wait_for(
                session.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command="roost.fixup.start", arguments=[arguments])
                ),
                timeout=20,
            )
        finally:
            await context.__aexit__(None, None, None)
    (chat,) = [r["messages"] for r in fake.completion_requests()]
    assert "def area(r):\n    return math.pi * r * r" in chat[-1]["content"], "the whole lines were asked"
    edit = _field(result, "edit")
    assert edit is not None, _field(result, "message")
    after = _applied(edit)
    assert after == SOURCE.replace("def area(r):\n    return math.pi * r * r", DOCUMENTED)
    ast.parse(after)


async def test_the_add_a_docstring_action_on_partial_lines_rewrites_the_whole_lines(workspace: Path) -> None:
    with FakeOpenAI(rules=[("docstring", ANSWER)]) as fake:
        context, session = await _session_on(workspace, fake)
        try:
            uri = session.open("shop/circle.py")
            actions = await session.client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    range=PARTIAL,
                    context=types.CodeActionContext(diagnostics=[]),
                )
            )
            (action,) = [
                a for a in actions or [] if isinstance(a, types.CodeAction) and "docstring" in a.title
            ]
            resolved = await asyncio.wait_for(session.client.code_action_resolve_async(action), timeout=20)
        finally:
            await context.__aexit__(None, None, None)
    assert resolved.edit is not None
    assert _applied(resolved.edit) == SOURCE.replace("def area(r):\n    return math.pi * r * r", DOCUMENTED)


async def test_a_fixup_on_part_of_one_line_edits_only_that_part(workspace: Path) -> None:
    answer = "Use tau.\n```python\nmath.tau / 2\n```"
    with FakeOpenAI(rules=[("tau", answer)]) as fake:
        context, session = await _session_on(workspace, fake)
        try:
            uri = session.open("shop/circle.py")
            arguments = {
                "uri": uri,
                "range": {"start": {"line": 4, "character": 11}, "end": {"line": 4, "character": 18}},
                "instruction": "write it with tau",
            }
            result = await asyncio.wait_for(
                session.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command="roost.fixup.start", arguments=[arguments])
                ),
                timeout=20,
            )
        finally:
            await context.__aexit__(None, None, None)
    edit = _field(result, "edit")
    assert edit is not None, _field(result, "message")
    assert _applied(edit) == SOURCE.replace("math.pi * r", "math.tau / 2 * r")
