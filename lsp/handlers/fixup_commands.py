"""``workspace/executeCommand`` fix-ups: ``roost.fixup.start|reply|accept|reject|undo``.

Arguments are one object each (``{uri, range, instruction}``, ``{session, message}``, ``{session}``). A URI
outside the workspace, an unknown session or a stale proposal is refused with a JSON-RPC error whose
message says why. The sessions themselves are :mod:`roost.lsp.core.fixups.service`'s; this module converts
the arguments, applies edits and shows findings and progress through the client.
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from roost.engine.types import EngineError
from roost.lsp.core.events import ProgressReport
from roost.lsp.core.fixups.service import (
    AcceptReply,
    EditorAnswer,
    FixupError,
    FixupService,
    ProposalReply,
    RejectReply,
    UndoReply,
)
from roost.lsp.core.model_edits import EditFinding
from roost.lsp.core.services import CompletionUnavailable, Services, services_of
from roost.lsp.core.text_edits import EditError, FileEdit, LineCharacter
from roost.lsp.core.workspace_documents import Documents, OutsideWorkspace
from roost.lsp.handlers.workspace_edits import (
    JSONValue,
    documents_of,
    folder_root_of,
    plain,
    prompt_refusal,
    services_for_root,
    to_diagnostics,
    to_workspace_edit,
    uri_of,
    workspace_path,
)

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer

FIXUP_KEY = "fixups"
Reply = TypeVar("Reply", ProposalReply, AcceptReply, RejectReply, UndoReply)


class ServerEditor:
    """The fix-up service's view of the server and the editor, over LSP, in the workspace folder ``root``
    (the first folder for None)."""

    def __init__(self, server: RoostServer, root: Path | None = None) -> None:
        self.server = server
        self.root = root

    def documents(self) -> Documents:
        return documents_of(self.server, self.root)

    def services(self) -> Services:
        return services_for_root(self.server, self.root)

    def prompt_refusal(self, path: str) -> str | None:
        return prompt_refusal(self.server, path, self.root)

    async def apply_edits(self, edits: list[FileEdit], label: str) -> EditorAnswer:
        edit = to_workspace_edit(self.server, edits, root=self.root)
        result = await self.server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label)
        )
        return EditorAnswer(result.applied, result.failure_reason)

    def publish_findings(self, path: str, findings: list[EditFinding]) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri_of(self.server, path, self.root), diagnostics=to_diagnostics(findings)
            )
        )

    def progress(self, title: str) -> ProgressReport:
        return self.server.progress_report(title)


def fixups_of(server: RoostServer, root: Path | None = None) -> FixupService:
    """The fix-ups of the workspace folder ``root`` (the first folder by default); one session store."""
    first = server.services.get(FIXUP_KEY)
    if first is None:
        first = server.services[FIXUP_KEY] = FixupService(ServerEditor(server))
    assert isinstance(first, FixupService)
    if root is None or root == server.workspace_root():
        return first
    key = f"{FIXUP_KEY}:{root}"
    service = server.services.get(key)
    if service is None:
        service = server.services[key] = FixupService(ServerEditor(server, root), first.store)
    assert isinstance(service, FixupService)
    return service


def session_fixups(server: RoostServer, session_id: str) -> FixupService:
    """The fix-ups of the workspace folder a session was started in (its stored root)."""
    first = fixups_of(server)
    session = first.store.load(session_id) if session_id else None
    if session is None:
        return first  # answers "no fix-up session"
    return fixups_of(server, folder_root_of(server, Path(session.root).as_uri()))


def _argument(arguments: tuple[object, ...]) -> dict[str, JSONValue]:
    argument = plain(arguments[0]) if arguments else None
    if not isinstance(argument, dict):
        raise JsonRpcInvalidParams("expected one object argument")
    return argument


def _session_of(arguments: tuple[object, ...]) -> str:
    session = _argument(arguments).get("session")
    if session is None:
        raise JsonRpcInvalidParams("missing argument 'session'")
    return str(session)


def _diagnostics(argument: dict[str, JSONValue]) -> list[str]:
    raw = argument.get("diagnostics") or []
    if not isinstance(raw, list):
        return [str(raw)]
    return [str(d.get("message", d)) if isinstance(d, dict) else str(d) for d in raw]


def _position(raw: JSONValue) -> LineCharacter:
    if not isinstance(raw, dict):
        raise TypeError("a range's start and end must be objects")
    return LineCharacter(int(str(raw["line"])), int(str(raw["character"])))


def _to_json(
    ls: RoostServer, reply: ProposalReply | AcceptReply | RejectReply | UndoReply, root: Path | None
) -> dict[str, JSONValue]:
    if isinstance(reply, ProposalReply):
        edit = to_workspace_edit(ls, reply.edits, root=root) if reply.edits else None
        converter = ls.protocol._converter  # noqa: SLF001 - lsprotocol's converter for JSON
        return {
            "session": reply.session,
            "edit": converter.unstructure(edit) if edit is not None else None,
            "message": reply.message,
            "findings": list(reply.findings),
            "problems": list(reply.problems),
        }
    if isinstance(reply, AcceptReply):
        return {"session": reply.session, "applied": reply.applied, "message": reply.message}
    if isinstance(reply, UndoReply):
        return {"session": reply.session, "undone": reply.undone, "message": reply.message}
    return {"session": reply.session, "message": reply.message}


async def _guarded(ls: RoostServer, work: Awaitable[Reply], service: FixupService) -> dict[str, JSONValue]:
    """``work``'s reply as JSON (its edits in ``service``'s workspace folder), or its refusal."""
    editor = service.editor
    try:
        return _to_json(ls, await work, editor.root if isinstance(editor, ServerEditor) else None)
    except (FixupError, OutsideWorkspace, EditError, CompletionUnavailable, KeyError, TypeError) as error:
        message = str(error) if not isinstance(error, KeyError) else f"missing argument {error}"
        raise JsonRpcInvalidParams(message) from error
    except EngineError as error:  # backend down, timeout …: shown once with its fix, the command fails
        raise JsonRpcInvalidParams(services_of(ls).report_failure(error)) from error


async def _start(ls: RoostServer, argument: dict[str, JSONValue], service: FixupService) -> ProposalReply:
    path = workspace_path(ls, str(argument["uri"]))
    range_ = argument["range"]
    if not isinstance(range_, dict):
        raise TypeError("range must be an object")
    start, end = _position(range_["start"]), _position(range_["end"])
    instruction = str(argument.get("instruction", ""))
    return await service.start(path, start, end, instruction, _diagnostics(argument))


def register(server: RoostServer) -> None:
    # pygls evaluates a command handler's annotations at run time, where RoostServer (imported only for
    # type checking) is unknown: the server and the raw arguments are typed Any here.
    @server.command("roost.fixup.start")
    async def start(ls: Any, *arguments: Any) -> dict[str, JSONValue]:
        argument = _argument(arguments)
        service = fixups_of(ls, folder_root_of(ls, str(argument.get("uri", ""))))
        return await _guarded(ls, _start(ls, argument, service), service)

    @server.command("roost.fixup.reply")
    async def reply(ls: Any, *arguments: Any) -> dict[str, JSONValue]:
        argument = _argument(arguments)
        service = session_fixups(ls, _session_of(arguments))
        return await _guarded(
            ls,
            service.reply(str(argument["session"]), str(argument.get("message", "")), _diagnostics(argument)),
            service,
        )

    @server.command("roost.fixup.accept")
    async def accept(ls: Any, *arguments: Any) -> dict[str, JSONValue]:
        session = _session_of(arguments)
        service = session_fixups(ls, session)
        return await _guarded(ls, service.accept(session), service)

    @server.command("roost.fixup.reject")
    async def reject(ls: Any, *arguments: Any) -> dict[str, JSONValue]:
        session = _session_of(arguments)
        service = session_fixups(ls, session)

        async def work() -> RejectReply:
            return service.reject(session)

        return await _guarded(ls, work(), service)

    @server.command("roost.fixup.undo")
    async def undo(ls: Any, *arguments: Any) -> dict[str, JSONValue]:
        session = _session_of(arguments)
        service = session_fixups(ls, session)
        return await _guarded(ls, service.undo(session), service)
