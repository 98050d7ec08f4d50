"""Python: the language module's wiring — :data:`LANGUAGE`, a :class:`PythonSupport` whose hooks hand the
work to the modules beside it.

- :mod:`._python_outline`: definitions, imports, ``__all__``/re-exports and references of one tree. An
  error-free tree's outline comes from one walk over its statements (the cold index's path); a tree with
  syntax errors, and one edited statement, go through the outline query.
- :mod:`._python_incremental`: the outline of an open buffer after an edit, re-extracting only the edited
  statements.
- :mod:`._python_imports`: import resolution and writing imports (the refactors' hooks).
- :mod:`._python_types`: the declared types of parameters, locals and fields (navigation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import tree_sitter

from roost.context.codec import encode_records
from roost.context.facts import Definition, FileFacts, Import, ImportedName, Reference, ResolvedImport
from roost.context.languages import _python_imports, _python_incremental, _python_outline, _python_types
from roost.context.languages._common import statements_of
from roost.context.languages.base import (
    FunctionBody,
    LanguageSupport,
    OutlineState,
    TextChange,
    WorkspaceLayout,
)

if TYPE_CHECKING:
    from roost.context.buffers import Buffer


class PythonSupport(LanguageSupport):
    name = _python_outline.LANGUAGE_NAME
    extensions = (".py", ".pyi")

    def ts_language(self, path: str) -> tree_sitter.Language:
        return _python_outline.grammar()

    # -- extraction ----------------------------------------------------------------------------------

    def extract(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        facts = self.extract_outline(path, source, tree)
        facts.references = self.extract_references(path, source, tree)
        return facts

    def extract_outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        facts = FileFacts(path=path, language=self.name)
        records, import_nodes, all_values = _python_outline.outline_records(source, tree.root_node)
        facts.definitions = [
            _python_outline.record_to_definition(r) for r in _python_outline.dedupe_fields(records)
        ]
        facts.imports = _python_outline.imports_of(source, import_nodes)
        facts.exports = _python_outline.exports_of(path, source, facts.imports, all_values)
        return facts

    def extract_outline_encoded(
        self, path: str, source: bytes, tree: tree_sitter.Tree
    ) -> tuple[bytes, list[Import], int]:
        """The cold-index fast path: definitions go from the walk to the encoded record without becoming
        objects. Equal to ``encode_facts(extract_outline(...))`` (tested)."""
        records, import_nodes, all_values = _python_outline.outline_records(source, tree.root_node)
        records = _python_outline.dedupe_fields(records)
        found_imports = _python_outline.imports_of(source, import_nodes)
        exports = _python_outline.exports_of(path, source, found_imports, all_values)
        blob = encode_records(path, self.name, None, records, found_imports, exports)
        return blob, found_imports, len(records)

    def extract_references(self, path: str, source: bytes, tree: tree_sitter.Tree) -> list[Reference]:
        return _python_outline.extract_references(path, source, tree)

    # -- incremental outline for open buffers -------------------------------------------------------------

    updates_outline_locally = True

    def update_outline(
        self,
        path: str,
        source: bytes,
        tree: tree_sitter.Tree,
        state: OutlineState,
        old_tree: tree_sitter.Tree | None = None,
        change: TextChange | None = None,
    ) -> FileFacts:
        return _python_incremental.update_outline(path, source, tree, state, old_tree, change)

    def update_outline_local(self, path: str, buffer: Buffer, state: OutlineState) -> FileFacts | None:
        return _python_incremental.update_outline_local(path, buffer, state)

    # -- hooks -----------------------------------------------------------------------------------------

    def bound_name(self, imp: Import) -> str | None:
        if imp.names or imp.is_star:
            return None
        if imp.alias:
            return imp.alias
        # ``import os.path`` binds ``os``.
        return imp.module.split(".", 1)[0] if not imp.module.startswith(".") else None

    def self_names(self) -> tuple[str, ...]:
        return ("self", "cls")

    def declared_type(self, path: str, source: bytes, name: str, at: tuple[int, int]) -> str | None:
        return _python_types.declared_type(path, source, name, at)

    def field_type(self, path: str, source: bytes, field: Definition) -> str | None:
        return _python_types.field_type(path, source, field)

    def function_statements(self, source: bytes, tree: tree_sitter.Tree) -> dict[str, FunctionBody]:
        return python_function_statements(tree.root_node)

    def builtin_names(self) -> frozenset[str]:
        return _python_imports.BUILTIN_NAMES

    # -- writing imports -------------------------------------------------------------------------------

    def import_module_name(
        self, importer: str, target: str, relative: bool, exists: Callable[[str], bool]
    ) -> str | None:
        return _python_imports.import_module_name(importer, target, relative, exists)

    def render_import(self, module: str, names: Sequence[ImportedName]) -> str | None:
        return _python_imports.render_import(module, names)

    def render_module_import(self, module: str, alias: str | None = None) -> str | None:
        return _python_imports.render_module_import(module, alias)

    def import_insertion_line(self, facts: FileFacts | None, lines: Sequence[str]) -> int | None:
        return _python_imports.import_insertion_line(facts, lines)

    # -- import resolution ------------------------------------------------------------------------------

    def resolve_import(self, imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
        return _python_imports.resolve_one(imp, importer, layout)

    def resolve_imports(
        self, imports: Sequence[Import], importer: str, layout: WorkspaceLayout
    ) -> list[ResolvedImport]:
        return _python_imports.resolve_imports(imports, importer, layout)


LANGUAGE = PythonSupport()


def python_function_statements(node: tree_sitter.Node, scope: str = "") -> dict[str, FunctionBody]:
    """``function_statements`` over a Python tree: a leading docstring and comments are not statements."""
    counts: dict[str, FunctionBody] = {}
    for child in node.named_children:
        target = child.child_by_field_name("definition") if child.type == "decorated_definition" else child
        if target is None or target.type not in ("function_definition", "class_definition"):
            counts.update(python_function_statements(child, scope))
            continue
        name_node = target.child_by_field_name("name")
        name = scope + (name_node.text or b"").decode("utf-8", "replace") if name_node else scope + "?"
        body = target.child_by_field_name("body")
        if body is None:
            continue
        if target.type == "function_definition":
            statements = [c for c in body.named_children if c.type != "comment"]
            if statements and _is_docstring(statements[0]):
                statements = statements[1:]
            counts[name] = statements_of(body, statements)
        counts.update(python_function_statements(body, name + "."))
    return counts


def _is_docstring(statement: tree_sitter.Node) -> bool:
    return statement.type == "expression_statement" and [c.type for c in statement.named_children] == [
        "string"
    ]
