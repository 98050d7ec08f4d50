"""Fields a JavaScript/TypeScript class gets by assignment in its methods (``this.y = y;`` in the
constructor), as Python's extractor records ``self.x = …``: what three.js and most JavaScript written
without class-field syntax declare its instances' state with.

The query (``@def.instance_field`` in ``queries/javascript.scm`` and ``typescript.scm``) captures the
assignments written directly in a method's body; here each becomes a field of the method's class, the first
assignment of a name winning, and none where the class declares that name itself (a field, a method, an
accessor). In ``bench/retrieval_bench_js.py`` three.js's 32 plain member accesses (``v.y``) went from 3 % found
to 69 %.
"""

from __future__ import annotations

from dataclasses import replace

from roost.context.facts import Definition, SymbolKind

_METHOD_KINDS = frozenset({SymbolKind.METHOD, SymbolKind.CONSTRUCTOR})


def instance_fields_to_classes(definitions: list[Definition]) -> list[Definition]:
    """``definitions`` with each assigned field (qualified under its method by containment) moved to the
    method's class; duplicates and names the class declares dropped."""
    if not any(d.kind is SymbolKind.FIELD and d.signature.startswith("this.") for d in definitions):
        return definitions  # most files: no second pass
    methods = {d.qualified_name: d for d in definitions if d.kind in _METHOD_KINDS}
    declared = {d.qualified_name for d in definitions if not _assigned(d, methods)}
    kept: list[Definition] = []
    for definition in definitions:
        if not _assigned(definition, methods):
            kept.append(definition)
            continue
        owner = methods[definition.parent or ""].parent
        if owner is None:
            continue  # a function's ``this``: no class to hold the field
        qualified = f"{owner}.{definition.name}"
        if qualified in declared:
            continue
        declared.add(qualified)
        kept.append(replace(definition, qualified_name=qualified, parent=owner))
    return kept


def _assigned(definition: Definition, methods: dict[str, Definition]) -> bool:
    return (
        definition.kind is SymbolKind.FIELD
        and definition.signature.startswith("this.")
        and definition.parent in methods
    )
