"""Where a moved Python definition goes in its new module: before the first top-level statement that uses it
while the module is imported (``X = moved()``, ``@moved``, ``class A(moved)``), since Python runs those
statements in order; uses inside function bodies run later and do not count."""

from __future__ import annotations

from collections.abc import Iterator

import tree_sitter

from roost.context.languages import language_for_path
from roost.context.parser_cache import parse

# Nodes whose body runs only when called: uses inside do not need the name at import time.
_DEFERRED_BODIES = {"function_definition": "body", "lambda": "body"}
_IMPORTS = {"import_statement", "import_from_statement", "future_import_statement"}
_DEFINITIONS = {"function_definition", "class_definition"}


def _identifiers(node: tree_sitter.Node, skip_deferred: bool = True) -> Iterator[tree_sitter.Node]:
    """Identifiers evaluated when ``node`` runs at module level (function and lambda bodies skipped unless
    ``skip_deferred`` is False); the name a definition binds is not a use."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            yield current
            continue
        deferred = _DEFERRED_BODIES.get(current.type) if skip_deferred else None
        body = current.child_by_field_name(deferred) if deferred else None
        name = current.child_by_field_name("name") if current.type in _DEFINITIONS else None
        skipped = {n.id for n in (body, name) if n is not None}
        stack.extend(child for child in current.children if child.id not in skipped)


def _uses(statement: tree_sitter.Node, names: set[bytes], skip_deferred: bool = True) -> bool:
    return any(node.text in names for node in _identifiers(statement, skip_deferred))


def import_time_insertion(
    path: str, text: str, symbol: str, needs_before: frozenset[str], aliases: frozenset[str] = frozenset()
) -> tuple[int | None, bool]:
    """The offset in ``text`` (start of a line) to insert the definition of ``symbol`` at: before the first
    top-level statement using it at import time (directly, or by calling a top-level function of the module
    that uses it), or None for the end of the module. The second value is
    False when that statement comes before the definition of one of ``needs_before`` (top-level names the
    moved code itself uses), so no place works and the caller keeps the end."""
    language = language_for_path(path)
    if language is None:
        return None, True
    source = text.encode("utf-8")
    tree = parse(language.ts_language(path), source)
    statements = [s for s in tree.root_node.named_children if s.type not in _IMPORTS]
    # A top-level function (or class) whose body uses the symbol needs it too once called at import time
    # (``setup()`` at module level): followed through such definitions until nothing new is found.
    needing = {name.encode() for name in {symbol, *aliases}}  # ``aliases``: the names it was imported as
    while True:
        more = {
            name.encode()
            for statement in statements
            for name in _bound_names(statement)
            if name.encode() not in needing and _uses(statement, needing, skip_deferred=False)
        }
        if not more:
            break
        needing |= more
    defined: set[str] = set()
    for statement in statements:
        if _uses(statement, needing):
            if needs_before - defined:
                return None, False
            anchor = _with_leading_comments(source, statement)
            line_start = source.rfind(b"\n", 0, anchor.start_byte) + 1
            return len(source[:line_start].decode("utf-8", errors="replace")), True
        defined.update(_bound_names(statement))
    return None, True


def _bound_names(statement: tree_sitter.Node) -> set[str]:
    """Top-level names a statement defines (enough for definitions and simple assignments)."""
    node = (
        statement.child_by_field_name("definition") if statement.type == "decorated_definition" else statement
    )
    if node is None:
        return set()
    if node.type in ("function_definition", "class_definition"):
        name = node.child_by_field_name("name")
        return {name.text.decode()} if name is not None and name.text else set()
    names: set[str] = set()
    for child in node.named_children:
        if child.type == "assignment":
            left = child.child_by_field_name("left")
            if left is not None:
                names.update(n.text.decode() for n in _identifiers(left) if n.text)
    return names


def _with_leading_comments(source: bytes, statement: tree_sitter.Node) -> tree_sitter.Node:
    """The first of the comment lines directly above ``statement`` (each on its own line, no blank line
    between), or the statement itself: such comments describe it and stay with it when the moved
    definition goes in before it. Comment nodes, not lines starting with ``#``: a string's line is not one."""
    anchor = statement
    previous = statement.prev_named_sibling
    while (
        previous is not None
        and previous.type == "comment"
        and previous.end_point[0] == anchor.start_point[0] - 1
        and not source[source.rfind(b"\n", 0, previous.start_byte) + 1 : previous.start_byte].strip()
    ):
        anchor = previous
        previous = previous.prev_named_sibling
    return anchor
