"""The answer contract of chat-style infill, and a parser that tolerates fences, chatter and reasoning.

Instruct models without FIM tokens are asked to fill a marked hole and to answer with only the code,
in one fenced block. Models break the contract in predictable ways (a sentence before the fence, the
current line repeated, reasoning blocks, an unterminated fence at max_tokens); the parser undoes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

HOLE = "{{FILL_HERE}}"

SYSTEM_PROMPT = (
    "You are a code completion engine inside an editor. The user shows a file with a hole marked "
    f"{HOLE}. Reply with only the code that replaces {HOLE}: no explanation, no comments about the "
    f"change, and do not repeat the code before or after the hole. Write the code in one fenced block "
    "(```language ... ```). If nothing should be inserted, reply with an empty fenced block."
)

# Reasoning blocks: Magistral ([THINK]…[/THINK]) and the <think>…</think> convention of other families.
_REASONING = (("[THINK]", "[/THINK]"), ("<think>", "</think>"))

_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[ \t]*$", re.MULTILINE)
_PROSE_LINE = re.compile(r"^[A-Z][^\n]*[:.!]\s*$")


def fence_for(*texts: str) -> str:
    """A code fence longer than any backtick run in ``texts`` (a Markdown file can contain fences)."""
    longest = max((len(m) for t in texts for m in re.findall(r"`{3,}", t)), default=0)
    return "`" * max(3, longest + 1)


def strip_reasoning(text: str) -> str:
    """Remove reasoning blocks. An unterminated block means the model ran out of tokens while still
    thinking: there is no answer, so nothing after its opening marker is kept."""
    for opener, closer in _REASONING:
        while True:
            start = text.find(opener)
            if start < 0:
                # A closer without an opener: the opener was in the prompt (prefilled) or got cut.
                end = text.find(closer)
                if end >= 0:
                    text = text[end + len(closer) :]
                break
            end = text.find(closer, start + len(opener))
            if end < 0:
                text = text[:start]
                break
            text = text[:start] + text[end + len(closer) :]
    return text


def cut_at_stop_strings(text: str, stops: Iterable[str]) -> str:
    """``text`` up to the earliest occurrence of any stop string."""
    cut = len(text)
    for stop in stops:
        if stop:
            index = text.find(stop)
            if 0 <= index < cut:
                cut = index
    return text[:cut]


def extract_fenced(text: str) -> str | None:
    """Content of the first fenced block with code (an unterminated last fence runs to the end)."""
    blocks = fenced_blocks(text)
    return next((block for block in blocks if block.strip()), "" if blocks else None)


def fenced_blocks(text: str) -> list[str]:
    """Contents of the fenced blocks of ``text`` in order, empty ones included (an unterminated last fence
    runs to the end)."""
    blocks: list[str] = []
    position = 0
    while True:
        match = _FENCE_OPEN.search(text, position)
        if match is None:
            return blocks
        fence = match.group(1)
        body_start = match.end() + 1 if match.end() < len(text) else match.end()
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        close = closing.search(text, body_start)
        body = text[body_start : close.start() if close else len(text)]
        if close is None:
            # The answer stopped inside its closing fence (a token limit, a stop string): "``" is no code.
            body = re.sub(rf"\n[ \t]*{re.escape(fence[0])}{{1,{len(fence) - 1}}}[ \t]*\n?$", "\n", body)
        blocks.append(body[:-1] if body.endswith("\n") else body)
        if close is None:
            return blocks
        position = close.end()


def drop_chatter(text: str) -> str:
    """Without fences: drop prose lines around the code ("Here is the completion:")."""
    lines = text.split("\n")
    while lines and (not lines[0].strip() or _PROSE_LINE.match(lines[0].strip())):
        if not lines[0].strip() and len(lines) > 1 and not _PROSE_LINE.match(lines[1].strip() or "x"):
            break
        lines.pop(0)
    while lines and (not lines[-1].strip() or _PROSE_LINE.match(lines[-1].strip())):
        lines.pop()
    return "\n".join(lines)


def _drop_echoed_prefix(answer: str, prefix: str) -> str:
    """Models often restate the code before the hole. Drop the longest restated tail of the prefix,
    or the current line's typed text when the answer starts with it (with or without indentation)."""
    limit = min(len(prefix), len(answer), 2000)
    for size in range(limit, 7, -1):
        if answer.startswith(prefix[-size:]):
            return answer[size:]
    current_line = prefix.rsplit("\n", 1)[-1]
    typed = current_line.lstrip()
    if typed and answer.lstrip().startswith(typed):
        return answer.lstrip()[len(typed) :]
    # The cursor sits after indentation only: an answer indented the same way would indent twice.
    if current_line and not typed and answer.startswith(current_line):
        return answer[len(current_line) :]
    return answer


def answer_opens_its_own_fence(raw: str, prefill: str) -> bool:
    """Whether ``raw`` is a whole answer rather than the continuation of the prefilled opening fence.

    A backend that cannot continue an assistant turn (an OpenAI-compatible server without
    ``continue_final_message``) drops the prefill, and the model then writes its own fence. A
    continuation never opens a fence as long as the prefilled one (the fence is chosen longer than any
    backtick run in the prompt); it only closes it. So the first such fence line decides: one with a
    language tag opens; a bare one opens only when nothing but prose precedes it and code follows it.
    """
    opened = _FENCE_OPEN.match(prefill.split("\n", 1)[0]) if prefill else None
    if opened is None:
        return False
    fence = opened.group(1)
    text = strip_reasoning(raw)
    for match in _FENCE_OPEN.finditer(text):
        run, tag = match.group(1), match.group(2)
        if run[0] != fence[0] or len(run) < len(fence):
            continue
        if tag:
            return True
        before, after = text[: match.start()], text[match.end() :]
        prose_only = all(not line.strip() or _PROSE_LINE.match(line.strip()) for line in before.split("\n"))
        return prose_only and bool(after.strip())
    return False


def parse_chat_answer(raw: str, *, prefix: str = "", prefill: str = "") -> str:
    """The code to insert at the hole, from a chat model's raw answer.

    ``prefill`` is text the prompt put in the assistant's mouth (usually an opening fence), so the raw
    output may start inside a fence and end at its closing line — unless the backend could not send
    the prefill and the answer opens its own fence (:func:`answer_opens_its_own_fence`).
    """
    if answer_opens_its_own_fence(raw, prefill):
        prefill = ""
    text = strip_reasoning(prefill + raw)
    code = extract_fenced(text)
    if code is None:
        code = drop_chatter(text)
    code = code.replace(HOLE, "")
    return _drop_echoed_prefix(code, prefix)
