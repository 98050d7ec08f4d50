"""Code actions: deterministic refactors from the graph (**Move symbol to module…**, ranked by relation to
the symbol, and **Move to another module…**, where the editor asks for the target; **Add missing import**)
and model-driven ones (**Edit selection by instruction**, **Fix security finding**).

Actions are listed cheaply; their edits are computed in ``codeAction/resolve`` (lazily), verified against
the current text and checked by the gate. An edit that cannot be applied is reported as an error, never
sent. Clients without resolve support get the deterministic actions computed up front.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from roost.context.languages import language_name_for_path
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import (
    RefactorError,
    add_import,
    import_sources,
    unimported_names,
    writes_imports,
)
from roost.context.refactor.move import move_dependents
from roost.context.refactor.package_imports import add_package_import, missing_package_imports
from roost.context.refactor.package_move import moves_within_package, package_move_targets
from roost.engine.prompts.edit import EditRequest, RelatedCode
from roost.lsp.core.document_policy import Refused, policy_of
from roost.lsp.core.model_edits import (
    Documents,
    OutsideWorkspace,
    Snapshot,
    import_lines,
    propose_edit,
)
from roost.lsp.core.moves.move_symbol import plan_move
from roost.lsp.core.moves.move_targets import (
    InvalidModuleName,
    RecentEdits,
    candidate_modules,
    module_path_for,
    rank_move_targets,
)
from roost.lsp.core.services import CompletionUnavailable, services_of
from roost.lsp.core.text_edits import EditError, FileEdit, TextReplacement, offset_at, to_workspace_edit

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer

log = logging.getLogger(__name__)

EDIT_INSTRUCTIONS = ("add type hints", "add a docstring", "make it async", "convert to a dataclass")
MAX_MOVE_TARGETS = 6
# "Move to another module…": the client asks the user (quick pick, vim.ui.select/input) and then runs
# MOVE_SYMBOL_COMMAND on the server with the chosen or typed target.
CHOOSE_MOVE_TARGET_COMMAND = "roost.chooseMoveTarget"
MOVE_SYMBOL_COMMAND = "roost.moveSymbol"
MAX_LISTED_MODULES = 5000  # modules sent for the client's pick list; the user may type any other name
RECENT_EDITS_KEY = "move_recent_edits"
MAX_RELATED = 6


def _resolve_supported(ls: RoostServer) -> bool:
    text_document = ls.client_capabilities.text_document
    code_action = text_document.code_action if text_document else None
    support = code_action.resolve_support if code_action else None
    return bool(support and "edit" in support.properties)


def list_actions(ls: RoostServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    documents = Documents(ls)
    uri = params.text_document.uri
    try:
        snapshot = documents.snapshot(uri)
    except (OutsideWorkspace, EditError):
        return []
    facts = parse_facts(snapshot.path, snapshot.text)
    start, end = params.range.start, params.range.end
    actions: list[types.CodeAction] = []
    within_package = moves_within_package(snapshot.path)  # Go, Java
    if facts is not None and (writes_imports(snapshot.path) or within_package):
        for definition in facts.definitions:
            # A Go method is a top-level declaration too; it moves by its qualified name.
            top_level = definition.parent is None or (within_package and definition.kind == "method")
            if top_level and definition.name_span.start_line == start.line:
                symbol = definition.name if definition.parent is None else definition.qualified_name
                actions.extend(_move_actions(ls, snapshot, symbol, _names_used(facts, definition)))
                break
        actions.extend(_missing_import_actions(ls, snapshot, facts, start.line, end.line))
    # Model-driven actions build a prompt from this document: offered only where the policy allows one.
    prompt_allowed = not isinstance(policy_of(ls, uri), Refused)
    if prompt_allowed and params.range.start != params.range.end:
        for instruction in EDIT_INSTRUCTIONS:
            actions.append(
                types.CodeAction(
                    title=f"Roost: {instruction}",
                    kind=types.CodeActionKind.RefactorRewrite,
                    data={
                        "action": "edit",
                        "uri": uri,
                        "range": _range_json(params.range),
                        "instruction": instruction,
                    },
                )
            )
    if prompt_allowed:
        actions.extend(_security_actions(ls, snapshot, start.line, end.line))
    return actions


def _range_json(range_: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": range_.start.line, "character": range_.start.character},
        "end": {"line": range_.end.line, "character": range_.end.character},
    }


def _names_used(facts: Any, definition: Any) -> set[str]:
    """Names the definition's body uses (and the receivers of its attribute uses: ``shapes`` in
    ``shapes.Circle``), to find the modules it takes them from."""
    span = definition.span
    used: set[str] = set()
    for reference in facts.references:
        if span.start_line <= reference.span.start_line <= span.end_line:
            used.add(reference.name)
            if reference.receiver:
                used.add(reference.receiver.split(".", 1)[0])
    return used


def recent_edits_of(ls: RoostServer) -> RecentEdits:
    recent = ls.services.get(RECENT_EDITS_KEY)
    if recent is None:
        recent = ls.services[RECENT_EDITS_KEY] = RecentEdits()
    return recent


def _move_candidates(services: Any, path: str) -> list[str]:
    if moves_within_package(path):  # Go, Java: the files of its package
        return package_move_targets(path, services.index.index.package_peers(path), MAX_LISTED_MODULES)
    return candidate_modules(path, services.index.paths())


def _move_actions(
    ls: RoostServer, snapshot: Snapshot, symbol: str, names_used: set[str]
) -> list[types.CodeAction]:
    services = services_of(ls)
    if services.index is None:
        return []
    candidates = _move_candidates(services, snapshot.path)
    ranked = rank_move_targets(
        snapshot.path,
        symbol,
        names_used,
        candidates,
        services.index,
        recent_edits_of(ls).most_recent_first(),
        MAX_MOVE_TARGETS,
    )
    actions = [
        types.CodeAction(
            title=f"Move `{symbol}` to module {target.path}",
            kind=types.CodeActionKind.RefactorMove,
            data={"action": "move", "uri": snapshot.uri, "symbol": symbol, "target": target.path},
        )
        for target in ranked
    ]
    # Every other module, or a new one: the editor asks the user, then runs MOVE_SYMBOL_COMMAND.
    ranked_paths = [target.path for target in ranked]
    others = [path for path in candidates if path not in ranked_paths][:MAX_LISTED_MODULES]
    choose = {
        "uri": snapshot.uri,
        "symbol": symbol,
        "suggested": ranked_paths,
        "modules": others,
        # Go and Java move within the package: a new file must be in the source's directory.
        "new_module_allowed": True,
        "extension": snapshot.path.rsplit(".", 1)[-1],
    }
    actions.append(
        types.CodeAction(
            title=f"Move `{symbol}` to another module…",
            kind=types.CodeActionKind.RefactorMove,
            command=types.Command(
                title=f"Move `{symbol}` to another module…",
                command=CHOOSE_MOVE_TARGET_COMMAND,
                arguments=[choose],
            ),
        )
    )
    return actions


def _missing_import_actions(
    ls: RoostServer, snapshot: Snapshot, facts: Any, first_line: int, last_line: int
) -> list[types.CodeAction]:
    services = services_of(ls)
    if services.index is None:
        return []
    index = services.index
    candidates = missing_package_imports(index.index, snapshot.path, snapshot.text, first_line, last_line)
    if candidates is not None:  # Go, Java: the package of ``pkg.Name``, the class of ``Foo``
        return [
            types.CodeAction(
                title=f"Add missing import {candidate.module} (`{candidate.name}`, {candidate.path})",
                kind=types.CodeActionKind.QuickFix,
                data={"action": "import", "uri": snapshot.uri, "module": candidate.module},
            )
            for candidate in candidates
        ]
    actions = []
    for name in unimported_names(snapshot.path, facts, first_line, last_line, snapshot.text):
        found = index.find_definitions(name)
        for path, export_name in import_sources(snapshot.path, name, found, index.file_facts)[:3]:
            actions.append(
                types.CodeAction(
                    title=f"Add missing import of `{name}` from {path}",
                    kind=types.CodeActionKind.QuickFix,
                    data={
                        "action": "import",
                        "uri": snapshot.uri,
                        "name": name,
                        "from": path,
                        "export": export_name,
                    },
                )
            )
    return actions


def _security_actions(
    ls: RoostServer, snapshot: Snapshot, first_line: int, last_line: int
) -> list[types.CodeAction]:
    # The gate picks its scanners by language (bandit reads Python; every language gets the secret scan).
    verdict = services_of(ls).gate.check_file(language_name_for_path(snapshot.path), snapshot.text)
    actions = []
    for finding in verdict.findings:
        line = finding.line - 1  # 1-based within the scanned text, which is the whole file
        if not first_line <= line <= last_line:
            continue
        actions.append(
            types.CodeAction(
                title=f"Roost: fix security finding {finding.test_id}: {finding.message}",
                kind=types.CodeActionKind.QuickFix,
                data={
                    "action": "security",
                    "uri": snapshot.uri,
                    "line": line,
                    "finding": f"{finding.test_id} ({finding.severity} severity): {finding.message}",
                },
            )
        )
    return actions


# -- resolve -----------------------------------------------------------------------------------------------


async def resolve_action(ls: RoostServer, action: types.CodeAction) -> types.CodeAction:
    if action.data is None and action.command is not None:
        return action  # "Move to another module…": nothing to compute, the client runs its command
    data = action.data if isinstance(action.data, dict) else _plain(action.data)
    kind = data.get("action")
    documents = Documents(ls)
    services = services_of(ls)
    loop = asyncio.get_running_loop()
    try:
        if kind == "move":
            edits = await loop.run_in_executor(None, lambda: _move_edits(ls, documents, data))
            message = ""
        elif kind == "import":
            edits = [_import_edit(documents, services, data)]
            message = ""
        elif kind in ("edit", "security"):
            edits, message = await _model_edits(ls, documents, data)
        else:
            raise EditError(f"unknown code action {kind!r}")
        await loop.run_in_executor(None, lambda: _gate_edits(services, edits))
    except (EditError, OutsideWorkspace, CompletionUnavailable) as error:
        raise JsonRpcInvalidParams(f"{action.title}: cannot be applied: {error}") from error
    if not edits:
        raise JsonRpcInvalidParams(f"{action.title}: no applicable change ({message or 'nothing to do'})")
    action.edit = to_workspace_edit(edits)
    if message:
        action.title = f"{action.title} — {message}"
    return action


def _plain(value: Any) -> dict[str, Any]:
    from roost.lsp.handlers.fixup_commands import plain

    result = plain(value)
    if not isinstance(result, dict):
        raise EditError("the code action has no data")
    return result


def _move_edits(ls: RoostServer, documents: Documents, data: dict[str, Any]) -> list[FileEdit]:
    services = services_of(ls)
    if services.index is None:
        raise EditError("the workspace is not indexed")
    root = documents.root
    assert root is not None
    source = documents.snapshot(str(data["uri"]))
    target = _target_snapshot(documents, source, str(data["target"]))

    def exists(path: str) -> bool:
        return (root / path).exists()

    plan = plan_move(
        str(data["symbol"]),
        source,
        target,
        move_dependents(
            source.path,
            services.index.dependents(source.path),
            list(services.index.paths()),
            exists,
            services.index.dependents,  # `import pkg` reaching `pkg.source.X` imports a neighbour module
        ),
        lambda path: documents.snapshot(documents.uri_for(path)),
        services.index.resolve_import,
        exists,
    )
    for note in plan.notes:
        log.warning("move %s: %s", data["symbol"], note)
    _verify_all(documents, plan.edits)
    return plan.edits


def _target_snapshot(documents: Documents, source: Snapshot, target: str) -> Snapshot:
    """The target module's text; an empty new module when it does not exist yet (its directory must)."""
    root = documents.root
    assert root is not None
    uri = documents.uri_for(target)
    path = root / target
    if path.exists() or uri in documents.server.workspace.text_documents:
        return documents.snapshot(uri)
    if not path.parent.is_dir():
        raise EditError(f"{target}: the directory {path.parent.relative_to(root).as_posix()} does not exist")
    if moves_within_package(source.path) and path.parent != (root / source.path).parent:
        raise EditError(f"{target}: a {source.language} symbol moves within its package (directory)")
    return Snapshot(uri, target, "", None, source.language)


