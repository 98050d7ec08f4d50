"""Types for receiver names that no lexical hint gives (``cursor._type_hints`` reads ``x: Foo`` and
``x = Foo(…)``, not Go's declarations), so that ``name.▮`` lists the members of the type:

- the receiver a method names for itself: Go writes no ``self`` but a name per method (``func (c *Command)
  Flags()``), so inside that method ``c`` is a ``Command``, which may be declared in another file of the
  package (languages with a fixed ``self``/``this`` get it from the enclosing class: their
  ``method_receiver`` answers None);
- the parameter or local the cursor's receiver is declared as (``func gen(cmd *cobra.Command)``, ``var inst
  gccgoimporter.GccgoInstallation``): the language's ``declared_type`` (go-to-definition's), asked of the
  enclosing function alone; a local bound without a written type, to what it is bound to (the language's
  ``bound_value``: Go's ``for _, c := range cmd.Commands()`` → ``cmd.Commands()[]``), and the locals that
  expression starts from in turn;
- the chains a name does not type: a member of what a call returns (``cmd.Root().▮``: the language's
  ``written_type`` of ``Root``, Go's ``func (c *Command) Root() *Command``) and an element of a slice, array
  or map (``s[i].▮`` is written ``s[].▮``: the ``element_type`` of what types ``s``, ``[]*Command`` or
  ``type byName []*cobra.Command``), and a callback's parameter (``operate((source) => source.▮)``: the
  language's ``callback_parameter_type`` of ``operate``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from roost.context.facts import Definition, FileFacts, SymbolKind
from roost.context.graph import SymbolLocation
from roost.context.languages import language_for_path
from roost.context.resolution import Resolver, is_class, unique

_CALLABLE = frozenset({SymbolKind.FUNCTION, SymbolKind.METHOD})
_DOTTED_NAME = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
# A receiver's chain through a call or an element before its last member: ``cmd.Root().Name``, ``s[].Name``.
_LAST_POSTFIX = re.compile(r"^(.*(?:\(\)|\[\]))\.([\w$.]+)$")
# A callback's parameter (``operate((source) => …)`` → ``operate#0#0``: see the languages' ``bound_value``).
_CALLBACK_PARAMETER = re.compile(r"^(.+)#(\d+)#(\d+)$")
# How many functions around the cursor are asked for a local's declaration, innermost first.
_ENCLOSING_FUNCTIONS = 2
# How many locals one receiver's hint is followed through (``c`` ← ``cmds[]`` ← ``cmd.Commands()``).
_MAX_BOUND_HOPS = 3


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
    around the cursor at ``line``, ``byte_col`` of the buffer ``lines``), as written (``cobra.Command``), else
    what it is bound to there (the language's ``bound_value``: ``cmd.Commands()[]``); None when neither. Only the function's lines are parsed (a whole file costs ~15-30 ms, a
    function well under 1 ms)."""
    language = language_for_path(path)
    if language is None or not name.isidentifier() or name in language.self_names():
        return None  # ``self``/``this`` are the enclosing class's
    start, end = function.span.start_line, min(function.span.end_line, len(lines) - 1)
    if not start <= line <= end:
        return None
    rows = list(lines[start : end + 1])
    at = (line - start, byte_col)
    # The line being typed is often open (``xs.map((x) => x.▮``): the parser may then lose the callback or the
    # ``for`` around the cursor, and the names they bind; with its brackets closed they are found again.
    typed = rows[line - start].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore")
    closed = [*rows[: line - start], _closed(typed), *rows[line - start + 1 :]]
    for version in (rows, closed):
        source = "\n".join(version).encode("utf-8")
        try:
            found = language.declared_type(path, source, name, at) or language.bound_value(
                path, source, name, at
            )
        except Exception:  # a grammar surprise must never fail a request
            return None
        if found is not None:
            return found
    return None


_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def _closed(typed: str) -> str:
    """``return xs.map((x) => x.`` → ``return xs.map((x) => x._)``: a placeholder member and the brackets the
    line leaves open, closed."""
    open_brackets: list[str] = []
    for char in typed:
        if char in _CLOSERS:
            open_brackets.append(_CLOSERS[char])
        elif open_brackets and char == open_brackets[-1]:
            open_brackets.pop()
    return typed + "_" + "".join(reversed(open_brackets))


