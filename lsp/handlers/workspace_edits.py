"""The edit use cases' types at the protocol edge: URIs to workspace paths and back, the editor's open
buffers as :class:`~roost.lsp.core.workspace_documents.Documents`, positions, and the core's
:class:`~roost.lsp.core.text_edits.FileEdit` s as one versioned ``WorkspaceEdit``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from roost.lsp.core.document_policy import Refused, policy_of
from roost.lsp.core.model_edits import EditFinding
from roost.lsp.core.services import Services, services_of
from roost.lsp.core.text_edits import FileEdit, LineCharacter, position_at
from roost.lsp.core.workspace_documents import Documents, OpenDocument, OutsideWorkspace
from roost.lsp.core.workspace_folders import folders_of

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer

JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


def folder_root_of(server: RoostServer, uri: str) -> Path | None:
    """The root of the workspace folder that serves ``uri`` (the innermost that contains it); None
    outside every folder."""
    folder = server.serving_folder(uri)
    return folder.root if folder is not None else None


def services_for_root(server: RoostServer, root: Path | None) -> Services:
    """The services of the workspace folder ``root``; the first folder's (the server's) for None or a
    folder no longer served."""
    found = folders_of(server).find(root) if root is not None else None
    return found if found is not None else services_of(server)


def services_for_uri(server: RoostServer, uri: str) -> Services:
    """The services of the workspace folder that serves ``uri`` (the first folder's outside them)."""
    return services_for_root(server, folder_root_of(server, uri))


def documents_of(server: RoostServer, root: Path | None = None) -> Documents:
    """The files of the workspace folder ``root`` (the first folder by default) as the editor has them:
    its buffers, else the disk."""

    def open_document(path: Path) -> OpenDocument | None:
        document = _open_text_document(server, path)
        if document is None:
            return None
        return OpenDocument(document.source, document.version, document.language_id or "")

    return Documents(root if root is not None else server.workspace_root(), open_document)


def _open_text_document(server: RoostServer, path: Path) -> TextDocument | None:
    documents = server.workspace.text_documents
    document = documents.get(from_fs_path(str(path)) or path.as_uri())
    if document is not None:
        return document
    # The editor may spell the URI differently (percent-encoding, a symlinked folder): compare the files.
    wanted = path.resolve()
    for uri, candidate in documents.items():
        named = to_fs_path(uri)
        if named and uri.startswith("file:") and Path(named).resolve() == wanted:
            return candidate
    return None


def workspace_path(server: RoostServer, uri: str) -> str:
    """The path of a document URI in the workspace folder that serves it; OutsideWorkspace for anything
    else (outside every folder, a symlink out, an ``untitled:`` buffer)."""
    root = folder_root_of(server, uri) if uri.startswith("file:") else None
    if root is None:
        raise OutsideWorkspace(f"{uri} is outside the workspace; Roost only edits workspace files")
    try:
        return documents_of(server, root).relative(Path(to_fs_path(uri) or ""))
    except OutsideWorkspace as error:
        raise OutsideWorkspace(
            f"{uri} is outside the workspace {root}; Roost only edits workspace files"
        ) from error


def relative_path(server: RoostServer, uri: str) -> str:
    """The name the services key an open document by: its workspace path, or its file name when it lies
    outside the workspace (the document policy, not this name, decides whether a prompt may be built)."""
    path = Path(to_fs_path(uri) or uri)
    root = folder_root_of(server, uri) if uri.startswith("file:") else None
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.name


def uri_of(server: RoostServer, path: str, root: Path | None = None) -> str:
    """The URI of a path in the workspace folder ``root`` (the first by default): the open document's own
    (the editor matches its buffer by it), else the file's."""
    root = root if root is not None else server.workspace_root()
    if root is None:
        raise OutsideWorkspace("no workspace folder is open")
    document = _open_text_document(server, root / path)
    if document is not None:
        return document.uri
    absolute = (root / path).resolve()
    return from_fs_path(str(absolute)) or absolute.as_uri()


def prompt_refusal(server: RoostServer, path: str, root: Path | None = None) -> str | None:
    """The document policy for a file of the workspace folder ``root``: why no prompt may be built for
    it, or None."""
    verdict = policy_of(server, uri_of(server, path, root))
    return verdict.reason if isinstance(verdict, Refused) else None


def to_position(position: LineCharacter) -> types.Position:
    return types.Position(line=position.line, character=position.character)


def from_position(position: types.Position) -> LineCharacter:
    return LineCharacter(position.line, position.character)


def to_workspace_edit(
    server: RoostServer, edits: Sequence[FileEdit], created: Sequence[str] = (), root: Path | None = None
) -> types.WorkspaceEdit:
    """One edit over several files of the workspace folder ``root`` (the first by default); each file's
    edits carry its version so a stale apply is refused. The ``created`` files (new modules) are created
    first."""
    changes: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = [
        types.CreateFile(
            uri=uri_of(server, path, root),
            options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
        )
        for path in created
    ]
    for edit in edits:
        text_edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
            types.TextEdit(
                range=types.Range(
                    start=to_position(position_at(edit.original, r.start)),
                    end=to_position(position_at(edit.original, r.end)),
                ),
                new_text=r.new_text,
            )
            for r in sorted(edit.replacements, key=lambda r: r.start)
        ]
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri_of(server, edit.path, root), version=edit.version
                ),
                edits=text_edits,
            )
        )
    return types.WorkspaceEdit(document_changes=changes)


def to_diagnostics(findings: Sequence[EditFinding]) -> list[types.Diagnostic]:
    return [
        types.Diagnostic(
            range=types.Range(start=to_position(finding.start), end=to_position(finding.end)),
            message=finding.message,
            severity=types.DiagnosticSeverity.Warning,
            source="roost",
            code=finding.code,
        )
        for finding in findings
    ]


def plain(value: object) -> JSONValue:
    """Command arguments and code action data arrive as dicts or as pygls's namedtuples; make them plain."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    as_dict = getattr(value, "_asdict", None)
    if callable(as_dict):
        return {str(k): plain(v) for k, v in as_dict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