def _import_edit(documents: Documents, services: Any, data: dict[str, Any]) -> FileEdit:
    snapshot = documents.snapshot(str(data["uri"]))
    root = documents.root
    assert root is not None
    try:
        if "module" in data:  # Go, Java
            insertion = add_package_import(snapshot.path, snapshot.text, str(data["module"]))
        else:
            insertion = add_import(
                snapshot.path,
                snapshot.text,
                str(data["name"]),
                str(data["from"]),
                lambda path: (root / path).exists(),
                str(data.get("export") or data["name"]),
            )
    except RefactorError as error:
        raise EditError(str(error)) from error
    edit = FileEdit(
        snapshot.uri,
        snapshot.path,
        snapshot.version,
        snapshot.text,
        (TextReplacement(insertion.start, insertion.end, insertion.new_text),),
    )
    _verify_all(documents, [edit])
    return edit


async def _model_edits(
    ls: RoostServer, documents: Documents, data: dict[str, Any]
) -> tuple[list[FileEdit], str]:
    services = services_of(ls)
    verdict = policy_of(ls, str(data["uri"]))
    if isinstance(verdict, Refused):  # a crafted or stale action: the list never offers one here
        raise EditError(verdict.reason)
    snapshot = documents.snapshot(str(data["uri"]))
    text = snapshot.text
    if data["action"] == "security":
        line = int(data["line"])
        facts = parse_facts(snapshot.path, text)
        enclosing = [
            d
            for d in (facts.definitions if facts else [])
            if d.parent is None and d.span.start_line <= line <= d.span.end_line
        ]
        first, last = (
            (enclosing[0].span.start_line, enclosing[0].span.end_line) if enclosing else (line, line)
        )
        start = offset_at(text, types.Position(line=first, character=0))
        end = (
            offset_at(text, types.Position(line=last + 1, character=0))
            if last + 1 < text.count("\n") + 1
            else len(text)
        )
        instruction = f"Fix this security finding without changing behaviour otherwise: {data['finding']}"
        findings = [str(data["finding"])]
    else:
        range_ = data["range"]
        start = offset_at(text, types.Position(**range_["start"]))
        end = offset_at(text, types.Position(**range_["end"]))
        instruction = str(data["instruction"])
        findings = []
    request = EditRequest(
        instruction=instruction,
        path=snapshot.path,
        language=snapshot.language,
        before=text[:start],
        selection=text[start:end],
        after=text[end:],
        related=_related_code(services, documents, snapshot, start, end),
        findings=findings,
        imports=import_lines(snapshot.path, text),
    )
    proposal = await propose_edit(services, request, documents, snapshot, (start, end))
    notes = proposal.findings + proposal.problems
    return proposal.edits, "; ".join(notes)


