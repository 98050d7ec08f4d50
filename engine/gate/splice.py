"""Where a suggestion sits in its document, and which pieces of text to hand to bandit.

The gate scans the smallest piece of the spliced document that parses and contains the suggestion, rather
than the whole document: bandit's rules look at one call, string or statement at a time (plus the module's
imports, which we put in front), so an enclosing ``def``/``class`` or top-level statement gives the same
findings on the inserted lines as the whole file would, at a fraction of the cost on a long file. Mid-edit
buffers often do not parse; the candidates below go, in order:

1. the enclosing units as they are, innermost first ("unit");
2. the same units with what the suggestion leaves unfinished completed by the smallest edit (closing quotes
   and brackets, an operand, a header's colon and ``pass`` body, a dangling backslash dropped; see
   ``repair.py``) ("repaired-unit");
3. the nearest statements above the suggestion, for a unit broken by something else, such as a window cut
   from a file in the middle of a call ("window", "repaired-window");
4. the whole document ("document");
5. the suggestion on its own (dedented, the file's imports in front) ("suggestion"), then repaired without
   its context ("repaired": findings count, but no findings is not "clean").

The tree that parses is pruned to the statements around the suggestion before bandit walks it. Only lines
of the suggestion count; repairs add synthetic lines (no document line) or text at the end of the last
inserted line, and never close a string opened before the suggestion.
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from roost.engine.gate.repair import closing_brackets, open_tail, repaired_bodies

_HEADER = re.compile(r"(?:async\s+def|def|class)\b")
_CONTINUATION_KEYWORDS = re.compile(r"(?:elif|else|except|finally|case)\b")
# "import x" / "from x import y" at any indentation; "from_x = 1" does not match (a space must follow).
_IMPORT_LINE = re.compile(r"[ \t]*(?:import|from)[ \t]+[\w.]")
# Lines that cannot start a statement: they close a bracket or continue the previous line.
_CLOSERS = tuple(")]}")
# A whole file is only worth a try (it is the slow path) up to this size.
_MAX_DOCUMENT_LINES = 20_000


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@dataclass(frozen=True)
class SplicedDocument:
    """``prefix + completion + suffix`` split into lines, with the inserted lines marked (0-based)."""

    text: str
    prefix_length: int
    lines: list[str]
    first_inserted: int
    last_inserted: int
    completion: str

    @classmethod
    def build(cls, prefix: str, completion: str, suffix: str) -> SplicedDocument:
        # A lone "\r" ends a line too, for Python's tokenizer as for LSP clients (old Mac files, and text
        # cut from CRLF files at a "\r"): read as "\n", every line here is a line there.
        prefix = _normalise_newlines(prefix)
        completion = _normalise_newlines(completion)
        suffix = _normalise_newlines(suffix)
        text = prefix + completion + suffix
        lines = text.split("\n")
        first = prefix.count("\n")
        last = first + completion.count("\n")
        # A trailing newline inserts nothing on the line after it.
        if completion.endswith("\n") and last > first:
            last -= 1
        return cls(
            text=text,
            prefix_length=len(prefix),
            lines=lines,
            first_inserted=first,
            last_inserted=last,
            completion=completion,
        )

    def is_inserted(self, index: int) -> bool:
        return self.first_inserted <= index <= self.last_inserted

    def completion_line(self, index: int) -> int:
        """1-based line within the completion for the document line ``index``."""
        return index - self.first_inserted + 1


@dataclass(frozen=True)
class ScanUnit:
    """Text for bandit, and for each of its lines the document line it came from (None: synthetic)."""

    kind: str  # "unit", "document", "suggestion" or "suggestion-line"
    text: str
    origins: tuple[int | None, ...]

    def origin(self, lineno: int) -> int | None:
        """Document line (0-based) of bandit's 1-based ``lineno``, None when it is not from the document."""
        if 1 <= lineno <= len(self.origins):
            return self.origins[lineno - 1]
        return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _can_start_statement(line: str) -> bool:
    stripped = line.lstrip()
    return _is_code(line) and not stripped.startswith(_CLOSERS) and not _CONTINUATION_KEYWORDS.match(stripped)


