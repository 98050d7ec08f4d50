"""Typing on one line keeps the prompt's start, so the engine's prefix-KV cache serves it: the pipeline
with the real retriever on a small workspace (a scripted backend records the prompts), keystroke by
keystroke."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from roost.context.retrieval import RetrievalRequest, Retriever
from roost.context.retrieval.model import CandidateKind, ContextItem, RetrievalResult
from roost.context.retrieval.standalone import ParsedWorkspace
from roost.engine.gate.gate import Gate
from roost.engine.prompts.family import make_format
from roost.engine.prompts.qwen import FIM_PREFIX, FIM_SUFFIX
from roost.engine.types import GenerationRequest, GenerationTimings, TextChunk
from roost.lsp.core.completion.pipeline import CompletionInput, CompletionPipeline, PipelineSettings
from roost.lsp.core.completion.prompt import PromptSettings
from roost.lsp.core.completion.sticky_context import StickyRetriever

SHAPES = '''"""Shapes."""


class Circle:
    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        return 3.14159 * self.radius**2

    def scaled(self, factor: float) -> "Circle":
        return Circle(self.radius * factor)


def circle_area(circle: Circle) -> float:
    return circle.area()


def square_area(side: float) -> float:
    return side * side
'''

UNITS = '''"""Units."""

METRE = 1.0


def to_metres(feet: float) -> float:
    return feet * 0.3048


def to_feet(metres: float) -> float:
    return metres / 0.3048
'''

# The cursor's line is the one holding @@ (what has been typed of it replaces the marker).
MAIN = """import units
from shapes import Circle, circle_area, square_area


def report(radius: float, side: float) -> str:
    circle = Circle(radius)
    @@
    return str(circle)
"""
CURSOR_LINE = 6
INDENT = 4


def count_tokens(text: str) -> int:
    return len(text) // 3 + 1


class RecordingBackend:
    """Answers every request with the same text (which the typing never matches: each keystroke is a
    new model call) and keeps the prompts."""

    name = "recording"

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.forced_starts: list[str] = []

    def count_tokens(self, text: str) -> int:
        return count_tokens(text)

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
        self.prompts.append(request.prompt)
        self.forced_starts.append(request.forced_start)
        yield TextChunk(text="pass")
        yield TextChunk(text="", finish_reason="stop", timings=GenerationTimings())


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "shapes.py").write_text(SHAPES)
    (tmp_path / "units.py").write_text(UNITS)
    (tmp_path / "main.py").write_text(MAIN.replace("@@", "pass"))
    return tmp_path


def make_pipeline(
    root: Path,
    backend: Any,
    budget: int = 2048,
    *,
    suffix_first: bool = False,
    member_choices: bool = True,
) -> CompletionPipeline:
    async def get_backend() -> Any:
        return backend

    services = SimpleNamespace(
        backend=get_backend,
        retriever=Retriever(ParsedWorkspace(root), redact=lambda text: text),
        gate=Gate(),
        workspace_secrets=frozenset(),
        prompt_format=make_format("qwen2.5-coder", heals_forced_start=suffix_first),
        root=root,
        index_service=None,
    )
    settings = PipelineSettings(
        debounce_ms=0, prompt=PromptSettings(budget=budget), member_choices=member_choices
    )
    return CompletionPipeline(services, lambda: settings)


def typed(document: str, line: int, indent: int, text: str) -> CompletionInput:
    """``document`` with ``text`` typed at ``indent`` on ``line`` (its @@), the cursor after it."""
    content = document.replace("@@", text)
    offset = sum(len(part) + 1 for part in content.split("\n")[:line]) + indent + len(text)
    return CompletionInput(
        "main.py", "python", content, line, indent + len(text), offset, uri="file:///w/main.py"
    )


def context_block(prompt: str) -> str:
    """The prompt up to the document's prefix: the repository header and the other files' snippets."""
    return prompt.split(FIM_PREFIX, 1)[0]


async def type_line(pipeline: CompletionPipeline, backend: RecordingBackend, line: str) -> list[str]:
    """The prompts of the request at the line's start and after each keystroke."""
    for count in range(len(line) + 1):
        outcome = await pipeline.complete(typed(MAIN, CURSOR_LINE, INDENT, line[:count]))
        assert outcome.source in ("model", "empty"), outcome
        assert 0 < outcome.prompt_tokens <= 2048
    assert len(backend.prompts) == len(line) + 1, "every keystroke was a model call"
    return backend.prompts


