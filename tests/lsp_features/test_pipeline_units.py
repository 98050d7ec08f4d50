"""The completion pipeline in process, with a scripted backend (a double): typed-ahead of finished and
in-flight suggestions, cancel-previous, the adaptive debounce, and the gate trying the next candidate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from roost.engine.gate.gate import Gate
from roost.engine.prompts.family import make_format
from roost.engine.prompts.packer import BudgetSplit
from roost.engine.types import GenerationRequest, GenerationTimings, TextChunk
from roost.lsp.config import ContextSettings, RoostConfig
from roost.lsp.core.completion.cache import CompletionCache
from roost.lsp.core.completion.candidates import suffix_echo_stop
from roost.lsp.core.completion.debounce import AdaptiveDebouncer, DebounceOptions
from roost.lsp.core.completion.pipeline import (
    CompletionInput,
    CompletionPipeline,
    PipelineSettings,
    pipeline_settings,
)
from roost.lsp.core.completion.prompt import budget_split
from roost.lsp.core.completion.shape import completion_shape


class ScriptedBackend:
    name = "scripted"

    def __init__(self, answer: str, delay_s: float = 0.0) -> None:
        self.answer = answer
        self.delay_s = delay_s
        self.started = 0
        self.cancelled = 0

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
        self.started += 1
        try:
            await asyncio.sleep(self.delay_s)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        yield TextChunk(text=self.answer)
        yield TextChunk(text="", finish_reason="stop", timings=GenerationTimings())

    async def aclose(self) -> None:
        pass


def make_pipeline(
    backend: Any,
    debounce_ms: float = 0,
    *,
    first_line_early: bool = False,
    first_answer_ms: int = 0,
    typing_keeps_prompt: bool = False,
) -> CompletionPipeline:
    async def get_backend() -> Any:
        return backend

    services = SimpleNamespace(
        backend=get_backend,
        retriever=None,
        gate=Gate(),
        workspace_secrets=frozenset(),
        prompt_format=make_format("qwen2.5-coder"),
        root=None,
        index_service=None,
    )
    settings = PipelineSettings(
        debounce_ms=debounce_ms,
        first_line_early=first_line_early,
        first_answer_ms=first_answer_ms,
        typing_keeps_prompt=typing_keeps_prompt,
    )
    return CompletionPipeline(services, lambda: settings)


def request(text: str, uri: str = "file:///w/a.py") -> CompletionInput:
    line = text.count("\n")
    col = len(text) - (text.rfind("\n") + 1)
    return CompletionInput("a.py", "python", text, line, col, len(text), uri=uri)


BASE = "def area(radius):\n    return "


async def test_typed_ahead_of_an_in_flight_suggestion_shares_the_generation() -> None:
    backend = ScriptedBackend("3.14159 * radius ** 2", delay_s=0.3)
    pipeline = make_pipeline(backend)
    first = asyncio.create_task(pipeline.complete(request(BASE)))
    await asyncio.sleep(0.1)  # the generation is running; the user types "3."
    second = await pipeline.complete(request(BASE + "3."))
    assert second.source == "in_flight" and second.texts == ["14159 * radius ** 2"]
    assert (await first).texts == ["3.14159 * radius ** 2"]
    assert backend.started == 1 and backend.cancelled == 0


async def test_a_new_cursor_cancels_the_previous_generation() -> None:
    backend = ScriptedBackend("radius * radius", delay_s=0.5)
    pipeline = make_pipeline(backend)
    first = asyncio.create_task(pipeline.complete(request(BASE)))
    await asyncio.sleep(0.1)
    other = await pipeline.complete(request(BASE[:-1] + "\n    "))  # the user moved on: a new cursor
    assert other.source == "model"
    await asyncio.gather(first, return_exceptions=True)
    assert backend.cancelled == 1, "the stale generation was cancelled, not left to run"


async def test_blocked_candidate_is_dropped_and_the_next_tried() -> None:
    insecure = "subprocess.call(cmd, shell=True)\n    value = 1"
    backend = ScriptedBackend(insecure)
    pipeline = make_pipeline(backend)
    text = "import subprocess\n\n\ndef run(cmd):\n    "
    outcome = await pipeline.complete(request(text))
    assert outcome.blocked and "B602" in outcome.blocked[0].findings[0]
    assert all("shell=True" not in t for t in outcome.texts)


async def test_cursor_at_the_start_of_a_code_line_gets_whole_lines_above_it() -> None:
    """HumanEval-infilling's cursor: the start of the line after the hole. The hole is several lines; the
    suggestion keeps them all (multi-line), stops where the model repeats the line after the cursor, and
    ends with its newline so that line stays on its own."""
    prefix = "def f(x):\n"
    text = prefix + "    return y\n"
    backend = ScriptedBackend("    y = x + 1\n    y *= 2\n    return y\n")
    pipeline = make_pipeline(backend)
    outcome = await pipeline.complete(
        CompletionInput("a.py", "python", text, 1, 0, len(prefix), uri="file:///w/a.py")
    )
    assert outcome.shape == "multi"
    assert outcome.texts == ["    y = x + 1\n    y *= 2\n"]
    assert completion_shape(None, ["    return y"], 0, 4) == "single", (
        "mid-line (after the indent) stays one line"
    )


async def test_a_multi_line_generation_stops_where_it_would_copy_the_next_line() -> None:
    """The small model goes on past its middle into the code after the cursor; post-processing cuts
    that copy, so the generation stops there instead of running to the token cap."""
    requests: list[GenerationRequest] = []

    class RecordingBackend(ScriptedBackend):
        async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
            requests.append(request)
            async for chunk in super().generate(request):
                yield chunk

    prefix = "def total(items):\n"
    text = prefix + "    for item in items:\n        count += item\n    return count\n"
    pipeline = make_pipeline(RecordingBackend("    count = 0\n"))
    outcome = await pipeline.complete(
        CompletionInput("a.py", "python", text, 1, 0, len(prefix), uri="file:///w/a.py")
    )
    assert outcome.texts == ["    count = 0\n"]
    assert "    for item in items:\n" in requests[-1].stop_sequences
    # At the end of a line, the next line of the suffix is the one not to copy.
    line_end = "def total(items):\n    count = 0"
    assert suffix_echo_stop(line_end, "\n    for item in items:\n") == ("\n    for item in items:\n",)
    assert suffix_echo_stop(line_end, "\n    pass\n") == (), "a short line is no evidence of a copy"


def test_debounce_adapts_to_rhythm_and_is_shorter_at_end_of_line() -> None:
    debouncer = AdaptiveDebouncer(DebounceOptions(base_ms=75))
    assert debouncer.delay_ms(False) == 75
    now = 0.0
    for _ in range(6):
        debouncer.note_request(now)
        now += 0.05
    assert 50 < debouncer.delay_ms(True) < debouncer.delay_ms(False)
    for _ in range(12):  # the whole history window
        debouncer.note_request(now)
        now += 0.2
    assert debouncer.delay_ms(False) > 200, "a slower typist gets a longer wait"


def test_cache_serves_the_rest_of_a_suggestion_when_its_start_is_typed() -> None:
    cache = CompletionCache(4)
    prefix, suffix = "x" * 2000 + "return ", "\n"
    cache.put("u", prefix, suffix, ("value + 1",))
    assert cache.get("u", prefix, suffix) == ("value + 1",)
    assert cache.get("u", prefix + "val", suffix) == ("ue + 1",)
    assert cache.get("u", prefix + "wrong", suffix) is None
    assert cache.get("u", prefix + "val", "different suffix") is None
    for index in range(5):
        cache.put("u", f"{index}", suffix, ("y",))
    assert cache.get("u", prefix, suffix) is None, "least recently used entries are evicted"


def test_the_configuration_maps_onto_one_split() -> None:
    """Shares are weights (normalised once, by BudgetSplit); all three 0 (each is valid on its own) means
    the defaults rather than a server that fails every request."""
    assert budget_split(ContextSettings(prefix_share=0, suffix_share=0, context_share=0)) == BudgetSplit()
    weighted = budget_split(ContextSettings(prefix_share=0.6, suffix_share=0.2, context_share=0.6))
    assert weighted.token_budgets(1400) == BudgetSplit(3, 1, 3).token_budgets(1400)
    config = RoostConfig(context=ContextSettings(budget=2000))
    assert pipeline_settings(config).prompt.token_budgets().context == 1000


class StreamingBackend(ScriptedBackend):
    """Streams its answer a few characters at a time and records how much of it was asked for."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.streamed = ""
        self.closed_early = False

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
        self.started += 1
        try:
            for start in range(0, len(self.answer), 3):
                piece = self.answer[start : start + 3]
                self.streamed += piece
                yield TextChunk(text=piece)
                await asyncio.sleep(0)
            yield TextChunk(text="", finish_reason="length", timings=GenerationTimings())
        except GeneratorExit:
            self.closed_early = True
            raise


