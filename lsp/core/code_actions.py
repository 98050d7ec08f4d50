"""Code actions as use cases, in plain typed Python: which actions a file offers for a range (planning),
and the verified, gated edits of one (resolution). The handler (:mod:`roost.lsp.handlers.code_actions`)
only converts LSP params to these calls and their results back to ``CodeAction`` / ``WorkspaceEdit``.

Deterministic refactors come from the graph (**Move symbol to module…**, ranked by relation to the symbol,
and **Move to another module…**, where the editor asks for the target; **Add missing import**); the
model-driven ones are **Edit selection by instruction** and **Fix security finding**. Planning is cheap;
edits are computed on resolution, verified against the current text and checked by the gate. An edit that
cannot be applied raises :class:`~roost.lsp.core.text_edits.EditError`, so it is reported, never sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from roost.context.facts import Definition, FileFacts
from roost.context.languages import language_name_for_path
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import (
    RefactorError,
    add_import,
    import_sources,
    is_type_only,
    unimported_names,
    writes_imports,
)
from roost.context.refactor.move import move_dependents
from roost.context.refactor.package_imports import add_package_import, missing_package_imports
from roost.context.refactor.package_move import moves_within_package, package_move_targets
from roost.engine.gate.model import Finding
from roost.engine.prompts.edit import (
    EditRequest,
    RelatedCode,
    edit_instructions_for,
    security_fix_instruction,
)
from roost.lsp.core.index_service import IndexService
from roost.lsp.core.model_edits import import_lines, propose_edit
from roost.lsp.core.moves.move_symbol import plan_move
from roost.lsp.core.moves.move_targets import (
    RecentEdits,
    candidate_modules,
    module_path_for,
    rank_move_targets,
)
from roost.lsp.core.selection_lines import whole_lines
from roost.lsp.core.services import Services
from roost.lsp.core.text_edits import EditError, FileEdit, LineCharacter, TextReplacement, offset_at
from roost.lsp.core.workspace_documents import Documents, Snapshot

log = logging.getLogger(__name__)

MAX_MOVE_TARGETS = 6
MAX_LISTED_MODULES = 5000  # modules sent for the client's pick list; the user may type any other name
MAX_RELATED = 6
MAX_IMPORT_SOURCES = 3

ActionKind = Literal["quickfix", "refactor.move", "refactor.rewrite"]


@dataclass(frozen=True)
class MoveSymbol:
    """Move top-level ``symbol`` of ``path`` to the module ``target`` (created when it does not exist)."""

    path: str
    symbol: str
    target: str
    kind: ActionKind = "refactor.move"

    @property
    def title(self) -> str:
        return f"Move `{self.symbol}` to module {self.target}"


@dataclass(frozen=True)
class ChooseMoveTarget:
    """ "Move to another module…": the editor asks the user for the target (from ``suggested`` and
    ``modules``, or typed), then runs the move command with it."""

    path: str
    symbol: str
    suggested: tuple[str, ...]
    modules: tuple[str, ...]
    extension: str
    # Go and Java move within the package: a new file must be in the source's directory.
    new_module_allowed: bool = True
    kind: ActionKind = "refactor.move"

    @property
    def title(self) -> str:
        return f"Move `{self.symbol}` to another module…"


@dataclass(frozen=True)
class AddImport:
    """Import ``name`` (exported there as ``export``) from the workspace file ``source``."""

    path: str
    name: str
    source: str
    export: str
    # ``m`` when the file's ``import * as m`` of the module is reused (the uses become ``m.X``), for the title.
    namespace: str = ""
    kind: ActionKind = "quickfix"

    @property
    def title(self) -> str:
        if self.namespace:
            return f"Use `{self.namespace}.{self.name}` from the existing import of {self.source}"
        return f"Add missing import of `{self.name}` from {self.source}"


@dataclass(frozen=True)
class AddPackageImport:
    """Go, Java: import ``module`` (the package of ``pkg.Name``, the class of ``Foo``)."""

    path: str
    module: str
    # What the listing shows: the name as used and a file defining it (not needed to resolve).
    name: str = ""
    defined_in: str = ""
    kind: ActionKind = "quickfix"

    @property
    def title(self) -> str:
        return f"Add missing import {self.module} (`{self.name}`, {self.defined_in})"


@dataclass(frozen=True)
class EditSelection:
    """Edit the selection by one of the offered instructions (model-driven)."""

    path: str
    start: LineCharacter
    end: LineCharacter
    instruction: str
    kind: ActionKind = "refactor.rewrite"

    @property
    def title(self) -> str:
        return f"Roost: {self.instruction}"


@dataclass(frozen=True)
class FixSecurityFinding:
    """Fix the gate's finding on ``line`` (0-based), rewriting the top-level definition around it."""

    path: str
    line: int
    finding: str  # described with its severity, for the prompt
    headline: str = ""  # described briefly, for the title
    kind: ActionKind = "quickfix"

    @property
    def title(self) -> str:
        return f"Roost: fix security finding {self.headline}"


