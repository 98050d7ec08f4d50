"""The smallest edits that make a cut-off suggestion parse, so that bandit can scan it in its context.

A model stops where its token budget or a stop sequence ends it: in the middle of a call's arguments, inside
a string, after an operator, before a block header's colon or after it with no body yet, after a backslash
that continues the line. The spliced text then does not parse and bandit would never look at it. The repairs
here only *add* what is missing at the end of the last inserted line (an operand placeholder, closing quotes
and brackets, a header's colon) or after it (a ``pass`` body), or drop a continuation backslash nothing
continues. Every token the model wrote stays where it was, so a finding in the repaired text is a finding in
the suggestion. One more repair rewrites a Python 2 ``print``/``exec`` statement (a model completing a
legacy file writes them) into the call Python 3 parses, keeping its arguments.

Lines travel as ``(document line or None, text)`` pairs: synthetic lines have no document line, so findings
on them never count against the suggestion.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Line = tuple[int | None, str]

_PAIRS = {"(": ")", "[": "]", "{": "}"}
# A compound statement's header: the body must follow on the next, more indented line.
_BLOCK_KEYWORD = re.compile(
    r"(?:if|elif|else|for|while|with|def|class|try|except|finally|async|match|case)\b"
)
_ENDS_WITH_COLON = re.compile(r":[ \t]*$")
_TRY = re.compile(r"try[ \t]*:")
# Python 2 statements; the rewrite is only tried on inserted lines that do not parse as they are.
_PY2_PRINT = re.compile(r"(?P<indent>[ \t]*)print(?:[ \t]+(?P<args>[^ \t(=.,;)\]}#][^#]*?))?[ \t]*$")
_PY2_PRINT_TO = re.compile(r"(?P<indent>[ \t]*)print[ \t]*>>[ \t]*(?P<stream>[^,#]+),(?P<args>[^#]*?)[ \t]*$")
_PY2_EXEC = re.compile(
    r"(?P<indent>[ \t]*)exec[ \t]+(?P<code>[^(#][^#]*?)(?:[ \t]+in[ \t]+(?P<scope>[^#]+?))?[ \t]*$"
)


@dataclass(frozen=True)
class OpenTail:
    """What a piece of code leaves open at its end."""

    closers: str  # the closing brackets, innermost first
    quote: str | None  # the quote of a string still open at the end, if any
    quote_at: int | None  # where that string starts
    comment_at: int | None  # where a comment on the last line starts (closers go before it)


def open_tail(text: str) -> OpenTail | None:
    """What ``text`` leaves open at its end; None when a bracket mismatches or a one-line string ends early.

    Strings (triple-quoted ones too) and comments are skipped, so brackets inside them do not count.
    """
    stack: list[str] = []
    index = 0
    length = len(text)
    comment_at: int | None = None
    while index < length:
        char = text[index]
        if char == "#":
            newline = text.find("\n", index)
            if newline < 0:
                comment_at = index
                break
            index = newline
            continue
        if char in "'\"":
            opening = index
            quote = text[index : index + 3] if text[index : index + 3] in ('"""', "'''") else char
            index += len(quote)
            while True:
                if index >= length:
                    return OpenTail("".join(reversed(stack)), quote, opening, None)
                if text[index] == "\\":
                    index += 2
                    continue
                if len(quote) == 1 and text[index] == "\n":
                    return None  # a one-line string ended by the line: an error, not a cut
                if text.startswith(quote, index):
                    index += len(quote)
                    break
                index += 1
            continue
        if char in _PAIRS:
            stack.append(_PAIRS[char])
        elif char in ")]}" and (not stack or stack.pop() != char):
            return None
        index += 1
    return OpenTail("".join(reversed(stack)), None, None, comment_at)


