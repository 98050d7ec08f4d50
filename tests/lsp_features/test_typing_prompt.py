"""``completion.typing_keeps_prompt``: a keystroke on the line of the document's last request is answered from
that request's prompt with the typed text appended, where the engine says the fresh prompt would take longer to
prefill (a double backend that estimates like the in-process engine: test_quick_prompt.EstimatingBackend)."""

from __future__ import annotations

from test_pipeline_units import make_pipeline
from test_quick_prompt import TEXT, EstimatingBackend, _common_start, _prefetches, request

from roost.engine.prompts.family import make_format
from roost.lsp.core.completion.details import outcome_details
from roost.lsp.core.completion.pipeline import CompletionInput, CompletionPipeline
from roost.lsp.core.completion.prompt import (
    BuiltPrompt,
    FunctionCounter,
    PromptSettings,
    PromptTools,
    build_prompt,
)
from roost.lsp.core.completion.typing_prompt import TypingPrompts


def pipeline(
    backend: EstimatingBackend, *, keeps: bool = True, first_answer_ms: int = 2000
) -> CompletionPipeline:
    return make_pipeline(backend, first_answer_ms=first_answer_ms, typing_keeps_prompt=keeps)


async def test_a_keystroke_after_a_quick_answer_continues_its_prompt() -> None:
    backend = EstimatingBackend()
    completion = pipeline(backend)
    first = await completion.complete(request())
    assert first.quick_prompt
    typed = await completion.complete(request(TEXT + "3"))  # not the suggestion: a new model call
    assert typed.continued_prompt and not typed.quick_prompt, outcome_details(typed)
    assert outcome_details(typed)["continued_prompt"] is True
    before, after = (r.prompt or "" for r in backend.requests[:2])
    # All of the first prompt up to its end (the FIM tokens after the code before the cursor; the suffix
    # here is empty) is the start of the second: the engine's cache holds all of it.
    assert _common_start(before, after) == len(before) - len("<|fim_suffix|><|fim_middle|>")
    assert "return 3" in after and typed.prompt_tokens <= first.prompt_tokens + 2
    assert completion.prefetch_stats.continued_answers == 1
    # The fresh prompt (the whole one, with its 2,048-token budget) is warmed once the document is quiet.
    warm = await _prefetches(backend)
    assert len(warm) == 1 and backend.count_tokens(warm[0].prompt) > 1500


async def test_once_the_fresh_prompt_is_cached_a_keystroke_gets_it() -> None:
    backend = EstimatingBackend()
    completion = pipeline(backend)
    await completion.complete(request())
    await completion.complete(request(TEXT + "3"))
    await _prefetches(backend)
    typed = await completion.complete(request(TEXT + "3 "))
    assert not typed.continued_prompt and not typed.quick_prompt and typed.prompt_tokens > 1500


async def test_off_every_keystroke_builds_its_prompt_afresh() -> None:
    backend = EstimatingBackend()
    completion = pipeline(backend, keeps=False)
    await completion.complete(request())
    typed = await completion.complete(request(TEXT + "3"))
    assert not typed.continued_prompt and typed.quick_prompt  # a quick prompt of its own, as before


def at(text: str, offset: int, uri: str = "file:///w/a.py") -> CompletionInput:
    """A request with the cursor at ``offset`` of ``text``."""
    line = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    return CompletionInput("a.py", "python", text, line, col, offset, uri=uri)


async def test_a_new_line_or_other_code_after_the_cursor_gets_a_fresh_prompt() -> None:
    backend = EstimatingBackend()
    completion = pipeline(backend)
    await completion.complete(request())
    on_next_line = await completion.complete(request(TEXT + "3\n    "))
    assert not on_next_line.continued_prompt

    backend = EstimatingBackend()
    completion = pipeline(backend)
    await completion.complete(request())
    edited_below = TEXT + "3\n\nprint(area(2))\n"  # a character typed, and code added after the cursor
    assert not (await completion.complete(at(edited_below, len(TEXT) + 1))).continued_prompt


async def test_a_backend_that_cannot_estimate_gets_the_fresh_prompt() -> None:
    class ModelServer(EstimatingBackend):
        estimate_prefill = None

    backend = ModelServer()
    completion = pipeline(backend)
    await completion.complete(request())
    typed = await completion.complete(request(TEXT + "3"))
    assert not typed.continued_prompt and typed.prompt_tokens > 1500


def _built(text: str) -> BuiltPrompt:
    req = request(text)
    tools = PromptTools(make_format("qwen2.5-coder"), FunctionCounter(lambda t: len(t) // 3 + 1))
    return build_prompt(
        req, PromptSettings(budget=512), tools, retriever=None, buffer_limit=None, repo_name=""
    )


def test_the_continuation_appends_only_what_was_typed_and_keeps_the_fresh_shape() -> None:
    prompts = TypingPrompts()
    last = _built(TEXT)
    prompts.remember("u", request(TEXT), last)
    fresh = _built(TEXT + "rad")
    fmt = make_format("qwen2.5-coder")
    counter = FunctionCounter(lambda t: len(t) // 3 + 1)
    continued = prompts.continued("u", request(TEXT + "rad"), fresh, fmt, counter)
    assert continued is not None and last.packed_input is not None and continued.packed_input is not None
    assert continued.packed_input.prefix == last.packed_input.prefix + "rad"
    assert continued.packed_input.suffix == last.packed_input.suffix
    assert continued.packed_input.snippets == last.packed_input.snippets
    assert continued.shape == fresh.shape and continued.prompt.forced_start == fresh.prompt.forced_start
    # Nothing typed, a newline, another document, text removed: no continuation.
    assert prompts.continued("u", request(TEXT), fresh, fmt, counter) is None
    assert prompts.continued("u", request(TEXT + "r\n"), fresh, fmt, counter) is None
    assert prompts.continued("other", request(TEXT + "rad"), fresh, fmt, counter) is None
    assert prompts.continued("u", request(TEXT[:-2]), fresh, fmt, counter) is None


def test_only_the_last_documents_are_kept() -> None:
    prompts = TypingPrompts(size=2)
    built = _built(TEXT)
    for uri in ("a", "b", "c"):
        prompts.remember(uri, request(TEXT), built)
    fmt, counter = make_format("qwen2.5-coder"), FunctionCounter(lambda t: len(t) // 3 + 1)
    fresh = _built(TEXT + "r")
    assert prompts.continued("a", request(TEXT + "r"), fresh, fmt, counter) is None
    assert prompts.continued("c", request(TEXT + "r"), fresh, fmt, counter) is not None


async def test_each_document_continues_its_own_prompt() -> None:
    backend = EstimatingBackend()
    completion = pipeline(backend)
    await completion.complete(request())
    other_text = "def other():\n    return "
    await completion.complete(at(other_text, len(other_text), uri="file:///w/b.py"))
    typed = await completion.complete(request(TEXT + "3"))
    assert typed.continued_prompt
    assert "return 3" in (backend.requests[-1].prompt or "") and "def other" not in (
        backend.requests[-1].prompt or ""
    )
