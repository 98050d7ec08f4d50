"""Move symbol to module: the offered targets are ranked by their relation to the symbol (the modules that
import it, the modules whose names it uses, its package siblings, recently edited files) rather than the
first six in alphabetical order, and "Move to another module…" lets the editor ask for any target — a new
module is created. Through the real server; the moved program still runs."""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from roost.lsp.core.moves.move_targets import InvalidModuleName, module_path_for

TIMEOUT_S = 30

GEOMETRY = """from app.units import PI


def circle_area(radius):
    return PI * radius**2


def square_area(side):
    return side * side
"""
REPORT = """from app.geometry import circle_area


def report(radius):
    return f"area {circle_area(radius):.2f}"
"""
MAIN = """from lib.report import report

print(report(2.0))
"""
# Alphabetically first in app/: what the old offer listed whatever the symbol.
UNRELATED = ["__init__.py", "__version__.py", "_api.py", "aaa.py", "abc_helpers.py", "alpha.py", "beta.py"]


def make_workspace(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "lib").mkdir()
    (root / "roost.toml").write_text("")
    for name in UNRELATED:
        (root / "app" / name).write_text("VALUE = 1\n")
    (root / "app" / "units.py").write_text("PI = 3.14159\n")
    (root / "app" / "zeta.py").write_text("ZETA = 1\n")
    (root / "app" / "geometry.py").write_text(GEOMETRY)
    (root / "lib" / "__init__.py").write_text("")
    (root / "lib" / "report.py").write_text(REPORT)
    (root / "main.py").write_text(MAIN)
    return root


def run_main(root: Path) -> str:
    done = subprocess.run([sys.executable, "main.py"], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def move_actions(session: LspSession, uri: str, line: int) -> list[types.CodeAction | types.Command]:
    position = types.Position(line=line, character=4)
    request = session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=position, end=position),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    actions = await asyncio.wait_for(request, TIMEOUT_S)
    return [a for a in actions or [] if a.title.startswith("Move `")]


def apply_to_disk(root: Path, edit: types.WorkspaceEdit) -> None:
    """What an editor does with the workspace/applyEdit: create files, then edit them."""
    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            path = Path(change.uri.removeprefix("file://"))
            assert not path.exists()
            path.write_text("")
            continue
        path = Path(change.text_document.uri.removeprefix("file://"))
        text = path.read_text()
        lines = text.split("\n")

        def offset(position: types.Position, lines: list[str] = lines) -> int:
            return sum(len(line) + 1 for line in lines[: position.line]) + position.character

        for text_edit in sorted(change.edits, key=lambda e: offset(e.range.start), reverse=True):
            start, end = offset(text_edit.range.start), offset(text_edit.range.end)
            text = text[:start] + text_edit.new_text + text[end:]
        path.write_text(text)


def chosen_command(action: types.CodeAction | types.Command) -> dict[str, Any]:
    """The action's command as sent. lsprotocol's client-side hook reads any code action with a ``command`` key
    as a bare ``Command`` and keeps the command object as its Python repr; VS Code and Neovim read the JSON."""
    if isinstance(action, types.Command):
        return ast.literal_eval(action.command)
    assert action.command is not None
    return {"command": action.command.command, "arguments": action.command.arguments}


async def test_targets_ranked_by_relation_and_move_to_a_new_module(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "workspace")
    before = run_main(root)
    async with lsp_session(root, state_dir=tmp_path) as session:
        await session.wait_for_status("ready")
        # zeta.py was edited in this session: a recent edit counts.
        zeta = session.open("app/zeta.py")
        session.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=zeta, version=2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text="ZETA = 2\n")],
            )
        )
        uri = session.open("app/geometry.py")
        actions = await move_actions(session, uri, 3)
        offered = [
            a.title.removeprefix("Move `circle_area` to module ")
            for a in actions
            if isinstance(a, types.CodeAction) and a.data
        ]
        # It uses PI from units; report imports it; zeta was just edited; then its siblings, never the dunders.
        assert offered[:3] == ["app/units.py", "lib/report.py", "app/zeta.py"], offered
        assert len(offered) == 6 and not {"app/__init__.py", "app/__version__.py"} & set(offered), offered

        another = [a for a in actions if not (isinstance(a, types.CodeAction) and a.data)]
        assert [a.title for a in another] == ["Move `circle_area` to another module…"]
        command = chosen_command(another[0])
        assert command["command"] == "roost.chooseMoveTarget"
        choose = command["arguments"][0]
        assert choose["suggested"] == offered and "app/__init__.py" in choose["modules"]
        assert not set(choose["suggested"]) & set(choose["modules"])

        # Clients resolve an action without an edit (Neovim does): this one comes back as it is.
        as_sent = types.CodeAction(
            title=another[0].title,
            kind=types.CodeActionKind.RefactorMove,
            command=types.Command(title=another[0].title, command=command["command"], arguments=[choose]),
        )
        resolved = await asyncio.wait_for(session.client.code_action_resolve_async(as_sent), TIMEOUT_S)
        assert resolved.edit is None and resolved.title == as_sent.title

        # The user typed a module that does not exist yet (a dotted Python name).
        result = await asyncio.wait_for(
            session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="roost.moveSymbol",
                    arguments=[{"uri": uri, "symbol": "circle_area", "target": "app.circles"}],
                )
            ),
            TIMEOUT_S,
        )
        applied = result if isinstance(result, dict) else result._asdict()
        assert applied["applied"] is True and applied["target"] == "app/circles.py", applied
        edit = session.applied_edits[-1].edit
        assert isinstance(edit.document_changes[0], types.CreateFile)
        assert edit.document_changes[0].uri.endswith("/app/circles.py")

        # A name that cannot be a module, and a directory that does not exist: clear errors, nothing applied.
        for bad, expected in (("../outside", "not a module path"), ("nowhere/deep.py", "does not exist")):
            try:
                await asyncio.wait_for(
                    session.client.workspace_execute_command_async(
                        types.ExecuteCommandParams(
                            command="roost.moveSymbol",
                            arguments=[{"uri": uri, "symbol": "circle_area", "target": bad}],
                        )
                    ),
                    TIMEOUT_S,
                )
            except JsonRpcException as error:
                assert expected in str(error), error
            else:
                raise AssertionError(f"moving to {bad!r} must be refused")
        assert len(session.applied_edits) == 1

    apply_to_disk(root, edit)
    moved = (root / "app" / "circles.py").read_text()
    assert "def circle_area(radius):" in moved and "from app.units import PI" in moved, moved
    assert "def circle_area" not in (root / "app" / "geometry.py").read_text()
    assert "from app.circles import circle_area" in (root / "lib" / "report.py").read_text()
    assert run_main(root) == before


def test_typed_module_names() -> None:
    assert module_path_for("app/geometry.py", "app.circles") == "app/circles.py"
    assert module_path_for("app/geometry.py", "app/circles") == "app/circles.py"
    assert module_path_for("app/geometry.py", " app/circles.py ") == "app/circles.py"
    assert module_path_for("web/src/a.ts", "web/src/b") == "web/src/b.ts"
    for bad in ("", "/etc/passwd", "app/../x", "app/2fast", "app/my-module", "app/x.js"):
        try:
            module_path_for("app/geometry.py", bad)
        except InvalidModuleName:
            continue
        raise AssertionError(f"{bad!r} was accepted")