def closing_brackets(text: str) -> str | None:
    """The brackets that close what ``text`` leaves open, or None when it ends inside a string or mismatches."""
    tail = open_tail(text)
    if tail is None or tail.quote is not None:
        return None
    return tail.closers


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def python2_statement_as_call(line: str) -> str | None:
    """``print x, y`` / ``print >>f, x`` / ``exec code in scope`` as the Python 3 call, else None."""
    if "print" in line:
        match = _PY2_PRINT_TO.fullmatch(line)
        if match:
            args = match["args"].strip()
            separator = ", " if args else ""
            return f"{match['indent']}print({args}{separator}file={match['stream'].strip()})"
        match = _PY2_PRINT.fullmatch(line)
        if match and match["args"] and not match["args"].lstrip().startswith(("+=", "-=", "==")):
            return f"{match['indent']}print({match['args']})"
    if "exec" in line:
        match = _PY2_EXEC.fullmatch(line)
        if match:
            scope = f", {match['scope']}" if match["scope"] else ""
            return f"{match['indent']}exec({match['code']}{scope})"
    return None


def _has_body(lines: list[Line], header: int) -> bool:
    """Whether the next code line after ``header`` is indented deeper than the header line."""
    header_indent = _indent(lines[header][1])
    for _, text in lines[header + 1 :]:
        if _is_code(text):
            return _indent(text) > header_indent
    return False


def _body_for(header_line: str) -> list[Line]:
    indent = " " * _indent(header_line)
    body: list[Line] = [(None, indent + "    pass")]
    if _TRY.match(header_line.lstrip()):
        # A bare ``try:`` needs a handler too; ``finally`` adds no finding bandit knows (``except: pass`` would).
        body += [(None, indent + "finally:"), (None, indent + "    pass")]
    return body


def _close_last_line(lines: list[Line], last: int, first: int, cut_mid_line: bool) -> list[Line] | None:
    """``lines`` with line ``last`` completed: a dangling backslash dropped, an operand after a dangling
    operator, the open string and brackets closed, the colon of a block header; None if impossible.

    ``first``: the first inserted line. A string opened above it is never closed: the suggestion would become
    that string's text, and code read as text hides its findings (a window cut inside a docstring reads
    inside out).
    """
    origin, line = lines[last]
    above = [text for _, text in lines[:last]]
    is_final = last == len(lines) - 1
    tail = open_tail("\n".join([*above, line]))
    if tail is None:
        return None
    if tail.quote is None and line.rstrip().endswith("\\") and is_final:
        # A continuation backslash with nothing after it to continue.
        line = line.rstrip()[:-1].rstrip()
        tail = open_tail("\n".join([*above, line]))
        if tail is None:
            return None
    code, comment = line, ""
    if tail.quote is not None:
        suggestion_starts = sum(len(text) + 1 for text in above[:first])
        if tail.quote_at is None or tail.quote_at < suggestion_starts:
            return None
        if len(tail.quote) == 1 and not cut_mid_line:
            # The model ended the line itself: a one-line string left open is an error, not a cut.
            return None
        if code.endswith("\\") and (len(code) - len(code.rstrip("\\"))) % 2:
            code = code[:-1]  # an escape cut in half would swallow the closing quote
        code += tail.quote
    else:
        if tail.comment_at is not None:
            # What is added goes before a trailing comment, or the comment would swallow it.
            at = len(line) - (len("\n".join([*above, line])) - tail.comment_at)
            code, comment = line[:at].rstrip(), "  " + line[at:]
        code = _with_operand(code, inside_brackets=bool(tail.closers))
    code += tail.closers
    if _lacks_header_colon(code, above):
        code = (code + "()" if _BARE_DEF.fullmatch(code.strip()) else code) + ":"
    return [*lines[:last], (origin, code + comment), *lines[last + 1 :]]


# Placeholder for the operand a cut-off line still owes (``x = ``, ``a +``, ``if``, ``result.``): a name no
# rule knows, so what bandit reports is about the model's own tokens (``"SELECT ... " +`` is concatenation
# with a value whatever the value turns out to be).
CUT_OPERAND = "_roost_cut"
_DANGLING_OPERATOR = re.compile(r"(?:[-+*/%@&|^<>=~]|(?<=[A-Za-z_)\]])\.)[ \t]*$")
_DANGLING_KEYWORD = re.compile(
    r"(?<![\w.])(?:and|or|not|in|is|if|elif|while|else|assert|del|await|with)[ \t]*$"
)
_DANGLING_SUBSCRIPT = re.compile(r"(?<=[\w)\]])\[[ \t]*$")
_DANGLING_FOR = re.compile(r"(?<![\w.])for(?:[ \t]+(?P<target>[\w, ()]*\w\)?))?[ \t]*$")
_BARE_DEF = re.compile(r"(?:async[ \t]+)?def[ \t]+\w+")
# Statements that must end in a colon; ``match``/``case`` are soft keywords (``match(x)`` is a call).
_HEADER_START = re.compile(r"(?:if|elif|else|for|while|with|def|class|try|except|finally|async[ \t]+\w+)\b")


