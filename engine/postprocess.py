"""Post-processing of inline completions: a pipeline of small filters, each a pure function.

Every filter takes the suggestion and the text around the cursor and returns a *prefix* of the
suggestion (filters only ever cut), so the pipeline is safe to compose in any order and idempotent.
The candidates of one request are deduplicated at the end.

Why these filters: small code models ramble past the end of the hole (they repeat the suffix, loop on
a line, or keep writing the next function), and ghost text that duplicates what is already on screen
or closes a bracket the suffix already closes is worse than no suggestion.

The filters live in :mod:`roost.engine.completion_filters`, one concern a module; this module composes them
and exports them with the context they take.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from roost.engine.completion_filters.brackets import (
    balance_brackets,
    replaced_closers,
    without_closers_after_cursor,
)
from roost.engine.completion_filters.cursor import CompletionContext, Filter
from roost.engine.completion_filters.lines import (
    cut_at_code_fence,
    limit_indent_scope,
    single_line_cut,
    trim_blank,
)
from roost.engine.completion_filters.repetition import cut_line_loop, cut_suffix_repetition, drop_repetitions
from roost.engine.completion_filters.strings_and_tags import stay_in_string, stay_in_tag

__all__ = [
    "CompletionContext",
    "Filter",
    "PostprocessOptions",
    "balance_brackets",
    "cut_at_code_fence",
    "cut_line_loop",
    "cut_suffix_repetition",
    "dedupe_candidates",
    "drop_repetitions",
    "limit_indent_scope",
    "postprocess",
    "postprocess_candidates",
    "replaced_closers",
    "single_line_cut",
    "stay_in_string",
    "stay_in_tag",
    "trim_blank",
]


@dataclass(frozen=True)
class PostprocessOptions:
    # Order matters little (every filter only cuts) but cheap, decisive cuts go first.
    filters: tuple[Filter, ...] = field(
        default=(
            trim_blank,
            single_line_cut,
            cut_line_loop,
            cut_at_code_fence,
            cut_suffix_repetition,
            drop_repetitions,
            limit_indent_scope,
            balance_brackets,
            stay_in_string,
            stay_in_tag,
            trim_blank,
        )
    )


def postprocess(text: str, ctx: CompletionContext, options: PostprocessOptions | None = None) -> str:
    """Run the filters; returns a prefix of ``text`` (possibly empty: show nothing).

    Between a bracket pair (``return {▮}``) a multi-line suggestion that closes the bracket on a line of its
    own keeps that line, and the editor's item replaces the closer after the cursor with it
    (:func:`replaced_closers`): cut before its own ``}``, the suggestion's last line would be glued to the
    editor's (``"b": 2}``). Otherwise the closers after the cursor are the suffix's, as everywhere."""
    replacing = without_closers_after_cursor(ctx)
    if replacing is not None and "\n" in text.strip("\n"):
        kept = _filtered(text, replacing, options)
        if replaced_closers(kept, ctx):
            return kept
    return _filtered(text, ctx, options)


def _filtered(text: str, ctx: CompletionContext, options: PostprocessOptions | None) -> str:
    original = text
    for step in (options or PostprocessOptions()).filters:
        text = step(text, ctx)
        if not text:
            return ""
    return _keep_line_break(text, original, ctx)


def _keep_line_break(kept: str, original: str, ctx: CompletionContext) -> str:
    """Lines inserted above a line of code end with the model's own newline (the filters cut before line
    breaks; without it the last suggested line would be glued to the code after the cursor). Only the
    newline the model wrote right after the kept text is restored, so the result is still a prefix."""
    if ctx.inserts_lines and not kept.endswith("\n") and original[len(kept) : len(kept) + 1] == "\n":
        return kept + "\n"
    return kept


def dedupe_candidates(candidates: Iterable[str], ctx: CompletionContext | None = None) -> list[str]:
    """Drop empty candidates and those equal to an earlier one up to trailing whitespace; keep order.
    With ``ctx``, a candidate that only restates the text right after the cursor is dropped too."""
    seen: set[str] = set()
    unique: list[str] = []
    following = ctx.suffix.lstrip() if ctx is not None else ""
    for candidate in candidates:
        key = "\n".join(line.rstrip() for line in candidate.rstrip().split("\n"))
        if not key.strip() or key in seen:
            continue
        if following and following.startswith(key.strip()):
            continue
        seen.add(key)
        unique.append(candidate)
    return unique


def postprocess_candidates(
    candidates: Sequence[str], ctx: CompletionContext, options: PostprocessOptions | None = None
) -> list[str]:
    """Post-process each candidate, then deduplicate."""
    return dedupe_candidates((postprocess(c, ctx, options) for c in candidates), ctx)