def _related_code(
    services: Any, documents: Documents, snapshot: Snapshot, start: int, end: int
) -> list[RelatedCode]:
    """Call sites and importers in other files of the symbols the selection defines (the graph's reverse
    edges): the model sees what else must change with them."""
    index = services.index
    facts = parse_facts(snapshot.path, snapshot.text)
    if index is None or facts is None:
        return []
    first_line = snapshot.text.count("\n", 0, start)
    last_line = snapshot.text.count("\n", 0, end)
    names = {d.name for d in facts.definitions if first_line <= d.span.start_line <= last_line}
    related: list[RelatedCode] = []
    for path in index.dependents(snapshot.path):
        other = parse_facts(path, index.file_text(path) or "")
        text = index.file_text(path) or ""
        if other is None:
            continue
        lines = text.split("\n")
        for ref in other.references:
            if ref.name in names and len(related) < MAX_RELATED:
                low, high = max(0, ref.span.start_line - 2), min(len(lines), ref.span.start_line + 3)
                related.append(RelatedCode(path, "\n".join(lines[low:high]), f"uses {ref.name}"))
                break
    return related


def _verify_all(documents: Documents, edits: list[FileEdit]) -> None:
    for edit in edits:
        current = _current_text(documents, edit)
        if current != edit.original:
            raise EditError(f"{edit.path} changed while the edit was computed")
        edit.apply()


