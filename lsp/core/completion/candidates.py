"""What the engine's post-processing makes of an answer at a request's cursor: the stop strings that end a
generation where post-processing would cut it anyway, the cursor as its filters see it, and the candidates
the gate tries, best first."""

from __future__ import annotations

from dataclasses import replace

from roost.engine import postprocess
from roost.engine.types import GenerationRequest
from roost.lsp.core.completion.outcome import CompletionInput
from roost.lsp.core.completion.shape import Shape


def with_extra_stops(
    generation: GenerationRequest, stops: tuple[str, ...], shape: Shape, request: CompletionInput
) -> GenerationRequest:
    extra = stops
    if shape == "single" and not request.prefix.split("\n")[-1].strip():
        extra = ()  # an empty line: the first line may start with a newline-free statement; keep one line later
    if shape == "multi":
        extra += suffix_echo_stop(request.prefix, request.suffix)
    return replace(generation, stop_sequences=tuple(dict.fromkeys(generation.stop_sequences + extra)))


def suffix_echo_stop(prefix: str, suffix: str) -> tuple[str, ...]:
    """A stop at the suffix's next line written out whole: a small model that does not end its middle
    goes on to copy the code after the cursor up to the token cap, and post-processing cuts that copy
    anyway (``cut_suffix_repetition``), so generating it is only time lost. The stop string is the whole
    line, indentation and newline included. At the start of a line the kept text ends with the newline
    before the copy (lines inserted above keep it); elsewhere the stop starts with that newline, so a
    first line that merely continues the cursor's line with the same text is never cut."""
    at_line_start = not prefix.rsplit("\n", 1)[-1]
    following = suffix.split("\n")[0 if at_line_start else 1 :][:-1]  # complete lines only
    next_line = next((line.rstrip() for line in following if line.strip()), "")
    # A short line ("return", "}") could be written for other reasons; the filter keeps those too.
    if len(next_line.strip()) < 8:
        return ()
    return (next_line + "\n",) if at_line_start else ("\n" + next_line + "\n",)


def postprocess_context(request: CompletionInput, shape: Shape) -> postprocess.CompletionContext:
    """The cursor as the post-processing filters see it (also what the block-end stop judges by)."""
    return postprocess.CompletionContext(
        prefix=request.prefix, suffix=request.suffix, language=request.language, single_line=shape == "single"
    )


def replaced_after(request: CompletionInput, text: str) -> int:
    """The characters after ``request``'s cursor that accepting ``text`` replaces (0: it is inserted): the
    closers of ``return {▮}`` where a multi-line suggestion closes them on a line of its own
    (``postprocess.replaced_closers``). A function of the document and the text alone, so it holds for a
    suggestion from the cache or typed ahead as for a fresh one."""
    return postprocess.replaced_closers(text, postprocess_context(request, "multi"))


def postprocess_candidates(answer: str, request: CompletionInput, shape: Shape) -> list[str]:
    """The engine's post-processing filters; candidates best first: the whole suggestion and, for a
    multi-line one, its first line (tried when the gate blocks the whole)."""
    context = postprocess_context(request, shape)
    candidates = [answer]
    if shape == "multi" and "\n" in answer.strip("\n"):
        body = answer.lstrip("\n")
        first_line, newline, _ = body.partition("\n")
        # The newlines before it too: at ``if err != nil {▮`` the block's first line starts on a line of its
        # own (without them it was offered glued to the brace: ``{\t\treturn nil, err``); its newline: lines
        # inserted above a line keep it.
        candidates.append(answer[: len(answer) - len(body)] + first_line + newline)
    return postprocess.postprocess_candidates(candidates, context)
