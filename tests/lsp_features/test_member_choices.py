"""At ``receiver.▮`` the completion request carries the receiver's names as the engine's start choices
(``completion.member_choices``): the pipeline with the real retriever on a small workspace, a scripted
backend recording the requests; the engine's side is tests/engine/test_start_choices.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_prompt_reuse import make_pipeline

from roost.engine.start_choices import choice_bias
from roost.engine.types import GenerationRequest, GenerationTimings, TextChunk
from roost.lsp.core.completion.pipeline import CompletionInput
from roost.lsp.core.completion.prompt import choice_priors, start_choices

UNITS = """METRE = 1.0


def to_metres(feet):
    return feet * 0.3048


def to_feet(metres):
    return metres / 0.3048
"""


class RecordingBackend:
    name = "recording"

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
        self.requests.append(request)
        yield TextChunk(text="x")
        yield TextChunk(text="", finish_reason="stop", timings=GenerationTimings())


async def request_at(
    root: Path, line: str, *, member_choices: bool = True, heals: bool = True
) -> GenerationRequest:
    (root / "units.py").write_text(UNITS)
    text = f"import units\n\n\ndef report(side):\n    {line}\n"
    (root / "main.py").write_text(text)
    offset = text.index(line) + len(line)
    backend = RecordingBackend()
    pipeline = make_pipeline(root, backend, suffix_first=heals, member_choices=member_choices)
    await pipeline.complete(
        CompletionInput("main.py", "python", text, 4, 4 + len(line), offset, uri="file:///w/main.py")
    )
    assert len(backend.requests) == 1
    return backend.requests[0]


async def test_the_request_at_a_module_member_carries_its_names_from_the_forced_start(tmp_path: Path) -> None:
    request = await request_at(tmp_path, "return units.to_")
    # Token healing leaves ``.to_`` to the model: the choices start there; only names that fit what is typed.
    assert request.forced_start == ".to_"
    assert set(request.start_choices) == {".to_metres", ".to_feet"}


async def test_without_healing_the_choices_are_the_rest_of_the_names(tmp_path: Path) -> None:
    request = await request_at(tmp_path, "return units.to_", heals=False)
    assert request.forced_start == "" and set(request.start_choices) == {"metres", "feet"}


async def test_no_choices_when_the_setting_is_off_or_away_from_a_receiver(tmp_path: Path) -> None:
    assert (await request_at(tmp_path, "return units.", member_choices=False)).start_choices == ()
    assert (await request_at(tmp_path, "return side + ")).start_choices == ()


@pytest.mark.parametrize(
    ("prefix", "suffix", "forced", "expected"),
    [
        ("x = json.lo", "\n", ".lo", (".load", ".loads")),
        ("x = json.", "(s)\n", ".", (".dump", ".load", ".loads")),
        ("x = json.lo", "ads(s)\n", ".lo", ()),  # inside a word: a name would not end at the cursor
        ("x = json", "\n", "json", ()),  # not after ``receiver.``
    ],
)
def test_start_choices_are_relative_to_the_end_of_the_prompt(prefix, suffix, forced, expected) -> None:
    assert start_choices(("dump", "load", "loads"), prefix, suffix, forced) == expected


async def test_a_kept_context_does_not_keep_the_previous_receivers_names(tmp_path: Path) -> None:
    # Typing on one line keeps the first request's context (StickyRetriever); the names are the cursor's
    # own: after ``units.METRE * side.`` (an unresolved receiver) there are none, not those of ``units``.
    (tmp_path / "units.py").write_text(UNITS)
    backend = RecordingBackend()
    pipeline = make_pipeline(tmp_path, backend, suffix_first=True)
    for line in ("return units.", "return units.METRE * side."):
        text = f"import units\n\n\ndef report(side):\n    {line}\n"
        offset = text.index(line) + len(line)
        await pipeline.complete(
            CompletionInput("main.py", "python", text, 4, 4 + len(line), offset, uri="file:///w/main.py")
        )
    assert pipeline._sticky is not None and pipeline._sticky.kept == 1  # noqa: SLF001
    assert ".to_feet" in backend.requests[0].start_choices
    assert backend.requests[1].start_choices == ()


def test_each_choice_carries_its_line_fit_as_a_prior(monkeypatch) -> None:
    from roost.lsp.core.completion import prompt

    monkeypatch.setattr(prompt, "FIT_PRIOR_WEIGHT", 2.0)
    priors = choice_priors((0.0, 0.2, -0.3), 3)  # dump, load, loads
    assert priors == (0.0, 0.4, -0.6)
    choices = start_choices(("dump", "load", "loads"), "x = json.lo", "\n", ".lo", priors)
    assert choices == (".load", ".loads")
    assert [choice_bias(choice) for choice in choices] == [0.4, -0.6]
    # No prior: a plain name, the model ranks alone; no fits from retrieval count as none.
    assert type(start_choices(("dump",), "x = json.", "\n", ".", (0.0,))[0]) is str
    assert choice_priors((), 2) == (0.0, 0.0)
