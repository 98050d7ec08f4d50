"""Code actions for languages whose files form packages (Go, Java), end to end through a real LSP client:
add the missing import of a workspace package or class, and move a top-level symbol to another file of
its package (imports follow the moved code, dependents are unchanged)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsp_harness import REPO_ROOT, lsp_session
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from test_code_actions import _action_params, _apply

INVENTORY = REPO_ROOT / "examples" / "inventory"


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    root = tmp_path / "inventory"
    shutil.copytree(INVENTORY, root)
    return root


def _changed(session, uri: str, path: Path, version: int) -> None:
    """The editor's buffer after an applied edit (the server never writes files)."""
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=path.read_text())],
        )
    )


def _line_of(path: Path, prefix: str) -> int:
    return next(i for i, text in enumerate(path.read_text().split("\n")) if text.startswith(prefix))


async def test_go_add_missing_import_and_move_within_the_package(inventory: Path) -> None:
    summary = inventory / "report" / "summary.go"
    summary.write_text(
        "package report\n\n// Count counts the items.\nfunc Count(w *stock.Warehouse) int {\n\treturn len(w.Items())\n}\n"
    )
    async with lsp_session(inventory) as session:
        await session.wait_for_status("ready")
        uri = session.open("report/summary.go")
        actions = await session.client.text_document_code_action_async(_action_params(uri, 3, 0))
        titles = [a.title for a in actions if isinstance(a, types.CodeAction)]
        add = next(
            a for a in actions if isinstance(a, types.CodeAction) and "example.com/inventory/stock" in a.title
        )
        assert add.kind == types.CodeActionKind.QuickFix, titles
        resolved = await session.client.code_action_resolve_async(add)
        assert _apply(inventory, resolved.edit) == ["report/summary.go"]
        assert summary.read_text().startswith(
            'package report\n\nimport "example.com/inventory/stock"\n\n// Count'
        )

        _changed(session, uri, summary, 2)
        report = inventory / "report" / "report.go"
        uri = session.open("report/report.go")
        line = _line_of(report, "const ReorderThreshold")
        actions = await session.client.text_document_code_action_async(_action_params(uri, line, 6))
        moves = [
            a
            for a in actions
            if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.RefactorMove
        ]
        assert [a.title for a in moves] == ["Move `ReorderThreshold` to module report/summary.go"]
        resolved = await session.client.code_action_resolve_async(moves[0])
        touched = _apply(inventory, resolved.edit)
    assert touched == ["report/report.go", "report/summary.go"]
    assert "ReorderThreshold = 5" not in report.read_text()
    assert summary.read_text().endswith(
        "\n\n// ReorderThreshold is the quantity under which an item is flagged.\nconst ReorderThreshold = 5\n"
    )


JAVA = {
    "src/com/acme/money/Price.java": "package com.acme.money;\n\npublic class Price {\n    public static int cents(int e) { return e * 100; }\n}\n",
    "src/com/acme/shop/Cart.java": (
        "package com.acme.shop;\n\n"
        "public class Cart {\n    int size() { return 1; }\n}\n\n"
        "class Pricer {\n    int total() { return Price.cents(2); }\n}\n"
    ),
    "src/com/acme/shop/Checkout.java": "package com.acme.shop;\n\npublic class Checkout {\n    int pay() { return new Pricer().total(); }\n}\n",
}


async def test_java_add_missing_import_then_move_a_package_private_class(tmp_path: Path) -> None:
    root = tmp_path / "java"
    for rel, text in JAVA.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    cart = root / "src/com/acme/shop/Cart.java"
    async with lsp_session(root) as session:
        await session.wait_for_status("ready")
        uri = session.open("src/com/acme/shop/Cart.java")
        line = _line_of(cart, "    int total()")
        actions = await session.client.text_document_code_action_async(_action_params(uri, line, 0))
        add = next(
            a for a in actions if isinstance(a, types.CodeAction) and "com.acme.money.Price" in a.title
        )
        resolved = await session.client.code_action_resolve_async(add)
        _apply(root, resolved.edit)
        assert cart.read_text().startswith(
            "package com.acme.shop;\n\nimport com.acme.money.Price;\n\npublic class Cart"
        )

        _changed(session, uri, cart, 2)
        line = _line_of(cart, "public class Cart")
        actions = await session.client.text_document_code_action_async(_action_params(uri, line, 13))
        public_move = next(
            a
            for a in actions
            if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.RefactorMove
        )
        with pytest.raises(JsonRpcException, match="public top-level type must live in its own file"):
            await session.client.code_action_resolve_async(public_move)
        line = _line_of(cart, "class Pricer")
        actions = await session.client.text_document_code_action_async(_action_params(uri, line, 6))
        move = next(
            a
            for a in actions
            if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.RefactorMove
        )
        assert move.title == "Move `Pricer` to module src/com/acme/shop/Checkout.java"
        session.open("src/com/acme/shop/Checkout.java")
        resolved = await session.client.code_action_resolve_async(move)
        _apply(root, resolved.edit)
    assert (
        cart.read_text() == "package com.acme.shop;\n\npublic class Cart {\n    int size() { return 1; }\n}\n"
    )
    assert (root / "src/com/acme/shop/Checkout.java").read_text() == (
        "package com.acme.shop;\n\nimport com.acme.money.Price;\n\n"
        "public class Checkout {\n    int pay() { return new Pricer().total(); }\n}\n\n"
        "class Pricer {\n    int total() { return Price.cents(2); }\n}\n"
    )
