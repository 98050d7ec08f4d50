"""``return {▮}`` over stdio: a multi-line suggestion that closes the brace on a line of its own comes as an
item whose range covers the brace after the cursor, so the editor replaces it (the accepted block reads as
the model wrote it), also when the suggestion comes from the cache after typing ahead; and the completion
list fallback's edit covers it alike."""

from __future__ import annotations

from pathlib import Path

from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pytest_lsp import client_capabilities
from test_completion import _edit, inline_capabilities

TEXT = 'def settings():\n    """Defaults."""\n    return {}\n'
BLOCK = '\n        "debug": False,\n        "port": 5000,\n    }'


def _apply(text: str, edit_range: types.Range, new_text: str) -> str:
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        return sum(len(line) + 1 for line in lines[: position.line]) + position.character

    return text[: offset(edit_range.start)] + new_text + text[offset(edit_range.end) :]


async def _inline(session: LspSession, uri: str, line: int, character: int) -> types.InlineCompletionList:
    answer = await session.client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        )
    )
    assert isinstance(answer, types.InlineCompletionList)
    return answer


async def test_the_item_replaces_the_brace_after_the_cursor(workspace: Path, fake_model: FakeOpenAI) -> None:
    fake_model.rules.append(('"""Defaults."""', BLOCK + "\n\n\ndef other():\n    pass\n"))
    options = fake_backend_options(fake_model)
    async with lsp_session(
        workspace, initialization_options=options, capabilities=inline_capabilities()
    ) as session:
        await session.wait_for_status("ready")
        uri = session.open("shop/settings.py", TEXT)
        answer = await _inline(session, uri, 2, 12)
        item = answer.items[0]
        assert item.insert_text == BLOCK
        assert item.range is not None and (item.range.start.character, item.range.end.character) == (12, 13)
        assert _apply(TEXT, item.range, BLOCK) == (
            'def settings():\n    """Defaults."""\n    return {\n        "debug": False,\n'
            '        "port": 5000,\n    }\n'
        )

        # Typed ahead (the first line accepted): the rest, from the cache, still replaces the brace.
        typed = '\n        "debug": False,'
        session.client.text_document_did_change(_edit(uri, 2, 2, 12, typed))
        rest = (await _inline(session, uri, 3, 23)).items[0]
        assert rest.insert_text == '\n        "port": 5000,\n    }'
        assert rest.range is not None and (rest.range.start.character, rest.range.end.character) == (23, 24)


async def test_the_completion_list_fallback_edit_covers_the_brace(
    workspace: Path, fake_model: FakeOpenAI
) -> None:
    fake_model.rules.append(('"""Defaults."""', BLOCK))
    async with lsp_session(
        workspace,
        initialization_options=fake_backend_options(fake_model),
        capabilities=client_capabilities("visual-studio-code"),
    ) as session:
        await session.wait_for_status("ready")
        uri = session.open("shop/settings.py", TEXT)
        result = await session.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=2, character=12),
            )
        )
        assert isinstance(result, types.CompletionList) and result.items
        edit = result.items[0].text_edit
        assert isinstance(edit, types.TextEdit)
        assert (edit.range.start.character, edit.range.end.character) == (12, 13)
        assert _apply(TEXT, edit.range, edit.new_text).endswith('        "port": 5000,\n    }\n')