def _dedent(lines: list[str], amount: int) -> list[str]:
    # Strip at most ``amount`` leading whitespace; a less indented line is inside brackets or a string, where
    # its indentation does not matter (brackets) or must be kept (strings).
    out = []
    for line in lines:
        lead = _indent(line)
        out.append(line[min(lead, amount) :])
    return out


def collect_imports(doc: SplicedDocument) -> list[tuple[int, str]]:
    """The document's import statements outside the suggestion, dedented, with their line index.

    Multi-line ``from x import (...)`` and backslash continuations are followed. Imports at any depth are
    kept (``try: import x``), since bandit only needs the names they bind.
    """
    found: list[tuple[int, str]] = []
    lines = doc.lines
    count = len(lines)
    text = doc.text
    line_index = 0
    counted_to = 0
    consumed_until = -1
    position = text.find("import")
    # ``str.find`` jumps from one "import" to the next; only those lines are looked at.
    while position >= 0:
        line_start = text.rfind("\n", 0, position) + 1
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end
        position = text.find("import", line_end)
        if not _IMPORT_LINE.match(text, line_start, line_end):
            continue
        line_index += text.count("\n", counted_to, line_start)
        counted_to = line_start
        index = line_index
        if index <= consumed_until or doc.is_inserted(index):
            continue
        stripped = lines[index].lstrip()
        statement = [(index, stripped)]
        open_paren = stripped.count("(") - stripped.count(")")
        continued = stripped.rstrip().endswith("\\")
        while (open_paren > 0 or continued) and index + 1 < count:
            index += 1
            following = lines[index]
            statement.append((index, following.strip()))
            open_paren += following.count("(") - following.count(")")
            continued = following.rstrip().endswith("\\")
        consumed_until = index
        if not any(doc.is_inserted(i) for i, _ in statement) and _is_import_statement(
            "\n".join(text for _, text in statement)
        ):
            found.extend(statement)
    return found


@functools.lru_cache(maxsize=4096)
def _is_import_statement(text: str) -> bool:
    """Whether ``text`` really is an import (not "from the archive..." in a docstring)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return len(tree.body) == 1 and isinstance(tree.body[0], ast.Import | ast.ImportFrom)


def _with_imports(kind: str, imports: list[tuple[int, str]], body: list[tuple[int | None, str]]) -> ScanUnit:
    origins: list[int | None] = [i for i, _ in imports]
    texts = [t for _, t in imports]
    origins.extend(i for i, _ in body)
    texts.extend(t for _, t in body)
    return ScanUnit(kind=kind, text="\n".join(texts) + "\n", origins=tuple(origins))


def string_continuation_lines(text: str) -> dict[int, int]:
    """For each line (0-based) that starts inside a multi-line string: the line where that string starts.

    Such lines say nothing about indentation or statements (a docstring line at column 0 is not a top-level
    statement). Triple quotes are found with ``str.find``, not a tokenizer: a triple quote inside a comment
    or a one-line string can mislead it, which only costs a failed candidate (the document comes next).
    """
    inside: dict[int, int] = {}
    line = 0
    offset = 0
    length = len(text)
    double = text.find('"""')
    single = text.find("'''")
    while offset < length:
        # Each kind's next position is searched again only once passed: the text is scanned about once.
        if 0 <= double < offset:
            double = text.find('"""', offset)
        if 0 <= single < offset:
            single = text.find("'''", offset)
        if double < 0 and single < 0:
            break
        opening = min(p for p in (double, single) if p >= 0)
        quote = text[opening : opening + 3]
        closing = text.find(quote, opening + 3)
        while closing > 0 and text[closing - 1] == "\\" and text[closing - 2] != "\\":
            closing = text.find(quote, closing + 1)  # an escaped quote does not close the string
        end = length if closing < 0 else closing + 3
        line += text.count("\n", offset, opening)
        last = line + text.count("\n", opening, end)
        for index in range(line + 1, last + 1):
            inside[index] = line
        offset = end
        line = last
    return inside


