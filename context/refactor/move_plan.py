"""What a move planner returns: the files it was given and the replacements per file.

Shared by the planners (:mod:`.python_move`, :mod:`.module_move`, :mod:`.package_move`) and the dispatcher
:func:`roost.context.refactor.move.plan_move`, which sits above them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from roost.context.refactor.imports import TextReplacement


@dataclass(frozen=True)
class FileText:
    path: str  # workspace-relative
    text: str


@dataclass(frozen=True)
class FileChange:
    """Replacements in one file, against the text it was given with."""

    path: str
    text: str
    replacements: tuple[TextReplacement, ...]


@dataclass
class MovePlan:
    changes: list[FileChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not rewritten, for the log
