"""Priors for the start choices at ``receiver.▮``: how well each name the receiver offers fits the line.

At ``receiver.▮`` the engine holds the answer's first word to the receiver's names (see
``members.offered_names``), and a small model often picks another member than the one wanted. What the line
being typed says of the member (the words of ``substitution_node = nodes.`` → ``substitution_definition``,
a class after ``isinstance(x, m.``) is what an editor's completion list ranks by besides the fragment
typed; the engine adds it, weighted, to the model's scores of the tokens on the way to each name.
"""

from __future__ import annotations

from collections.abc import Sequence

from roost.context.retrieval.cursor import CursorContext
from roost.context.retrieval.members import LineFit


def line_fits(names: Sequence[str], cursor: CursorContext, context_lines: int) -> tuple[float, ...]:
    """For each offered name, how well the name alone fits the line being typed and the ``context_lines``
    above (:meth:`LineFit.name_score` less its base, about -0.5 to 0.6): words it shares with them, a
    capitalised name where the line wants a class, a private name lower. The fragment typed is left out
    (every choice starts with it). Empty away from ``receiver.▮``."""
    if not names or cursor.receiver is None:
        return ()
    line_prefix = cursor.line_prefix[: len(cursor.line_prefix) - len(cursor.partial)]
    above = cursor.lines[max(0, cursor.line - context_lines) : cursor.line]
    fit = LineFit.at(line_prefix, above, "", set(), on_self=False)
    return tuple(fit.name_score(name) - 0.5 for name in names)