def declared_receiver_types(
    path: str,
    lines: Sequence[str],
    functions: Sequence[Definition],
    head: str,
    line: int,
    byte_col: int,
    known: Mapping[str, str],
) -> dict[str, str]:
    """:func:`declared_receiver_type` of ``head`` unless ``known`` (the hints found so far) types it, and of
    each local its type expression starts from in turn: ``c`` bound to ``cmd.Commands()[]`` needs ``cmd``'s,
    ``parent`` hinted ``cmd.Parent`` (``parent := cmd.Parent()``) too. ``functions`` are those around the
    cursor, innermost first: a closure's name may be bound by the function around it (a callback's
    parameter used in a named arrow function inside it); the two innermost are asked."""
    found: dict[str, str] = {}
    name, seen = head, set()
    for _ in range(_MAX_BOUND_HOPS):
        if name in seen:
            break
        seen.add(name)
        expression = known.get(name) or found.get(name)
        if expression is None:
            expression = next(
                (
                    declared
                    for function in functions[:_ENCLOSING_FUNCTIONS]
                    if (declared := declared_receiver_type(path, lines, function, name, line, byte_col))
                ),
                None,
            )
            if expression is None:
                break
            found[name] = expression
        start = _DOTTED_NAME.match(expression)
        if start is None:
            break
        name = start.group(0).split(".")[0]
    return found


def classes_of(resolver: Resolver, targets: Iterable[SymbolLocation]) -> list[SymbolLocation]:
    """The class of the value each target gives: a class itself (``Foo(…)``, an annotation ``Foo``), else
    the class a function returns (``-> Foo``, ``): Foo``, or the language's ``written_type``: Go's ``func (c
    *Command) Root() *Command``)."""
    classes: list[SymbolLocation] = []
    for target in targets:
        if is_class(target):
            classes.append(target)
        elif target.definition is not None:
            returned = resolver.returned_class(target)
            if returned is not None:
                classes.append(returned)
            elif target.definition.kind in _CALLABLE:
                classes.extend(_named_classes(resolver, target, _written_type(target)))
    return unique(classes)


def chained_receiver(
    resolver: Resolver,
    path: str,
    expression: str,
    hints: Mapping[str, str],
    resolve: Callable[[str], list[SymbolLocation]],
) -> list[SymbolLocation] | None:
    """What ``expression`` denotes when it chains through an element (``s[]``, ``cmd.commands[].Name``) or a
    member of a call's result (``cmd.Root().Find``), ``resolve`` typing its shorter parts; None when it is
    no such chain."""
    if expression.endswith("[]"):
        return element_classes(resolver, path, expression[:-2], hints, resolve)
    callback = _CALLBACK_PARAMETER.match(expression)
    if callback is not None:
        callee, argument, parameter = callback.group(1), int(callback.group(2)), int(callback.group(3))
        return unique(
            [
                cls
                for target in resolve(callee)
                for cls in _named_classes(
                    resolver, target, _callback_parameter_type(target, argument, parameter)
                )
            ]
        )
    chain = _LAST_POSTFIX.match(expression)
    if chain is None or chain.group(1) == "super()":
        return None
    return resolver.expression(path, chain.group(2), resolve(chain.group(1)))


def element_classes(
    resolver: Resolver,
    path: str,
    container: str,
    hints: Mapping[str, str],
    resolve: Callable[[str], list[SymbolLocation]],
) -> list[SymbolLocation]:
    """The class of an element of ``container`` (a receiver expression of ``path``): the element type of
    the type its hint writes (``s []*Command``), else of what it resolves to: a variable's or field's
    type, a function's result (``cmd.Commands()``), a defined type's underlying type (``type byName
    []*cobra.Command``)."""
    language = language_for_path(path)
    hint = hints.get(container)
    element = language.element_type(hint) if language is not None and hint is not None else None
    if element is not None:
        return _named_classes(resolver, SymbolLocation(path, None), element)
    # A hint names a type or a callee (``children := cmd.Commands()`` → ``cmd.Commands``): either is read.
    called = None if hint is not None else container.endswith("()")
    classes: list[SymbolLocation] = []
    for target in resolve(hint if hint is not None else container.removesuffix("()")):
        definition = target.definition
        if definition is None or called not in (None, definition.kind in _CALLABLE):
            continue
        written = _written_type(target)
        target_language = language_for_path(target.path)
        element = target_language.element_type(written) if target_language and written else None
        classes.extend(_named_classes(resolver, target, element))
    return unique(classes)


def _written_type(target: SymbolLocation) -> str | None:
    language = language_for_path(target.path)
    if language is None or target.definition is None:
        return None
    try:
        return language.written_type(target.definition)
    except Exception:  # a grammar surprise must never fail a request
        return None


def _callback_parameter_type(target: SymbolLocation, argument: int, parameter: int) -> str | None:
    language = language_for_path(target.path)
    if language is None or target.definition is None:
        return None
    try:
        return language.callback_parameter_type(target.definition, argument, parameter)
    except Exception:  # a grammar surprise must never fail a request
        return None


def _named_classes(resolver: Resolver, where: SymbolLocation, written: str | None) -> list[SymbolLocation]:
    """The classes a named type written at ``where`` means (``pkg.T`` resolved in that file); none for a
    composite type."""
    if written is None or not _DOTTED_NAME.fullmatch(written):
        return []
    return [t for t in resolver.expression(where.path, written) if is_class(t)]
