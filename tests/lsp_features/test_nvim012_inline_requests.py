"""The inline-completion requests Neovim 0.12's built-in client sends (runtime/lua/vim/lsp/inline_completion.lua),
byte for byte as JSON, answered by the server with the scripted model: no error, a valid InlineCompletionList.

0.12 sends `{ textDocument, position, context = { triggerKind } }`: Automatic (2) shortly after an edit, Invoked
(1) otherwise, and Invoked with `selectedCompletionInfo = { range, text }` when a completion-menu item is
selected. The editors tests (tests/editors/test_nvim_builtin_inline.py) check the plugin's side of the same API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import lsp_session
from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import client_capabilities

TEXT = "def label(circle):\n    return \n"
SUGGESTION = "f'circle of radius {circle.radius}'"


def nvim012_capabilities() -> types.ClientCapabilities:
    """What 0.12 adds to its capabilities for inline completion (dynamicRegistration, as its other features)."""
    capabilities = client_capabilities("neovim")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities(
        dynamic_registration=True
    )
    return capabilities


def as_sent_by_nvim012(params: dict[str, Any]) -> types.InlineCompletionParams:
    """The JSON 0.12 sends, parsed as the server's lsprotocol parses it; pygls sends typed params only, and
    unstructuring leaves out unset fields, so the wire JSON is this dict again (asserted)."""
    converter = get_converter()
    typed = converter.structure(params, types.InlineCompletionParams)
    assert converter.unstructure(typed) == params
    return typed


def items_of(result: Any) -> list[types.InlineCompletionItem]:
    """The reply must be an InlineCompletionList (or the bare item list the spec also allows)."""
    assert result is not None, "0.12 treats a null reply as no suggestion; Roost answers with a list"
    if isinstance(result, types.InlineCompletionList):
        return list(result.items)
    assert isinstance(result, list), f"not an InlineCompletionList: {result!r}"
    return result


async def test_the_requests_neovim_012_sends_get_valid_replies(
    workspace: Path, fake_model: FakeOpenAI
) -> None:
    fake_model.rules.append(("def label(", SUGGESTION))
    async with lsp_session(
        workspace,
        initialization_options=fake_backend_options(fake_model),
        capabilities=nvim012_capabilities(),
    ) as session:
        await session.wait_for_status("ready")
        uri = session.open("shop/label.py", TEXT)
        position = {"line": 1, "character": 11}

        # Automatic: what 0.12 sends after the debounce following an edit.
        automatic = await session.client.text_document_inline_completion_async(
            as_sent_by_nvim012(
                {"textDocument": {"uri": uri}, "position": position, "context": {"triggerKind": 2}}
            )
        )
        items = items_of(automatic)
        assert items and items[0].insert_text == SUGGESTION
        assert items[0].range is None or items[0].range.start.line == 1

        # Invoked with the completion menu's selected item: the word being completed and its replacement.
        session.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=types.Position(1, 11), end=types.Position(1, 11)), text="ci"
                    )
                ],
            )
        )
        invoked = await session.client.text_document_inline_completion_async(
            as_sent_by_nvim012(
                {
                    "textDocument": {"uri": uri},
                    "position": {"line": 1, "character": 13},
                    "context": {
                        "triggerKind": 1,
                        "selectedCompletionInfo": {
                            "range": {
                                "start": {"line": 1, "character": 11},
                                "end": {"line": 1, "character": 13},
                            },
                            "text": "circle",
                        },
                    },
                }
            )
        )
        invoked_items = items_of(invoked)
        assert invoked_items, "the scripted model answers this prompt too"
        for item in invoked_items:
            text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
            assert isinstance(text, str) and text, f"an item without text: {item!r}"
