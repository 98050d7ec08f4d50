"""Types for receiver names that no lexical hint gives (``cursor._type_hints`` reads ``x: Foo`` and
``x = Foo(…)``, not Go's declarations), so that ``name.▮`` lists the members of the type:

- the receiver a method names for itself: Go writes no ``self`` but a name per method (``func (c *Command)
  Flags()``), so inside that method ``c`` is a ``Command``, which may be declared in another file of the
  package (languages with a fixed ``self``/``this`` get it from the enclosing class: their
  ``method_receiver`` answers None);
- the parameter or local the cursor's receiver is declared as (``func gen(cmd *cobra.Command)``, ``var inst
  gccgoimporter.GccgoInstallation``): the language's ``declared_type`` (go-to-definition's), asked of the
  enclosing function alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from roost.context.facts import Definition, FileFacts, SymbolKind
from roost.context.languages import language_for_path


def method_receiver_hints(facts: FileFacts, scopes: Sequence[Definition]) -> dict[str, str]:
    """Receiver name -> the type that declares the method, for the methods among ``scopes`` (the
    definitions enclosing the cursor) that name their receiver."""
    language = language_for_path(facts.path)
    if language is None:
        return {}
    hints: dict[str, str] = {}
    for scope in scopes:
        if scope.kind is not SymbolKind.METHOD or scope.parent is None:
            continue
        receiver = language.method_receiver(scope)
        if receiver is not None:
            hints[receiver] = scope.parent
    return hints


def declared_receiver_type(
    path: str, lines: Sequence[str], function: Definition, name: str, line: int, byte_col: int
) -> str | None:
    """The type ``name`` is declared with as a parameter or local of ``function`` (the innermost function
    around the cursor at ``line``, ``byte_col`` of the buffer ``lines``), as written (``cobra.Command``);
    None when not so declared. Only the function's lines are parsed (a whole file costs ~15-30 ms, a
    function well under 1 ms)."""
    language = language_for_path(path)
    if language is None or not name.isidentifier() or name in language.self_names():
        return None  # ``self``/``this`` are the enclosing class's
    start, end = function.span.start_line, min(function.span.end_line, len(lines) - 1)
    if not start <= line <= end:
        return None
    source = "\n".join(lines[start : end + 1]).encode("utf-8")
    try:
        return language.declared_type(path, source, name, (line - start, byte_col))
    except Exception:  # a grammar surprise must never fail a request
        return None
