"""The shape of ``lsp/``, checked on the source (issue "shape"): every module imports at its top. An
import inside a function is allowed only for a deliberately heavy library path (torch, transformers,
through roost.engine.backends.transformers_backend), saying so on its line (``# lazy: why``). Imports
inside functions were what once made worker threads deadlock on Python's import locks."""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LSP = REPO_ROOT / "lsp"


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports_inside_functions(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking_block(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom) and not top:
                found.append(child)
            visit(child, top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))

    visit(tree, True)
    return found


def _lazy_imports(source: str) -> list[str]:
    lines = source.splitlines()
    return [
        f"{node.lineno}: {lines[node.lineno - 1].strip()}"
        for node in _imports_inside_functions(ast.parse(source))
        if "# lazy:" not in lines[node.lineno - 1]
    ]


def test_lsp_modules_import_at_their_top() -> None:
    inside = [
        f"{path.relative_to(REPO_ROOT).as_posix()}:{found}"
        for path in sorted(LSP.rglob("*.py"))
        for found in _lazy_imports(path.read_text(encoding="utf-8"))
    ]
    assert not inside, "imports inside functions (mark a deliberate one `# lazy: why`):\n" + "\n".join(inside)


def test_an_unmarked_import_inside_a_function_is_found() -> None:
    source = (
        "def load():\n"
        "    import json\n"
        "    from roost.engine.backends import transformers_backend  # lazy: imports torch\n"
        "    return json\n"
    )
    assert _lazy_imports(source) == ["2: import json"]
