"""JavaScript/TypeScript types for receivers no name or annotation types, the forms Go's are in
(:mod:`._go_types`): what a local without a written type is bound to, as a receiver expression (``for (const
x of xs)`` and ``xs.map((x) => …)`` → ``xs[]``, an element of ``xs``; ``const x = xs[i]`` → ``xs[]``; a
callback's parameter ``operate((source, subscriber) => …)`` → ``operate#0#0``, the first parameter of the
function type ``operate`` declares for its first argument), the element of an array type (``Foo[]``,
``Array<Foo>``, ``readonly Foo[]``), and the type a declaration writes (a function's return type, a field's
or variable's annotation).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import tree_sitter

from roost.context.facts import Definition, SymbolKind
from roost.context.languages._common import text
from roost.context.languages.base import ScopeDeclaration, parsed_snippet

# Array methods whose callback's first parameter is an element of the array (``reduce``'s is the total).
_ELEMENT_CALLBACKS = frozenset(
    {"map", "forEach", "filter", "find", "findLast", "findIndex", "findLastIndex", "some", "every", "flatMap"}
)
# Generic types whose first type argument is what ``for … of`` and an index give.
_ARRAY_GENERICS = frozenset({"Array", "ReadonlyArray", "Set", "ReadonlySet", "Iterable", "IterableIterator"})
_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function"})
_PARAMETERS = frozenset({"required_parameter", "optional_parameter"})
_SPACES = re.compile(r"\s+")


def bound_values(source: bytes, scope: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    """What ``scope`` binds its names to where no type is annotated, as receiver expressions (see the
    module); names it binds otherwise come with None, so that an inner binding still hides an outer one."""
    if scope.type in _FUNCTIONS:
        yield from _callback_parameters(source, scope)
    elif scope.type == "for_in_statement":
        left, right = scope.child_by_field_name("left"), scope.child_by_field_name("right")
        if left is not None and left.type == "identifier" and right is not None:
            of = any(child.type == "of" for child in scope.children)
            ranged = receiver_expression(source, right) if of else None
            yield left, ranged + "[]" if ranged is not None else None
    for child in scope.named_children:
        if child.type == "formal_parameters" and scope.type not in _FUNCTIONS:
            yield from _annotated_parameters(source, child)
        elif child.type in ("lexical_declaration", "variable_declaration"):
            for declarator in child.named_children:
                name = (
                    declarator.child_by_field_name("name")
                    if declarator.type == "variable_declarator"
                    else None
                )
                if name is None or name.type != "identifier":
                    continue
                value = declarator.child_by_field_name("value")
                annotation = type_text(source, declarator.child_by_field_name("type"))
                yield name, annotation or (_value_expression(source, value) if value is not None else None)


def _value_expression(source: bytes, value: tree_sitter.Node) -> str | None:
    """``xs[i]`` → ``xs[]``; an array literal of constructed values ``[new Subject<T>()]`` → ``Subject[]``."""
    if value.type == "subscript_expression":
        return receiver_expression(source, value)
    first = value.named_children[0] if value.type == "array" and value.named_children else None
    constructor = (
        first.child_by_field_name("constructor") if first and first.type == "new_expression" else None
    )
    if constructor is not None and constructor.type in ("identifier", "member_expression"):
        return text(source, constructor) + "[]"
    return None


def _callback_parameters(source: bytes, function: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    single = function.child_by_field_name("parameter")
    formal = function.child_by_field_name("parameters")
    parameters: list[tuple[tree_sitter.Node, tree_sitter.Node | None]] = []
    if single is not None and single.type == "identifier":
        parameters.append((single, None))
    for parameter in formal.named_children if formal is not None else ():
        if parameter.type == "identifier":  # JavaScript
            parameters.append((parameter, None))
        elif parameter.type in _PARAMETERS:
            pattern = parameter.child_by_field_name("pattern")
            if pattern is not None and pattern.type == "identifier":
                parameters.append((pattern, parameter.child_by_field_name("type")))
    arguments = function.parent
    call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
    callee = call.child_by_field_name("function") if call is not None else None
    argument = arguments.named_children.index(function) if call is not None and arguments else -1
    for index, (name, annotation) in enumerate(parameters):
        if annotation is not None:
            yield name, type_text(source, annotation)
        elif callee is not None:
            yield name, _callback_parameter(source, callee, argument, index)
        else:
            yield name, None


def _callback_parameter(source: bytes, callee: tree_sitter.Node, argument: int, parameter: int) -> str | None:
    if callee.type == "member_expression" and argument == 0 and parameter == 0:
        method = callee.child_by_field_name("property")
        array = callee.child_by_field_name("object")
        if method is not None and array is not None and text(source, method) in _ELEMENT_CALLBACKS:
            elements = receiver_expression(source, array)
            return elements + "[]" if elements is not None else None
    called = receiver_expression(source, callee)
    return f"{called}#{argument}#{parameter}" if called is not None else None


def _annotated_parameters(source: bytes, parameters: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    for parameter in parameters.named_children:
        pattern = parameter.child_by_field_name("pattern") if parameter.type in _PARAMETERS else None
        if pattern is not None and pattern.type == "identifier":
            yield pattern, type_text(source, parameter.child_by_field_name("type"))


def receiver_expression(source: bytes, node: tree_sitter.Node) -> str | None:
    """``a?.b!.c``, ``f(x)``, ``xs[i]`` as receivers are written for retrieval (``a.b.c``, ``f()``, ``xs[]``);
    None for any other expression."""
    kind = node.type
    if kind in ("identifier", "this"):
        return text(source, node)
    if kind in ("non_null_expression", "parenthesized_expression") and node.named_children:
        return receiver_expression(source, node.named_children[0])
    if kind == "member_expression":
        operand, member = node.child_by_field_name("object"), node.child_by_field_name("property")
        head = receiver_expression(source, operand) if operand is not None else None
        return f"{head}.{text(source, member)}" if head is not None and member is not None else None
    inner = node.child_by_field_name("function" if kind == "call_expression" else "object")
    if kind not in ("call_expression", "subscript_expression") or inner is None:
        return None
    head = receiver_expression(source, inner)
    return head + ("()" if kind == "call_expression" else "[]") if head is not None else None


def type_text(source: bytes, annotation: tree_sitter.Node | None) -> str | None:
    """An annotation's type as written (``Foo[]``, ``Array<ns.Foo>``), spaces collapsed; None when absent."""
    written = annotation.named_children[0] if annotation is not None and annotation.named_children else None
    return _SPACES.sub(" ", text(source, written)) if written is not None else None


