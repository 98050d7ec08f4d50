"""``__all__`` follows a moved name: out of the source module's list, into the target's.

A module's ``__all__`` says what it exports (``from module import *``, documentation tools, linters). A name
moved away and left in the source's list is an export that no longer exists there (``import *`` raises
AttributeError); the target, if it keeps a list, should export it. Only a literal list or tuple of plain
strings assigned at module level is edited (``__all__ = ["a", "b"]``); a list built otherwise (``+=``,
comprehensions, concatenations) is left as it is.
"""

from __future__ import annotations

import tree_sitter

from roost.context.languages import language_for_path
from roost.context.parser_cache import parse
from roost.context.refactor.imports import TextReplacement

_SEQUENCES = {"list", "tuple"}


def _exports(path: str, text: str) -> tuple[bytes, tree_sitter.Node] | None:
    """The source bytes and the literal list/tuple of the module-level ``__all__ = …`` (the last one)."""
    language = language_for_path(path)
    if language is None:
        return None
    source = text.encode("utf-8")
    found = None
    for statement in parse(language.ts_language(path), source).root_node.named_children:
        assignment = statement.named_children[0] if statement.type == "expression_statement" else None
        if assignment is None or assignment.type != "assignment":
            continue
        left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
        if left is not None and left.text == b"__all__" and right is not None and right.type in _SEQUENCES:
            found = right
    return (source, found) if found is not None else None


def _string_value(node: tree_sitter.Node) -> str | None:
    """The value of a plain string literal (no prefix, no interpolation), else None."""
    if node.type != "string" or node.text is None:
        return None
    parts = [child for child in node.named_children if child.type == "string_content"]
    if len(node.named_children) != len(parts) + 2 or node.text[:1] not in (b'"', b"'"):
        return None  # an f/r/b prefix, an interpolation or an escape sequence
    return "".join(part.text.decode("utf-8") for part in parts if part.text is not None)


def _chars(source: bytes, byte: int) -> int:
    return len(source[:byte].decode("utf-8"))


def without_export(path: str, text: str, name: str) -> TextReplacement | None:
    """The replacement that takes ``name`` out of ``text``'s literal ``__all__`` (with its comma), or None
    where the module has no such list or the list does not name it."""
    exports = _exports(path, text)
    if exports is None:
        return None
    source, sequence = exports
    items = list(sequence.named_children)
    for index, item in enumerate(items):
        if _string_value(item) != name:
            continue
        start, end = item.start_byte, item.end_byte
        following = item.next_sibling
        if following is not None and following.type == ",":
            end = following.end_byte
        line_start = source.rfind(b"\n", 0, start) + 1
        line_end = source.find(b"\n", end)
        if not source[line_start:start].strip() and line_end >= 0 and not source[end:line_end].strip():
            start, end = line_start, line_end + 1  # one item a line: the whole line goes
        elif following is not None and following.type == ",":
            if index + 1 < len(items):
                end = items[index + 1].start_byte  # "a", "b" → "b": the space after the comma goes too
        elif index > 0:  # the last item without a trailing comma: the comma before it goes
            start = items[index - 1].end_byte
        return TextReplacement(_chars(source, start), _chars(source, end), "")
    return None


def with_export(path: str, text: str, name: str) -> TextReplacement | None:
    """The insertion that adds ``name`` to the end of ``text``'s literal ``__all__`` in the list's own
    layout (quotes, one item a line or all on one), or None without such a list or when it names it."""
    exports = _exports(path, text)
    if exports is None:
        return None
    source, sequence = exports
    items = list(sequence.named_children)
    if any(_string_value(item) == name for item in items):
        return None
    if not items:
        if sequence.type == "tuple":
            return TextReplacement(
                _chars(source, sequence.start_byte + 1), _chars(source, sequence.start_byte + 1), f'"{name}",'
            )
        return TextReplacement(
            _chars(source, sequence.start_byte + 1), _chars(source, sequence.start_byte + 1), f'"{name}"'
        )
    last = items[-1]
    quote = (last.text or b'"')[:1].decode() if _string_value(last) is not None else '"'
    literal = f"{quote}{name}{quote}"
    trailing = last.next_sibling is not None and last.next_sibling.type == ","
    after = last.next_sibling.end_byte if trailing and last.next_sibling is not None else last.end_byte
    one_a_line = b"\n" in source[sequence.start_byte : items[0].start_byte]
    if one_a_line:
        line_start = source.rfind(b"\n", 0, last.start_byte) + 1
        indent = source[line_start : last.start_byte].decode("utf-8")
        insertion = f"\n{indent}{literal}," if trailing else f",\n{indent}{literal}"
    else:
        insertion = f" {literal}," if trailing else f", {literal}"
    return TextReplacement(_chars(source, after), _chars(source, after), insertion)