# A body line under a loop, then the model runs on past the function into the next definition.
BODY = "def total(items):\n    result = 0\n    for item in items:\n        "
RUNS_ON = (
    "result += item.price\n"
    "        result -= item.discount\n"
    "    return result\n"
    "\n"
    "\n"
    "def average(items):\n"
    "    return total(items) / len(items)\n"
    "\n"
    "\n"
    "def largest(items):\n"
    "    return max(item.price for item in items)\n"
)


async def test_a_multi_line_generation_stops_once_its_lines_leave_the_block() -> None:
    text = BODY + "\n\ndef other():\n    pass\n"
    backend = StreamingBackend(RUNS_ON)
    outcome = await make_pipeline(backend).complete(
        CompletionInput("a.py", "python", text, 3, 8, len(BODY), uri="file:///w/a.py")
    )
    assert outcome.shape == "multi" and outcome.stopped_at_block_end
    assert backend.closed_early, "the generation was left to run to its end"
    assert "def largest" not in backend.streamed
    # What the editor gets is what post-processing made of the whole answer.
    full = make_pipeline(ScriptedBackend(RUNS_ON))
    whole = await full.complete(
        CompletionInput("a.py", "python", text, 3, 8, len(BODY), uri="file:///w/b.py")
    )
    assert outcome.texts == whole.texts == ["result += item.price\n        result -= item.discount"]