def element_type(grammar: tree_sitter.Language, written: str) -> str | None:
    """The named type of an element of ``written``: ``Foo[]``, ``readonly Foo[]``, ``Array<ns.Foo>``,
    ``Set<Foo>`` → ``Foo``/``ns.Foo``; None for any other type."""
    source = f"let _: {written};\n".encode()
    root = parsed_snippet(grammar, source).root_node
    declarator = _first(root, "variable_declarator")
    annotation = declarator.child_by_field_name("type") if declarator is not None else None
    container = annotation.named_children[0] if annotation is not None and annotation.named_children else None
    if root.has_error or container is None:
        return None
    if container.type == "readonly_type" and container.named_children:
        container = container.named_children[0]
    if container.type == "array_type" and container.named_children:
        return named_type(source, container.named_children[0])
    if container.type == "generic_type":
        name, arguments = (
            container.child_by_field_name("name"),
            container.child_by_field_name("type_arguments"),
        )
        if (
            name is not None
            and text(source, name) in _ARRAY_GENERICS
            and arguments
            and arguments.named_children
        ):
            return named_type(source, arguments.named_children[0])
    return None


def named_type(source: bytes, written: tree_sitter.Node) -> str | None:
    """``Foo``, ``ns.Foo``, ``Foo<T>`` → ``Foo``, ``ns.Foo``, ``Foo``; None for any other type."""
    if written.type == "generic_type":
        name = written.child_by_field_name("name")
        if name is None:
            return None
        written = name
    return text(source, written) if written.type in ("type_identifier", "nested_type_identifier") else None