def _block_end(
    lines: list[str], header_index: int, header_indent: int, from_index: int, strings: dict[int, int]
) -> int:
    """Last line (inclusive) of the block opened at ``header_index``, looking from ``from_index`` on."""
    end = from_index
    for index in range(from_index + 1, len(lines)):
        line = lines[index]
        if not _is_code(line) or index in strings:
            if index in strings:
                end = index
            continue
        if _indent(line) <= header_indent and _can_start_statement(line):
            break
        end = index
    # Trailing blank or comment lines belong to nobody; leave them out.
    while end > from_index and not _is_code(lines[end]) and end not in strings:
        end -= 1
    return max(end, header_index)


def _with_decorators(lines: list[str], header_index: int, indent: int) -> int:
    start = header_index
    while start > 0 and lines[start - 1].lstrip().startswith("@") and _indent(lines[start - 1]) == indent:
        start -= 1
    return start


def _enclosing_units(doc: SplicedDocument, strings: dict[int, int]) -> Iterator[tuple[int, int, int]]:
    """(start, end, indent) of enclosing def/class blocks, innermost first, then the top-level statement.

    ``strings``: lines inside multi-line strings (see :func:`string_continuation_lines`); empty for the
    cheap first pass, which reads every line as code.
    """
    lines = doc.lines
    inserted = range(doc.first_inserted, doc.last_inserted + 1)
    # A line inside a string stands for the line its string starts on.
    positions = sorted({strings.get(i, i) for i in inserted if _is_code(lines[i])})
    if not positions:
        return
    threshold = min(_indent(lines[i]) for i in positions)
    first_code = positions[0]
    search_from = min(doc.first_inserted, first_code) - 1
    if _HEADER.match(lines[first_code].lstrip()) and _indent(lines[first_code]) == threshold:
        # The suggestion (or the line it completes) opens a def/class: that block is the innermost unit.
        start = _with_decorators(lines, first_code, threshold)
        yield start, _block_end(lines, first_code, threshold, doc.last_inserted, strings), threshold
        search_from = start - 1
    index = search_from
    while index >= 0 and threshold > 0:
        line = lines[index]
        if (
            index not in strings
            and _is_code(line)
            and _indent(line) < threshold
            and _can_start_statement(line)
        ):
            indent = _indent(line)
            if _HEADER.match(line.lstrip()):
                start = _with_decorators(lines, index, indent)
                yield start, _block_end(lines, index, indent, doc.last_inserted, strings), indent
            threshold = indent
        index -= 1
    # The top-level statement holding the suggestion: the nearest statement start at column 0 above it.
    index = min(first_code, len(lines) - 1)
    while index > 0 and (
        index in strings or not (_indent(lines[index]) == 0 and _can_start_statement(lines[index]))
    ):
        index -= 1
    index = _with_decorators(lines, index, 0)
    yield index, _block_end(lines, index, 0, doc.last_inserted, strings), 0


def _statement_windows(
    doc: SplicedDocument, strings: dict[int, int], limit: int = 3
) -> Iterator[tuple[int, int, int]]:
    """(start, end, indent) of the nearest statements above the suggestion, as windows down to its end.

    For a document whose enclosing unit does not parse for reasons of its own (an editor buffer or a window
    cut from a file that starts in the middle of a call), the few statements just above the suggestion are
    the context that still parses: a call the suggestion finishes, the ``try`` of its ``except``.
    """
    lines = doc.lines
    inserted = range(doc.first_inserted, doc.last_inserted + 1)
    positions = sorted({strings.get(i, i) for i in inserted if _is_code(lines[i])})
    if not positions:
        return
    threshold = _indent(lines[positions[0]])
    found = 0
    for index in range(positions[0] - 1, -1, -1):
        line = lines[index]
        if index in strings or not _can_start_statement(line) or _indent(line) > threshold:
            continue
        indent = _indent(line)
        threshold = indent
        yield index, _block_end(lines, index, indent, doc.last_inserted, strings), indent
        found += 1
        if found == limit or indent == 0:
            return


