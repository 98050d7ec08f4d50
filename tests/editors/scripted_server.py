"""A scripted language server (test double) speaking Roost's editor protocol, for the editor clients' tests.

It answers what the editor plugins rely on (inline completion with the ``roost.accepted`` command,
``roost/status``, fix-up commands applied through ``workspace/applyEdit``, a cross-file code action resolved
lazily) with predictable text, so the clients' own logic (ghost text, partial accept, fallback keys, fix-up
preview and accept, applying multi-file edits) is tested on every run, independent of the model's output. The
same tests also run against the real ``roost serve --stdio``.

Scripted behaviour:
- inline completion: the line before the cursor ending in ``return `` gets ``width * height`` (and a second
  item ``height * width`` for cycling); ending in one of ``OTHER_ANSWERS``' keys, that answer (non-ASCII words,
  a CRLF line break), or ending in ``settings = {`` before a ``}``, a block replacing that ``}`` (the item's range
  covers it); a line holding ``FAIL`` before the cursor gets an error (as a server whose backend raises);
  anything else gets nothing.
- ``scripted.openDocuments`` answers the URIs of the documents the editor has open (didOpen, not yet didClose);
  ``scripted.workspace`` the workspace the editor initialized it with (root URI, folders and
  initializationOptions).
- every inline request is logged (``scripted.inlineRequests`` answers the lines before the cursor), and
  ``roost/explainCompletion`` answers "offered" after ``return ``, "empty" elsewhere, "nothing_yet" before.
- ``roost.fixup.start``: proposes the range's text with ``# <instruction>`` inserted above it; ``reply`` adds
  ``# <message>``; ``accept`` applies the proposal; ``undo`` puts the original text back.
- ``roost/status``: "indexing", then "ready" at once, or (``ROOST_SCRIPTED_READY=on-command``) only when the
  ``scripted.ready`` command says so.
- ``workspace/didChangeConfiguration`` settings are logged (``scripted.configurations`` answers them, in order).
- ``roost/cursorIdle`` notifications are logged (``scripted.cursorIdle`` answers their params, in order) and
  counted in ``roost/debugStats``'s ``prefetch.notifications``, as the real server counts them.
- code action on ``rectangle_area``: "Rename rectangle_area to area_of_rectangle in 2 files", resolved to one
  WorkspaceEdit over the defining file and its importer.

Run as ``python tests/editors/scripted_server.py`` (stdio).
"""

from __future__ import annotations

import itertools
import os
import re
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import default_converter

server = LanguageServer("roost-scripted", "0")
converter = default_converter()
accepted: list[Any] = []
sessions: dict[str, dict[str, Any]] = {}
session_ids = itertools.count(1)
inline_requests: list[str] = []  # the line before the cursor of every inline completion request
last_inline: dict[str, str] = {}  # uri -> the line before the cursor of its last request
cursor_idle: list[dict[str, Any]] = []  # the params of every roost/cursorIdle notification
configurations: list[Any] = []  # the settings of every workspace/didChangeConfiguration
initialization_options: list[Any] = [None]  # what initialize carried (one entry: set once per process)

OLD_NAME, NEW_NAME = "rectangle_area", "area_of_rectangle"
# The line before the cursor ending in a key -> the one suggestion offered there.
OTHER_ANSWERS = {
    "größe = ": "straße_länge + 名前",
    "crlf = ": "first()\r\nsecond()",
}
# The line before the cursor ending in a key, a closing brace after it -> a block that closes the brace on a
# line of its own, with a range that replaces the brace after the cursor (as Roost answers ``return {▮}``).
REPLACING_ANSWERS = {"settings = {": '\n    "a": 1,\n    "b": 2,\n}'}


def _status(state: str, message: str, percentage: int | None = None) -> None:
    server.protocol.notify("roost/status", {"state": state, "message": message, "percentage": percentage})


@server.feature(types.INITIALIZE)
def on_initialize(params: types.InitializeParams) -> None:
    initialization_options[0] = params.initialization_options


@server.feature(types.INITIALIZED)
def on_initialized(_: types.InitializedParams) -> None:
    _status("indexing", "scripted index", 50)
    if os.environ.get("ROOST_SCRIPTED_READY") != "on-command":
        _status("ready", "scripted server ready", None)


