"""The chat contract for model-driven edits (fix-ups, "Edit selection by instruction", "Fix security
finding"): the instruction, the selection in its file, related code in other files that the graph says
the change affects, findings, and the conversation so far.

Interim home: prompt text belongs to ``roost.engine.prompts``; this module is small on purpose so it can
move there unchanged (it depends on nothing but the engine's ChatMessage).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from roost.engine.types import ChatMessage

EDIT_SYSTEM_PROMPT = (
    "You are a precise code editor inside an editor. You get an instruction, the code to change, and "
    "sometimes related code from other files. If only the code to change changes, reply with its complete "
    "new version in one fenced code block and nothing else. If other files must change too, reply with edit blocks instead, one per change, "
    "each: the file path on its own line, then\n<<<<<<< SEARCH\n(exact existing lines)\n=======\n"
    "(new lines)\n>>>>>>> REPLACE\nKeep the code's style and indentation. Never add secrets."
)


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


def edit_messages(request: EditRequest) -> tuple[ChatMessage, ...]:
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
    first_instruction = request.history[0][0] if request.history else request.instruction
    parts.append(f"Instruction: {first_instruction}")
    messages = [ChatMessage("system", EDIT_SYSTEM_PROMPT), ChatMessage("user", "\n\n".join(parts))]
    if request.history:
        messages.append(ChatMessage("assistant", request.history[0][1]))
        for user, assistant in request.history[1:]:
            messages.append(ChatMessage("user", user))
            messages.append(ChatMessage("assistant", assistant))
        messages.append(ChatMessage("user", request.instruction))
    return tuple(messages)