_CONTINUING_END = re.compile(r"(?:[,\\(\[{=+\-*/%|&^<>.]|\b(?:and|or|not|in|is|if|else))[ \t]*$")


def _continues_a_line_above(lines: list[str], start: int, strings: dict[int, int]) -> bool:
    """Whether the nearest code line above ``start`` leaves its statement open (a bracket, a comma, ``\\``).

    Then ``start`` is not really a statement start (``x = [`` above ``y = 1``): repairing the unit from there
    would read the suggestion out of its context, so it is left to the suggestion on its own.
    """
    for index in range(start - 1, -1, -1):
        line = lines[index]
        if index in strings or not _is_code(line):
            continue
        code = line.split("#", 1)[0].rstrip() if "#" in line else line.rstrip()
        return bool(closing_brackets(code)) or bool(_CONTINUING_END.search(code))
    return False


def scan_candidates(doc: SplicedDocument) -> Iterator[ScanUnit]:
    """Pieces of text to try in order; the caller scans the first that parses."""
    imports = collect_imports(doc)
    lines = doc.lines
    seen: set[tuple[int, int]] = set()
    cut_mid_line = not doc.completion.endswith("\n")

    def body_of(start: int, end: int, indent: int) -> list[tuple[int | None, str]]:
        return list(zip(range(start, end + 1), _dedent(lines[start : end + 1], indent), strict=True))

    def units(spans: Iterator[tuple[int, int, int]], kind: str = "unit") -> Iterator[ScanUnit]:
        for start, end, indent in spans:
            if (start, end) in seen:
                continue
            seen.add((start, end))
            yield _with_imports(kind, imports, body_of(start, end, indent))

    def repaired(spans: list[tuple[int, int, int]], kind: str) -> Iterator[ScanUnit]:
        for start, end, indent in spans:
            if _continues_a_line_above(lines, start, strings):
                continue
            for body in repaired_bodies(body_of(start, end, indent), doc.is_inserted, cut_mid_line):
                yield _with_imports(kind, imports, body)

    # An odd number of triple quotes before the cursor: the suggestion is probably inside a docstring, where
    # lines at column 0 are text, not statements. Then know where the strings are from the start.
    head = doc.text[: doc.prefix_length]
    in_docstring = bool(head.count('"""') % 2 or head.count("'''") % 2)
    if in_docstring:
        strings = string_continuation_lines(doc.text)
        yield from units(_enclosing_units(doc, strings))
    else:
        yield from units(_enclosing_units(doc, {}))
        # Still here: nothing parsed. Multi-line strings may have misled the line-based reading; look again
        # knowing where they are, before paying for the whole document.
        strings = string_continuation_lines(doc.text)
        if strings:
            yield from units(_enclosing_units(doc, strings))
    # No enclosing unit parses as it is: most often the suggestion was cut off (mid-call, inside a string,
    # after a block header). The smallest edit that completes it, in its unit, keeps the whole context.
    # An odd number of triple quotes may also mean a window cut inside a docstring, which reads inside out
    # knowing the strings: then the plain line-based reading is the other one to try.
    readings = [strings, {}] if strings and in_docstring else [strings]
    for reading in readings:
        # The innermost unit only: an outer one holds the same unfinished end and the same lines above it,
        # so it parses after the repair exactly when the innermost does (and costs more to try).
        yield from repaired(list(itertools.islice(_enclosing_units(doc, reading), 1)), "repaired-unit")
    for reading in readings:
        # The unit is broken by something else (a window cut from a file): the statements just above.
        for window in _statement_windows(doc, reading):
            yield from units(iter([window]), "window")
            yield from repaired([window], "repaired-window")
    if len(lines) <= _MAX_DOCUMENT_LINES and (0, len(lines) - 1) not in seen:
        yield ScanUnit(kind="document", text="\n".join(lines), origins=tuple(range(len(lines))))
    yield from suggestion_candidates(doc, imports)


