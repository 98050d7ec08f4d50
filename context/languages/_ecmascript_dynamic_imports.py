"""Redirecting a dynamic ``import(…)`` in JavaScript/TypeScript when a module move takes one of the names
it destructures (``const { X } = await import('./a.js')``): the specifier changes, or the name is split
off into an import of the new module. The static imports' counterpart is in :mod:`._ecmascript_edits`.
"""

from __future__ import annotations

import tree_sitter

from roost.context.facts import Import
from roost.context.languages._ecmascript_edits import element_name, statement_removal, walk_named
from roost.context.languages._edit_source import EditSource, parse_for_edit

# What may stand between ``import(…)`` and the declarator it initialises: ``const { X } = await import(…)``.
_DYNAMIC_IMPORT_WRAPPERS = ("await_expression", "parenthesized_expression")


def _dynamic_import_call(source: EditSource, imp: Import) -> tree_sitter.Node | None:
    """The ``import(…)`` call ``imp`` was recorded from, or None when ``imp`` is another form."""
    byte = source.byte_at(imp.span.start_line, imp.span.start_col)
    node: tree_sitter.Node | None = source.root.descendant_for_byte_range(byte, byte)
    while node is not None and node.start_byte == byte:
        if node.type == "call_expression":
            function = node.child_by_field_name("function")
            return node if function is not None and function.type == "import" else None
        node = node.parent
    return None


def _destructuring_declarator(call: tree_sitter.Node) -> tree_sitter.Node | None:
    """The declarator of ``const/let/var { … } = [await] import(…)``; None for any other use of the call."""
    value = call
    while value.parent is not None and value.parent.type in _DYNAMIC_IMPORT_WRAPPERS:
        value = value.parent
    declarator = value.parent
    if declarator is None or declarator.type != "variable_declarator":
        return None
    if declarator.child_by_field_name("value") != value:
        return None
    pattern = declarator.child_by_field_name("name")
    return declarator if pattern is not None and pattern.type == "object_pattern" else None


def _takes_name(source: EditSource, scope: tree_sitter.Node, name: str) -> bool:
    """Whether ``scope`` reads ``name`` off some object (``m.X``) or destructures it (``({ X }) =>``): how a
    module object from ``import(…)`` gives the name where the call is not a plain destructuring."""
    for node in walk_named(scope):
        if node.type == "member_expression":
            prop = node.child_by_field_name("property")
            if prop is not None and source.node_text(prop) == name:
                return True
        elif (
            node.parent is not None
            and node.parent.type == "object_pattern"
            and _part_name(source, node) == name
        ):
            return True
    return False


def _part_name(source: EditSource, part: tree_sitter.Node) -> str:
    """The property a part of ``{ … }`` destructuring takes (``X``, ``X: y``, ``X = 1``)."""
    if part.type == "object_assignment_pattern":
        left = part.child_by_field_name("left")
        return source.node_text(left) if left is not None else ""
    if part.type in ("shorthand_property_identifier_pattern", "pair_pattern"):
        return element_name(source, part)
    return ""


def _result_discarded(call: tree_sitter.Node) -> bool:
    value = call
    while value.parent is not None and value.parent.type in _DYNAMIC_IMPORT_WRAPPERS:
        value = value.parent
    return value.parent is not None and value.parent.type == "expression_statement"


def _scope_of(node: tree_sitter.Node) -> tree_sitter.Node:
    scope = node
    while scope.parent is not None and scope.type not in ("statement_block", "program"):
        scope = scope.parent
    return scope


def with_dynamic_import_redirected(
    path: str, text: str, imp: Import, name: str, module: str | None, language: tree_sitter.Language
) -> str:
    """``const { X } = await import('./source.js')`` (``let``/``var``, with or without ``await``) taking
    ``name``: the specifier becomes ``module`` when ``name`` is all it takes, else ``name`` is split off into
    the same declaration of ``module`` on the next line; ``module`` None drops ``name``. Other forms that take
    ``name`` (``.then(m => m.X)``, ``mod.X``, a template specifier, a rest element) raise ``ValueError``; a
    text whose ``imp`` is no dynamic import, or one that does not take ``name``, comes back unchanged."""
    source = parse_for_edit(language, text)
    call = _dynamic_import_call(source, imp)
    if call is None:
        return text
    where = f"the dynamic import of {imp.module!r} on line {imp.span.start_line + 1}"
    declarator = _destructuring_declarator(call)
    if declarator is None:
        if _result_discarded(call):  # ``await import('./m.js');`` for its side effects
            return text
        if _takes_name(source, _scope_of(call), name):
            raise ValueError(
                f"{where} takes {name!r} in a form not rewritten (only `const {{ {name} }} = …`)"
            )
        return text
    pattern = declarator.child_by_field_name("name")
    assert pattern is not None
    parts = [c for c in pattern.named_children if c.type != "comment"]
    taking = [i for i, part in enumerate(parts) if _part_name(source, part) == name]
    if not taking:
        if any(part.type == "rest_pattern" for part in parts):
            raise ValueError(f"{where} may take {name!r} through a rest element")
        return text
    index = taking[0]
    part = parts[index]
    declaration = declarator.parent
    arguments = call.child_by_field_name("arguments")
    specifier = arguments.named_children[0] if arguments is not None and arguments.named_children else None
    if len(taking) > 1 or part.type not in ("shorthand_property_identifier_pattern", "pair_pattern"):
        raise ValueError(f"{where} destructures {name!r} in a form not rewritten")
    if any(p.type == "rest_pattern" for p in parts):
        raise ValueError(f"{where} has a rest element that would change with {name!r} split off")
    if (
        declaration is None
        or len([c for c in declaration.named_children if c.type == "variable_declarator"]) != 1
    ):
        raise ValueError(f"{where} shares its declaration with other variables")
    if specifier is None or specifier.type != "string":
        raise ValueError(f"{where} is not written with a plain string specifier")
    quote = source.node_text(specifier)[:1]
    if len(parts) == 1:  # everything it takes moved: the same statement, of the target (or gone)
        if module is None:
            return source.with_edits([statement_removal(source, declaration) + ("",)])
        return source.with_edits([(specifier.start_byte, specifier.end_byte, f"{quote}{module}{quote}")])
    if index + 1 < len(parts):
        edits = [(part.start_byte, parts[index + 1].start_byte, "")]
    else:
        edits = [(parts[index - 1].end_byte, part.end_byte, "")]
    if module is not None:
        line_start = source.line_start(declaration.start_byte)
        indent = source.data[line_start : declaration.start_byte].decode("utf-8", "replace")
        if indent.strip():
            raise ValueError(f"{where} does not start its line")
        keyword = source.node_text(declaration).split(None, 1)[0]
        value = declarator.child_by_field_name("value")
        awaited = "await " if value is not None and value.type == "await_expression" else ""
        semicolon = ";" if source.node_text(declaration).rstrip().endswith(";") else ""
        statement = (
            f"{keyword} {{ {source.node_text(part)} }} = {awaited}import({quote}{module}{quote}){semicolon}"
        )
        end = source.line_end(declaration.end_byte)
        if source.data[declaration.end_byte : end].strip():
            raise ValueError(f"{where} shares its line with more code")
        newline = "" if source.data[end - 1 : end] == b"\n" else "\n"
        edits.append((end, end, f"{newline}{indent}{statement}\n"))
    return source.with_edits(edits)
