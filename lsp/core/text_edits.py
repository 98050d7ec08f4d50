"""Edits the server proposes: located in the current text (tolerantly, since models rarely copy text
exactly) and verified to apply cleanly, as workspace-relative :class:`FileEdit` s over several files (the
handlers turn them into one versioned ``WorkspaceEdit``: :mod:`roost.lsp.handlers.workspace_edits`).
Parsing the model's answer into edit blocks is the edit contract's job (:mod:`roost.engine.prompts.edit`).

Nothing here writes a file: edits go to the editor, which applies them.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path


class EditError(ValueError):
    """An edit that cannot be applied to the current text; it is reported, never sent."""


@dataclass(frozen=True)
class TextReplacement:
    """Replace ``text[start:end]`` (character offsets in the current text) by ``new_text``."""

    start: int
    end: int
    new_text: str


@dataclass(frozen=True)
class LineCharacter:
    """A position as editors count it: 0-based line, and UTF-16 code units into the line (LSP's default
    position encoding)."""

    line: int
    character: int


@dataclass(frozen=True)
class FileEdit:
    path: str  # workspace-relative POSIX path
    version: int | None  # the open document's version; None when the file is not open
    original: str  # the text the replacements were computed against
    replacements: tuple[TextReplacement, ...]

    def apply(self) -> str:
        return apply_replacements(self.original, self.replacements)


# -- locating text -----------------------------------------------------------------------------------


def locate(text: str, search: str, near: int = 0) -> tuple[int, int]:
    """Offsets of ``search`` in ``text``: exact first (the occurrence nearest ``near``), then line by line
    ignoring indentation and trailing whitespace. Raises :class:`EditError` when absent or ambiguous."""
    if not search.strip():
        raise EditError("an edit block has an empty SEARCH part")
    exact = [m.start() for m in re.finditer(re.escape(search), text)]
    if exact:
        start = min(exact, key=lambda s: abs(s - near))
        return start, start + len(search)
    wanted = [line.strip() for line in search.strip("\n").split("\n")]
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    matches = []
    for first in range(len(lines) - len(wanted) + 1):
        if all(lines[first + i].strip() == wanted[i] for i in range(len(wanted))):
            matches.append(first)
    if not matches:
        close = difflib.get_close_matches(wanted[0], [line.strip() for line in lines], n=1)
        hint = f" (closest line: {close[0]!r})" if close else ""
        raise EditError(f"the text to replace was not found: {wanted[0]!r}{hint}")
    first = min(matches, key=lambda i: abs(offsets[i] - near))
    last = first + len(wanted) - 1
    return offsets[first], offsets[last] + len(lines[last])


def reindent(new_text: str, old_text: str, located: str) -> str:
    """When the model dropped or changed indentation, shift its lines by the difference seen in the
    first line, so the replacement keeps the file's indentation."""

    def indent(s: str) -> str:
        first = next((line for line in s.split("\n") if line.strip()), "")
        return first[: len(first) - len(first.lstrip())]

    have, want = indent(old_text), indent(located)
    if have == want:
        return new_text
    out = []
    for line in new_text.split("\n"):
        if line.startswith(have):
            out.append(want + line[len(have) :] if line.strip() else line)
        else:
            out.append(line)
    return "\n".join(out)


def apply_replacements(text: str, replacements: tuple[TextReplacement, ...]) -> str:
    ordered = sorted(replacements, key=lambda r: r.start)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            raise EditError("two edits overlap")
    pieces, position = [], 0
    for replacement in ordered:
        if not 0 <= replacement.start <= replacement.end <= len(text):
            raise EditError("an edit lies outside the document")
        pieces.append(text[position : replacement.start])
        pieces.append(replacement.new_text)
        position = replacement.end
    pieces.append(text[position:])
    return "".join(pieces)


def verify(edit: FileEdit, current_text: str) -> None:
    """The edit applies cleanly to ``current_text``: same base text, no overlap, inside the document."""
    if current_text != edit.original:
        raise EditError(f"{edit.path} changed since the edit was computed")
    edit.apply()


# -- positions ----------------------------------------------------------------------------------------


# LSP's line ends, the only ones (a form feed or U+2028 is text); a lone "\r" is one.
LINE_END = re.compile(r"\r\n|\r|\n")


def line_span(text: str, line: int) -> tuple[int, int] | None:
    """Where LSP line ``line`` of ``text`` starts and ends (before its line end); None past the last line."""
    start = 0
    if line > 0:
        previous_end = next(itertools.islice(LINE_END.finditer(text), line - 1, None), None)
        if previous_end is None:
            return None
        start = previous_end.end()
    line_end = LINE_END.search(text, start)
    return start, line_end.start() if line_end else len(text)


def _walk_utf16(text: str, offset: int, end: int, character: int) -> tuple[int, int]:
    """From ``offset``, ``character`` UTF-16 code units on, stopping at ``end``: the offset reached and the
    units walked (more than asked inside a surrogate pair, fewer at ``end``)."""
    units = 0
    while offset < end and units < character:
        units += 2 if ord(text[offset]) > 0xFFFF else 1
        offset += 1
    return offset, units


def clamped_offset(text: str, position: LineCharacter) -> int:
    """Character offset of an editor position as LSP reads a change's range: a line past the end is the end
    of the text, a character past its line's end is that end (one inside a surrogate pair, the pair's)."""
    span = line_span(text, position.line)
    if span is None:
        return len(text)
    return _walk_utf16(text, *span, position.character)[0]


def clamped_range(text: str, start: LineCharacter, end: LineCharacter) -> tuple[int, int]:
    """Character offsets of a change's range as LSP reads it (:func:`clamped_offset`), an end before the
    start taken as the start."""
    low = clamped_offset(text, start)
    return low, max(low, clamped_offset(text, end))


def exact_offset(text: str, position: LineCharacter) -> int | None:
    """Character offset of an editor position, or None where it is not in ``text``: past its line's end or
    the last line, or inside a surrogate pair."""
    span = line_span(text, position.line)
    if span is None:
        return None
    offset, units = _walk_utf16(text, *span, position.character)
    return offset if units == position.character else None


def position_at(text: str, offset: int) -> LineCharacter:
    """Editor position (LSP lines, UTF-16 code units) of a character offset."""
    if "\r" in text:
        line = line_start = 0
        for line, line_end in enumerate(LINE_END.finditer(text, 0, offset), 1):  # noqa: B007 - the count
            line_start = line_end.end()
    else:  # the common case, at C speed
        line = text.count("\n", 0, offset)
        line_start = text.rfind("\n", 0, offset) + 1
    character = len(text[line_start:offset].encode("utf-16-le")) // 2
    return LineCharacter(line=line, character=character)


def offset_at(text: str, position: LineCharacter) -> int:
    """Character offset of an editor position (LSP lines, UTF-16 code units), clamped to the line (a line
    past the end is the last line)."""
    last_line = len(LINE_END.findall(text))
    return clamped_offset(text, LineCharacter(min(position.line, last_line), position.character))


def unified_diff(edits: list[FileEdit]) -> str:
    out: list[str] = []
    for edit in edits:
        out.extend(
            difflib.unified_diff(
                edit.original.splitlines(keepends=True),
                edit.apply().splitlines(keepends=True),
                fromfile=f"a/{edit.path}",
                tofile=f"b/{edit.path}",
            )
        )
    return "".join(out)


def is_inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
