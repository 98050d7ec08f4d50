"""Fix-up sessions: start → (reply)* → accept | reject, and undo of the last accepted edit.

A session remembers the conversation and the current proposal (in SQLite); every proposal is computed
against the current text and verified before it is returned, and verified again before it is applied.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from roost.engine.prompts.edit import EditRequest
from roost.lsp.core.document_policy import Refused, policy_of
from roost.lsp.core.fixups.store import (
    AcceptedEdit,
    FixupSession,
    FixupStore,
    StoredFileEdit,
    StoredReplacement,
)
from roost.lsp.core.model_edits import Documents, Proposal, import_lines, propose_edit
from roost.lsp.core.services import services_of
from roost.lsp.core.text_edits import (
    EditError,
    FileEdit,
    TextReplacement,
    offset_at,
    position_at,
    to_workspace_edit,
    verify,
)
from roost.lsp.progress import ProgressReporter

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer

log = logging.getLogger(__name__)

# Characters of the partial answer sent with each progress report (the tail: what is being written).
PARTIAL_CHARS = 400


class FixupError(ValueError):
    """A fix-up command that cannot be carried out; the message says why."""


def _to_stored(edits: list[FileEdit]) -> list[StoredFileEdit]:
    return [
        StoredFileEdit(
            e.uri,
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
            e.uri,
            e.path,
            e.version,
            e.original,
            tuple(TextReplacement(r.start, r.end, r.new_text) for r in e.replacements),
        )
        for e in edits
    ]


def _range_of(raw: dict[str, Any]) -> types.Range:
    start, end = raw["start"], raw["end"]
    return types.Range(
        start=types.Position(line=int(start["line"]), character=int(start["character"])),
        end=types.Position(line=int(end["line"]), character=int(end["character"])),
    )


class FixupService:
    def __init__(self, server: RoostServer, store: FixupStore | None = None) -> None:
        self.server = server
        self.documents = Documents(server)
        self._store = store
        self._diagnosed: dict[str, set[str]] = {}  # session → URIs we published gate diagnostics on

    @property
    def store(self) -> FixupStore:
        if self._store is None:
            self._store = FixupStore()
        return self._store

    def _load(self, session_id: str) -> FixupSession:
        session = self.store.load(session_id) if session_id else None
        if session is None:
            raise FixupError(f"no fix-up session {session_id!r}")
        root = self.documents.root
        if root is None or Path(session.root).resolve() != root.resolve():
            raise FixupError(f"fix-up session {session_id} belongs to another workspace ({session.root})")
        return session

    # -- commands ------------------------------------------------------------------------------------
    async def start(
        self, uri: str, range_: dict[str, Any], instruction: str, diagnostics: list[str]
    ) -> dict[str, Any]:
        if not instruction.strip():
            raise FixupError("a fix-up needs an instruction")
        self.documents.check_inside(uri)
        root = self.documents.root
        assert root is not None
        _range_of(range_)  # validates the shape before anything is stored
        session = FixupSession(
            id=self.store.new_id(), root=str(root), uri=uri, range=range_, instruction=instruction
        )
        session.message = ""
        proposal = await self._propose(session, instruction, diagnostics)
        return self._answer(session, proposal)

    async def reply(self, session_id: str, message: str, diagnostics: list[str]) -> dict[str, Any]:
        session = self._load(session_id)
        if session.state != "open":
            raise FixupError(f"fix-up session {session_id} is {session.state}; start a new one")
        if not message.strip():
            raise FixupError("a reply needs a message")
        proposal = await self._propose(session, message, diagnostics)
        return self._answer(session, proposal)

    async def accept(self, session_id: str) -> dict[str, Any]:
        session = self._load(session_id)
        if session.state != "open" or not session.proposal:
            raise FixupError(f"fix-up session {session_id} has no open proposal to accept")
        edits = _from_stored(session.proposal)
        accepted: list[AcceptedEdit] = []
        for edit in edits:
            try:
                verify(edit, self.documents.snapshot(edit.uri).text)
            except EditError as error:
                raise FixupError(
                    f"the proposal no longer applies: {error}; reply to get a fresh one"
                ) from error
            accepted.append(AcceptedEdit(edit.uri, edit.path, edit.original, edit.apply()))
        result = await self.server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=to_workspace_edit(edits), label="Roost fix-up")
        )
        if not result.applied:
            return {
                "session": session.id,
                "applied": False,
                "message": result.failure_reason or "the editor refused",
            }
        self._publish(session.id, {})
        session.accepted.append(accepted)
        session.state = "accepted"
        self.store.save(session)
        return {
            "session": session.id,
            "applied": True,
            "message": f"Applied to {', '.join(a.path for a in accepted)}.",
        }

    def reject(self, session_id: str) -> dict[str, Any]:
        session = self._load(session_id)
        self._publish(session.id, {})
        session.state = "rejected"
        session.proposal = []
        self.store.save(session)
        return {"session": session.id, "message": "Proposal rejected."}

    async def undo(self, session_id: str) -> dict[str, Any]:
        session = self._load(session_id)
        if not session.accepted:
            raise FixupError(f"fix-up session {session_id} has no accepted edit to undo")
        group = session.accepted[-1]
        reverts = []
        for accepted in group:
            snapshot = self.documents.snapshot(accepted.uri)
            if snapshot.text != accepted.after:
                raise FixupError(f"{accepted.path} changed since the edit was applied; not undoing it")
            start, end_after, end_before = _changed_region(accepted.after, accepted.before)
            replacement = TextReplacement(start, end_after, accepted.before[start:end_before])
            reverts.append(
                FileEdit(accepted.uri, accepted.path, snapshot.version, snapshot.text, (replacement,))
            )
        result = await self.server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=to_workspace_edit(reverts), label="Roost fix-up undo")
        )
        if not result.applied:
            return {
                "session": session.id,
                "undone": False,
                "message": result.failure_reason or "the editor refused",
            }
        session.accepted.pop()
        session.state = "open"
        self.store.save(session)
        return {
            "session": session.id,
            "undone": True,
            "message": f"Reverted {', '.join(a.path for a in group)}.",
        }

    # -- proposals -------------------------------------------------------------------------------------
    async def _propose(self, session: FixupSession, user_message: str, diagnostics: list[str]) -> Proposal:
        services = services_of(self.server)
        policy = policy_of(self.server, session.uri)
        if isinstance(policy, Refused):
            raise FixupError(policy.reason)
        target = self.documents.snapshot(session.uri)
        range_ = _range_of(session.range)
        start, end = offset_at(target.text, range_.start), offset_at(target.text, range_.end)
        if end < start:
            start, end = end, start
        selection = target.text[start:end]
        loop = asyncio.get_running_loop()
        gate = services.gate
        verdict = await loop.run_in_executor(
            None, lambda: gate.check(target.language, target.text[:start], selection, target.text[end:])
        )
        findings = [f"{f.test_id}: {f.message} (line {f.line})" for f in verdict.findings] + list(diagnostics)
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
        reporter = ProgressReporter(self.server, "Roost: fix-up")
        await reporter.begin(user_message[:80])
        try:
            proposal = await propose_edit(
                services,
                request,
                self.documents,
                target,
                (start, end),
                lambda partial: reporter.report(partial[-PARTIAL_CHARS:]),
            )
        finally:
            reporter.end("proposal ready")
        self._publish(session.id, proposal.diagnostics)
        session.turns.append((user_message, proposal.answer))
        session.proposal = _to_stored(proposal.edits)
        session.message = proposal.message
        self.store.save(session)
        return proposal

    def _publish(self, session_id: str, diagnostics: dict[str, list[types.Diagnostic]]) -> None:
        """Gate findings of the current proposal as diagnostics; stale ones of this session cleared."""
        previous = self._diagnosed.get(session_id, set())
        for uri in previous | set(diagnostics):
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics.get(uri, []))
            )
        self._diagnosed[session_id] = set(diagnostics)

    def _answer(self, session: FixupSession, proposal: Proposal) -> dict[str, Any]:
        edit = to_workspace_edit(proposal.edits) if proposal.edits else None
        converter = self.server.protocol._converter  # noqa: SLF001 - lsprotocol's converter for JSON
        return {
            "session": session.id,
            "edit": converter.unstructure(edit) if edit is not None else None,
            "message": proposal.message,
            "findings": proposal.findings,
            "problems": proposal.problems,
        }


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


__all__ = ["FixupError", "FixupService", "position_at"]