def _current_text(documents: Documents, edit: FileEdit) -> str:
    """The file's text now; a new module (planned from an empty text) is still empty while it does not exist."""
    root = documents.root
    if edit.original == "" and edit.version is None and root is not None and not (root / edit.path).exists():
        return ""
    return documents.snapshot(edit.uri).text


def _gate_edits(services: Any, edits: list[FileEdit]) -> None:
    """Every edited range passes the gate (blocked: the whole action is refused with the findings)."""
    gate = services.gate
    for edit in edits:
        language = language_name_for_path(edit.path)
        for replacement in edit.replacements:
            if not replacement.new_text.strip():
                continue
            verdict = gate.check(
                language,
                edit.original[: replacement.start],
                replacement.new_text,
                edit.original[replacement.end :],
                workspace_secrets=services.workspace_secrets,
            )
            if verdict.blocked:
                found = "; ".join(f"{f.test_id} {f.message}" for f in verdict.findings)
                raise EditError(f"the security gate blocked the edit of {edit.path}: {found}")


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
            path = _workspace_path(server, uri)
            if path is not None:
                recent_edits_of(server).touched(path)

    server.document_listeners.append(on_document_event)

    @server.command(MOVE_SYMBOL_COMMAND)
    async def move_symbol(ls: Any, *arguments: Any) -> dict[str, Any]:
        """``{uri, symbol, target}``: moves the symbol to ``target`` (a module path or, for Python, a dotted
        name; created when it does not exist) through ``workspace/applyEdit``. Answers ``{applied, message}``."""
        return await move_to_module(ls, arguments)