@server.command("scripted.ready")
def announce_ready(_: LanguageServer) -> None:
    _status("ready", "scripted server ready", None)


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
def inline_completion(params: types.InlineCompletionParams) -> types.InlineCompletionList:
    document = server.workspace.get_text_document(params.text_document.uri)
    line = document.lines[params.position.line] if params.position.line < len(document.lines) else ""
    before = line[: params.position.character]
    inline_requests.append(before)
    last_inline[params.text_document.uri] = before
    if "FAIL" in before:
        raise RuntimeError("scripted failure")
    cursor = types.Range(start=params.position, end=params.position)
    if before.endswith("return "):
        texts = ["width * height", "height * width"]
    else:
        texts = [answer for key, answer in OTHER_ANSWERS.items() if before.endswith(key)]
        replacing = [answer for key, answer in REPLACING_ANSWERS.items() if before.endswith(key)]
        if replacing and line[params.position.character :].startswith("}"):
            texts = replacing
            end = types.Position(line=params.position.line, character=params.position.character + 1)
            cursor = types.Range(start=params.position, end=end)
    return types.InlineCompletionList(
        items=[
            types.InlineCompletionItem(
                insert_text=text,
                range=cursor,
                command=types.Command(title="accepted", command="roost.accepted", arguments=[{"id": text}]),
            )
            for text in texts
        ]
    )


@server.command("roost.accepted")
def on_accepted(_: LanguageServer, *arguments: Any) -> None:
    accepted.extend(arguments)


@server.command("scripted.crash")
def crash(_: LanguageServer) -> None:
    """Dies at once, as a crashed server would, so the clients' restart is tested."""
    os._exit(3)


@server.command("scripted.accepted")
def accepted_log(_: LanguageServer) -> list[Any]:
    return accepted


@server.command("scripted.inlineRequests")
def inline_request_log(_: LanguageServer) -> list[str]:
    return inline_requests


@server.command("scripted.openDocuments")
def open_documents(_: LanguageServer) -> list[str]:
    return sorted(server.workspace.text_documents)


@server.command("scripted.workspace")
def workspace_log(_: LanguageServer) -> dict[str, Any]:
    return {
        "root_uri": server.workspace.root_uri,
        "folders": sorted(server.workspace.folders),
        "initialization_options": initialization_options[0],
    }


@server.feature("roost/cursorIdle")
def on_cursor_idle(params: Any) -> None:
    cursor_idle.append(_plain(params))


def _plain(value: Any) -> Any:
    """JSON data from pygls' params of a method it does not know (namedtuples, recursively)."""
    if hasattr(value, "_asdict"):
        return {key: _plain(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@server.command("scripted.cursorIdle")
def cursor_idle_log(_: LanguageServer) -> list[dict[str, Any]]:
    return cursor_idle


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def on_configuration(params: types.DidChangeConfigurationParams) -> None:
    configurations.append(_plain(params.settings))


@server.command("scripted.configurations")
def configuration_log(_: LanguageServer) -> list[Any]:
    return configurations


@server.feature("roost/debugStats")
def debug_stats(_: Any) -> dict[str, Any]:
    """Only the prefetch counters of the real answer: nothing is prefilled here."""
    return {"prefetch": {"notifications": len(cursor_idle), "started": 0, "warmedTokens": 0}}


@server.feature("roost/explainCompletion")
def explain_completion(params: Any) -> dict[str, Any]:
    """Roost's explain answer for the document's last request: offered after ``return ``, else empty."""
    uri = params.get("uri") if isinstance(params, dict) else getattr(params, "uri", None)
    before = last_inline.get(str(uri))
    if before is None:
        return _explanation("nothing_yet", "no completion was asked for in this file yet", None)
    if not before.endswith("return "):
        last = {"source": "empty", "texts": [], "context": [], "timings_ms": {"total": 1.0}}
        return _explanation("empty", "the model had nothing to suggest at this cursor", last)
    last = {
        "source": "model",
        "texts": ["width * height", "height * width"],
        "context": [
            {
                "path": "editor_test_shapes.py",
                "start_line": 3,
                "end_line": 4,
                "kind": "definition",
                "reason": "called near the cursor",
                "score": 1.0,
                "tokens": 21,
            }
        ],
        "timings_ms": {"retrieval": 2.0, "model": 40.0, "total": 45.0},
    }
    return _explanation("offered", "2 suggestion(s) offered (model)", last)


def _explanation(verdict: str, reason: str, last: dict[str, Any] | None) -> dict[str, Any]:
    return {"verdict": verdict, "reason": reason, "state": "ready", "state_message": "", "last": last}


def _range_text(lines: list[str], rng: dict[str, Any]) -> str:
    start, end = rng["start"], rng["end"]
    if start["line"] == end["line"]:
        return lines[start["line"]][start["character"] : end["character"]]
    parts = [lines[start["line"]][start["character"] :]]
    parts += lines[start["line"] + 1 : end["line"]]
    parts.append(lines[end["line"]][: end["character"]])
    return "".join(parts)


def _proposal(session: dict[str, Any]) -> dict[str, Any]:
    comments = "".join(f"{session['indent']}# {note}\n" for note in session["notes"])
    edit = {
        "changes": {session["uri"]: [{"range": session["range"], "newText": comments + session["original"]}]}
    }
    session["edit"] = edit
    return {"session": session["id"], "edit": edit, "message": f"{len(session['notes'])} note(s) added"}


@server.command("roost.fixup.start")
def fixup_start(_: LanguageServer, argument: dict[str, Any]) -> dict[str, Any]:
    document = server.workspace.get_text_document(argument["uri"])
    original = _range_text(document.lines, argument["range"])
    session = {
        "id": f"scripted-{next(session_ids)}",
        "uri": argument["uri"],
        "range": argument["range"],
        "original": original,
        "indent": re.match(r"[ \t]*", original).group(0),
        "notes": [argument["instruction"]],
    }
    sessions[session["id"]] = session
    return _proposal(session)


@server.command("roost.fixup.reply")
def fixup_reply(_: LanguageServer, argument: dict[str, Any]) -> dict[str, Any]:
    session = sessions[argument["session"]]
    session["notes"].append(argument["message"])
    return _proposal(session)


@server.command("roost.fixup.accept")
async def fixup_accept(ls: LanguageServer, argument: dict[str, Any]) -> dict[str, Any]:
    session = sessions[argument["session"]]
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=converter.structure(session["edit"], types.WorkspaceEdit))
    )
    new_text = session["edit"]["changes"][session["uri"]][0]["newText"]
    start = session["range"]["start"]
    new_lines = new_text.split("\n")
    end_character = (start["character"] if len(new_lines) == 1 else 0) + len(new_lines[-1])
    session["applied_range"] = {
        "start": start,
        "end": {"line": start["line"] + len(new_lines) - 1, "character": end_character},
    }
    return {"session": session["id"], "edit": None, "message": f"applied: {result.applied}"}


