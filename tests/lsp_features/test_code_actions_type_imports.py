"""Add missing import of a TypeScript type, end to end: the resolved edit is ``import type``, which
``verbatimModuleSyntax`` requires of a type (a plain import is TS1484 there)."""

from __future__ import annotations

from pathlib import Path

from lsp_harness import lsp_session
from lsprotocol import types


async def test_add_missing_import_of_a_type_is_type_only(tmp_path: Path) -> None:
    root = tmp_path / "tsapp"
    (root / "src").mkdir(parents=True)
    (root / "tsconfig.json").write_text(
        '{ "compilerOptions": { "strict": true, "verbatimModuleSyntax": true } }\n'
    )
    (root / "src/shapes.ts").write_text(
        "export interface Shape {\n  area: number;\n}\nexport function unit(): Shape {\n  return { area: 1 };\n}\n"
    )
    (root / "src/main.ts").write_text("export const s: Shape = unit();\n")
    async with lsp_session(root) as session:
        await session.wait_for_status("ready")
        uri = session.open("src/main.ts")
        position = types.Position(line=0, character=16)
        actions = await session.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=position, end=position),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        by_title = {a.title: a for a in actions or [] if isinstance(a, types.CodeAction)}
        edits = {}
        for name in ("Shape", "unit"):
            action = by_title[f"Add missing import of `{name}` from src/shapes.ts"]
            resolved = await session.client.code_action_resolve_async(action)
            (edit,) = resolved.edit.document_changes[0].edits
            edits[name] = edit.new_text
    assert edits["Shape"].startswith('import type { Shape } from "./shapes";\n')
    assert edits["unit"].startswith('import { unit } from "./shapes";\n')  # a function: a value import
