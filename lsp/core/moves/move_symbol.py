"""Move symbol to module: current texts in (the editor's buffers or the disk), the planner's text
replacements (:mod:`roost.context.refactor.move`) out as versioned file edits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from roost.context.facts import Import, ResolvedImport
from roost.context.refactor.imports import RefactorError
from roost.context.refactor.move import FileText
from roost.context.refactor.move import plan_move as plan_text_move
from roost.lsp.core.text_edits import EditError, FileEdit, TextReplacement
from roost.lsp.core.workspace_documents import Snapshot


@dataclass
class MovePlan:
    edits: list[FileEdit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_move(
    symbol: str,
    source: Snapshot,
    target: Snapshot,
    dependents: list[str],
    snapshot_of: Callable[[str], Snapshot],
    resolve: Callable[[str, Import], ResolvedImport],
    exists: Callable[[str], bool],
) -> MovePlan:
    """Edits that move top-level ``symbol`` from ``source`` to ``target``; raises EditError when impossible."""
    snapshots = {source.path: source, target.path: target}

    def text_of(path: str) -> str:
        if path not in snapshots:
            snapshots[path] = snapshot_of(path)
        return snapshots[path].text

    try:
        planned = plan_text_move(
            symbol,
            FileText(source.path, source.text),
            FileText(target.path, target.text),
            dependents,
            text_of,
            resolve,
            exists,
        )
    except RefactorError as error:
        raise EditError(str(error)) from error
    plan = MovePlan(notes=list(planned.notes))
    for change in planned.changes:
        s = snapshots[change.path]
        replacements = tuple(TextReplacement(r.start, r.end, r.new_text) for r in change.replacements)
        plan.edits.append(FileEdit(s.path, s.version, change.text, replacements))
    return plan
