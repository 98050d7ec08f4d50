"""Model-driven edits: ask the model (chat), stream its answer, turn it into verified, gated file edits.

Shared by fix-ups, "Edit selection by instruction" and "Fix security finding". The answer is parsed
tolerantly (fenced selection or SEARCH/REPLACE blocks, located with whitespace-tolerant matching), then
every edit is verified exactly against the current text and every edited range is checked by the gate.
An edit that cannot be applied or is blocked is reported in the message, never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from roost.context.parsing import EmptiedFunction, emptied_functions, new_syntax_errors, parse_facts
from roost.context.refactor.imports import import_statements
from roost.engine.gate.gate import Gate
from roost.engine.gate.model import Finding, Verdict
from roost.engine.prompts.edit import (
    EditBlock,
    EditRequest,
    echoes_surroundings,
    edit_messages,
    gutted_complaint,
    parse_complaint,
    parse_edit_blocks,
    trim_echoed_context,
)
from roost.engine.types import GenerationRequest, RequestPriority
from roost.lsp import metrics
from roost.lsp.core.services import Services
from roost.lsp.core.text_edits import (
    EditError,
    FileEdit,
    LineCharacter,
    TextReplacement,
    locate,
    position_at,
    reindent,
    verify,
)
from roost.lsp.core.workspace_documents import Documents, OutsideWorkspace, Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EditFinding:
    """A gate finding of a proposed edit, on the range the edit replaces (shown as a warning there)."""

    start: LineCharacter
    end: LineCharacter
    message: str
    code: str  # the finding's test id


@dataclass
class Proposal:
    edits: list[FileEdit] = field(default_factory=list)
    message: str = ""
    problems: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    answer: str = ""
    # Gate findings of the proposed edits, by workspace path.
    edit_findings: dict[str, list[EditFinding]] = field(default_factory=dict)
    # Edits refused because the file would no longer parse: what the parser said (fed back on a retry).
    syntax_errors: list[str] = field(default_factory=list)
    # Functions an edit was refused for leaving without a body (shown back to the model on a retry).
    gutted: list[EmptiedFunction] = field(default_factory=list)
    # The language of the file the gutted functions are in (the fence of their quoted statements).
    gutted_language: str = ""

    @property
    def refused(self) -> bool:
        """Whether an edit of the answer would break the file (unparsable, a function gutted): worth a retry."""
        return bool(self.syntax_errors or self.gutted)

    def refusal_reasons(self) -> list[str]:
        return self.syntax_errors + ([_gutted_reason(self.gutted)] if self.gutted else [])


# Room for what the model says before the code (asked as a plain chat, "The bug in the given code is …";
# under the edit-block contract, one sentence about the change): engine/prompts/edit.py.
SENTENCE_TOKENS = 64


def answer_token_budget(selection_tokens: int, max_tokens: int = 768) -> int:
    """Room for the sentence, the rewritten selection and some growth, not more: long answers are slow
    and rarely right."""
    return min(max_tokens, max(96, 2 * selection_tokens + 96) + SENTENCE_TOKENS)


async def generate_answer(
    services: Services,
    request: EditRequest,
    on_partial: Callable[[str], None] | None,
    max_tokens: int = 768,
) -> str:
    backend = await services.backend()
    budget = answer_token_budget(backend.count_tokens(request.selection), max_tokens)
    generation = GenerationRequest(
        messages=edit_messages(request),
        max_new_tokens=budget,
        temperature=0.0,
        priority=RequestPriority.EDIT,
        stop_token_strings=services.prompt_format.stop_token_strings if services.prompt_format else (),
    )
    parts: list[str] = []
    async with contextlib.aclosing(backend.generate(generation)) as stream:
        async for chunk in stream:
            if chunk.text:
                parts.append(chunk.text)
                if on_partial is not None:
                    on_partial("".join(parts))
            if chunk.is_final and chunk.finish_reason == "error":
                raise RuntimeError(chunk.error or "the model failed mid-answer")
    return "".join(parts)


def import_lines(path: str, text: str) -> str:
    """The file's import statements as written (from its facts), for the model's reference."""
    return import_statements(path, text)


def _redefines(target: Snapshot, start: int, end: int, head: str) -> bool:
    """Whether ``head`` defines a top-level name the file defines outside the selection."""
    head_facts = parse_facts(target.path, head)
    file_facts = parse_facts(target.path, target.text[:start] + target.text[end:])
    if head_facts is None or file_facts is None:
        return False
    head_names = {d.name for d in head_facts.definitions if d.parent is None}
    return bool(head_names & {d.name for d in file_facts.definitions if d.parent is None})


def build_proposal(
    answer: str,
    documents: Documents,
    target: Snapshot,
    selection: tuple[int, int],
    gate: Gate,
    secrets: frozenset[str] | tuple[str, ...] = (),
    *,
    tolerate_existing_findings: bool = False,
) -> Proposal:
    """Locate, verify and gate the edits of ``answer``; what fails is explained, not sent.
    ``tolerate_existing_findings`` (an edit not asked to fix findings: a docstring, type hints): a blocking
    finding on a line the replaced text already had, as it was, is shown but does not refuse the edit."""
    proposal = Proposal(answer=answer)
    per_file: dict[str, tuple[Snapshot, list[TextReplacement]]] = {}
    for block in parse_edit_blocks(answer, target.text[selection[0] : selection[1]]):
        try:
            if block.path is None:
                snapshot = target
                start, end = selection
                old = target.text[start:end]
                new_text = trim_echoed_context(
                    block.replace,
                    target.text[:start],
                    old,
                    target.text[end:],
                    functools.partial(_redefines, target, start, end),
                )
                if echoes_surroundings(new_text, target.text[:start], old, target.text[end:]):
                    raise EditError("the answer repeats the code around the selection instead of changing it")
                if old.endswith("\n") and not new_text.endswith("\n"):
                    new_text += "\n"
                new_text = reindent(new_text, new_text, old)
                new_text, hoisted = _hoist_new_imports(target, start, old, new_text)
                if hoisted is not None:
                    per_file.setdefault(target.path, (target, []))[1].append(hoisted)
            else:
                path = documents.workspace_path(block.path) if block.path != target.path else target.path
                snapshot = per_file[path][0] if path in per_file else documents.snapshot(path)
                near = selection[0] if snapshot.path == target.path else 0
                start, end = locate(snapshot.text, block.search, near)
                if snapshot.path == target.path and _strays_from_selection(block, (start, end), selection):
                    raise EditError(
                        "the edit changes code outside the selection; only the selection is edited"
                    )
                new_text = reindent(block.replace, block.search, snapshot.text[start:end])
            per_file.setdefault(snapshot.path, (snapshot, []))[1].append(
                TextReplacement(start, end, new_text)
            )
        except (EditError, OutsideWorkspace) as error:
            proposal.problems.append(f"{block.path or target.path}: {error}")
    for snapshot, replacements in per_file.values():
        kept = []
        for replacement in replacements:
            verdict = gate.check(
                snapshot.language,
                snapshot.text[: replacement.start],
                replacement.new_text,
                snapshot.text[replacement.end :],
                workspace_secrets=secrets,
            )
            metrics.GATE_VERDICTS.labels(verdict=str(verdict.kind)).inc()
            described = [f"{snapshot.path}: {f.describe()}" for f in verdict.findings]
            blocked = verdict.blocked and not (
                tolerate_existing_findings and _only_existing_findings(gate, snapshot, replacement, verdict)
            )
            if blocked:
                proposal.problems.append(f"{snapshot.path}: an edit was blocked by the security gate")
                proposal.findings.extend(described)
                continue
            if verdict.flagged:
                proposal.findings.extend(described)
                # Shown on the range the edit replaces, so the editor marks where the concern is.
                edited_start = position_at(snapshot.text, replacement.start)
                edited_end = position_at(snapshot.text, max(replacement.start, replacement.end))
                proposal.edit_findings.setdefault(snapshot.path, []).extend(
                    EditFinding(
                        edited_start,
                        edited_end,
                        f"Roost gate ({verdict.action}): {f.describe()} (proposed edit)",
                        f.test_id,
                    )
                    for f in verdict.findings
                )
            kept.append(replacement)
        if not kept:
            continue
        edit = FileEdit(snapshot.path, snapshot.version, snapshot.text, tuple(kept))
        try:
            verify(edit, documents.snapshot(snapshot.path).text)
        except EditError as error:
            proposal.problems.append(f"{snapshot.path}: {error}")
            continue
        result = edit.apply()
        if result == snapshot.text:
            continue
        broken = _breaks_parsing(snapshot.path, snapshot.text, result)
        if broken:
            proposal.syntax_errors.append(broken)
            proposal.problems.append(f"refused: {broken}")
            continue
        gutted = emptied_functions(snapshot.path, snapshot.text, result)
        if gutted:
            # Still parses, but a function kept its signature and lost its body: measured with the
            # bundled 0.5B on "add type hints" (edit_bench, HumanEval/16), never what was asked.
            proposal.gutted.extend(gutted)
            proposal.gutted_language = snapshot.language
            proposal.problems.append(f"refused: {_gutted_reason(gutted)} in {snapshot.path}")
            continue
        proposal.edits.append(edit)
    proposal.message = _summary(proposal)
    return proposal


def _only_existing_findings(
    gate: Gate, snapshot: Snapshot, replacement: TextReplacement, verdict: Verdict
) -> bool:
    """Whether every blocking finding of ``verdict`` (on ``replacement``) is one the replaced text already had,
    on a line it had as it is: "add a docstring" to a function with ``shell=True`` rewrites that line
    unchanged, and was refused as if the model had written it. A secret always counts as new."""
    old_text = snapshot.text[replacement.start : replacement.end]
    before = gate.check(
        snapshot.language, snapshot.text[: replacement.start], old_text, snapshot.text[replacement.end :]
    )
    old_lines, new_lines = old_text.split("\n"), replacement.new_text.split("\n")

    def line_of(lines: list[str], finding: Finding) -> str:
        return lines[finding.line - 1].strip() if 0 < finding.line <= len(lines) else ""

    existing = {(f.test_id, line_of(old_lines, f)) for f in before.findings if f.source != "secrets"}
    return all(
        f.source != "secrets" and (f.test_id, line_of(new_lines, f)) in existing for f in verdict.findings
    )


def _hoist_new_imports(
    target: Snapshot, start: int, old: str, new_text: str
) -> tuple[str, TextReplacement | None]:
    """Python: the import lines a rewritten selection starts with ("convert to a dataclass" answers
    ``from dataclasses import dataclass`` above the class) go after the file's last top-level import above
    the selection instead of into the middle of the module. Unchanged where the file has no import above
    the selection, or its imports end where the selection starts."""
    if not target.path.endswith((".py", ".pyi")):
        return new_text, None
    lines = new_text.split("\n")
    count = 0
    while count < len(lines) and (lines[count].startswith(("import ", "from ")) or not lines[count].strip()):
        if "(" in lines[count] and ")" not in lines[count]:  # a parenthesised import over several lines
            return new_text, None
        count += 1
    imports = [line for line in lines[:count] if line.strip()]
    if not imports or not "\n".join(lines[count:]).strip():
        return new_text, None
    facts = parse_facts(target.path, target.text)
    if facts is None:
        return new_text, None
    line_starts = [0, *(i + 1 for i, char in enumerate(target.text) if char == "\n")]
    ends = [
        line_starts[i.span.end_line + 1] if i.span.end_line + 1 < len(line_starts) else len(target.text)
        for i in facts.imports
        if i.span.start_col == 0
    ]
    above = [end for end in ends if end < start]
    if not above:
        return new_text, None
    insert_at = max(above)
    leading_blank_lines = old[: len(old) - len(old.lstrip("\n"))]
    hoisted = TextReplacement(insert_at, insert_at, "\n".join(imports) + "\n")
    return leading_blank_lines + "\n".join(lines[count:]), hoisted


def _strays_from_selection(block: EditBlock, located: tuple[int, int], selection: tuple[int, int]) -> bool:
    """Whether an edit block of the selection's own file changes code outside the selection. Adding or
    changing import lines is allowed (new code may need a name imported); anything else out there is
    something the user did not select and did not ask to change."""
    start, end = located
    if start < selection[1] and end > selection[0] or start == end == selection[0]:
        return False
    return not _only_imports(block.search) or not _only_imports(block.replace)


def _only_imports(text: str) -> bool:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return all(line.startswith(("import ", "from ", "#include", "use ", "using ")) for line in lines)


def _breaks_parsing(path: str, before: str, after: str) -> str:
    """Why the edit breaks the file (it has more syntax errors than before), or "" when it does not."""
    errors = new_syntax_errors(path, before, after)
    if errors is None:
        return ""
    near = f" near `{errors.first_text}`" if errors.first_text else ""
    return f"{path} would no longer parse after the edit (syntax error at line {errors.first_line + 1}{near})"


def _gutted_reason(functions: list[EmptiedFunction]) -> str:
    return "the edit leaves " + ", ".join(f"`{f.name}`" for f in functions) + " without a body"


def _retry_instruction(refused: Proposal) -> str:
    """What the model is told after a refused answer: the parser's complaint first (gutted functions are
    only looked for in text that parses), else which functions lost their body."""
    if refused.syntax_errors:
        return parse_complaint(refused.syntax_errors)
    return gutted_complaint([(f.name, f.old_body) for f in refused.gutted], refused.gutted_language)


def _summary(proposal: Proposal) -> str:
    files = ", ".join(e.path for e in proposal.edits) or "no file"
    lines = [f"Proposed changes to {files}."] if proposal.edits else ["No applicable change was proposed."]
    if proposal.findings:
        lines.append("Security findings: " + "; ".join(proposal.findings))
    if proposal.problems:
        lines.append("Not applied: " + "; ".join(proposal.problems))
    return " ".join(lines)


async def propose_edit(
    services: Services,
    request: EditRequest,
    documents: Documents,
    target: Snapshot,
    selection: tuple[int, int],
    on_partial: Callable[[str], None] | None = None,
) -> Proposal:
    """Ask the model for the edit of ``request`` and build the proposal. An answer whose edit would leave
    the file unparsable, or a function with its signature and no body, is never offered: the model is asked
    once more, told what was wrong (the parser's complaint, the gutted functions), and if that answer is
    refused too, so is the proposal, with both answers' reasons."""
    loop = asyncio.get_running_loop()

    async def attempt(edit_request: EditRequest) -> Proposal:
        answer = await generate_answer(services, edit_request, on_partial)
        return await loop.run_in_executor(
            None,
            lambda: build_proposal(
                answer,
                documents,
                target,
                selection,
                services.gate,
                services.workspace_secrets,
                tolerate_existing_findings=not edit_request.findings,
            ),
        )

    first = await attempt(request)
    if not first.refused:
        return first
    log.info("a proposed edit of %s was refused (%s); asking once more", target.path, first.refusal_reasons())
    retry = dataclasses.replace(
        request,
        instruction=_retry_instruction(first),
        history=[*request.history, (request.instruction, first.answer)],
    )
    second = await attempt(retry)
    if second.refused:
        second.problems.append(
            "the model was asked once more, told why its first answer was refused ("
            + "; ".join(first.refusal_reasons())
            + "), and failed again"
        )
        second.message = _summary(second)
    return second