PlannedAction = (
    MoveSymbol | ChooseMoveTarget | AddImport | AddPackageImport | EditSelection | FixSecurityFinding
)
# Actions whose edits need no model: computed up front for clients that cannot resolve lazily.
DeterministicAction = MoveSymbol | AddImport | AddPackageImport
ModelAction = EditSelection | FixSecurityFinding
# Actions with edits to compute (every one but ChooseMoveTarget, which only asks the user).
ResolvableAction = DeterministicAction | ModelAction


@dataclass
class ResolvedAction:
    edits: list[FileEdit]
    message: str = ""  # findings and problems of a model edit, for the title
    created: tuple[str, ...] = ()  # workspace paths of new modules the edits are written into


# Why no prompt may be built for a workspace file (document policy), or None when one may.
PromptRefusal = Callable[[str], str | None]


@dataclass
class CodeActions:
    """Code actions of one workspace: its services, its documents and the document policy."""

    services: Services
    documents: Documents
    prompt_refusal: PromptRefusal
    recent_edits: RecentEdits = field(default_factory=RecentEdits)

    # -- planning ------------------------------------------------------------------------------------
    def plan(self, path: str, start: LineCharacter, end: LineCharacter) -> list[PlannedAction]:
        """The actions for the range ``start``–``end`` of the workspace file ``path`` (raises
        EditError/OutsideWorkspace when the file cannot be read)."""
        snapshot = self.documents.snapshot(path)
        facts = parse_facts(snapshot.path, snapshot.text)
        actions: list[PlannedAction] = []
        within_package = moves_within_package(snapshot.path)  # Go, Java
        if facts is not None and (writes_imports(snapshot.path) or within_package):
            for definition in facts.definitions:
                # A Go method is a top-level declaration too; it moves by its qualified name.
                top_level = definition.parent is None or (within_package and definition.kind == "method")
                if top_level and definition.name_span.start_line == start.line:
                    symbol = definition.name if definition.parent is None else definition.qualified_name
                    actions.extend(self._move_actions(snapshot, symbol, _names_used(facts, definition)))
                    break
            actions.extend(self._missing_import_actions(snapshot, facts, start.line, end.line))
        # Model-driven actions build a prompt from this document: offered only where the policy allows one.
        prompt_allowed = self.prompt_refusal(snapshot.path) is None
        if prompt_allowed and start != end:
            actions.extend(
                EditSelection(snapshot.path, start, end, instruction)
                for instruction in edit_instructions_for(
                    snapshot.language or language_name_for_path(snapshot.path)
                )
            )
        if prompt_allowed:
            actions.extend(self._security_actions(snapshot, start.line, end.line))
        return actions

    def _move_candidates(self, index: IndexService, path: str) -> list[str]:
        if moves_within_package(path):  # Go, Java: the files of its package
            return package_move_targets(path, index.workspace_index.package_peers(path), MAX_LISTED_MODULES)
        return candidate_modules(path, index.paths())

    def _move_actions(self, snapshot: Snapshot, symbol: str, names_used: set[str]) -> list[PlannedAction]:
        index = self.services.index_service
        if index is None:
            return []
        candidates = self._move_candidates(index, snapshot.path)
        ranked = rank_move_targets(
            snapshot.path,
            symbol,
            names_used,
            candidates,
            index,
            self.recent_edits.most_recent_first(),
            MAX_MOVE_TARGETS,
        )
        actions: list[PlannedAction] = [MoveSymbol(snapshot.path, symbol, target.path) for target in ranked]
        # Every other module, or a new one: the editor asks the user, then runs the move command.
        ranked_paths = [target.path for target in ranked]
        others = [path for path in candidates if path not in ranked_paths][:MAX_LISTED_MODULES]
        actions.append(
            ChooseMoveTarget(
                snapshot.path,
                symbol,
                suggested=tuple(ranked_paths),
                modules=tuple(others),
                extension=snapshot.path.rsplit(".", 1)[-1],
            )
        )
        return actions

    def _missing_import_actions(
        self, snapshot: Snapshot, facts: FileFacts, first_line: int, last_line: int
    ) -> list[PlannedAction]:
        index = self.services.index_service
        if index is None:
            return []
        candidates = missing_package_imports(
            index.workspace_index, snapshot.path, snapshot.text, first_line, last_line
        )
        if candidates is not None:  # Go, Java: the package of ``pkg.Name``, the class of ``Foo``
            return [
                AddPackageImport(snapshot.path, candidate.module, candidate.name, candidate.path)
                for candidate in candidates
            ]
        actions: list[PlannedAction] = []
        for name in unimported_names(snapshot.path, facts, first_line, last_line, snapshot.text):
            found = index.find_definitions(name)
            sources = import_sources(snapshot.path, name, found, index.file_facts)
            for source, export_name in sources[:MAX_IMPORT_SOURCES]:
                action = AddImport(snapshot.path, name, source, export_name)
                namespace = self._reused_namespace(action, facts)
                actions.append(replace(action, namespace=namespace) if namespace else action)
        return actions

    def _reused_namespace(self, action: AddImport, facts: FileFacts) -> str:
        """``m`` when the import edit writes the uses ``m.X`` through an ``import * as m`` the file has
        rather than importing ``X``: the edit is computed (as resolving does) so the title says what it does."""
        if not any(imp.alias for imp in facts.imports):  # no namespace (or default) import to reuse
            return ""
        try:
            edit = self._import_edit(action)
        except EditError:
            return ""
        new_text = edit.apply()
        after = parse_facts(action.path, new_text)
        if after is None or any(
            imp.alias == action.name or action.name in (n.local_name for n in imp.names)
            for imp in after.imports
        ):
            return ""  # the name is imported
        qualified = [
            imp.alias
            for imp in facts.imports
            if imp.alias
            and new_text.count(f"{imp.alias}.{action.name}")
            > edit.original.count(f"{imp.alias}.{action.name}")
        ]
        return qualified[0] if qualified else ""

    def _security_actions(self, snapshot: Snapshot, first_line: int, last_line: int) -> list[PlannedAction]:
        # The gate picks its scanners by language (bandit reads Python; every language gets the secret scan).
        verdict = self.services.gate.check_file(language_name_for_path(snapshot.path), snapshot.text)
        actions: list[PlannedAction] = []
        for finding in verdict.findings:
            line = finding.line - 1  # 1-based within the scanned text, which is the whole file
            if first_line <= line <= last_line:
                actions.append(
                    FixSecurityFinding(
                        snapshot.path, line, finding.describe(severity=True), headline=finding.describe()
                    )
                )
        return actions

    # -- the move command ------------------------------------------------------------------------------
    def move_to_typed_module(self, path: str, symbol: str, typed: str) -> MoveSymbol:
        """The move of "Move to another module…" to the module the user typed or picked (raises
        InvalidModuleName, EditError or OutsideWorkspace)."""
        source = self.documents.snapshot(path)
        target = module_path_for(source.path, typed)
        if target == source.path:
            raise EditError(f"{target} is the module it is in")
        return MoveSymbol(source.path, symbol, target)

    # -- resolution ----------------------------------------------------------------------------------
    async def resolve(self, action: ResolvableAction) -> ResolvedAction:
        """The verified, gated edits of ``action`` (raises EditError, OutsideWorkspace,
        CompletionUnavailable); the blocking work runs off the event loop."""
        if isinstance(action, EditSelection | FixSecurityFinding):
            return await self.resolve_model_edit(action)
        return await asyncio.get_running_loop().run_in_executor(None, self.resolve_deterministic, action)

    def resolve_deterministic(self, action: DeterministicAction) -> ResolvedAction:
        """The edits of a move or an import (blocking: run it off the event loop). Raises EditError."""
        if isinstance(action, MoveSymbol):
            resolved = self._move_edits(action)
        else:
            resolved = ResolvedAction([self._import_edit(action)])
        self._gate_edits(resolved.edits, tolerate_existing=True)
        return resolved

    async def resolve_model_edit(self, action: ModelAction) -> ResolvedAction:
        """The model's edit for the action, verified and gated (raises EditError, CompletionUnavailable)."""
        resolved = await self._model_edits(action)
        # A security fix must remove its finding; other edits may keep what the code already had.
        tolerate = not isinstance(action, FixSecurityFinding)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self._gate_edits(resolved.edits, tolerate_existing=tolerate)
        )
        return resolved

    def _move_edits(self, action: MoveSymbol) -> ResolvedAction:
        index = self.services.index_service
        if index is None:
            raise EditError("the workspace is not indexed")
        documents = self.documents
        source = documents.snapshot(action.path)
        target, created = self._target_snapshot(source, action.target)
        plan = plan_move(
            action.symbol,
            source,
            target,
            move_dependents(
                source.path,
                index.dependents(source.path),
                list(index.paths()),
                documents.on_disk,
                index.dependents,  # `import pkg` reaching `pkg.source.X` imports a neighbour module
                lambda path: documents.snapshot(path).text,  # JS/TS barrels re-exporting it as a namespace
            ),
            documents.snapshot,
            index.resolve_import,
            documents.on_disk,
        )
        for note in plan.notes:
            log.warning("move %s: %s", action.symbol, note)
        self._verify_all(plan.edits)
        return ResolvedAction(plan.edits, created=(target.path,) if created else ())

    def _target_snapshot(self, source: Snapshot, target: str) -> tuple[Snapshot, bool]:
        """The target module's text, and whether it is new: an empty new module when it does not exist yet
        (its directory must)."""
        documents = self.documents
        documents.absolute(target)  # refused outside the workspace, even as a new module
        if documents.exists(target):
            return documents.snapshot(target), False
        root = documents.folder()
        path = root / target
        if not path.parent.is_dir():
            raise EditError(
                f"{target}: the directory {path.parent.relative_to(root).as_posix()} does not exist"
            )
        if moves_within_package(source.path) and path.parent != (root / source.path).parent:
            raise EditError(f"{target}: a {source.language} symbol moves within its package (directory)")
        return Snapshot(target, "", None, source.language), True

    def _import_edit(self, action: AddImport | AddPackageImport) -> FileEdit:
        snapshot = self.documents.snapshot(action.path)
        try:
            if isinstance(action, AddPackageImport):
                insertion = add_package_import(snapshot.path, snapshot.text, action.module)
            else:
                insertion = add_import(
                    snapshot.path,
                    snapshot.text,
                    action.name,
                    action.source,
                    self.documents.on_disk,
                    action.export or action.name,
                    type_only=self._imports_a_type(action),
                )
        except RefactorError as error:
            raise EditError(str(error)) from error
        edit = FileEdit(
            snapshot.path,
            snapshot.version,
            snapshot.text,
            (TextReplacement(insertion.start, insertion.end, insertion.new_text),),
        )
        self._verify_all([edit])
        return edit

    def _imports_a_type(self, action: AddImport) -> bool:
        """Whether the name is only TypeScript types there (``import type``, as verbatimModuleSyntax needs)."""
        index = self.services.index_service
        return index is not None and is_type_only(
            action.path, action.source, index.find_definitions(action.name)
        )

    async def _model_edits(self, action: ModelAction) -> ResolvedAction:
        refusal = self.prompt_refusal(action.path)
        if refusal is not None:  # a crafted or stale action: planning never offers one here
            raise EditError(refusal)
        snapshot = self.documents.snapshot(action.path)
        text = snapshot.text
        if isinstance(action, FixSecurityFinding):
            start, end = _enclosing_definition(snapshot, action.line)
            instruction = security_fix_instruction(action.finding)
            findings = [action.finding]
        else:
            # Its instructions (type hints, a docstring, ...) are about whole definitions.
            start, end = whole_lines(text, offset_at(text, action.start), offset_at(text, action.end))
            instruction = action.instruction
            findings = []
        request = EditRequest(
            instruction=instruction,
            path=snapshot.path,
            language=snapshot.language,
            before=text[:start],
            selection=text[start:end],
            after=text[end:],
            related=self._related_code(snapshot, start, end),
            findings=findings,
            imports=import_lines(snapshot.path, text),
        )
        proposal = await propose_edit(self.services, request, self.documents, snapshot, (start, end))
        return ResolvedAction(proposal.edits, "; ".join(proposal.findings + proposal.problems))

    def _related_code(self, snapshot: Snapshot, start: int, end: int) -> list[RelatedCode]:
        """Call sites and importers in other files of the symbols the selection defines (the graph's reverse
        edges): the model sees what else must change with them."""
        index = self.services.index_service
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

    def _verify_all(self, edits: list[FileEdit]) -> None:
        for edit in edits:
            if self._current_text(edit) != edit.original:
                raise EditError(f"{edit.path} changed while the edit was computed")
            edit.apply()

    def _current_text(self, edit: FileEdit) -> str:
        """The file's text now; a new module (planned from an empty text) is still empty while it does not
        exist."""
        if edit.original == "" and edit.version is None and not self.documents.on_disk(edit.path):
            return ""
        return self.documents.snapshot(edit.path).text

    def _gate_edits(self, edits: list[FileEdit], *, tolerate_existing: bool) -> None:
        """Every edited range passes the gate (blocked: the whole action is refused with the findings).
        ``tolerate_existing``: a finding the edited files already had, on the same line of code, does not
        block (moving a function with ``shell=True``, or adding a docstring to it, writes that line again)."""
        gate = self.services.gate
        existing = self._existing_findings(edits) if tolerate_existing else set()
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
                    workspace_secrets=self.services.workspace_secrets,
                )
                new_lines = replacement.new_text.split("\n")
                new = [f for f in verdict.findings if _finding_key(new_lines, f) not in existing]
                if verdict.blocked and new:
                    found = "; ".join(f.describe() for f in verdict.findings)
                    raise EditError(f"the security gate blocked the edit of {edit.path}: {found}")

    def _existing_findings(self, edits: list[FileEdit]) -> set[tuple[str, str]]:
        """The gate's findings in the edited files as they are, by rule and line of code (no secrets)."""
        found: set[tuple[str, str]] = set()
        for edit in edits:
            if not edit.original.strip():
                continue
            verdict = self.services.gate.check_file(language_name_for_path(edit.path), edit.original)
            lines = edit.original.split("\n")
            found |= {_finding_key(lines, f) for f in verdict.findings if f.source != "secrets"}
        return found