@server.command("roost.fixup.reject")
def fixup_reject(_: LanguageServer, argument: dict[str, Any]) -> dict[str, Any]:
    sessions.pop(argument["session"], None)
    return {"session": argument["session"], "edit": None, "message": "rejected"}


@server.command("roost.fixup.undo")
async def fixup_undo(ls: LanguageServer, argument: dict[str, Any]) -> dict[str, Any]:
    session = sessions[argument["session"]]
    edit = {
        "changes": {session["uri"]: [{"range": session["applied_range"], "newText": session["original"]}]}
    }
    await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=converter.structure(edit, types.WorkspaceEdit))
    )
    return {"session": session["id"], "edit": None, "message": "reverted"}


def _occurrences(uri: str) -> list[types.TextEdit]:
    document = server.workspace.get_text_document(uri)
    edits = []
    for number, line in enumerate(document.lines):
        for match in re.finditer(rf"\b{OLD_NAME}\b", line):
            edits.append(
                types.TextEdit(
                    range=types.Range(
                        start=types.Position(line=number, character=match.start()),
                        end=types.Position(line=number, character=match.end()),
                    ),
                    new_text=NEW_NAME,
                )
            )
    return edits


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.Refactor], resolve_provider=True),
)
def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
    document = server.workspace.get_text_document(params.text_document.uri)
    line = document.lines[params.range.start.line] if params.range.start.line < len(document.lines) else ""
    if OLD_NAME not in line:
        return []
    actions = [
        types.CodeAction(
            title=f"Rename {OLD_NAME} to {NEW_NAME} in 2 files",
            kind=types.CodeActionKind.Refactor,
            data={"uri": params.text_document.uri},
        )
    ]
    if f"def {OLD_NAME}" not in document.source and "import" not in document.source:
        top = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
        insert = types.TextEdit(range=top, new_text=f"from editor_test_shapes import {OLD_NAME}\n")
        actions.append(
            types.CodeAction(
                title=f"Add missing import of {OLD_NAME}",
                kind=types.CodeActionKind.QuickFix,
                edit=types.WorkspaceEdit(changes={params.text_document.uri: [insert]}),
            )
        )
    return actions


@server.feature(types.CODE_ACTION_RESOLVE)
def resolve_code_action(action: types.CodeAction) -> types.CodeAction:
    # The edit is computed lazily, over every open document that mentions the name.
    changes = []
    for uri, document in server.workspace.text_documents.items():
        edits = _occurrences(uri)
        if edits:
            identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=document.version)
            changes.append(types.TextDocumentEdit(text_document=identifier, edits=edits))
    action.edit = types.WorkspaceEdit(document_changes=changes)
    return action


if __name__ == "__main__":
    server.start_io()
