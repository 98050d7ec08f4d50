"""Code actions end to end on a copy of ``examples/``: move a symbol across modules (a correct multi-file
edit: the program still runs and prints the same receipt), add a missing import, and model-driven edits
checked by the gate."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import REPO_ROOT, lsp_session
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from roost.context.index import WorkspaceIndex
from roost.context.options import IndexOptions

EXAMPLES = REPO_ROOT / "examples"


@pytest.fixture
def examples_copy(tmp_path: Path) -> Path:
    root = tmp_path / "examples"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    return root


def _run_shop(root: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "shop.cli"], cwd=root, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def _apply(root: Path, edit: types.WorkspaceEdit) -> list[str]:
    """Apply a WorkspaceEdit to the files, as an editor would (the server never writes files)."""
    touched = []
    for change in edit.document_changes or []:
        path = Path(change.text_document.uri.removeprefix("file://"))
        text = path.read_text()
        lines = text.split("\n")

        def offset(position: types.Position, lines: list[str] = lines) -> int:
            return sum(len(line) + 1 for line in lines[: position.line]) + position.character

        for text_edit in sorted(change.edits, key=lambda e: offset(e.range.start), reverse=True):
            text = (
                text[: offset(text_edit.range.start)]
                + text_edit.new_text
                + text[offset(text_edit.range.end) :]
            )
        path.write_text(text)
        touched.append(path.relative_to(root).as_posix())
    return sorted(touched)


def _action_params(
    uri: str, line: int, character: int, end_line: int | None = None
) -> types.CodeActionParams:
    start = types.Position(line=line, character=character)
    end = types.Position(line=end_line, character=0) if end_line is not None else start
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=start, end=end),
        context=types.CodeActionContext(diagnostics=[]),
    )


async def test_move_symbol_rewrites_imports_in_every_dependent(examples_copy: Path) -> None:
    before = _run_shop(examples_copy)
    async with lsp_session(examples_copy) as session:
        await session.wait_for_status("ready")
        uri = session.open("shop/services/pricing.py")
        line = next(
            i
            for i, text in enumerate((examples_copy / "shop/services/pricing.py").read_text().split("\n"))
            if text.startswith("def price_cart")
        )
        actions = await session.client.text_document_code_action_async(_action_params(uri, line, 5))
        moves = [
            a
            for a in actions
            if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.RefactorMove
        ]
        action = next((a for a in moves if a.title.endswith("shop/services/checkout.py")), None)
        assert action is not None, [a.title for a in moves]
        assert action.edit is None, "edits are computed lazily, in codeAction/resolve"
        resolved = await session.client.code_action_resolve_async(action)
        assert resolved.edit is not None
        versions = {c.text_document.uri: c.text_document.version for c in resolved.edit.document_changes}
        assert versions[uri] == 1, "the open document's edit carries its version"
    touched = _apply(examples_copy, resolved.edit)
    assert {"shop/__init__.py", "shop/services/checkout.py", "shop/services/pricing.py"} <= set(touched)
    for path in touched:  # every rewritten import names the new home
        assert "from .pricing import price_cart" not in (examples_copy / path).read_text()
    pricing = (examples_copy / "shop/services/pricing.py").read_text()
    checkout = (examples_copy / "shop/services/checkout.py").read_text()
    package = (examples_copy / "shop/__init__.py").read_text()
    assert "def price_cart" not in pricing and "def price_cart" in checkout
    assert "from .pricing import price_cart" not in checkout
    assert "from .services.checkout import price_cart" in package
    assert _run_shop(examples_copy) == before, "the program behaves the same after the move"


async def test_add_missing_import_from_the_graph(examples_copy: Path) -> None:
    text = '"""Uses money."""\n\n\ndef double(amount):\n    return format_money(amount)\n'
    (examples_copy / "shop/services/report.py").write_text(text)
    async with lsp_session(examples_copy) as session:
        await session.wait_for_status("ready")
        uri = session.open("shop/services/report.py")
        actions = await session.client.text_document_code_action_async(_action_params(uri, 4, 12))
        add = next(a for a in actions if isinstance(a, types.CodeAction) and "format_money" in a.title)
        resolved = await session.client.code_action_resolve_async(add)
        (edit,) = resolved.edit.document_changes[0].edits
        assert edit.new_text == "from shop.utils.money import format_money\n"
        assert edit.range.start.line == 1


async def test_model_edit_is_gated_and_verified(examples_copy: Path) -> None:
    insecure = "```python\ndef price_cart(cart):\n    import os\n    os.system(cart)\n```"
    with FakeOpenAI(rules=[("Instruction: make it async", insecure)]) as fake:
        async with lsp_session(examples_copy, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/services/pricing.py")
            actions = await session.client.text_document_code_action_async(_action_params(uri, 11, 0, 20))
            edit_action = next(
                a for a in actions if isinstance(a, types.CodeAction) and a.title == "Roost: make it async"
            )
            with pytest.raises(JsonRpcException) as refused:
                await session.client.code_action_resolve_async(edit_action)
            assert "security gate" in str(refused.value) or "blocked" in str(refused.value)
            # The graph's dependents went to the model as related code.
            prompt = fake.completion_requests()[-1]["messages"][-1]["content"]
            assert "shop/services/checkout.py" in prompt


async def test_fix_security_finding_proposes_a_gated_edit(examples_copy: Path) -> None:
    insecure = "import subprocess\n\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n"
    (examples_copy / "shop/services/runner.py").write_text(insecure)
    fixed = (
        "```python\ndef run(command):\n    import shlex\n\n"
        "    return subprocess.call(shlex.split(command), shell=False)\n```"
    )
    with FakeOpenAI(rules=[("B602", fixed)]) as fake:
        async with lsp_session(examples_copy, initialization_options=fake_backend_options(fake)) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/services/runner.py")
            actions = await session.client.text_document_code_action_async(_action_params(uri, 4, 10))
            fix = next(
                a for a in actions if isinstance(a, types.CodeAction) and "security finding B602" in a.title
            )
            resolved = await session.client.code_action_resolve_async(fix)
            (change,) = resolved.edit.document_changes
            (edit,) = change.edits
            assert "shlex.split(command), shell=False" in edit.new_text
            assert edit.range.start.line == 3, "the enclosing definition is rewritten"


def _action(actions, kind: str, title_end: str) -> types.CodeAction:
    found = [a for a in actions or [] if isinstance(a, types.CodeAction) and a.kind == kind]
    action = next((a for a in found if a.title.endswith(title_end)), None)
    assert action is not None, [a.title for a in found]
    return action


async def test_move_typescript_function_to_a_sibling_module(examples_copy: Path, tmp_path: Path) -> None:
    user_path = "webapp/src/models/user.ts"
    user = (examples_copy / user_path).read_text()
    line = next(i for i, text in enumerate(user.split("\n")) if text.startswith("export function canEdit"))
    async with lsp_session(examples_copy) as session:
        await session.wait_for_status("ready")
        uri = session.open(user_path)
        actions = await session.client.text_document_code_action_async(_action_params(uri, line, 17))
        action = _action(actions, types.CodeActionKind.RefactorMove, "webapp/src/models/order.ts")
        assert action.title == "Move `canEdit` to module webapp/src/models/order.ts"
        resolved = await session.client.code_action_resolve_async(action)
        assert resolved.edit is not None
    touched = _apply(examples_copy, resolved.edit)
    # The barrel (``export *`` of both modules) and index.ts (through the barrel) need no change.
    assert touched == ["webapp/src/models/order.ts", "webapp/src/models/user.ts"]
    assert (examples_copy / user_path).read_text() == user[: user.index("\n/** True when")]
    order = (examples_copy / "webapp/src/models/order.ts").read_text()
    # User is an interface: it joins the type-only import (``verbatimModuleSyntax`` refuses a plain one).
    assert order.startswith('import type { UserId, User } from "./user";\nimport { Role } from "./user";\n\n')
    assert order.endswith(
        "/** True when the user may change content. */\n"
        "export function canEdit(user: User): boolean {\n"
        "  return user.role === Role.Editor || user.role === Role.Admin;\n}\n"
    )
    # The graph, re-indexed, finds the moved name through the barrel in its new module.
    index = WorkspaceIndex(examples_copy / "webapp", IndexOptions(cache_dir=tmp_path / "cache", workers=1))
    try:
        index.index()
        source = index.source("src/index.ts").split("\n")
        use = next(i for i, text in enumerate(source) if "canEdit(user)" in text)
        found = index.definitions_at("src/index.ts", use, source[use].index("canEdit") + 1)
    finally:
        index.close()
    assert [location.path for location in found] == ["src/models/order.ts"]


async def test_add_missing_import_in_a_javascript_module(tmp_path: Path) -> None:
    root = tmp_path / "jsapp"
    (root / "src/util").mkdir(parents=True)
    (root / "package.json").write_text('{ "name": "jsapp", "type": "module" }\n')
    (root / "src/util/money.js").write_text(
        "export function formatCents(cents) {\n  return `${cents / 100}`;\n}\n\n"
        "export default function parseCents(text) {\n  return Number(text) * 100;\n}\n"
    )
    (root / "src/util/strings.js").write_text("export const shout = (s) => s.toUpperCase();\n")
    main = (
        "import { shout } from './util/strings.js'\n\n"
        "export function receipt(cents) {\n  return shout(formatCents(parseCents(cents)))\n}\n"
    )
    (root / "src/main.js").write_text(main)
    async with lsp_session(root) as session:
        await session.wait_for_status("ready")
        uri = session.open("src/main.js")
        actions = await session.client.text_document_code_action_async(_action_params(uri, 3, 10))
        titles = [a.title for a in actions if isinstance(a, types.CodeAction)]
        assert "Add missing import of `formatCents` from src/util/money.js" in titles
        assert "Add missing import of `parseCents` from src/util/money.js" in titles
        assert not any("`cents`" in title for title in titles), "a parameter is not a missing import"
        named = next(a for a in actions if isinstance(a, types.CodeAction) and "`formatCents`" in a.title)
        resolved = await session.client.code_action_resolve_async(named)
        (edit,) = resolved.edit.document_changes[0].edits
        assert edit.new_text == "import { formatCents } from './util/money.js'\n"
        assert edit.range.start.line == 1
        default = next(a for a in actions if isinstance(a, types.CodeAction) and "`parseCents`" in a.title)
        resolved = await session.client.code_action_resolve_async(default)
        (edit,) = resolved.edit.document_changes[0].edits
        assert edit.new_text == "import parseCents from './util/money.js'\n"


async def test_add_import_through_a_namespace_import_is_titled_for_the_qualified_use(tmp_path: Path) -> None:
    root = tmp_path / "jsapp"
    (root / "src/util").mkdir(parents=True)
    (root / "package.json").write_text('{ "name": "jsapp", "type": "module" }\n')
    (root / "src/util/money.js").write_text(
        "export function formatCents(cents) {\n  return `${cents / 100}`;\n}\nexport const ZERO = 0;\n"
    )
    main = (
        "import * as money from './util/money.js'\n\n"
        "export function receipt(cents) {\n  return formatCents(cents + money.ZERO)\n}\n"
    )
    (root / "src/main.js").write_text(main)
    async with lsp_session(root) as session:
        await session.wait_for_status("ready")
        uri = session.open("src/main.js")
        actions = await session.client.text_document_code_action_async(_action_params(uri, 3, 10))
        titles = [a.title for a in actions if isinstance(a, types.CodeAction)]
        title = "Use `money.formatCents` from the existing import of src/util/money.js"
        assert title in titles
        assert not any(t.startswith("Add missing import of `formatCents`") for t in titles)
        action = next(a for a in actions if isinstance(a, types.CodeAction) and a.title == title)
        resolved = await session.client.code_action_resolve_async(action)
        (edit,) = resolved.edit.document_changes[0].edits
        assert "money.formatCents(cents + money.ZERO)" in edit.new_text
        assert "import" not in edit.new_text
