"""The chat contract for model-driven edits (fix-ups, "Edit selection by instruction", "Fix security
finding"): the prompt (the instruction, the code to change, related code in other files that the graph says
the change affects, findings, the conversation so far) and the parser of the answer it asks for (one fenced
block, or SEARCH/REPLACE edit blocks with paths), including undoing what models predictably add (code
echoed from around the selection).

Inputs are plain dataclasses: the caller (the LSP layer) fills them from the graph. Locating and verifying
the parsed edits against the current text is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from roost.engine.prompts.answer import drop_chatter, fenced_blocks, strip_reasoning
from roost.engine.types import ChatMessage

# One sentence before the code: asked for the code "and nothing else", the bundled 0.5B answered "fix the
# bug" by copying the code unchanged (5 of 6 tasks in bench/edit_bench.py); saying first what it changes
# makes it change something (4 of 6), as it does unprompted in a plain chat. The sentence never reaches the
# code: the parser takes the fenced block.
EDIT_SYSTEM_PROMPT = (
    "You are a precise code editor inside an editor. You get an instruction, the code to change, and "
    "sometimes related code from other files. If only the code to change changes, first say in one short "
    "sentence what you will change, then reply with the complete new version of the code to change in one "
    "fenced code block. If other files must change too, reply with edit blocks instead, one per change, "
    "each: the file path on its own line, then\n<<<<<<< SEARCH\n(exact existing lines)\n=======\n"
    "(new lines)\n>>>>>>> REPLACE\nKeep the code's style and indentation. Never add secrets."
)


# The instructions "Edit selection by instruction" offers as code actions, one action each.
EDIT_INSTRUCTIONS = ("add type hints", "add a docstring", "make it async", "convert to a dataclass")
# Where each means something (editor language ids; a language not named gets a docstring only): "convert to
# a dataclass" in a Markdown file replaced its text with Python, "add type hints" in JavaScript writes
# TypeScript. Prose and data files get none.
_INSTRUCTIONS_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "python": EDIT_INSTRUCTIONS,
    "typescript": ("add type hints", "add a docstring", "make it async"),
    "typescriptreact": ("add type hints", "add a docstring", "make it async"),
    "javascript": ("add a docstring", "make it async"),
    "javascriptreact": ("add a docstring", "make it async"),
    "rust": ("add a docstring", "make it async"),
}
_PROSE_AND_DATA = frozenset(
    {
        "plaintext",
        "markdown",
        "restructuredtext",
        "json",
        "jsonc",
        "yaml",
        "toml",
        "ini",
        "csv",
        "xml",
        "log",
        "",
    }
)


def edit_instructions_for(language: str) -> tuple[str, ...]:
    """The instructions "Edit selection by instruction" offers in a file of ``language`` (the editor's id)."""
    if language in _PROSE_AND_DATA:
        return ()
    return _INSTRUCTIONS_BY_LANGUAGE.get(language, ("add a docstring",))


def security_fix_instruction(finding: str) -> str:
    """The instruction of "Fix security finding" for one described finding."""
    return f"Fix this security finding without changing behaviour otherwise: {finding}"


def parse_complaint(errors: list[str]) -> str:
    """The follow-up instruction of a retry after an answer whose edit would not parse: the parser's
    complaint, and the contract restated."""
    return (
        "Your answer does not parse: "
        + "; ".join(errors)
        + ". Reply again with the complete corrected code to change, in one fenced code block: only that "
        "code (no imports from elsewhere in the file, no explanation)."
    )


# A gutted function's old statements are quoted back up to this many lines (the rest is elided).
MAX_QUOTED_BODY_LINES = 40


def gutted_complaint(functions: list[tuple[str, str]], language: str) -> str:
    """The follow-up instruction of a retry after an answer that kept functions' signatures and dropped
    their statements (the bundled 0.5B asked for type hints): each function (name, its old statements as
    written) with the statements it had. Named only, the 0.5B answered the same signature and docstring
    again (edit_bench hints HumanEval/16); shown the statements, it wrote the whole function."""
    names = ", ".join(f"`{name}`" for name, _ in functions)
    parts = [f"Your answer leaves {names} without a body: the statements are gone."]
    for name, body in functions:
        lines = body.rstrip().split("\n")
        if len(lines) > MAX_QUOTED_BODY_LINES:
            lines = [*lines[:MAX_QUOTED_BODY_LINES], f"... ({len(lines) - MAX_QUOTED_BODY_LINES} more lines)"]
        quoted = "\n".join(lines)
        parts.append(f"The body of `{name}` was:\n```{language}\n{quoted}\n```")
    parts.append(
        "Reply again with the complete code to change, every function with its whole body, in one fenced "
        "code block."
    )
    return "\n".join(parts)


@dataclass(frozen=True)
class RelatedCode:
    path: str
    text: str
    reason: str


@dataclass
class EditRequest:
    instruction: str
    path: str
    language: str
    before: str  # file text before the selection
    selection: str
    after: str
    related: list[RelatedCode] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    # Earlier turns: (user message, assistant answer); the last proposal is the last answer.
    history: list[tuple[str, str]] = field(default_factory=list)
    imports: str = ""  # the file's import lines (what names the code to change can use)


# Instructions that ask for code that behaves differently ("fix the bug", "this is wrong", "it fails on
# empty lists"): asked as a plain chat. Additive instructions (type hints, a docstring, error handling or
# error messages) keep the contract.
_FIX_WORDS = re.compile(
    r"\b(?:fix\w*|bugs?|buggy|wrong|broken|incorrect|errors?(?!\s+(?:handling|messages?|checks?))|fails?"
    r"|failing|crash\w*)\b",
    re.I,
)


def asks_for_a_fix(instruction: str) -> bool:
    """Whether the instruction asks to correct what the code does (rather than to add to it)."""
    return bool(_FIX_WORDS.search(instruction))


def edit_messages(request: EditRequest) -> tuple[ChatMessage, ...]:
    """The chat of an edit. A fix of the selection alone is asked as a plain chat (``_plain_message``);
    anything else under the edit-block contract (EDIT_SYSTEM_PROMPT): related code in other files needs
    its SEARCH/REPLACE rules, and additive instructions do better under it (bench/edit_bench.py, the
    bundled 0.5B, N = 10: type hints 10/10 under the contract; asked plainly it answered HumanEval/32's
    function without a single hint, as the raw model does)."""
    plain = not request.related and asks_for_a_fix(_first_instruction(request))
    first = _plain_message(request) if plain else _contract_message(request)
    messages = [] if plain else [ChatMessage("system", EDIT_SYSTEM_PROMPT)]
    messages.append(ChatMessage("user", first))
    if request.history:
        messages.append(ChatMessage("assistant", request.history[0][1]))
        for user, assistant in request.history[1:]:
            messages.append(ChatMessage("user", user))
            messages.append(ChatMessage("assistant", assistant))
        messages.append(ChatMessage("user", request.instruction))
    return tuple(messages)


def _first_instruction(request: EditRequest) -> str:
    return request.history[0][0] if request.history else request.instruction


def _plain_message(request: EditRequest) -> str:
    """The instruction, then the code in a fence: what a user types into a chat, with no system prompt of
    ours. Given the contract instead ("say what you will change, then the code"), the bundled 0.5B answered
    all 30 "fix the bug" tasks of bench/edit_bench.py with "To fix the bug ... we need to ensure that ...",
    a restated docstring and, in 14 of them, the code unchanged (code changed 12/30, vs 20/30 in a plain
    chat). It gets no file name and no import lines either: with them, in this shape, it did no better
    (passed 5/30 vs 6/30, code changed 19/30 vs 20/30; docs/benchmarks.md, model edits). The answer's
    prose never reaches the code: the parser takes the fenced block that has the selection's first line."""
    tag = request.language
    parts = [_first_instruction(request), f"```{tag}\n{request.selection.rstrip()}\n```"]
    if request.findings:
        parts.append("Problems found in this code:\n" + "\n".join(f"- {f}" for f in request.findings))
    return "\n\n".join(parts)


def _contract_message(request: EditRequest) -> str:
    """The first user message under EDIT_SYSTEM_PROMPT: related code from other files, the file's imports,
    the code to change, its problems, the instruction."""
    tag = request.language
    parts = []
    for related in request.related:
        parts.append(f"{related.path} ({related.reason}):\n```{tag}\n{related.text.rstrip()}\n```")
    # Only the code to change is shown from the file: small models copy whatever surrounding code they are
    # shown instead of changing the selection. Cross-file code the graph found is labelled as such.
    if request.imports.strip():
        parts.append(f"Imports of {request.path}:\n```{tag}\n{request.imports.strip()}\n```")
    parts.append(f"Code to change, from {request.path}:\n```{tag}\n{request.selection.rstrip()}\n```")
    if request.findings:
        parts.append(
            "Problems found in the code to change:\n" + "\n".join(f"- {f}" for f in request.findings)
        )
    parts.append(f"Instruction: {_first_instruction(request)}")
    return "\n\n".join(parts)


# -- parsing the answer ------------------------------------------------------------------------------

# A model's multi-file edit: a path line, then SEARCH/REPLACE markers (the aider-style convention).
_BLOCK = re.compile(
    r"(?:^|\n)(?P<path>[^\n`<>=]+?)\s*\n(?:```[^\n]*\n)?<{5,9} SEARCH\n(?P<search>.*?)\n?={5,9}\n"
    r"(?P<replace>.*?)\n?>{5,9} REPLACE",
    re.DOTALL,
)
# Import statements of the common languages: what a model copies from the "Imports of" part of the prompt.
_IMPORT_LINE = re.compile(r"^(?:import|from|use|using|#include|require)\b|^(?:const|let|var) .*\brequire\(")


@dataclass(frozen=True)
class EditBlock:
    path: str | None  # None: the selection the request was about
    search: str
    replace: str


def parse_edit_blocks(answer: str, selection: str = "") -> list[EditBlock]:
    """SEARCH/REPLACE blocks with their paths; else the fenced block of the new selection."""
    blocks = [
        EditBlock(m.group("path").strip().strip("`*: "), m.group("search"), m.group("replace"))
        for m in _BLOCK.finditer(answer)
    ]
    if blocks:
        return blocks
    return [EditBlock(None, "", code_of_answer(answer, selection))]


def code_of_answer(answer: str, selection: str = "") -> str:
    """The code of a whole-selection answer: its fenced block (an unterminated fence runs to the end, as
    when the model hit max_tokens), else the text without the prose around it. The fence lines and the
    chatter ("Here is the updated code:") never reach the code.

    The answer's sentence about the change may quote the changed line in a fence of its own before the
    whole new version: of several blocks, the first that has the selection's first line is the new
    selection, else the first with code."""
    text = strip_reasoning(answer)
    blocks = fenced_blocks(text)
    if not blocks:
        return drop_chatter(text)
    anchor = next((line.strip() for line in selection.split("\n") if line.strip()), "")
    with_code = [block for block in blocks if block.strip()]
    whole = next((block for block in with_code if anchor and _has_line(block, anchor)), None)
    return whole if whole is not None else (with_code[0] if with_code else "")


def _has_line(code: str, stripped_line: str) -> bool:
    return any(line.strip() == stripped_line for line in code.split("\n"))


def trim_echoed_context(
    new_text: str,
    before: str,
    selection: str,
    after: str,
    redefines_file_names: Callable[[str], bool] | None = None,
) -> str:
    """Drop what a model repeated from around the selection: leading lines that are code before the
    selection (up to the selection's first line), and trailing lines that are code after it.

    ``redefines_file_names(head)`` tells whether a head of added lines (re)defines names the file already
    defines elsewhere (a model re-inventing a class it was not asked to touch): such a head is dropped too.
    """
    anchor = next((line.strip() for line in selection.split("\n") if line.strip()), "")
    known_before = {line.strip() for line in before.split("\n")}
    lines = _without_copied_imports(new_text.split("\n"), known_before, selection)
    if anchor and anchor not in known_before:
        for index, line in enumerate(lines):
            if line.strip() == anchor:
                head = lines[:index]
                echoed = all(not text.strip() or text.strip() in known_before for text in head)
                if index and (echoed or (redefines_file_names and redefines_file_names("\n".join(head)))):
                    lines = lines[index:]
                break
    after_lines = [line.strip() for line in after.split("\n") if line.strip()]
    if after_lines:
        known_after = set(after_lines)
        for index, line in enumerate(lines):
            if index and line.strip() == after_lines[0]:
                rest = lines[index:]
                if all(not text.strip() or text.strip() in known_after for text in rest):
                    lines = lines[:index]
                    while lines and not lines[-1].strip():
                        lines.pop()
                    break
    return "\n".join(lines)


def _without_copied_imports(lines: list[str], known_before: set[str], selection: str) -> list[str]:
    """Drop leading import lines the file already has above the selection (and the blank lines after
    them): the prompt shows the file's imports for reference, and small models paste them back on top of
    the replacement, which puts them inside the edited range (inside a function, or twice in the file)."""
    own = {line.strip() for line in selection.split("\n")}
    index = 0
    dropped = False
    while index < len(lines):
        text = lines[index].strip()
        if not text and dropped:
            index += 1
        elif text and _IMPORT_LINE.match(text) and text in known_before and text not in own:
            index += 1
            dropped = True
        else:
            break
    return lines[index:] if dropped else lines


def echoes_surroundings(new_text: str, before: str, selection: str, after: str) -> bool:
    """True when an answer mostly repeats code around the selection rather than changing it."""
    around = {line.strip() for line in (before + "\n" + after).split("\n") if line.strip()}
    own = {line.strip() for line in selection.split("\n") if line.strip()}
    lines = [line.strip() for line in new_text.split("\n") if line.strip()]
    if not lines:
        return False
    echoed = sum(1 for line in lines if line in around and line not in own)
    return echoed / len(lines) > 0.5
