"""Fix-ups end to end: start → reply → accept → undo, a refused out-of-workspace URI, and a server restart
in the middle of a session. The model is the scripted OpenAI-compatible fake (deterministic answers)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pygls.exceptions import JsonRpcException

SOURCE = "def area(r):\n    return 3.14 * r * r\n"
TURN_ONE = "```python\ndef area(r: float) -> float:\n    return 3.14 * r * r\n```"
TURN_TWO = (
    '```python\ndef area(r: float) -> float:\n    """Area of a circle of radius r."""\n'
    "    return 3.14 * r * r\n```"
)
SELECTION = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}


def _rules() -> list[tuple[str, str]]:
    # Later turns first: their prompts contain the earlier turns too.
    return [("also add a docstring", TURN_TWO), ("add type hints", TURN_ONE)]


async def _command(session: LspSession, name: str, argument: dict[str, Any]) -> Any:
    return await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=[argument])
    )


def _apply_last_edit(session: LspSession, uri: str, text: str, version: int) -> str:
    """Do what an editor does with workspace/applyEdit: apply it and send the change."""
    edit = session.applied_edits[-1].edit
    change = next(c for c in edit.document_changes if c.text_document.uri == uri)
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        return sum(len(line) + 1 for line in lines[: position.line]) + position.character

    for text_edit in sorted(change.edits, key=lambda e: offset(e.range.start), reverse=True):
        text = (
            text[: offset(text_edit.range.start)] + text_edit.new_text + text[offset(text_edit.range.end) :]
        )
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    return text


def _field(result: Any, name: str) -> Any:
    return result[name] if isinstance(result, dict) else getattr(result, name)


async def test_fixup_start_reply_accept_undo(workspace: Path) -> None:
    (workspace / "shop" / "circle.py").write_text(SOURCE)
    with FakeOpenAI(rules=_rules()) as fake:
        async with lsp_session(workspace, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/circle.py")
            started = await _command(
                session,
                "roost.fixup.start",
                {"uri": uri, "range": SELECTION, "instruction": "add type hints"},
            )
            session_id = _field(started, "session")
            assert "circle.py" in _field(started, "message")
            assert _field(started, "edit") is not None
            revised = await _command(
                session, "roost.fixup.reply", {"session": session_id, "message": "also add a docstring"}
            )
            assert _field(revised, "session") == session_id
            # The second turn saw the first: the conversation went to the model.
            last_chat = fake.completion_requests()[-1]["messages"]
            assert any(m["role"] == "assistant" and "r: float" in m["content"] for m in last_chat)
            accepted = await _command(session, "roost.fixup.accept", {"session": session_id})
            assert _field(accepted, "applied") is True
            change = session.applied_edits[-1].edit.document_changes[0]
            assert change.text_document.version == 1, "edits carry the document version"
            text = _apply_last_edit(session, uri, SOURCE, 2)
            assert '"""Area of a circle of radius r."""' in text and "r: float" in text
            undone = await _command(session, "roost.fixup.undo", {"session": session_id})
            assert _field(undone, "undone") is True
            assert _apply_last_edit(session, uri, text, 3) == SOURCE


async def test_out_of_workspace_uri_is_refused(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.py"
    outside.write_text(SOURCE)
    with FakeOpenAI(rules=_rules()) as fake:
        async with lsp_session(workspace, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            with pytest.raises(JsonRpcException) as refused:
                await _command(
                    session,
                    "roost.fixup.start",
                    {"uri": outside.as_uri(), "range": SELECTION, "instruction": "add type hints"},
                )
            assert "outside the workspace" in str(refused.value)
            assert fake.completion_requests() == [], "nothing outside the workspace reaches the model"


@pytest.mark.parametrize(
    "selection",
    [
        {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 4}},  # a bare cursor
        {"start": {"line": 9, "character": 0}, "end": {"line": 12, "character": 0}},  # past the end
    ],
)
async def test_a_selection_without_code_is_refused_without_asking_the_model(
    workspace: Path, selection: dict[str, Any]
) -> None:
    with FakeOpenAI(rules=_rules()) as fake:
        async with lsp_session(workspace, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/area.py", SOURCE)
            with pytest.raises(JsonRpcException) as refused:
                await _command(
                    session,
                    "roost.fixup.start",
                    {"uri": uri, "range": selection, "instruction": "add type hints"},
                )
            assert "select the code to change" in str(refused.value)
            assert fake.completion_requests() == [], "no model call for nothing to change"


async def test_restart_in_the_middle_of_a_fixup_session(workspace: Path, tmp_path: Path) -> None:
    (workspace / "shop" / "circle.py").write_text(SOURCE)
    state = tmp_path / "shared-state"
    with FakeOpenAI(rules=_rules()) as fake:
        options = fake_backend_options(fake)
        async with lsp_session(workspace, initialization_options=options, state_dir=state) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/circle.py")
            started = await _command(
                session,
                "roost.fixup.start",
                {"uri": uri, "range": SELECTION, "instruction": "add type hints"},
            )
            session_id = _field(started, "session")
        # A new server process: the session survives in SQLite and goes on.
        async with lsp_session(workspace, initialization_options=options, state_dir=state) as session:
            await session.wait_for_status("ready")
            session.open("shop/circle.py")
            revised = await _command(
                session, "roost.fixup.reply", {"session": session_id, "message": "also add a docstring"}
            )
            assert "circle.py" in _field(revised, "message")
            accepted = await _command(session, "roost.fixup.accept", {"session": session_id})
            assert _field(accepted, "applied") is True
            with pytest.raises(JsonRpcException):
                await _command(session, "roost.fixup.accept", {"session": "no-such-session"})


async def test_multi_file_proposal_from_edit_blocks(workspace: Path) -> None:
    (workspace / "shop" / "circle.py").write_text(SOURCE)
    (workspace / "shop" / "use_circle.py").write_text("from shop.circle import area\n\nprint(area(2))\n")
    answer = (
        "shop/circle.py\n<<<<<<< SEARCH\ndef area(r):\n=======\ndef circle_area(r):\n>>>>>>> REPLACE\n"
        "shop/use_circle.py\n<<<<<<< SEARCH\nfrom shop.circle import area\n\nprint(area(2))\n=======\n"
        "from shop.circle import circle_area\n\nprint(circle_area(2))\n>>>>>>> REPLACE\n"
        "shop/missing.py\n<<<<<<< SEARCH\nnothing here\n=======\nx\n>>>>>>> REPLACE\n"
    )
    with FakeOpenAI(rules=[("rename area", answer)]) as fake:
        async with lsp_session(workspace, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/circle.py")
            started = await _command(
                session, "roost.fixup.start", {"uri": uri, "range": SELECTION, "instruction": "rename area"}
            )
            edit = _field(started, "edit")
            changes = (
                _field(edit, "documentChanges")
                if not hasattr(edit, "document_changes")
                else edit.document_changes
            )
            uris = sorted(_field(_field(c, "textDocument"), "uri") for c in changes)
            assert uris == sorted([uri, session.uri("shop/use_circle.py")])
            # The block that matches nothing is reported, never sent.
            assert "shop/missing.py" in _field(started, "message")
            accepted = await _command(session, "roost.fixup.accept", {"session": _field(started, "session")})
            assert _field(accepted, "applied") is True
            assert len(session.applied_edits[-1].edit.document_changes) == 2


async def test_gate_findings_of_a_proposal_are_diagnostics_until_rejected(workspace: Path) -> None:
    source = "import yaml\n\n\ndef load(text):\n    return text\n"
    (workspace / "shop" / "loader.py").write_text(source)
    warned = "```python\ndef load(text):\n    return yaml.load(text)\n```"
    selection = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
    with FakeOpenAI(rules=[("parse the yaml", warned)]) as fake:
        async with lsp_session(workspace, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/loader.py")
            started = await _command(
                session,
                "roost.fixup.start",
                {"uri": uri, "range": selection, "instruction": "parse the yaml"},
            )
            assert "B506" in _field(started, "message"), "warned findings are in the reply"
            await asyncio.sleep(0.2)
            diagnostics = session.client.diagnostics.get(uri, [])
            assert [d.code for d in diagnostics] == ["B506"] and diagnostics[0].range.start.line == 3
            await _command(session, "roost.fixup.reject", {"session": _field(started, "session")})
            await asyncio.sleep(0.2)
            assert not session.client.diagnostics.get(uri)
