"""Go types as declarations write them, for typing receivers no name gives a type: a function's first
result (``func (c *Command) Root() *Command``, so ``cmd.Root().▮`` is a ``Command``), the element of a
slice, array, map or channel (``[]*Command``, ``map[string]*Flag``), a defined type's underlying type
(``type byName []*cobra.Command``), and the expression a local without a written type is bound to (``for _, c
:= range cmd.Commands()`` → an element of ``cmd.Commands()``, written ``cmd.Commands()[]``).

A type is given as written, pointers and parentheses dropped around a named type (``*pkg.T`` → ``pkg.T``)
and a composite type kept whole (``[]*Command``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import tree_sitter

from roost.context.facts import Definition, SymbolKind
from roost.context.languages._common import text
from roost.context.languages.base import ScopeDeclaration, parsed_snippet

# Types whose values hold elements of another type: the element's field in the grammar.
_ELEMENT_FIELD = {
    "slice_type": "element",
    "array_type": "element",
    "map_type": "value",
    "channel_type": "value",
}
_WRAPPERS = frozenset({"pointer_type", "parenthesized_type"})
_SPACES = re.compile(r"\s+")


def written_type(grammar: tree_sitter.Language, definition: Definition) -> str | None:
    """The type ``definition``'s declaration writes: a function's or method's (first) result, a field's or
    variable's type, a defined type's underlying type (not a struct's or an interface's); None when it
    writes none."""
    kind, signature = definition.kind, definition.signature
    wanted: tuple[str, ...]
    if kind in (SymbolKind.FUNCTION, SymbolKind.METHOD):
        snippet, wanted, field = (
            f"package p\n{signature} {{}}\n",
            ("function_declaration", "method_declaration"),
            "result",
        )
    elif kind is SymbolKind.FIELD:
        snippet, wanted, field = (
            f"package p\ntype _ struct {{\n{signature}\n}}\n",
            ("field_declaration",),
            "type",
        )
    elif kind is SymbolKind.VARIABLE and signature.startswith("var "):
        snippet, wanted, field = f"package p\n{signature}\n", ("var_spec",), "type"
    elif kind in (SymbolKind.CLASS, SymbolKind.TYPE) and signature.startswith("type "):
        snippet, wanted, field = f"package p\n{signature}\n", ("type_spec",), "type"
    else:
        return None
    source = snippet.encode()
    root = parsed_snippet(grammar, source).root_node
    declaration = _first_of_types(root, wanted)
    if root.has_error or declaration is None:
        return None
    written = declaration.child_by_field_name(field)
    if written is not None and written.type == "parameter_list":  # ``(*Command, []string, error)``
        first = next((p for p in written.named_children if p.type == "parameter_declaration"), None)
        written = first.child_by_field_name("type") if first is not None else None
    return type_text(source, written)


def element_type(grammar: tree_sitter.Language, written: str) -> str | None:
    """The type of an element of a value of type ``written`` (a slice's, array's or channel's element, a
    map's value); None for any other type (a named type's elements are its underlying type's)."""
    source = f"package p\nvar _ {written}\n".encode()
    root = parsed_snippet(grammar, source).root_node
    spec = _first_of_types(root, ("var_spec",))
    if root.has_error or spec is None:
        return None
    container = spec.child_by_field_name("type")
    field = _ELEMENT_FIELD.get(container.type) if container is not None else None
    return type_text(source, container.child_by_field_name(field)) if container and field else None


def type_text(source: bytes, written: tree_sitter.Node | None) -> str | None:
    """A type node as this module gives types: a named type without its pointers (``*pkg.T`` → ``pkg.T``,
    ``T[int]`` → ``T``), any other type whole, spaces collapsed."""
    while written is not None and written.type in _WRAPPERS:
        written = written.named_children[0] if written.named_children else None
    if written is not None and written.type == "generic_type":
        written = written.child_by_field_name("type")
    if written is None:
        return None
    return _SPACES.sub(" ", text(source, written))


def bound_values(source: bytes, scope: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    """What ``scope`` binds its locals to where no named type is written, as receiver expressions: a
    ``range`` clause's value variable an element of what it ranges over (``cmd.Commands()[]``; a lone
    variable is a key or an index: None), ``x := s[i]`` an element of ``s`` (``s[]``), ``x := f(…)`` what
    ``f`` returns (``f()``), a parameter or ``var`` of a composite type that type (``[]*Command``)."""
    for child in scope.named_children:
        if child.type == "range_clause":
            yield from _range_values(source, child)
        elif child.type == "short_var_declaration":
            yield from _assigned_values(source, child)
        elif child.type in ("parameter_list", "var_declaration"):
            for spec in _declarations(child):
                written = type_text(source, spec.child_by_field_name("type"))
                if written is not None and spec.type != "variadic_parameter_declaration":
                    yield from ((name, written) for name in spec.children_by_field_name("name"))


def _range_values(source: bytes, clause: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    left, right = clause.child_by_field_name("left"), clause.child_by_field_name("right")
    names = [n for n in left.named_children if n.type == "identifier"] if left is not None else []
    if not any(c.type == ":=" for c in clause.children) or right is None or not names:
        return
    ranged = receiver_expression(source, right)
    yield names[0], None  # a key or an index
    if len(names) == 2:
        yield names[1], ranged + "[]" if ranged is not None else None


def _assigned_values(source: bytes, declaration: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    left, right = declaration.child_by_field_name("left"), declaration.child_by_field_name("right")
    names = [n for n in left.named_children if n.type == "identifier"] if left is not None else []
    values = right.named_children if right is not None and right.type == "expression_list" else []
    for index, name in enumerate(names):
        value = values[index] if len(values) == len(names) else None
        if value is None and index == 0 and len(values) == 1:  # ``c, args, err := root.Find(…)``
            value = values[0] if values[0].type == "call_expression" else None
        yield name, receiver_expression(source, value) if value is not None else None


def receiver_expression(source: bytes, node: tree_sitter.Node) -> str | None:
    """``cmd.Commands()``, ``s[i]`` and ``m.byName[k]`` as receivers are written for retrieval
    (``cmd.Commands()``, ``s[]``, ``m.byName[]``: arguments and indexes dropped); None for any other
    expression (a literal, an operator, a conversion)."""
    kind = node.type
    if kind == "identifier":
        return text(source, node)
    if kind == "selector_expression":
        operand, field = node.child_by_field_name("operand"), node.child_by_field_name("field")
        head = receiver_expression(source, operand) if operand is not None else None
        return f"{head}.{text(source, field)}" if head is not None and field is not None else None
    inner = node.child_by_field_name("function" if kind == "call_expression" else "operand")
    if kind not in ("call_expression", "index_expression") or inner is None:
        return None
    head = receiver_expression(source, inner)
    return head + ("()" if kind == "call_expression" else "[]") if head is not None else None


def _declarations(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    for child in node.named_children:
        if child.type in ("parameter_declaration", "variadic_parameter_declaration", "var_spec"):
            yield child
        elif child.type == "var_spec_list":
            yield from _declarations(child)


def _first_of_types(node: tree_sitter.Node, node_types: tuple[str, ...]) -> tree_sitter.Node | None:
    if node.type in node_types:
        return node
    for child in node.named_children:
        found = _first_of_types(child, node_types)
        if found is not None:
            return found
    return None