# A blank line inserted between two statements (indented): the model writes the next statement again and
# then copies the rest of the function, which post-processing cuts whole.
ECHO_TEXT = "def encode(s, charset):\n    if isinstance(s, bytes):\n        \n        s = s.decode(charset)\n    return s\n"
ECHO_CURSOR = ECHO_TEXT.index("        \n") + len("        ")
ECHOES = "s = s.decode(charset)\n    return s\n\n\ndef decode(s):\n    return s.encode()\n"


async def test_a_generation_whose_first_line_repeats_the_next_line_stops_there() -> None:
    backend = StreamingBackend(ECHOES)
    request = CompletionInput("a.py", "python", ECHO_TEXT, 2, 8, ECHO_CURSOR, uri="file:///w/a.py")
    outcome = await make_pipeline(backend).complete(request)
    assert outcome.shape == "multi" and outcome.stopped_at_suffix_echo
    assert backend.closed_early and "def decode" not in backend.streamed
    # The same as the whole generation gets: nothing (it is the code below the cursor again).
    whole = await make_pipeline(ScriptedBackend(ECHOES)).complete(replace(request, uri="file:///w/b.py"))
    assert outcome.texts == whole.texts == []


async def test_a_generation_inside_its_block_runs_to_its_end() -> None:
    inside = "result += item.price\n        result -= item.discount\n        result += item.tax"
    backend = StreamingBackend(inside)
    outcome = await make_pipeline(backend).complete(
        CompletionInput("a.py", "python", BODY, 3, 8, len(BODY), uri="file:///w/a.py")
    )
    assert not outcome.stopped_at_block_end and not backend.closed_early
    assert backend.streamed == inside


class ProgressBackend(ScriptedBackend):
    """Streams its answer line by line as the in-process engine does: each chunk with the figures so far
    (a 40-token prompt, 32 of them reused), and holds the stream after the first line until released."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.release = asyncio.Event()

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
        self.started += 1
        lines = self.answer.splitlines(keepends=True)
        for count, line in enumerate(lines, start=1):
            yield TextChunk(text=line, timings=self._so_far(count))
            if count == 1:
                await self.release.wait()
        yield TextChunk(text="", finish_reason="stop", timings=self._so_far(len(lines)))

    @staticmethod
    def _so_far(generated: int) -> GenerationTimings:
        return GenerationTimings(prompt_tokens=40, reused_prompt_tokens=32, generated_tokens=generated)


async def test_a_first_line_answered_early_reports_its_model_call_and_so_does_the_follow_up() -> None:
    """``roost/completionDetails`` of a first line answered early had no generation figures (the stream's
    last chunk had not come), nor had the follow-up served from the same generation."""
    answer = "result = 0\n    for item in items:\n        result += item\n    return result\n"
    backend = ProgressBackend(answer)
    pipeline = make_pipeline(backend, first_line_early=True)
    text = "def total(items):\n    "
    early = await pipeline.complete(
        CompletionInput("a.py", "python", text, 1, 4, len(text), uri="file:///w/a.py")
    )
    assert early.early_first_line and early.texts == ["result = 0"]
    assert early.generation is not None
    assert (early.generation.prompt_tokens, early.generation.reused_prompt_tokens) == (40, 32)

    backend.release.set()  # the user accepts the line; the rest comes from the same generation
    accepted = text + "result = 0\n    "
    rest = await pipeline.complete(
        CompletionInput("a.py", "python", accepted, 2, 4, len(accepted), uri="file:///w/a.py")
    )
    assert rest.source == "in_flight" and rest.texts
    assert rest.generation is not None and rest.generation.generated_tokens == 4
    assert backend.started == 1