def written_type(grammar: tree_sitter.Language, definition: Definition) -> str | None:
    """The type a function's or method's declaration says it returns, or a field's annotation, as written;
    None when it writes none."""
    wanted: tuple[str, ...]
    if definition.kind in (SymbolKind.FUNCTION, SymbolKind.METHOD):
        source = _declaration(definition.signature)
        wanted, field = ("function_declaration", "method_definition", "method_signature"), "return_type"
    elif definition.kind is SymbolKind.FIELD:
        source = f"class _ {{\n{definition.signature}\n}}\n".encode()
        wanted, field = ("public_field_definition",), "type"
    else:
        return None
    root = parsed_snippet(grammar, source).root_node
    declaration = next((n for n in (_first(root, t) for t in wanted) if n is not None), None)
    if root.has_error or declaration is None:
        return None
    return type_text(source, declaration.child_by_field_name(field))


def callback_parameter_type(
    grammar: tree_sitter.Language, function: Definition, argument: int, parameter: int
) -> str | None:
    """The named type ``function``'s declaration gives the ``parameter``-th parameter of the function it
    takes as its ``argument``-th argument (``operate(init: (liftedSource: Observable<T>, …) => …)``, 0, 0 →
    ``Observable``); None when it declares none."""
    if function.kind not in (SymbolKind.FUNCTION, SymbolKind.METHOD):
        return None
    source = _declaration(function.signature)
    root = parsed_snippet(grammar, source).root_node
    declaration = _first(root, "function_declaration") or _first(root, "method_definition")
    formal = declaration.child_by_field_name("parameters") if declaration is not None else None
    parameters = [p for p in formal.named_children if p.type in _PARAMETERS] if formal is not None else []
    if root.has_error or not 0 <= argument < len(parameters):
        return None
    annotation = parameters[argument].child_by_field_name("type")
    callback = annotation.named_children[0] if annotation is not None and annotation.named_children else None
    inner = (
        callback.child_by_field_name("parameters") if callback and callback.type == "function_type" else None
    )
    inner_parameters = [p for p in inner.named_children if p.type in _PARAMETERS] if inner is not None else []
    if not 0 <= parameter < len(inner_parameters):
        return None
    typed = inner_parameters[parameter].child_by_field_name("type")
    written = typed.named_children[0] if typed is not None and typed.named_children else None
    named = named_type(source, written) if written is not None else None
    generics = declaration.child_by_field_name("type_parameters") if declaration is not None else None
    names = [p.child_by_field_name("name") for p in generics.named_children] if generics is not None else []
    if any(name is not None and text(source, name) == named for name in names):
        return None  # ``R`` of ``operate<T, R>``: whatever the call makes it
    return named


def _declaration(signature: str) -> bytes:
    """A function's or method's signature as a declaration to parse alone (``export``/``default``/``declare``
    dropped, an empty body added, a method wrapped in a class)."""
    stripped = re.sub(r"^(?:export\s+|default\s+|declare\s+)+", "", signature.strip()).rstrip("{ ;")
    if stripped.startswith(("function", "async function")):
        return f"{stripped} {{}}\n".encode()
    return f"class _ {{ {stripped} {{}} }}\n".encode()


def _first(node: tree_sitter.Node, node_type: str) -> tree_sitter.Node | None:
    if node.type == node_type:
        return node
    for child in node.named_children:
        found = _first(child, node_type)
        if found is not None:
            return found
    return None
