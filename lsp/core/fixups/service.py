"""Fix-up sessions: start → (reply)* → accept | reject, and undo of the last accepted edit.

A session remembers the conversation and the current proposal (in SQLite); every proposal is computed
against the current text and verified before it is returned, and verified again before it is applied.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from roost.engine.prompts.edit import EditRequest
from roost.lsp.core.events import ProgressReport
from roost.lsp.core.fixups.store import (
    AcceptedEdit,
    FixupSession,
    FixupStore,
    StoredFileEdit,
    StoredReplacement,
)
from roost.lsp.core.model_edits import EditFinding, Proposal, import_lines, propose_edit
from roost.lsp.core.selection_lines import whole_lines
from roost.lsp.core.services import Services
from roost.lsp.core.text_edits import EditError, FileEdit, LineCharacter, TextReplacement, offset_at, verify
from roost.lsp.core.workspace_documents import Documents

log = logging.getLogger(__name__)

# Characters of the partial answer sent with each progress report (the tail: what is being written).
PARTIAL_CHARS = 400


class FixupError(ValueError):
    """A fix-up command that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class EditorAnswer:
    """The editor's answer to applying edits."""

    applied: bool
    failure_reason: str | None = None


class FixupEditor(Protocol):
    """What fix-ups need of the server and the editor (the handler implements it over LSP)."""

    def documents(self) -> Documents: ...

    def services(self) -> Services: ...

    def prompt_refusal(self, path: str) -> str | None:
        """Why no prompt may be built for the workspace file ``path`` (document policy), or None."""
        ...

    async def apply_edits(self, edits: list[FileEdit], label: str) -> EditorAnswer: ...

    def publish_findings(self, path: str, findings: list[EditFinding]) -> None:
        """Show the gate findings of a proposal on ``path`` (an empty list clears them)."""
        ...

    def progress(self, title: str) -> ProgressReport: ...


@dataclass(frozen=True)
class ProposalReply:
    session: str
    edits: list[FileEdit]
    message: str
    findings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AcceptReply:
    session: str
    applied: bool
    message: str


@dataclass(frozen=True)
class RejectReply:
    session: str
    message: str


@dataclass(frozen=True)
class UndoReply:
    session: str
    undone: bool
    message: str


def _to_stored(edits: list[FileEdit]) -> list[StoredFileEdit]:
    return [
        StoredFileEdit(
            e.path,
            e.version,
            e.original,
            [StoredReplacement(r.start, r.end, r.new_text) for r in e.replacements],
        )
        for e in edits
    ]


def _from_stored(edits: list[StoredFileEdit]) -> list[FileEdit]:
    return [
        FileEdit(
            e.path,
            e.version,
            e.original,
            tuple(TextReplacement(r.start, r.end, r.new_text) for r in e.replacements),
        )
        for e in edits
    ]


def _stored_range(start: LineCharacter, end: LineCharacter) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": start.line, "character": start.character},
        "end": {"line": end.line, "character": end.character},
    }


def _range_of(stored: dict[str, dict[str, int]]) -> tuple[LineCharacter, LineCharacter]:
    start, end = stored["start"], stored["end"]
    return (
        LineCharacter(int(start["line"]), int(start["character"])),
        LineCharacter(int(end["line"]), int(end["character"])),
    )