def _finding_key(lines: list[str], finding: Finding) -> tuple[str, str]:
    """A finding by its rule and the code of its (1-based) line in ``lines``; a secret never matches."""
    if finding.source == "secrets":
        return ("secret", str(id(finding)))
    code = lines[finding.line - 1].strip() if 0 < finding.line <= len(lines) else ""
    return (finding.test_id, code)


def _names_used(facts: FileFacts, definition: Definition) -> set[str]:
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


def _enclosing_definition(snapshot: Snapshot, line: int) -> tuple[int, int]:
    """Offsets of the whole lines of the top-level definition around ``line`` (the line alone outside one)."""
    text = snapshot.text
    facts = parse_facts(snapshot.path, text)
    enclosing = [
        d
        for d in (facts.definitions if facts else [])
        if d.parent is None and d.span.start_line <= line <= d.span.end_line
    ]
    first, last = (enclosing[0].span.start_line, enclosing[0].span.end_line) if enclosing else (line, line)
    start = _row_start(text, first)
    end = _row_start(text, last + 1) if last + 1 < text.count("\n") + 1 else len(text)
    return start, end


def _row_start(text: str, row: int) -> int:
    """Where tree-sitter's row ``row`` starts (its rows end at "\n" alone, LSP's lines at a lone "\r" too);
    the last row's start for a row past the end."""
    return len(text) - len(text.split("\n", row)[-1])