def suggestion_candidates(doc: SplicedDocument, imports: list[tuple[int, str]]) -> Iterator[ScanUnit]:
    """The inserted lines alone, dedented, with the file's imports in front; then the completion text alone."""
    cut_mid_line = not doc.completion.endswith("\n")
    indices = list(range(doc.first_inserted, doc.last_inserted + 1))
    code = [i for i in indices if _is_code(doc.lines[i])]
    body: list[tuple[int | None, str]] = []
    if code:
        indent = min(_indent(doc.lines[i]) for i in code)
        whole_lines = _dedent([doc.lines[i] for i in indices], indent)
        body = list(zip(indices, whole_lines, strict=True))
        yield _with_imports("suggestion", imports, body)
        # A suggestion ending in a block header ("for x in y:") parses once the block has a body.
        if whole_lines[-1].rstrip().endswith(":"):
            yield _with_imports(
                "suggestion", imports, [*body, (None, " " * (_indent(whole_lines[-1]) + 4) + "pass")]
            )
    # The completion text alone: its first line may continue the prefix's line ("x = " + "eval(s)").
    alone = _completion_alone(doc)
    if alone:
        yield _with_imports("suggestion", imports, alone)
    if body:
        yield from _repaired(body, imports, cut_mid_line)
    if alone:
        yield from _repaired(alone, imports, cut_mid_line)


def _completion_alone(doc: SplicedDocument) -> list[tuple[int | None, str]]:
    """The completion's own lines, dedented, when its first line differs from the document's line."""
    completion_lines = doc.completion.split("\n")
    if doc.completion.endswith("\n"):
        completion_lines = completion_lines[:-1]
    if (
        not completion_lines
        or not any(_is_code(line) for line in completion_lines)
        or completion_lines[0] == doc.lines[doc.first_inserted]
    ):
        return []
    first_indent = _indent(completion_lines[0])
    rest_code = [line for line in completion_lines[1:] if _is_code(line)]
    amount = min([first_indent, *(_indent(line) for line in rest_code)]) if rest_code else first_indent
    text_lines = _dedent(completion_lines, amount)
    return list(zip(range(doc.first_inserted, doc.last_inserted + 1), text_lines, strict=False))


def lands_in_comment(doc: SplicedDocument) -> bool:
    """Whether the completion starts inside a comment on the prefix's last line.

    A model that continues ``# try the zones round-robin`` with code, on the same line, wrote code that the
    document reads as comment text. It is inert there, but it is what the model meant and what a user may
    split onto its own line: the gate scans it as code too (see :func:`glued_candidates`).
    """
    line_start = doc.text.rfind("\n", 0, doc.prefix_length) + 1
    before = doc.text[line_start : doc.prefix_length]
    if "#" not in before:
        return False
    tail = open_tail(before)
    return tail is not None and tail.comment_at is not None


def glued_candidates(doc: SplicedDocument, imports: list[tuple[int, str]]) -> Iterator[ScanUnit]:
    """The completion text alone, as it is and then repaired: for a completion that lands in a comment."""
    alone = _completion_alone(doc)
    if alone:
        yield _with_imports("suggestion", imports, alone)
        yield from _repaired(alone, imports, not doc.completion.endswith("\n"))


_DOCTEST_LINE = re.compile(r"[ \t]*(?:>>>|\.\.\.)(?: |$)")


def doctest_candidates(doc: SplicedDocument, imports: list[tuple[int, str]]) -> Iterator[ScanUnit]:
    """The doctest examples (``>>> code``, ``... more``) among the inserted lines, as code.

    Doctests run (under pytest or ``python -m doctest``), so the code a model writes into a docstring
    example is code like any other; the document reads it as string text.
    """
    body: list[tuple[int | None, str]] = []
    for index in range(doc.first_inserted, doc.last_inserted + 1):
        match = _DOCTEST_LINE.match(doc.lines[index])
        if match:
            body.append((index, doc.lines[index][match.end() :].rstrip("\r")))
    if body and any(_is_code(text) for _, text in body):
        indent = min(_indent(text) for _, text in body if _is_code(text))
        body = [(origin, text[indent:]) for origin, text in body]
        yield _with_imports("doctest", imports, body)
        yield from _repaired(body, imports, not doc.completion.endswith("\n"))


