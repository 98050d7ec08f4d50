"""The layer rules of docs/architecture.md, checked on the source: context/ knows no models and no LSP,
engine/ knows no graph and no LSP, lsp/ runs no torch and parses nothing itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "context": ("roost.engine", "roost.lsp", "torch", "transformers", "pygls", "lsprotocol"),
    "engine": ("roost.context", "roost.lsp", "pygls", "lsprotocol", "tree_sitter"),
    # doctor reports torch's device; that is the one place lsp/ may look at torch.
    "lsp": ("torch", "transformers", "tree_sitter"),
}
ALLOWED = {("lsp", "cli/commands/doctor.py", "torch")}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    violations = []
    for path in sorted((REPO_ROOT / layer).rglob("*.py")):
        relative = path.relative_to(REPO_ROOT / layer).as_posix()
        for module in imported_modules(path):
            for banned in FORBIDDEN[layer]:
                if (module == banned or module.startswith(banned + ".")) and (
                    layer,
                    relative,
                    banned,
                ) not in ALLOWED:
                    violations.append(f"{layer}/{relative} imports {module}")
    assert not violations, "\n".join(violations)