def _workspace_path(ls: RoostServer, uri: str) -> str | None:
    try:
        return Documents(ls).snapshot(uri).path
    except (OutsideWorkspace, EditError):
        return None


async def move_to_module(ls: RoostServer, arguments: tuple[Any, ...]) -> dict[str, Any]:
    request = _plain(arguments[0]) if arguments else {}
    uri, symbol, typed = request.get("uri"), request.get("symbol"), request.get("target")
    if not all(isinstance(value, str) and value for value in (uri, symbol, typed)):
        raise JsonRpcInvalidParams(f"{MOVE_SYMBOL_COMMAND} needs {{uri, symbol, target}} strings")
    documents = Documents(ls)
    try:
        source = documents.snapshot(uri)
        target = module_path_for(source.path, typed)
    except (OutsideWorkspace, EditError, InvalidModuleName) as error:
        raise JsonRpcInvalidParams(f"Move `{symbol}`: {error}") from error
    if target == source.path:
        raise JsonRpcInvalidParams(f"Move `{symbol}`: {target} is the module it is in")
    title = f"Move `{symbol}` to module {target}"
    action = types.CodeAction(
        title=title, data={"action": "move", "uri": uri, "symbol": symbol, "target": target}
    )
    resolved = await resolve_action(ls, action)
    assert resolved.edit is not None
    edit = _with_created_module(resolved.edit, documents, target)
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=title))
    if not result.applied:
        return {"applied": False, "target": target, "message": result.failure_reason or "the editor refused"}
    return {"applied": True, "target": target, "message": title}


def _with_created_module(edit: types.WorkspaceEdit, documents: Documents, target: str) -> types.WorkspaceEdit:
    """A move into a module that does not exist yet creates it first (``CreateFile``, then its text)."""
    root = documents.root
    assert root is not None
    uri = documents.uri_for(target)
    if (root / target).exists() or uri in documents.server.workspace.text_documents:
        return edit
    create = types.CreateFile(
        uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False)
    )
    return types.WorkspaceEdit(document_changes=[create, *(edit.document_changes or [])])
