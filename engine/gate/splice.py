"""Where a suggestion sits in its document, and which pieces of text to hand to bandit.

The gate scans the smallest piece of the spliced document that parses and contains the suggestion, rather
than the whole document: bandit's rules look at one call, string or statement at a time (plus the module's
imports, which we put in front), so an enclosing ``def``/``class`` or top-level statement gives the same
findings on the inserted lines as the whole file would, at a fraction of the cost on a long file. Mid-edit
buffers often do not parse; the candidates below go from that unit outwards to the whole document, then to
the suggestion on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_HEADER = re.compile(r"(?:async\s+def|def|class)\b")
_CONTINUATION_KEYWORDS = re.compile(r"(?:elif|else|except|finally|case)\b")
_IMPORT = re.compile(r"(?:import|from)\s+[\w.]")
# Lines that cannot start a statement: they close a bracket or continue the previous line.
_CLOSERS = tuple(")]}")
# A whole file is only worth a try (it is the slow path) up to this size.
_MAX_DOCUMENT_LINES = 20_000


@dataclass(frozen=True)
class SplicedDocument:
    """``prefix + completion + suffix`` split into lines, with the inserted lines marked (0-based)."""

    lines: list[str]
    first_inserted: int
    last_inserted: int
    completion: str

    @classmethod
    def build(cls, prefix: str, completion: str, suffix: str) -> SplicedDocument:
        prefix = prefix.replace("\r\n", "\n")
        completion = completion.replace("\r\n", "\n")
        suffix = suffix.replace("\r\n", "\n")
        lines = (prefix + completion + suffix).split("\n")
        first = prefix.count("\n")
        last = first + completion.count("\n")
        # A trailing newline inserts nothing on the line after it.
        if completion.endswith("\n") and last > first:
            last -= 1
        return cls(lines=lines, first_inserted=first, last_inserted=last, completion=completion)

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
    index = 0
    count = len(lines)
    while index < count:
        line = lines[index]
        stripped = line.lstrip()
        if not (stripped.startswith(("import", "from")) and _IMPORT.match(stripped)) or doc.is_inserted(
            index
        ):
            index += 1
            continue
        # Skip "import" inside a string or an expression such as "from_x = 1": _IMPORT needs a space.
        statement = [(index, stripped)]
        open_paren = stripped.count("(") - stripped.count(")")
        continued = stripped.rstrip().endswith("\\")
        while (open_paren > 0 or continued) and index + 1 < count:
            index += 1
            following = lines[index]
            statement.append((index, following.strip()))
            open_paren += following.count("(") - following.count(")")
            continued = following.rstrip().endswith("\\")
        if not any(doc.is_inserted(i) for i, _ in statement):
            found.extend(statement)
        index += 1
    return found


def _with_imports(kind: str, imports: list[tuple[int, str]], body: list[tuple[int | None, str]]) -> ScanUnit:
    origins: list[int | None] = [i for i, _ in imports]
    texts = [t for _, t in imports]
    origins.extend(i for i, _ in body)
    texts.extend(t for _, t in body)
    return ScanUnit(kind=kind, text="\n".join(texts) + "\n", origins=tuple(origins))


def _block_end(lines: list[str], header_index: int, header_indent: int, from_index: int) -> int:
    """Last line (inclusive) of the block opened at ``header_index``, looking from ``from_index`` on."""
    end = from_index
    for index in range(from_index + 1, len(lines)):
        line = lines[index]
        if not _is_code(line):
            continue
        if _indent(line) <= header_indent and _can_start_statement(line):
            break
        end = index
    # Trailing blank or comment lines belong to nobody; leave them out.
    while end > from_index and not _is_code(lines[end]):
        end -= 1
    return max(end, header_index)


def _with_decorators(lines: list[str], header_index: int, indent: int) -> int:
    start = header_index
    while start > 0 and lines[start - 1].lstrip().startswith("@") and _indent(lines[start - 1]) == indent:
        start -= 1
    return start


def _enclosing_units(doc: SplicedDocument) -> Iterator[tuple[int, int, int]]:
    """(start, end, indent) of enclosing def/class blocks, innermost first, then the top-level statement."""
    lines = doc.lines
    inserted_code = [i for i in range(doc.first_inserted, doc.last_inserted + 1) if _is_code(lines[i])]
    if not inserted_code:
        return
    threshold = min(_indent(lines[i]) for i in inserted_code)
    first_code = inserted_code[0]
    search_from = doc.first_inserted - 1
    if _HEADER.match(lines[first_code].lstrip()) and _indent(lines[first_code]) == threshold:
        # The suggestion (or the line it completes) opens a def/class: that block is the innermost unit.
        start = _with_decorators(lines, first_code, threshold)
        yield start, _block_end(lines, first_code, threshold, doc.last_inserted), threshold
        search_from = start - 1
    index = search_from
    while index >= 0 and threshold > 0:
        line = lines[index]
        if _is_code(line) and _indent(line) < threshold and _can_start_statement(line):
            indent = _indent(line)
            if _HEADER.match(line.lstrip()):
                start = _with_decorators(lines, index, indent)
                yield start, _block_end(lines, index, indent, doc.last_inserted), indent
            threshold = indent
        index -= 1
    # The top-level statement holding the suggestion: the nearest statement start at column 0 above it.
    index = min(first_code, len(lines) - 1)
    while index > 0 and not (_indent(lines[index]) == 0 and _can_start_statement(lines[index])):
        index -= 1
    index = _with_decorators(lines, index, 0)
    yield index, _block_end(lines, index, 0, doc.last_inserted), 0


def scan_candidates(doc: SplicedDocument) -> Iterator[ScanUnit]:
    """Pieces of text to try in order; the caller scans the first that parses."""
    imports = collect_imports(doc)
    lines = doc.lines
    seen: set[tuple[int, int]] = set()
    for start, end, indent in _enclosing_units(doc):
        if (start, end) in seen:
            continue
        seen.add((start, end))
        body = list(zip(range(start, end + 1), _dedent(lines[start : end + 1], indent), strict=True))
        yield _with_imports("unit", imports, body)
    if len(lines) <= _MAX_DOCUMENT_LINES and (0, len(lines) - 1) not in seen:
        yield ScanUnit(kind="document", text="\n".join(lines), origins=tuple(range(len(lines))))
    yield from suggestion_candidates(doc, imports)


def suggestion_candidates(doc: SplicedDocument, imports: list[tuple[int, str]]) -> Iterator[ScanUnit]:
    """The inserted lines alone, dedented, with the file's imports in front."""
    indices = list(range(doc.first_inserted, doc.last_inserted + 1))
    code = [i for i in indices if _is_code(doc.lines[i])]
    if not code:
        return
    indent = min(_indent(doc.lines[i]) for i in code)
    whole_lines = _dedent([doc.lines[i] for i in indices], indent)
    body: list[tuple[int | None, str]] = list(zip(indices, whole_lines, strict=True))
    yield _with_imports("suggestion", imports, body)
    # A suggestion ending in a block header ("for x in y:") parses once the block has a body.
    if whole_lines[-1].rstrip().endswith(":"):
        yield _with_imports(
            "suggestion", imports, [*body, (None, " " * (_indent(whole_lines[-1]) + 4) + "pass")]
        )
    # The completion text alone: its first line may continue the prefix's line ("x = " + "eval(s)").
    completion_lines = doc.completion.split("\n")
    if doc.completion.endswith("\n"):
        completion_lines = completion_lines[:-1]
    if (
        completion_lines
        and completion_lines[0].strip()
        and completion_lines[0] != doc.lines[doc.first_inserted]
    ):
        first_indent = _indent(completion_lines[0])
        rest_code = [line for line in completion_lines[1:] if _is_code(line)]
        amount = min([first_indent, *(_indent(line) for line in rest_code)]) if rest_code else first_indent
        text_lines = _dedent(completion_lines, amount)
        yield _with_imports("suggestion", imports, list(zip(indices, text_lines, strict=False)))


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
