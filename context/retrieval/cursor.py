"""What the code around the cursor uses: the enclosing scopes, the names referenced nearby (weighted by
distance), the member access being typed, and the types that local assignments and annotations give to
variables.

The type hints are lexical (``x = Foo(...)``, ``x: Foo``, ``x := Foo{``, ``new Foo(``): cheap, language-light,
and enough to point retrieval at the right class; the graph then resolves the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from roost.context.facts import CLASS_LIKE_KINDS, Definition, FileFacts, SymbolKind, text_rows
from roost.context.retrieval.aliases import through_local_alias
from roost.context.retrieval.receivers import declared_receiver_types, method_receiver_hints

_FUNCTION_KINDS = frozenset({SymbolKind.FUNCTION, SymbolKind.METHOD, SymbolKind.CONSTRUCTOR})
# JavaScript/TypeScript also write ``a?.b`` (optional chaining), ``a!.b`` (TypeScript's non-null assertion)
# and ``$`` in names (``errors$``, ``$el``): read as ``a.b`` (in ``bench/retrieval_bench_js.py`` 18 of rxjs's 82
# ``receiver.▮`` cursors had no receiver so).
# An index (``s[i].▮``, ``m["k"].x.▮``) is kept as ``[]``: an element of what precedes it (``receivers``).
_MEMBER_AT_CURSOR = re.compile(
    r"((?:super\(\s*\)|[A-Za-z_$][\w$]*)(?:\[[^\[\]\n]*\])*(?:\s*[?!]?\.\s*[A-Za-z_$][\w$]*(?:\[[^\[\]\n]*\])*)*)"
    r"\s*[?!]?\.\s*([\w$]*)$"
)
_INDEX = re.compile(r"\[[^\[\]]*\]")
_ACCESS_MARKS = re.compile(r"[\s?!]+")
_JS_SUPER = re.compile(r"^super(?=\.|$)")
_CLASS_SCAN_LINES = 300
_PREFIX_SCAN_CHARS = 400
_PARTIAL_AT_CURSOR = re.compile(r"([A-Za-z_]\w*)$")
_CONSTRUCTED = re.compile(
    r"(?<![\w.$])((?:self\.)?[A-Za-z_$][\w$]*)\s*(?::\s*[^=\n]+?)?\s*:?=\s*(?:await\s+|new\s+|&)?"
    r"([A-Za-z_$][\w.$]*)\s*[({]"
)
# JSDoc's ``@param {Vector3} target`` (``{?Vector3}``, ``{Vector3|null}``) types a JavaScript parameter as an
# annotation would (three.js in ``bench/retrieval_bench_js.py``: ``target.▮addScaledVector``).
_JSDOC_PARAM = re.compile(r"@param\s*\{\s*[?!]?([A-Za-z_$][\w.$]*)[^}]*\}\s*\[?([A-Za-z_$][\w$]*)")
# ``name: Optional["X"]`` types ``name`` as ``X`` (``X | None`` is read as ``X`` by the same pattern).
# A TypeScript array (``xs: Foo[]``, ``xs: Foo<T>[]``, ``xs: Array<Foo>``) is no ``Foo``: left to the language's
# declared types (``receivers``), which read its elements.
_ANNOTATED = re.compile(
    r"(?<![\w.$])((?:self\.)?[A-Za-z_$][\w$]*)\s*:\s*(?:(?:typing\.)?Optional\s*\[\s*)?['\"]?"
    r"(?!(?:Readonly)?Array\s*<)([A-Za-z_$][\w.$]*)(?![\w.$]|\s*(?:<[^\n]*?>)?\s*\[\s*\])"
)


@dataclass(slots=True)
class CursorContext:
    line: int  # 0-based
    col: int  # characters
    byte_col: int
    lines: list[str]
    scopes: list[Definition] = field(default_factory=list)  # outermost first, all containing the cursor
    receiver: str | None = None  # ``obj.attr`` being typed at the cursor → ``obj``
    partial: str = ""  # identifier fragment right before the cursor
    # name → weight in (0, 1]: used on the cursor line (1.0) down to far away in the enclosing function.
    near_names: dict[str, float] = field(default_factory=dict)
    # (receiver, member) pairs referenced nearby, with the same weights.
    near_members: dict[tuple[str, str], float] = field(default_factory=dict)
    # receiver → every member the buffer uses on it (``fut.done()``, ``fut.result()``): duck typing.
    receiver_members: dict[str, set[str]] = field(default_factory=dict)
    # variable → the expression that gives it a type (callee or annotation), nearest assignment wins.
    type_hints: dict[str, str] = field(default_factory=dict)

    @property
    def function(self) -> Definition | None:
        return next((d for d in reversed(self.scopes) if d.kind in _FUNCTION_KINDS), None)

    @property
    def functions(self) -> list[Definition]:
        """The functions around the cursor, innermost first."""
        return [d for d in reversed(self.scopes) if d.kind in _FUNCTION_KINDS]

    @property
    def cls(self) -> Definition | None:
        return next((d for d in reversed(self.scopes) if d.kind in CLASS_LIKE_KINDS), None)

    @property
    def line_prefix(self) -> str:
        return self.lines[self.line][: self.col] if self.line < len(self.lines) else ""


def _byte_col(line_text: str, col: int) -> int:
    return len(line_text[:col].encode("utf-8"))


def analyse_cursor(facts: FileFacts, text: str, line: int, col: int, scan_lines: int) -> CursorContext:
    lines = text_rows(text)  # as ``line`` counts them
    line_text = lines[line] if line < len(lines) else ""
    context = CursorContext(line=line, col=col, byte_col=_byte_col(line_text, col), lines=lines)
    context.scopes = sorted(
        (
            d
            for d in facts.definitions
            if d.span.contains(line, context.byte_col) and d.span.start_line < line
        ),
        key=lambda d: (d.span.start_line, -d.span.end_line),
    )
    # What the cursor completes (a receiver chain, a partial word) is short; the patterns searched over a
    # whole long line (minified code) try every start: seconds for 10 000 characters, minutes for 50 000.
    prefix = context.line_prefix[-_PREFIX_SCAN_CHARS:]
    member = _MEMBER_AT_CURSOR.search(prefix)
    called = _call_receiver(prefix) if member is None else None
    if called is not None:
        context.receiver, context.partial = called
    elif member is not None:
        # JavaScript/TypeScript ``super.x`` is Python's ``super().x``: the bases of the enclosing class.
        context.receiver = _JS_SUPER.sub("super()", _ACCESS_MARKS.sub("", _INDEX.sub("[]", member.group(1))))
        context.partial = member.group(2)
    else:
        partial = _PARTIAL_AT_CURSOR.search(prefix)
        context.partial = partial.group(1) if partial else ""

    function = context.function
    scan_start = max(0, line - scan_lines)
    if function is not None:
        scan_start = max(scan_start, function.span.start_line)
    for ref in facts.references:
        if ref.receiver:
            context.receiver_members.setdefault(_ACCESS_MARKS.sub("", ref.receiver), set()).add(ref.name)
        ref_line = ref.span.start_line
        if ref_line < scan_start or ref_line > line + 3:
            continue
        if ref_line == line and ref.span.start_col >= context.byte_col:
            continue  # what follows the cursor on its line is being rewritten
        distance = line - ref_line if ref_line <= line else 2 * (ref_line - line)
        weight = 1.0 / (1.0 + distance / 4.0)
        if ref.receiver:
            receiver = _ACCESS_MARKS.sub("", ref.receiver)
            key = (receiver, ref.name)
            context.near_members[key] = max(context.near_members.get(key, 0.0), weight)
            root = receiver.split(".")[0].split("(")[0]
            context.near_names[root] = max(context.near_names.get(root, 0.0), weight * 0.8)
        else:
            context.near_names[ref.name] = max(context.near_names.get(ref.name, 0.0), weight)

    hint_start = function.span.start_line if function is not None else scan_start
    context.type_hints = _type_hints(lines, hint_start, line, context.byte_col)
    if context.receiver is not None and context.receiver.split(".")[0] not in context.type_hints:
        # ``const v0 = this.v0;`` then ``v0.▮``: read as ``this.v0.▮``, which the class's fields type.
        context.receiver = through_local_alias(context.receiver, lines, hint_start, line)
    for scope in context.scopes:  # what the code assigns wins over what the comment says
        if scope.kind in _FUNCTION_KINDS and scope.doc and "@param" in scope.doc:
            for match in _JSDOC_PARAM.finditer(scope.doc):
                context.type_hints.setdefault(match.group(2), match.group(1))
    for name, owner in method_receiver_hints(facts, context.scopes).items():  # Go's ``func (c *Command)``
        context.type_hints.setdefault(name, owner)
    head = re.split(r"[.\[(]", context.receiver)[0] if context.receiver else None  # ``s`` of ``s[].x``
    if head is not None and function is not None:
        known = context.type_hints  # ``c`` bound to ``cmd.Commands()[]`` is typed through ``cmd``'s type
        known.update(
            declared_receiver_types(facts.path, lines, context.functions, head, line, context.byte_col, known)
        )
    cls = context.cls
    if cls is not None:
        # ``self.attr = Foo()`` anywhere in the class types ``self.attr`` in every method.
        # Bounded: attributes are set up near the class top (``__init__``); huge classes stay cheap.
        class_end = min(cls.span.end_line, len(lines) - 1, cls.span.start_line + _CLASS_SCAN_LINES)
        for name, expression in _type_hints(lines, cls.span.start_line, class_end, None).items():
            if name.startswith("self."):
                context.type_hints.setdefault(name, expression)
    return context


_AFTER_CALL = re.compile(r"\)\s*[?!]?\.\s*([\w$]*)$")
_TYPE_ARGUMENTS_AT_END = re.compile(r"\s*<[^<>()]*(?:<[^<>()]*>[^<>()]*)*>\s*$")
_CALLEE = re.compile(r"((?:[A-Za-z_$][\w$]*\s*[?!]?\.\s*)*[A-Za-z_$][\w$]*)\s*$")


def _call_receiver(prefix: str) -> tuple[str, str] | None:
    """``Foo(a, b(c)).par`` → (``Foo()``, ``par``): a member of what a call returns."""
    after = _AFTER_CALL.search(prefix)
    if after is None:
        return None
    depth = 0
    for index in range(after.start(), -1, -1):
        char = prefix[index]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                # ``f<T>(x).▮``: TypeScript's type arguments are not part of the callee's name.
                callee = _CALLEE.search(_TYPE_ARGUMENTS_AT_END.sub("", prefix[:index]))
                if callee is None:
                    return None
                return _ACCESS_MARKS.sub("", callee.group(1)) + "()", after.group(1)
    return None


def _type_hints(lines: list[str], start: int, end: int, end_col: int | None) -> dict[str, str]:
    hints: dict[str, str] = {}
    for index in range(start, min(end, len(lines) - 1) + 1):
        text = lines[index]
        if index == end and end_col is not None:
            text = text.encode("utf-8")[:end_col].decode("utf-8", errors="ignore")
        for pattern in (_ANNOTATED, _CONSTRUCTED):
            for match in pattern.finditer(text):
                name, expression = match.group(1), match.group(2)
                if expression in {"None", "True", "False", "lambda"}:
                    continue
                hints[name] = expression  # later (nearer the cursor) wins
    return hints
