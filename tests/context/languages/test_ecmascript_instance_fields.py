"""``this.x = …`` in a JavaScript/TypeScript method declares a field of the class (as ``self.x = …`` does in
Python): the first assignment wins, a name the class declares itself stays the declaration."""

from __future__ import annotations

from roost.context.facts import SymbolKind
from roost.context.parsing import parse_facts


def _fields(path: str, text: str) -> dict[str, tuple[int, str]]:
    facts = parse_facts(path, text)
    assert facts is not None
    return {
        d.qualified_name: (d.name_span.start_line, d.signature)
        for d in facts.definitions
        if d.kind is SymbolKind.FIELD
    }


def test_constructor_assignments_are_fields_of_the_class():
    text = (
        "class Vector3 {\n"
        "  constructor(x = 0, y = 0) {\n"
        "    this.x = x;\n"
        "    this.y = y;\n"
        "  }\n"
        "  set(x) {\n"
        "    this.x = x;\n"
        "    this.dirty = true;\n"
        "    return this;\n"
        "  }\n"
        "}\n"
        "function free() {\n"
        "  this.loose = 1;\n"
        "}\n"
    )
    assert _fields("Vector3.js", text) == {
        "Vector3.x": (2, "this.x = x"),
        "Vector3.y": (3, "this.y = y"),
        "Vector3.dirty": (7, "this.dirty = true"),
    }


def test_a_declared_field_is_not_redeclared_by_its_assignment():
    text = (
        "export class Subscription {\n"
        "  private closed: boolean;\n"
        "  constructor() {\n"
        "    this.closed = false;\n"
        "    this.teardowns = [];\n"
        "  }\n"
        "}\n"
    )
    assert _fields("Subscription.ts", text) == {
        "Subscription.closed": (1, "private closed: boolean"),
        "Subscription.teardowns": (4, "this.teardowns = []"),
    }