def _with_operand(code: str, inside_brackets: bool) -> str:
    stripped = code.rstrip()
    if stripped.lstrip() in ("else", "try", "finally") or "import" in stripped:
        return code
    if _DANGLING_OPERATOR.search(stripped) or _DANGLING_KEYWORD.search(stripped):
        return stripped + ("" if stripped.endswith(".") else " ") + CUT_OPERAND
    if _DANGLING_SUBSCRIPT.search(stripped):
        return stripped + CUT_OPERAND
    loop = _DANGLING_FOR.search(stripped)
    if loop:
        # "for x" / "for" cut before its iterable, as a statement or in a comprehension.
        target = "" if loop["target"] else f" {CUT_OPERAND}"
        return f"{stripped}{target} in {CUT_OPERAND}"
    if inside_brackets and stripped.endswith(":"):
        return stripped + " " + CUT_OPERAND  # a dict value, a lambda body, a slice bound
    return code


def _has_top_level_colon(code: str) -> bool:
    """Whether ``code`` has a colon outside brackets and strings (``else: x = f()`` has its header's)."""
    depth = 0
    quote = ""
    for char in code:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ":" and depth == 0:
            return True
    return False


def _lacks_header_colon(code: str, above: list[str]) -> bool:
    """Whether ``code`` starts a block header that was cut before its colon (at statement level)."""
    stripped = code.strip()
    if not _HEADER_START.match(stripped) or _has_top_level_colon(stripped):
        return False
    # Inside brackets opened above, "if x" is a comprehension's filter, not a statement.
    tail = open_tail("\n".join(above))
    return tail is not None and tail.quote is None and not tail.closers


def _with_missing_body(lines: list[Line], last: int) -> list[Line]:
    """A ``pass`` body after a block header at line ``last`` that has none."""
    line = lines[last][1]
    code = line.split("#", 1)[0] if "#" in line else line
    if not (_ENDS_WITH_COLON.search(code) and _BLOCK_KEYWORD.match(line.lstrip())) or _has_body(lines, last):
        return lines
    return [*lines[: last + 1], *_body_for(line), *lines[last + 1 :]]


def repaired_bodies(
    lines: list[Line], is_inserted: Callable[[int], bool], cut_mid_line: bool
) -> Iterator[list[Line]]:
    """The lines of a unit with the suggestion's unfinished end completed, smallest edit first.

    ``cut_mid_line``: the suggestion does not end with a newline (the model was cut off inside its last
    line), so a one-line string left open there may be closed. First the unit with its lines after the
    suggestion kept, then without them (they are context only: findings count on inserted lines alone).
    Nothing is yielded when no repair applies.
    """
    inserted = [n for n, (origin, text) in enumerate(lines) if origin is not None and is_inserted(origin)]
    code = [n for n in inserted if _is_code(lines[n][1])]
    if not code:
        return
    rewritten = list(lines)
    for n in code:
        call = python2_statement_as_call(rewritten[n][1])
        if call is not None:
            rewritten[n] = (rewritten[n][0], call)
    last = code[-1]
    attempts = [rewritten]
    if last < len(rewritten) - 1:
        attempts.append(rewritten[: last + 1])
    produced: list[list[Line]] = []
    for attempt in attempts:
        closed = _close_last_line(attempt, last, inserted[0], cut_mid_line)
        if closed is None:
            continue
        repaired = _with_missing_body(closed, last)
        if repaired != lines and repaired not in produced:
            produced.append(repaired)
            yield repaired
