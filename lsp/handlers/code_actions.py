"""``textDocument/codeAction``, ``codeAction/resolve`` and the ``roost.moveSymbol`` command: LSP params to
the code-action use cases (:mod:`roost.lsp.core.code_actions`) and their results back to ``CodeAction`` /
``WorkspaceEdit``.

Actions are listed cheaply; their edits are computed in ``codeAction/resolve`` (lazily). An edit that cannot
be applied is reported as an error, never sent. Clients without resolve support get the deterministic
actions computed up front.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from roost.lsp.core.code_actions import (
    AddImport,
    AddPackageImport,
    ChooseMoveTarget,
    CodeActions,
    EditSelection,
    FixSecurityFinding,
    MoveSymbol,
    PlannedAction,
    ResolvableAction,
)
from roost.lsp.core.moves.move_targets import InvalidModuleName, RecentEdits
from roost.lsp.core.services import CompletionUnavailable
from roost.lsp.core.text_edits import EditError, LineCharacter
from roost.lsp.core.workspace_documents import OutsideWorkspace
from roost.lsp.handlers.cursor_idle import cursor_moved
from roost.lsp.handlers.workspace_edits import (
    JSONValue,
    documents_of,
    folder_root_of,
    from_position,
    plain,
    prompt_refusal,
    services_for_root,
    to_workspace_edit,
    workspace_path,
)

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer

log = logging.getLogger(__name__)

# "Move to another module…": the client asks the user (quick pick, vim.ui.select/input) and then runs
# MOVE_SYMBOL_COMMAND on the server with the chosen or typed target.
CHOOSE_MOVE_TARGET_COMMAND = "roost.chooseMoveTarget"
MOVE_SYMBOL_COMMAND = "roost.moveSymbol"
RECENT_EDITS_KEY = "move_recent_edits"

_KINDS: dict[str, types.CodeActionKind] = {
    "quickfix": types.CodeActionKind.QuickFix,
    "refactor.move": types.CodeActionKind.RefactorMove,
    "refactor.rewrite": types.CodeActionKind.RefactorRewrite,
}


def _resolve_supported(ls: RoostServer) -> bool:
    text_document = ls.client_capabilities.text_document
    code_action = text_document.code_action if text_document else None
    support = code_action.resolve_support if code_action else None
    return bool(support and "edit" in support.properties)


def recent_edits_of(ls: RoostServer, root: Path | None = None) -> RecentEdits:
    """The recently edited files of the workspace folder ``root`` (the first by default): paths are
    folder-relative, and another folder's ``job.py`` is another file."""
    key = RECENT_EDITS_KEY if root is None or root == ls.workspace_root() else f"{RECENT_EDITS_KEY}:{root}"
    recent = ls.services.get(key)
    if recent is None:
        recent = ls.services[key] = RecentEdits()
    assert isinstance(recent, RecentEdits)
    return recent


def code_actions_of(ls: RoostServer, uri: str | None = None) -> CodeActions:
    """The code actions of the workspace folder that serves ``uri`` (the first folder without one): its
    index, gate and secrets, its files and exclusions."""
    root = folder_root_of(ls, uri) if uri else None
    return CodeActions(
        services_for_root(ls, root),
        documents_of(ls, root),
        lambda path: prompt_refusal(ls, path, root),
        recent_edits_of(ls, root),
    )


# -- listing -----------------------------------------------------------------------------------------------


