"""What the rest of the cursor's line closes already, read from its quotes: the string literal the cursor is
in (:func:`stay_in_string`), and a JSX tag or type argument open at the cursor (:func:`stay_in_tag`)."""

from __future__ import annotations

from roost.engine.completion_filters.brackets import LINE_COMMENT, cut_closers_already_there, plain_brackets
from roost.engine.completion_filters.cursor import CompletionContext


def _string_open_at_end(line: str, language: str) -> tuple[str, int] | None:
    """The quote of the string literal ``line`` ends inside and where it opened, or None (outside one,
    after a line comment, or where quotes are not simple: a triple-quoted string, a Rust lifetime)."""
    if '"""' in line or "'''" in line:
        return None
    comment = LINE_COMMENT.get(language, "//")
    quote: str | None = None
    opened = 0
    i = 0
    while i < len(line):
        ch = line[i]
        if quote is not None:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in '"`' or (ch == "'" and language != "rust"):
            quote, opened = ch, i
        elif line.startswith(comment, i):
            return None
        i += 1
    return None if quote is None else (quote, opened)


def _closing_quote(line: str, quote: str) -> int | None:
    """Where the first unescaped ``quote`` of ``line`` (inside a string literal) is."""
    i = 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == quote:
            return i
        i += 1
    return None


def stay_in_string(text: str, ctx: CompletionContext) -> str:
    """Do not close a string the rest of the line already closes: in ``log("chunk`` + ``");`` (the editor
    closed the quote), a suggestion ``size = ", n);`` becomes ``size = `` and the line reads right, instead
    of the suffix's quote opening a new string; nor a bracket the rest of the string closes. Only the
    suggestion's first line is looked for the quote: a string literal (other than a template literal) ends
    on its line."""
    opened = _string_open_at_end(ctx.current_line_prefix, ctx.language)
    if opened is None:
        return text
    quote, start = opened
    close = _closing_quote(ctx.current_line_suffix, quote)
    if close is None:
        return text
    end = _closing_quote(text.split("\n", 1)[0], quote)
    kept = text if end is None else text[:end]
    # In a string, brackets are plain characters: an f-string's ``{`` or a template literal's ``${`` opened
    # before the cursor that the rest of the string closes is not closed again (``f"Hello {`` + ``}"`` with
    # ``name}!`` keeps ``name``).
    return cut_closers_already_there(
        kept,
        plain_brackets(ctx.current_line_prefix[start + 1 :]),
        plain_brackets(ctx.current_line_suffix[:close]),
        plain_brackets(kept),
    )


# Languages whose lines hold JSX tags and type arguments, both closed by a ``>`` of their own.
_ANGLE_LANGUAGES = frozenset({"javascript", "typescript", "javascriptreact", "typescriptreact"})


def _angle_closers(line: str) -> tuple[int, int | None]:
    """Read ``line`` outside strings and ``{…}`` (a JSX attribute's value, an arrow's body): the angles it
    leaves open (a tag ``<li``, a type argument ``Map<``; ``a < b`` with a space is a comparison) and where
    its first ``>`` that closes an angle opened before it is (None: none does)."""
    open_angles = 0
    depth = 0
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote is not None:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif ch in "{(":
            depth += 1
        elif ch in "})":
            depth = max(0, depth - 1)
        elif depth == 0 and ch == "<" and line[i + 1 : i + 2] not in ("=", "<"):
            before, after = line[i - 1 : i] if i else "", line[i + 1 : i + 2]
            if after.isalpha() or (before.isalnum() or before == "_"):
                open_angles += 1
        elif depth == 0 and ch == ">" and line[i - 1 : i] not in ("=", "-") and line[i + 1 : i + 2] != "=":
            if open_angles == 0:
                return 0, i
            open_angles -= 1  # the line's own
        i += 1
    return open_angles, None


def stay_in_tag(text: str, ctx: CompletionContext) -> str:
    """Do not close a JSX tag or a type argument the rest of the line already closes: at
    ``<li key={todo.id} className=▮ onClick={…}>`` the 0.5B wrote ``{todo.done ? "done" : ""}>``, and the
    accepted line ended the tag before ``onClick`` (``…""}> onClick={…}>``). The suggestion's first line is
    cut before its ``>`` (or ``/>``) that closes an angle open at the cursor, as ``balance_brackets`` does
    for brackets."""
    if ctx.language not in _ANGLE_LANGUAGES:
        return text
    open_angles, _ = _angle_closers(ctx.current_line_prefix)
    if open_angles == 0 or _angle_closers(ctx.current_line_suffix)[1] is None:
        return text
    first_line = text.split("\n", 1)[0]
    _, close = _angle_closers(first_line)
    if close is None:
        return text
    return first_line[: close - 1 if first_line[close - 1 : close] == "/" else close].rstrip()