async def test_typing_a_line_keeps_the_context_block_byte_for_byte(workspace: Path) -> None:
    """Retrieval reranks the same snippets as the line grows (a name typed on it scores its definition
    up): the prompt keeps the first request's block, so only the cursor's line and what follows it
    differ from the previous prompt; each prompt still shows the line as typed."""
    line = "total = circle_area(circle.scaled(2)) + square_area(side)"
    backend = RecordingBackend()
    prompts = await type_line(make_pipeline(workspace, backend), backend, line)

    first_block = context_block(prompts[0])
    assert "class Circle" in first_block and "def square_area" in first_block
    for count, prompt in enumerate(prompts):
        assert context_block(prompt) == first_block, line[:count]
        document_prefix = prompt.split(FIM_PREFIX, 1)[1].split(FIM_SUFFIX, 1)[0]
        assert document_prefix.endswith("    " + line[:count])

    # What retrieval alone would have done: a different order of the same snippets at several keystrokes.
    retriever = Retriever(ParsedWorkspace(workspace), redact=lambda text: text)
    orders = set()
    for count in range(len(line) + 1):
        request = typed(MAIN, CURSOR_LINE, INDENT, line[:count])
        result = retriever.retrieve(
            RetrievalRequest("main.py", request.text, request.line, request.col),
            count_tokens,
            1024,
        )
        orders.add(tuple((item.path, item.start_line, item.kind) for item in result.items))
    assert len(orders) > 2, "the test exercises retrieval's reranking"


async def test_suffix_first_keeps_the_whole_prompt_while_a_word_is_typed(workspace: Path) -> None:
    """Suffix first (SPM with token healing): the prompt ends before the cursor's partial word, which
    goes as the forced start, so typing a word changes no prompt byte (the engine reuses all of its KV)
    and a new word only appends; prompt + forced start is always the document's prefix."""
    line = "total = circle_area(circle)"
    backend = RecordingBackend()
    prompts = await type_line(make_pipeline(workspace, backend, suffix_first=True), backend, line)
    for count, (prompt, forced) in enumerate(zip(prompts, backend.forced_starts, strict=True)):
        assert prompt.endswith("\n" if count <= len("total") else "")
        document_prefix = prompt.rsplit("<|fim_middle|>", 1)[1] + forced
        assert document_prefix.endswith("\n    " + line[:count]), (count, forced)
        if count:
            previous = prompts[count - 1]
            assert prompt.startswith(previous), "keystrokes only append to the prompt"
    assert len(set(prompts[: len("total") + 1])) == 1, "typing the first word changed no prompt byte"
    assert backend.forced_starts[len("total")] == "    total"


async def test_a_receivers_members_the_context_does_not_show_renew_it(workspace: Path) -> None:
    """``units.t``: the definitions of the members that fit are retrieved for the cursor and were not in
    the kept context: the block is renewed to show them, then kept while the member's name is typed."""
    line = "value = units.to_metres(side)"
    backend = RecordingBackend()
    prompts = await type_line(make_pipeline(workspace, backend), backend, line)
    blocks = [context_block(prompt) for prompt in prompts]
    renewed = [count for count in range(1, len(blocks)) if blocks[count] != blocks[count - 1]]
    assert renewed, "the receiver's members came in"
    assert all(
        line[: count - 1].endswith("units.") or line[:count].endswith("units.t") for count in renewed
    ), [line[:count] for count in renewed]
    assert "def to_feet(metres: float) -> float" in blocks[-1]
    assert blocks[line.index("units.t") + len("units.t") :] == [blocks[-1]] * (
        len(line) - line.index("units.t") - 6
    )