def list_actions(ls: RoostServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    try:
        path = workspace_path(ls, uri)
        planned = code_actions_of(ls, uri).plan(
            path, from_position(params.range.start), from_position(params.range.end)
        )
    except (OutsideWorkspace, EditError):
        return []
    return [_code_action(uri, action) for action in planned]


def _range_json(start: LineCharacter, end: LineCharacter) -> dict[str, JSONValue]:
    return {
        "start": {"line": start.line, "character": start.character},
        "end": {"line": end.line, "character": end.character},
    }


def _code_action(uri: str, action: PlannedAction) -> types.CodeAction:
    kind = _KINDS[action.kind]
    if isinstance(action, ChooseMoveTarget):
        choose: dict[str, JSONValue] = {
            "uri": uri,
            "symbol": action.symbol,
            "suggested": list(action.suggested),
            "modules": list(action.modules),
            "new_module_allowed": action.new_module_allowed,
            "extension": action.extension,
        }
        command = types.Command(title=action.title, command=CHOOSE_MOVE_TARGET_COMMAND, arguments=[choose])
        return types.CodeAction(title=action.title, kind=kind, command=command)
    return types.CodeAction(title=action.title, kind=kind, data=_action_data(uri, action))


def _action_data(uri: str, action: PlannedAction) -> dict[str, JSONValue]:
    """What comes back in ``codeAction/resolve`` to say which action to compute."""
    if isinstance(action, MoveSymbol):
        return {"action": "move", "uri": uri, "symbol": action.symbol, "target": action.target}
    if isinstance(action, AddPackageImport):
        return {"action": "import", "uri": uri, "module": action.module}
    if isinstance(action, AddImport):
        return {
            "action": "import",
            "uri": uri,
            "name": action.name,
            "from": action.source,
            "export": action.export,
        }
    if isinstance(action, EditSelection):
        return {
            "action": "edit",
            "uri": uri,
            "range": _range_json(action.start, action.end),
            "instruction": action.instruction,
        }
    if isinstance(action, FixSecurityFinding):
        return {"action": "security", "uri": uri, "line": action.line, "finding": action.finding}
    raise TypeError(f"{type(action).__name__} has no resolve data")


def _action_of(ls: RoostServer, data: dict[str, JSONValue]) -> ResolvableAction:
    """The action ``data`` names (from the client: checked, a crafted one is refused)."""
    kind = data.get("action")
    try:
        path = workspace_path(ls, str(data["uri"]))
        if kind == "move":
            return MoveSymbol(path, str(data["symbol"]), str(data["target"]))
        if kind == "import":
            if "module" in data:  # Go, Java
                return AddPackageImport(path, str(data["module"]))
            name = str(data["name"])
            return AddImport(path, name, str(data["from"]), str(data.get("export") or name))
        if kind == "edit":
            range_ = data["range"]
            if not isinstance(range_, dict):
                raise TypeError("range must be an object")
            return EditSelection(
                path,
                _line_character(range_["start"]),
                _line_character(range_["end"]),
                str(data["instruction"]),
            )
        if kind == "security":
            return FixSecurityFinding(path, int(str(data["line"])), str(data["finding"]))
    except (KeyError, TypeError, ValueError) as error:
        raise EditError(f"the code action's data is incomplete ({error})") from error
    raise EditError(f"unknown code action {kind!r}")


def _line_character(raw: JSONValue) -> LineCharacter:
    if not isinstance(raw, dict):
        raise TypeError("a position must be an object")
    return LineCharacter(int(str(raw["line"])), int(str(raw["character"])))


# -- resolve -----------------------------------------------------------------------------------------------


async def resolve_action(ls: RoostServer, action: types.CodeAction) -> types.CodeAction:
    if action.data is None and action.command is not None:
        return action  # "Move to another module…": nothing to compute, the client runs its command
    data = plain(action.data)
    uri = str(data.get("uri", "")) if isinstance(data, dict) else ""
    root = folder_root_of(ls, uri) if uri else None
    code_actions = code_actions_of(ls, uri or None)
    try:
        if not isinstance(data, dict):
            raise EditError("the code action has no data")
        resolvable = _action_of(ls, data)
        resolved = await code_actions.resolve(resolvable)
    except (EditError, OutsideWorkspace, CompletionUnavailable) as error:
        raise JsonRpcInvalidParams(f"{action.title}: cannot be applied: {error}") from error
    if not resolved.edits:
        raise JsonRpcInvalidParams(
            f"{action.title}: no applicable change ({resolved.message or 'nothing to do'})"
        )
    action.edit = to_workspace_edit(ls, resolved.edits, resolved.created, root)
    if resolved.message:
        action.title = f"{action.title} — {resolved.message}"
    return action


def register(server: RoostServer) -> None:
    kinds = [
        types.CodeActionKind.QuickFix,
        types.CodeActionKind.RefactorMove,
        types.CodeActionKind.RefactorRewrite,
    ]

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=kinds, resolve_provider=True),
    )
    async def code_action(ls: RoostServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        cursor_moved(ls, params)  # a generic client's cursor: prefetched where it rests
        loop = asyncio.get_running_loop()
        actions = await loop.run_in_executor(None, lambda: list_actions(ls, params))
        if _resolve_supported(ls):
            return actions
        # Without lazy resolve: deterministic edits now, model-driven ones are not offered.
        eager = [action for action in actions if action.command is not None]  # the client asks, then runs it
        for action in actions:
            if isinstance(action.data, dict) and action.data.get("action") in ("move", "import"):
                try:
                    eager.append(await resolve_action(ls, action))
                except JsonRpcInvalidParams as error:
                    log.info("code action not offered: %s", error)
        return eager

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: RoostServer, action: types.CodeAction) -> types.CodeAction:
        return await resolve_action(ls, action)

    def on_document_event(event: str, uri: str) -> None:
        if event in ("open", "change"):
            with contextlib.suppress(OutsideWorkspace):
                path = workspace_path(server, uri)
                recent_edits_of(server, folder_root_of(server, uri)).touched(path)

    server.document_listeners.append(on_document_event)

    # pygls evaluates a command handler's annotations at run time, where RoostServer (imported only for
    # type checking) is unknown: the server and the raw arguments are typed Any here.
    @server.command(MOVE_SYMBOL_COMMAND)
    async def move_symbol(ls: Any, *arguments: Any) -> dict[str, JSONValue]:
        """``{uri, symbol, target}``: moves the symbol to ``target`` (a module path or, for Python, a dotted
        name; created when it does not exist) through ``workspace/applyEdit``. Answers ``{applied, message}``."""
        return await move_to_module(ls, arguments)


async def move_to_module(ls: RoostServer, arguments: tuple[object, ...]) -> dict[str, JSONValue]:
    request = plain(arguments[0]) if arguments else {}
    if not isinstance(request, dict):
        request = {}
    uri, symbol, typed = request.get("uri"), request.get("symbol"), request.get("target")
    if not (
        isinstance(uri, str)
        and uri
        and isinstance(symbol, str)
        and symbol
        and isinstance(typed, str)
        and typed
    ):
        raise JsonRpcInvalidParams(f"{MOVE_SYMBOL_COMMAND} needs {{uri, symbol, target}} strings")
    code_actions = code_actions_of(ls, uri)
    try:
        move = code_actions.move_to_typed_module(workspace_path(ls, uri), symbol, typed)
    except (OutsideWorkspace, EditError, InvalidModuleName) as error:
        raise JsonRpcInvalidParams(f"Move `{symbol}`: {error}") from error
    action = types.CodeAction(
        title=move.title, data={"action": "move", "uri": uri, "symbol": symbol, "target": move.target}
    )
    resolved = await resolve_action(ls, action)
    assert resolved.edit is not None
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=resolved.edit, label=move.title)
    )
    if not result.applied:
        return {
            "applied": False,
            "target": move.target,
            "message": result.failure_reason or "the editor refused",
        }
    return {"applied": True, "target": move.target, "message": move.title}
