"""Python's declared types, for navigation: the class a parameter or local is annotated with at a
position (``def f(store: Store)``, ``s: Store = make()``, ``Optional[Store]``, ``Store | None``), and the
class a field's declaration writes or implies (``cache: Cache``, ``self.store = store`` with
``store: Store``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import tree_sitter

from roost.context.facts import Definition, SymbolKind
from roost.context.languages._python_outline import grammar
from roost.context.languages.base import (
    ScopeDeclaration,
    declared_type_in_scopes,
    parsed_for_lookup,
    parsed_snippet,
)


def declared_type(path: str, source: bytes, name: str, at: tuple[int, int]) -> str | None:
    # Annotations: ``def f(store: Store)``, ``s: Store = make()``, ``Optional[Store]``, ``Store | None``.
    root = parsed_for_lookup(grammar(), source).root_node
    return declared_type_in_scopes(root, name, at, _scope_declarations)


def field_type(path: str, source: bytes, field: Definition) -> str | None:
    # The definition's first line: ``cache: Cache``, ``self.store: Store = store``, ``self.store = store``.
    if field.kind not in (SymbolKind.FIELD, SymbolKind.VARIABLE, SymbolKind.CONSTANT):
        return None
    root = parsed_snippet(grammar(), field.signature.encode("utf-8")).root_node
    statement = root.named_children[0] if root.named_child_count == 1 and not root.has_error else None
    assignment = (
        statement.named_children[0] if statement is not None and statement.named_child_count else None
    )
    if assignment is None or assignment.type != "assignment":
        return None
    annotated = _annotated_type(assignment.child_by_field_name("type"))
    if annotated is not None:
        return annotated
    right = assignment.child_by_field_name("right")
    if right is None or right.type != "identifier" or not right.text or not source:
        return None
    # Assigned from a name: that parameter's or local's declared type where the assignment is.
    return declared_type(path, source, right.text.decode(), (field.span.start_line, field.span.start_col))


_FUNCTION_SCOPES = frozenset({"function_definition", "lambda"})
_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _scope_declarations(scope: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    """What ``scope`` binds directly, with the annotated type (None when not annotated): a function's or
    lambda's parameters; in a function, a block's assignments, ``for`` targets, ``with … as`` and
    ``except … as`` names; a ``for``/``with``/``except`` around the position its own targets. Module and
    class level bind globals and attributes, which are not asked about."""
    kind = scope.type
    if kind in _FUNCTION_SCOPES:
        parameters = scope.child_by_field_name("parameters")
        for parameter in parameters.named_children if parameters is not None else ():
            yield from _parameter_declarations(parameter)
    elif kind == "block":
        if _inside_function(scope):
            for statement in scope.named_children:
                yield from _statement_declarations(statement)
    elif kind in ("for_statement", "with_statement", "except_clause"):
        yield from _statement_declarations(scope)


def _parameter_declarations(parameter: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    kind = parameter.type
    if kind == "identifier":
        yield parameter, None
    elif kind in ("typed_parameter", "typed_default_parameter", "default_parameter"):
        name = parameter.child_by_field_name("name") or (
            parameter.named_children[0] if parameter.named_child_count else None
        )
        if name is not None and name.type == "identifier":
            yield name, _annotated_type(parameter.child_by_field_name("type"))
        elif name is not None:  # ``*args: T`` / ``**kwargs: T``: a tuple or dict of T, not a T
            yield from ((n, None) for n in name.named_children if n.type == "identifier")
    elif kind in ("list_splat_pattern", "dictionary_splat_pattern"):
        yield from ((n, None) for n in parameter.named_children if n.type == "identifier")


def _statement_declarations(statement: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    kind = statement.type
    if kind == "expression_statement":
        for assignment in statement.named_children:
            if assignment.type != "assignment":
                continue
            left = assignment.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                yield left, _annotated_type(assignment.child_by_field_name("type"))
            elif left is not None and left.type in ("pattern_list", "tuple_pattern"):
                yield from ((n, None) for n in left.named_children if n.type == "identifier")
    elif kind == "for_statement":
        left = statement.child_by_field_name("left")
        if left is not None and left.type == "identifier":
            yield left, None
        elif left is not None:
            yield from ((n, None) for n in left.named_children if n.type == "identifier")
    elif kind in ("with_statement", "except_clause"):
        # ``with a as x``, ``except E as err``: the names in ``as_pattern_target`` (tree-sitter-python >= 0.23).
        for node in _descendants_of_type(statement, "as_pattern_target", stop=("block",)):
            yield from ((n, None) for n in node.named_children if n.type == "identifier")


def _descendants_of_type(
    node: tree_sitter.Node, kind: str, stop: tuple[str, ...]
) -> Iterator[tree_sitter.Node]:
    for child in node.named_children:
        if child.type == kind:
            yield child
        elif child.type not in stop:
            yield from _descendants_of_type(child, kind, stop)


def _inside_function(node: tree_sitter.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTION_SCOPES:
            return True
        if parent.type == "class_definition":
            return False
        parent = parent.parent
    return False


def _annotated_type(annotation: tree_sitter.Node | None) -> str | None:
    """The one class an annotation names: ``Store``, ``pkg.Store``, ``"Store"``, ``Optional[Store]``,
    ``Store | None``; None for anything else (``list[Store]``, unions of classes, no annotation)."""
    node = annotation
    if node is not None and node.type == "type":
        node = node.named_children[0] if node.named_child_count == 1 else None
    if node is None:
        return None
    kind = node.type
    if kind in ("identifier", "attribute"):
        text = (node.text or b"").decode("utf-8", errors="replace")
        return text if _DOTTED_NAME.fullmatch(text) else None
    if kind == "string":
        text = "".join(
            (child.text or b"").decode("utf-8", errors="replace")
            for child in node.named_children
            if child.type == "string_content"
        ).strip()
        return text if _DOTTED_NAME.fullmatch(text) else None
    if kind in ("generic_type", "subscript"):  # ``Optional[T]`` (``typing.Optional[T]``)
        head = node.child_by_field_name("value") or (
            node.named_children[0] if node.named_child_count else None
        )
        if head is None or (head.text or b"").decode().rsplit(".", 1)[-1] != "Optional":
            return None
        inner = [c for c in node.named_children[1:] if c.type in ("type_parameter", "type")] or [
            c for c in node.named_children[1:]
        ]
        if len(inner) == 1 and inner[0].type == "type_parameter":
            inner = list(inner[0].named_children)
        return _annotated_type(inner[0]) if len(inner) == 1 else None
    if kind == "binary_operator":  # ``T | None``
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if right is not None and right.type == "none":
            return _annotated_type(left)
        if left is not None and left.type == "none":
            return _annotated_type(right)
    return None