class FixupService:
    def __init__(self, editor: FixupEditor, store: FixupStore | None = None) -> None:
        self.editor = editor
        self._store = store
        self._diagnosed: dict[str, set[str]] = {}  # session → paths we published gate findings on

    @property
    def store(self) -> FixupStore:
        if self._store is None:
            self._store = FixupStore()
        return self._store

    def _load(self, session_id: str) -> FixupSession:
        session = self.store.load(session_id) if session_id else None
        if session is None:
            raise FixupError(f"no fix-up session {session_id!r}")
        root = self.editor.documents().root
        if root is None or Path(session.root).resolve() != root.resolve():
            raise FixupError(f"fix-up session {session_id} belongs to another workspace ({session.root})")
        return session

    # -- commands ------------------------------------------------------------------------------------
    async def start(
        self, path: str, start: LineCharacter, end: LineCharacter, instruction: str, diagnostics: list[str]
    ) -> ProposalReply:
        """A new session on the selection ``start``–``end`` of the workspace file ``path``."""
        if not instruction.strip():
            raise FixupError("a fix-up needs an instruction")
        root = self.editor.documents().folder()
        session = FixupSession(
            id=self.store.new_id(),
            root=str(root),
            path=path,
            range=_stored_range(start, end),
            instruction=instruction,
        )
        session.message = ""
        proposal = await self._propose(session, instruction, diagnostics)
        return self._reply(session, proposal)

    async def reply(self, session_id: str, message: str, diagnostics: list[str]) -> ProposalReply:
        session = self._load(session_id)
        if session.state != "open":
            raise FixupError(f"fix-up session {session_id} is {session.state}; start a new one")
        if not message.strip():
            raise FixupError("a reply needs a message")
        proposal = await self._propose(session, message, diagnostics)
        return self._reply(session, proposal)

    async def accept(self, session_id: str) -> AcceptReply:
        session = self._load(session_id)
        if session.state != "open" or not session.proposal:
            raise FixupError(f"fix-up session {session_id} has no open proposal to accept")
        edits = _from_stored(session.proposal)
        documents = self.editor.documents()
        accepted: list[AcceptedEdit] = []
        for edit in edits:
            try:
                verify(edit, documents.snapshot(edit.path).text)
            except EditError as error:
                raise FixupError(
                    f"the proposal no longer applies: {error}; reply to get a fresh one"
                ) from error
            accepted.append(AcceptedEdit(edit.path, edit.original, edit.apply()))
        answer = await self.editor.apply_edits(edits, "Roost fix-up")
        if not answer.applied:
            return AcceptReply(session.id, False, answer.failure_reason or "the editor refused")
        self._publish(session.id, {})
        session.accepted.append(accepted)
        session.state = "accepted"
        self.store.save(session)
        return AcceptReply(session.id, True, f"Applied to {', '.join(a.path for a in accepted)}.")

    def reject(self, session_id: str) -> RejectReply:
        session = self._load(session_id)
        self._publish(session.id, {})
        session.state = "rejected"
        session.proposal = []
        self.store.save(session)
        return RejectReply(session.id, "Proposal rejected.")

    async def undo(self, session_id: str) -> UndoReply:
        session = self._load(session_id)
        if not session.accepted:
            raise FixupError(f"fix-up session {session_id} has no accepted edit to undo")
        group = session.accepted[-1]
        documents = self.editor.documents()
        reverts = []
        for accepted in group:
            snapshot = documents.snapshot(accepted.path)
            if snapshot.text != accepted.after:
                raise FixupError(f"{accepted.path} changed since the edit was applied; not undoing it")
            start, end_after, end_before = _changed_region(accepted.after, accepted.before)
            replacement = TextReplacement(start, end_after, accepted.before[start:end_before])
            reverts.append(FileEdit(accepted.path, snapshot.version, snapshot.text, (replacement,)))
        answer = await self.editor.apply_edits(reverts, "Roost fix-up undo")
        if not answer.applied:
            return UndoReply(session.id, False, answer.failure_reason or "the editor refused")
        session.accepted.pop()
        session.state = "open"
        self.store.save(session)
        return UndoReply(session.id, True, f"Reverted {', '.join(a.path for a in group)}.")

    # -- proposals -------------------------------------------------------------------------------------
    async def _propose(self, session: FixupSession, user_message: str, diagnostics: list[str]) -> Proposal:
        services = self.editor.services()
        refusal = self.editor.prompt_refusal(session.path)
        if refusal is not None:
            raise FixupError(refusal)
        documents = self.editor.documents()
        target = documents.snapshot(session.path)
        range_start, range_end = _range_of(session.range)
        start, end = offset_at(target.text, range_start), offset_at(target.text, range_end)
        if end < start:
            start, end = end, start
        start, end = whole_lines(target.text, start, end, single_line_too=False)
        selection = target.text[start:end]
        if not selection.strip():
            # Nothing to rewrite (a bare cursor, whitespace, a range past the end): the model could only
            # answer that there is no change to make, after a model call of many seconds.
            raise FixupError("the selection holds no code: select the code to change")
        loop = asyncio.get_running_loop()
        gate = services.gate
        verdict = await loop.run_in_executor(
            None, lambda: gate.check(target.language, target.text[:start], selection, target.text[end:])
        )
        findings = [f.describe(line=True) for f in verdict.findings] + list(diagnostics)
        request = EditRequest(
            instruction=user_message,
            path=target.path,
            language=target.language,
            before=target.text[:start],
            selection=selection,
            after=target.text[end:],
            findings=findings,
            history=list(session.turns),
            imports=import_lines(target.path, target.text),
        )
        progress = self.editor.progress("Roost: fix-up")
        await progress.begin(user_message[:80])
        try:
            proposal = await propose_edit(
                services,
                request,
                documents,
                target,
                (start, end),
                lambda partial: progress.report(partial[-PARTIAL_CHARS:]),
            )
        finally:
            progress.end("proposal ready")
        self._publish(session.id, proposal.edit_findings)
        session.turns.append((user_message, proposal.answer))
        session.proposal = _to_stored(proposal.edits)
        session.message = proposal.message
        self.store.save(session)
        return proposal

    def _publish(self, session_id: str, findings: dict[str, list[EditFinding]]) -> None:
        """Gate findings of the current proposal shown in the editor; stale ones of this session cleared."""
        previous = self._diagnosed.get(session_id, set())
        for path in previous | set(findings):
            self.editor.publish_findings(path, findings.get(path, []))
        self._diagnosed[session_id] = set(findings)

    def _reply(self, session: FixupSession, proposal: Proposal) -> ProposalReply:
        return ProposalReply(
            session.id, proposal.edits, proposal.message, proposal.findings, proposal.problems
        )


def _changed_region(after: str, before: str) -> tuple[int, int, int]:
    """(start, end in ``after``, end in ``before``) of the one region where the texts differ."""
    start = 0
    limit = min(len(after), len(before))
    while start < limit and after[start] == before[start]:
        start += 1
    tail = 0
    while tail < limit - start and after[len(after) - 1 - tail] == before[len(before) - 1 - tail]:
        tail += 1
    return start, len(after) - tail, len(before) - tail
