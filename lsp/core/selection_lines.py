"""The text a model-driven edit rewrites: a selection widened to whole lines."""

from __future__ import annotations


def whole_lines(text: str, start: int, end: int, *, single_line_too: bool = True) -> tuple[int, int]:
    """The selection ``text[start:end]`` widened to the whole lines it touches (an end at a line's start
    stays there). A model rewrites whole lines: given ``r):\n    return x`` it answers the whole function,
    which spliced into the middle of a line no longer parses. ``single_line_too=False`` keeps a selection
    within one line as it is (an expression to rewrite in place)."""
    if start == end or (not single_line_too and "\n" not in text[start:end]):
        return start, end
    line_start = text.rfind("\n", 0, start) + 1
    if text[end - 1] != "\n":
        newline = text.find("\n", end)
        end = len(text) if newline < 0 else newline
    return line_start, end
