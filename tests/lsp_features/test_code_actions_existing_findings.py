"""Code actions on code that already has a security finding: moving the function, or adding a docstring to
it, writes the flagged line again, and the gate refused the action ("the security gate blocked the edit").
Found driving the server. A finding the action writes anew still refuses it. Real server, the scripted
OpenAI-compatible fake as the model."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pygls.exceptions import JsonRpcException

TOOLS = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
DOCUMENTED = 'def run(cmd):\n    """Run a shell command."""\n    return subprocess.call(cmd, shell=True)'
WORSE = 'def run(cmd):\n    """Run a shell command."""\n    eval(cmd)\n    return subprocess.call(cmd, shell=True)'


async def _resolve(
    session: LspSession, uri: str, title_part: str, line_range: types.Range
) -> types.CodeAction:
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=line_range,
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    (action,) = [a for a in actions or [] if isinstance(a, types.CodeAction) and title_part in a.title]
    return await asyncio.wait_for(session.client.code_action_resolve_async(action), timeout=20)


def _range(start: int, end_line: int, end_character: int = 0) -> types.Range:
    return types.Range(
        start=types.Position(line=start, character=0),
        end=types.Position(line=end_line, character=end_character),
    )


async def test_moving_a_function_with_a_finding_is_not_refused(workspace: Path) -> None:
    (workspace / "shop" / "tools.py").write_text(TOOLS)
    with FakeOpenAI() as fake:
        async with lsp_session(workspace, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/tools.py")
            resolved = await _resolve(session, uri, "to module shop/geometry.py", _range(3, 3))
    assert resolved.edit is not None
    moved = [c for c in resolved.edit.document_changes or [] if isinstance(c, types.TextDocumentEdit)]
    assert any("shell=True" in e.new_text for c in moved for e in c.edits)


async def test_a_docstring_for_a_function_with_a_finding_is_not_refused(workspace: Path) -> None:
    (workspace / "shop" / "tools.py").write_text(TOOLS)
    answer = f"I will add a docstring.\n```python\n{DOCUMENTED}\n```"
    with FakeOpenAI(rules=[("docstring", answer)]) as fake:
        async with lsp_session(workspace, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/tools.py")
            resolved = await _resolve(session, uri, "add a docstring", _range(3, 5))
    assert resolved.edit is not None
    (change,) = resolved.edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    assert any('"""Run a shell command."""' in e.new_text for e in change.edits)


async def test_a_finding_the_edit_writes_still_refuses_it(workspace: Path) -> None:
    (workspace / "shop" / "tools.py").write_text(TOOLS)
    answer = f"I will add a docstring.\n```python\n{WORSE}\n```"
    with FakeOpenAI(rules=[("docstring", answer)]) as fake:
        async with lsp_session(workspace, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/tools.py")
            try:
                await _resolve(session, uri, "add a docstring", _range(3, 5))
            except JsonRpcException as error:
                assert "security gate" in str(error)
            else:
                raise AssertionError("an edit writing eval() was offered")
