"""The text of a snippet for a definition: signature and docstring always, the body when small, a class
as its header plus member signatures, a module as its top-level signatures."""

from __future__ import annotations

from dataclasses import dataclass

from roost.context.facts import Definition, FileFacts, SymbolKind
from roost.context.languages import language_named
from roost.context.languages.base import LanguageSupport

_STRING_STARTS = ('"""', "'''", 'r"""', "r'''", 'b"""', 'u"""', '"', "'")
ELISION = "..."


@dataclass(frozen=True, slots=True)
class Snippet:
    start_line: int
    end_line: int  # inclusive
    text: str
    complete: bool  # the whole definition, verbatim


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _header_end(lines: list[str], definition: Definition) -> int:
    """Last line of the declaration head (decorators and signature), before the body."""
    signature_lines = definition.signature.count("\n") + 1
    end = definition.name_span.start_line + signature_lines - 1
    return max(definition.span.start_line, min(end, definition.span.end_line, len(lines) - 1))


def _doc_end(lines: list[str], after: int, limit_line: int, max_lines: int) -> int:
    """If a docstring starts right after line ``after``, the line where it ends (capped); else ``after``."""
    index = after + 1
    while index <= limit_line and index < len(lines) and not lines[index].strip():
        index += 1
    if index > limit_line or index >= len(lines):
        return after
    first = lines[index].strip()
    quote = next((q for q in _STRING_STARTS if first.startswith(q)), None)
    if quote is None:
        return after
    delimiter = quote.lstrip("rbu")
    rest = first[len(quote) :]
    if delimiter in rest:
        return index
    cap = min(limit_line, len(lines) - 1, index + max_lines - 1)
    for end in range(index + 1, cap + 1):
        if delimiter in lines[end]:
            return end
    return cap


def definition_snippet(
    lines: list[str], definition: Definition, small_body_lines: int, doc_lines: int
) -> Snippet:
    start, end = definition.span.start_line, min(definition.span.end_line, len(lines) - 1)
    if end - start + 1 <= small_body_lines:
        return Snippet(start, end, "\n".join(lines[start : end + 1]), True)
    head_end = _header_end(lines, definition)
    head_end = _doc_end(lines, head_end, end, doc_lines)
    body_indent = _indent_of(lines[head_end + 1]) if head_end + 1 <= end else "    "
    text = "\n".join(lines[start : head_end + 1]) + "\n" + (body_indent or "    ") + ELISION
    return Snippet(start, head_end, text, False)


_CONSTRUCTOR_NAMES = frozenset({"__init__", "__new__", "constructor", "new"})


def _member_priority(member: Definition, language: LanguageSupport | None = None) -> int:
    """Public members first, then constructors and dunders, then private helpers: Python's ``_name`` and
    what the language declares hidden (TypeScript's ``private``, ``#name``, Go's lower-case names)."""
    if member.name in _CONSTRUCTOR_NAMES or member.kind is SymbolKind.CONSTRUCTOR:
        return 0
    if language is not None and language.member_access(member) != "public":
        return 3
    if not member.name.startswith("_"):
        return 1
    if member.name.startswith("__") and member.name.endswith("__"):
        return 2
    return 3


def class_outline(
    lines: list[str],
    facts: FileFacts,
    cls: Definition,
    small_body_lines: int,
    doc_lines: int,
    max_chars: int | None = None,
    constructors_only: bool = False,
) -> Snippet:
    """Header, docstring and the declaration line of direct members, in file order.

    ``max_chars`` bounds the text (big classes have hundreds of methods): members are taken public
    first, then constructors/dunders, then private ones. ``constructors_only`` is for a class used by
    name (called or subclassed), where only how to build it matters.
    """
    start, end = cls.span.start_line, min(cls.span.end_line, len(lines) - 1)
    if end - start + 1 <= small_body_lines:
        return Snippet(start, end, "\n".join(lines[start : end + 1]), True)
    head_end = _doc_end(lines, _header_end(lines, cls), end, doc_lines)
    header = "\n".join(lines[start : head_end + 1])
    members = [
        d
        for d in facts.definitions
        if d.parent == cls.qualified_name and head_end < d.name_span.start_line < len(lines)
    ]
    if constructors_only:
        members = [d for d in members if _member_priority(d) == 0]
    budget = (max_chars if max_chars is not None else 1 << 30) - len(header)
    chosen: dict[int, str] = {}
    language = language_named(facts.language)
    for member in sorted(members, key=lambda d: (_member_priority(d, language), d.name_span.start_line)):
        line_no = member.name_span.start_line
        if line_no in chosen:
            continue
        text = lines[line_no].rstrip()
        if member.signature.count("\n") or member.span.end_line > line_no:
            text += " " + ELISION
        if len(text) + 1 > budget:
            continue
        budget -= len(text) + 1
        chosen[line_no] = text
    parts = [header, *(chosen[line_no] for line_no in sorted(chosen))]
    last = max(chosen, default=head_end)
    return Snippet(start, last, "\n".join(parts), False)


def module_outline(lines: list[str], facts: FileFacts, max_members: int) -> Snippet | None:
    """The first line of each top-level definition's signature, in file order."""
    top = sorted((d for d in facts.definitions if d.parent is None), key=lambda d: d.span.start_line)
    top = top[:max_members]
    if not top:
        return None
    parts: list[str] = []
    first = last = None
    for d in top:
        line_no = d.name_span.start_line
        if line_no >= len(lines) or (last is not None and line_no <= last):
            continue
        parts.append(lines[line_no].rstrip())
        first = line_no if first is None else first
        last = line_no
    if first is None or last is None:
        return None
    return Snippet(first, last, "\n".join(parts), False)