def test_an_edit_elsewhere_in_the_document_retrieves_afresh(workspace: Path) -> None:
    """Only the cursor's line may have changed since the kept context was retrieved."""
    sticky = StickyRetriever(Retriever(ParsedWorkspace(workspace), redact=lambda text: text))

    def ask(document: str, text: str) -> None:
        request = typed(document, CURSOR_LINE, INDENT, text)
        sticky.retrieve(
            RetrievalRequest("main.py", request.text, request.line, request.col),
            count_tokens,
            1024,
        )

    ask(MAIN, "total = ")
    ask(MAIN, "total = c")
    assert sticky.kept == 1
    ask(MAIN.replace("circle = Circle(radius)", "circle = Circle(radius * 2)"), "total = ci")
    assert sticky.kept == 1, "a change on another line: retrieved afresh"
    ask(MAIN.replace("circle = Circle(radius)", "circle = Circle(radius * 2)"), "total = cir")
    assert sticky.kept == 2


async def test_the_prefix_start_stays_while_typing_under_a_small_budget(workspace: Path) -> None:
    """A document longer than the budget: the prefix is cut on a line grid (the packer's), so typing a line
    moves the prefix's first line at most once (when the growing line pushes the cut over a grid line),
    not at every keystroke."""
    filler = "".join(f"    step_{n} = radius * {n}\n" for n in range(120))
    long_main = MAIN.replace("    circle = Circle(radius)\n", filler + "    circle = Circle(radius)\n")
    line_number = CURSOR_LINE + 120
    backend = RecordingBackend()
    pipeline = make_pipeline(workspace, backend, budget=512)
    text = "total = circle_area(circle) + 1"
    for count in range(len(text) + 1):
        outcome = await pipeline.complete(typed(long_main, line_number, INDENT, text[:count]))
        assert 0 < outcome.prompt_tokens <= 512
    starts = {
        prompt.split(FIM_PREFIX, 1)[0] + prompt.split(FIM_PREFIX, 1)[1].split("\n", 1)[0]
        for prompt in backend.prompts
    }
    assert "step_0 " not in backend.prompts[0], "the prefix was cut"
    assert len(starts) <= 2


class OneSnippetRetriever:
    """Answers every request with one snippet of the document as it is: spanning lines ``start``..``end``,
    showing the text of ``shown`` of them."""

    def __init__(self, kind: CandidateKind, start: int, end: int, shown: list[int]) -> None:
        self.kind, self.start, self.end, self.shown = kind, start, end, shown

    def retrieve(self, request: RetrievalRequest, *args: Any, **kwargs: Any) -> RetrievalResult:
        lines = request.text.splitlines(keepends=True)
        text = "".join(lines[index] for index in self.shown)
        return RetrievalResult(
            items=[ContextItem(request.path, self.start, self.end, text, self.kind, 0.5, "", 9)]
        )


def test_a_snippet_of_this_file_is_stale_only_if_it_shows_the_line_being_typed() -> None:
    """A snippet of the document itself that spans the cursor's line (the enclosing class's outline)
    stays while a body line is typed: it shows signatures, not the line. One that shows the line as it
    was when retrieved is renewed."""
    text = "class Report:\n    def total(self):\n        value = 1\n        return value\n"
    outline = OneSnippetRetriever(CandidateKind.OUTLINE, 0, 3, shown=[0, 1])  # the headers only
    body = OneSnippetRetriever(CandidateKind.DEFINITION, 1, 3, shown=[1, 2, 3])

    def typing(retriever: OneSnippetRetriever) -> int:
        sticky = StickyRetriever(retriever)
        for edited in ("value = 1", "value = 12", "value = 123"):
            request = RetrievalRequest(
                "main.py", text.replace("value = 1\n", edited + "\n"), 2, 8 + len(edited)
            )
            sticky.retrieve(request, count_tokens, 256)
        return sticky.kept

    assert typing(outline) == 2
    assert typing(body) == 0
