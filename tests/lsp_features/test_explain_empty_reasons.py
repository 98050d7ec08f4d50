""" "Why no suggestion?" when the model did answer but post-processing dropped it. Found driving the server
on click: invoked on an empty line after a docstring, the 0.5B wrote 8 tokens (the next line again) and the
explanation said "the model had nothing to suggest at this cursor"."""

from __future__ import annotations

from roost.engine.types import GenerationTimings
from roost.lsp.core.completion.details import explain
from roost.lsp.core.completion.pipeline import CompletionOutcome


def test_an_answer_cut_whole_is_explained_as_such() -> None:
    outcome = CompletionOutcome(source="empty", generation=GenerationTimings(generated_tokens=8))
    reason = explain(outcome, "ready", "").reason
    assert "8 tokens" in reason and "repeated the code around the cursor" in reason


def test_an_answer_stopped_at_the_next_line_is_explained_as_such() -> None:
    outcome = CompletionOutcome(
        source="empty", generation=GenerationTimings(generated_tokens=5), stopped_at_suffix_echo=True
    )
    assert "repeated the code after the cursor" in explain(outcome, "ready", "").reason


def test_no_answer_is_nothing_to_suggest() -> None:
    for generation in (None, GenerationTimings(generated_tokens=1)):
        outcome = CompletionOutcome(source="empty", generation=generation)
        assert explain(outcome, "ready", "").reason == "the model had nothing to suggest at this cursor"