def is_doctest_line(line: str) -> bool:
    return bool(_DOCTEST_LINE.match(line))


def _repaired(
    body: list[tuple[int | None, str]], imports: list[tuple[int, str]], cut_mid_line: bool
) -> Iterator[ScanUnit]:
    """The suggestion completed just enough to parse: a statement cut off mid-call, a dict entry, arguments.

    Findings in a repaired suggestion count; a repaired suggestion without findings is not called clean: it
    did not parse in its document, so what it means there is not known (see the gate).
    """
    for repaired in repaired_bodies(body, lambda _origin: True, cut_mid_line):
        yield _with_imports("repaired", imports, repaired)
    lines = [text for _, text in body]
    last = lines[-1].rstrip()
    if last.endswith("\\"):
        lines[-1] = last[:-1]
    text = "\n".join(lines)
    # A fragment from inside a bracket: dict entries ('"k": v,'), arguments ("shell=True, cwd=d,").
    for opener, closer in (("_roost_fragment = {", "}"), ("_roost_fragment(", ")")):
        inner = closing_brackets(opener + "\n" + text)
        if inner is None or not inner.endswith(closer):
            continue
        wrapped = [(None, opener), *body[:-1], (body[-1][0], lines[-1]), (None, inner)]
        yield _with_imports("repaired", imports, wrapped)


def single_lines(doc: SplicedDocument, imports: list[tuple[int, str]]) -> Iterator[tuple[int, ScanUnit]]:
    """Each inserted code line on its own: the last resort for a suggestion that does not parse whole."""
    for index in range(doc.first_inserted, doc.last_inserted + 1):
        line = doc.lines[index]
        if not _is_code(line):
            continue
        text = line.strip()
        body: list[tuple[int | None, str]] = [(index, text)]
        if text.endswith(":"):
            body.append((None, "    pass"))
        yield index, _with_imports("suggestion-line", imports, body)


_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def _first_line(node: ast.stmt | ast.excepthandler) -> int:
    decorators = getattr(node, "decorator_list", None) or ()
    return min([node.lineno, *(d.lineno for d in decorators)])


def _lines(node: ast.AST) -> tuple[int, int]:
    """The first and last lines of a statement, or of a ``match`` case, which has no position of its own
    (it spans its pattern to its last statement)."""
    if isinstance(node, ast.match_case):
        return node.pattern.lineno, _lines(node.body[-1])[1]
    assert isinstance(node, ast.stmt | ast.excepthandler)  # the other nodes of statement lists
    # end_lineno is set on every parsed node; it is Optional only for nodes built by hand.
    return _first_line(node), node.end_lineno or node.lineno


def _prune_statements(statements: list[ast.stmt], first: int, last: int) -> list[ast.stmt]:
    kept: list[ast.stmt] = []
    for statement in statements:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            kept.append(statement)  # bandit resolves names through every import it has seen
            continue
        start, end = _lines(statement)
        if end < first or start > last:
            continue
        for name in _STATEMENT_LISTS:
            children = getattr(statement, name, None)
            if children:
                setattr(statement, name, _prune_statements(children, first, last))
        kept.append(statement)
    return kept


def prune_to_lines(tree: ast.Module, first: int, last: int) -> ast.Module:
    """Drop the statements of ``tree`` that do not touch lines ``first``..``last`` (1-based), in place.

    Bandit's rules judge one node at a time, so statements away from the suggestion can only produce findings
    that would not count anyway; dropping them before bandit walks the tree is what makes a suggestion inside
    a long class cost a fraction of a millisecond instead of tens. Kept: imports (for bandit's name
    resolution) and the chain of compound statements around the suggestion (a ``try`` for B110, a ``def``
    header for B107).
    """
    tree.body = _prune_statements(tree.body, first, last)
    return tree
