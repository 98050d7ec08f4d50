"""Code-action planning and the edit use cases without a server (issue "shape": they are plain typed
Python over workspace paths), and a crafted move into a module outside the workspace, refused end to end."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lsp_harness import lsp_session
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from roost.engine.gate.gate import Gate
from roost.engine.gate.model import Finding, Level
from roost.engine.prompts.edit import EDIT_INSTRUCTIONS
from roost.lsp.core.code_actions import CodeActions, EditSelection, FixSecurityFinding
from roost.lsp.core.fixups.store import FixupStore
from roost.lsp.core.text_edits import LineCharacter
from roost.lsp.core.workspace_documents import Documents, OpenDocument, OutsideWorkspace

RISKY = "import subprocess\n\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n"


def _code_actions(root: Path, refusal: str | None = None) -> CodeActions:
    documents = Documents(root, lambda path: None)
    # No index (the deterministic refactors need one); the real gate.
    services: Any = SimpleNamespace(index_service=None, gate=Gate(), workspace_secrets=frozenset())
    return CodeActions(services, documents, lambda path: refusal)


def test_a_selection_plans_the_edit_instructions_and_the_security_fix(tmp_path: Path) -> None:
    (tmp_path / "tool.py").write_text(RISKY)
    start, end = LineCharacter(3, 0), LineCharacter(5, 0)
    planned = _code_actions(tmp_path).plan("tool.py", start, end)
    edits = [action for action in planned if isinstance(action, EditSelection)]
    assert [action.instruction for action in edits] == list(EDIT_INSTRUCTIONS)
    assert all((action.path, action.start, action.end) == ("tool.py", start, end) for action in edits)
    (fix,) = [action for action in planned if isinstance(action, FixSecurityFinding)]
    assert fix.line == 4 and fix.finding.startswith("B602 (HIGH severity): ")
    assert fix.title == f"Roost: fix security finding {fix.finding.replace(' (HIGH severity)', '')}"


def test_no_model_action_where_the_policy_refuses_a_prompt(tmp_path: Path) -> None:
    (tmp_path / "tool.py").write_text(RISKY)
    planned = _code_actions(tmp_path, refusal="completions are off").plan(
        "tool.py", LineCharacter(3, 0), LineCharacter(5, 0)
    )
    assert not [action for action in planned if isinstance(action, EditSelection | FixSecurityFinding)]


def test_documents_prefer_the_buffer_and_refuse_paths_outside(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("on disk\n")
    documents = Documents(
        tmp_path, lambda path: OpenDocument("in the editor\n", 7, "python") if path.name == "m.py" else None
    )
    snapshot = documents.snapshot("m.py")
    assert (snapshot.text, snapshot.version) == ("in the editor\n", 7)
    with pytest.raises(OutsideWorkspace):
        documents.snapshot("../m.py")
    with pytest.raises(OutsideWorkspace):
        documents.relative(tmp_path.parent / "elsewhere.py")


def test_one_description_of_a_finding() -> None:
    finding = Finding("B602", Level.HIGH, Level.HIGH, 78, 3, "subprocess call with shell=True")
    assert finding.describe() == "B602: subprocess call with shell=True"
    assert (
        finding.describe(severity=True, line=True)
        == "B602 (HIGH severity): subprocess call with shell=True (line 3)"
    )


def test_a_fixup_session_stored_by_uri_before_schema_2_is_not_loaded(tmp_path: Path) -> None:
    store = FixupStore(tmp_path / "fixups.sqlite3")
    old = (
        '{"id": "old", "root": "/w", "uri": "file:///w/m.py", "range": {}, "instruction": "x", '
        '"state": "open", "turns": [], "proposal": [], "message": "", "accepted": [], "created": 0, "updated": 0}'
    )
    with store._connect() as db:  # noqa: SLF001 - a row as an older Roost wrote it
        db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", ("old", "/w", "open", 0.0, old))
    assert store.load("old") is None


async def test_a_move_into_a_new_module_outside_the_workspace_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("def helper():\n    return 1\n")
    async with lsp_session(root) as session:
        await session.wait_for_status("ready")
        uri = session.open("a.py")
        action = types.CodeAction(
            title="Move `helper` to module ../evil.py",
            data={"action": "move", "uri": uri, "symbol": "helper", "target": "../evil.py"},
        )
        with pytest.raises(JsonRpcException, match="outside the workspace"):
            await session.client.code_action_resolve_async(action)
    assert not (tmp_path / "evil.py").exists()
