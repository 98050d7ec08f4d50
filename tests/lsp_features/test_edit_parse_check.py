"""Issue "quality", edits: a proposal that would leave the file unparsable, or a function with its signature
and no body, is never offered. The model is asked once more, told what was wrong (the parser's complaint,
the gutted functions); if that answer is refused too, so is the fix-up, with both reasons. A file that
already had a syntax error elsewhere can still be edited. Real server, the scripted OpenAI-compatible fake
as the model."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pygls.exceptions import JsonRpcException

SOURCE = "import math\n\n\ndef area(r):\n    return math.pi * r * r\n"
SELECTION = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
INSTRUCTION = "add a docstring that explains this code"
# A fenced answer with the file's import pasted on top and an unterminated docstring: does not parse.
BROKEN = '```py\nimport math\n\ndef area(r):\n    """Area of a circle.\n    return math.pi * r * r\n```'
GOOD = '```python\ndef area(r):\n    """Area of a circle of radius r."""\n    return math.pi * r * r\n```'
COMPLAINT = "does not parse"  # in the retry's instruction (engine/prompts/edit.py parse_complaint)
# The bundled 0.5B's answer to "add type hints" on HumanEval/16 (edit_bench): the signature and docstring.
GUTTED = '```python\ndef area(r):\n    """Area of a circle of radius r."""\n```'
GUTTED_COMPLAINT = "without a body"  # in the retry's instruction (engine/prompts/edit.py gutted_complaint)


async def _start(session: LspSession, uri: str) -> Any:
    return await asyncio.wait_for(
        session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="roost.fixup.start",
                arguments=[{"uri": uri, "range": SELECTION, "instruction": INSTRUCTION}],
            )
        ),
        timeout=20,
    )


def _field(result: Any, name: str) -> Any:
    return result[name] if isinstance(result, dict) else getattr(result, name)


def _new_text(result: Any) -> str:
    edit = _field(result, "edit")
    assert edit is not None, _field(result, "message")
    (change,) = edit["documentChanges"]
    (text_edit,) = change["edits"]
    return str(text_edit["newText"])


async def _fixup(workspace: Path, source: str, rules: list[tuple[str, str]]) -> tuple[Any, FakeOpenAI]:
    (workspace / "shop" / "circle.py").write_text(source)
    with FakeOpenAI(rules=rules) as fake:
        async with lsp_session(workspace, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/circle.py")
            return await _start(session, uri), fake


async def test_a_broken_edit_is_retried_with_the_parser_complaint(workspace: Path) -> None:
    # The retry's prompt contains the first instruction too, so its rule comes first.
    result, fake = await _fixup(workspace, SOURCE, [(COMPLAINT, GOOD), (INSTRUCTION, BROKEN)])
    chats = [r["messages"] for r in fake.completion_requests()]
    assert len(chats) == 2, "one retry"
    assert "line" in chats[1][-1]["content"] and COMPLAINT in chats[1][-1]["content"]
    new_text = _new_text(result)
    assert "Area of a circle of radius r" in new_text
    assert "import math" not in new_text and "```" not in new_text


async def test_a_broken_edit_is_refused_with_the_reason_after_one_retry(workspace: Path) -> None:
    result, fake = await _fixup(workspace, SOURCE, [(INSTRUCTION, BROKEN)])
    assert len(fake.completion_requests()) == 2
    assert _field(result, "edit") is None, "never offered as is"
    message = _field(result, "message")
    assert "would no longer parse" in message and "line" in message and "asked once more" in message


async def test_an_edit_that_guts_a_function_is_retried_naming_the_function(workspace: Path) -> None:
    result, fake = await _fixup(workspace, SOURCE, [(GUTTED_COMPLAINT, GOOD), (INSTRUCTION, GUTTED)])
    chats = [r["messages"] for r in fake.completion_requests()]
    assert len(chats) == 2, "one retry"
    retry = chats[1][-1]["content"]
    assert "`area`" in retry and GUTTED_COMPLAINT in retry
    assert "```python\n    return math.pi * r * r\n```" in retry, "the statements it dropped, shown back"
    new_text = _new_text(result)
    assert "Area of a circle of radius r" in new_text and "return math.pi * r * r" in new_text


async def test_an_edit_wrong_twice_is_refused_with_both_reasons(workspace: Path) -> None:
    # First the body is gone, then the retry does not parse: the message says both.
    result, fake = await _fixup(workspace, SOURCE, [(GUTTED_COMPLAINT, BROKEN), (INSTRUCTION, GUTTED)])
    assert len(fake.completion_requests()) == 2, "one retry, then refused"
    assert _field(result, "edit") is None
    message = _field(result, "message")
    assert "would no longer parse" in message and "leaves `area` without a body" in message
    assert "asked once more" in message


async def test_a_file_with_a_syntax_error_elsewhere_can_still_be_edited(workspace: Path) -> None:
    half_written = SOURCE + "\n\ndef unfinished(:\n"
    result, fake = await _fixup(workspace, half_written, [(INSTRUCTION, GOOD)])
    assert len(fake.completion_requests()) == 1, "no retry: the edit added no error"
    assert "Area of a circle of radius r" in _new_text(result)


async def test_a_broken_code_action_edit_is_refused_with_the_reason(workspace: Path) -> None:
    (workspace / "shop" / "circle.py").write_text(SOURCE)
    with FakeOpenAI(rules=[("add a docstring", BROKEN)]) as fake:
        async with lsp_session(workspace, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/circle.py")
            selected = types.Range(
                start=types.Position(line=3, character=0), end=types.Position(line=5, character=0)
            )
            actions = await asyncio.wait_for(
                session.client.text_document_code_action_async(
                    types.CodeActionParams(
                        text_document=types.TextDocumentIdentifier(uri=uri),
                        range=selected,
                        context=types.CodeActionContext(diagnostics=[]),
                    )
                ),
                timeout=20,
            )
            action = next(
                a
                for a in actions or []
                if isinstance(a, types.CodeAction) and a.title == "Roost: add a docstring"
            )
            with pytest.raises(JsonRpcException) as refused:
                await asyncio.wait_for(session.client.code_action_resolve_async(action), timeout=20)
            assert "would no longer parse" in str(refused.value)
            assert len(fake.completion_requests()) == 2, "one retry, then refused"
