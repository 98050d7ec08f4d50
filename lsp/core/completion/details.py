"""What one completion did, told the same way everywhere: ``roost/completionDetails``, ``roost complete``'s
JSON and the explain views (``roost/explainCompletion``) read these, so the editor, the CLI and the demo
never describe the same outcome differently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from roost.lsp.core.completion.outcome import CompletionOutcome

# Why the editor shows what it shows: the verdicts the editors' "explain" views name.
Verdict = Literal[
    "offered", "nothing_yet", "loading", "refused", "blocked", "backend_down", "degraded", "empty", "error"
]
_OFFERED_SOURCES = frozenset({"model", "cache", "typed_ahead", "in_flight"})
_LOADING_STATES = frozenset({"starting", "loading_model"})


def _generation_details(outcome: CompletionOutcome) -> dict[str, object] | None:
    """The model call's own figures: how much of the prompt came from the prefix-KV cache, and where the
    time went (prefill of the rest, decode)."""
    timings = outcome.generation
    if timings is None:
        return None
    return {
        "prompt_tokens": timings.prompt_tokens,
        "reused_prompt_tokens": timings.reused_prompt_tokens,
        "generated_tokens": timings.generated_tokens,
        "queue_s": round(timings.queue_s, 4),
        "prefill_s": round(timings.prefill_s, 4),
        "decode_s": round(timings.decode_s, 4),
        "total_s": round(timings.total_s, 4),
    }


def outcome_details(outcome: CompletionOutcome) -> dict[str, object]:
    """The completion's suggestions, source, stage timings, chosen context (0-based lines) and gate
    decisions, as JSON-ready values."""
    return {
        "source": outcome.source,
        "shape": outcome.shape,
        "texts": list(outcome.texts),
        "message": outcome.message,
        "timings_ms": {stage: round(ms, 2) for stage, ms in outcome.timings_ms.items()},
        "prompt_tokens": outcome.prompt_tokens,
        # The first line of a multi-line suggestion, answered while the rest was decoded ("generation" then
        # holds the model call's figures up to that line; the follow-up served from the same generation
        # gets its figures at that time; one served from the cache has none).
        "early_first_line": outcome.early_first_line,
        # Answered from a shorter prompt within completion.first_answer_ms; the whole one is warmed after.
        "quick_prompt": outcome.quick_prompt,
        # Answered from the document's previous prompt with the typed text appended (a keystroke on its line).
        "continued_prompt": outcome.continued_prompt,
        "generation": _generation_details(outcome),
        "context": [
            {
                "path": item.path,
                "start_line": item.start_line,
                "end_line": item.end_line,
                "kind": str(item.kind),
                "score": round(item.score, 3),
                "reason": item.reason,
                "tokens": item.tokens,
            }
            for item in outcome.context
        ],
        "blocked": [{"text": blocked.text, "findings": blocked.findings} for blocked in outcome.blocked],
    }


@dataclass(frozen=True)
class CompletionExplanation:
    """``roost/explainCompletion``'s answer: one verdict, a sentence for the user, the server's state, and
    the last completion's details (:func:`outcome_details`) when there was one."""

    verdict: Verdict
    reason: str
    state: str
    state_message: str
    last: dict[str, object] | None


def explain(outcome: CompletionOutcome | None, state: str, state_message: str) -> CompletionExplanation:
    """The one reason to show. The document's own refusal comes first (it holds whatever the server does),
    then a server that cannot answer yet or at all (loading, error, degraded backend), then the outcome."""
    last = outcome_details(outcome) if outcome is not None else None

    def answer(verdict: Verdict, reason: str) -> CompletionExplanation:
        return CompletionExplanation(verdict, reason, state, state_message, last)

    if outcome is not None and outcome.source == "refused":
        return answer("refused", f"Roost does not complete in this file: {outcome.message}")
    if state in _LOADING_STATES:
        return answer("loading", f"Roost is still starting: {state_message or state}")
    if state == "error":
        return answer("backend_down", state_message or "the server cannot serve completions")
    if outcome is None:
        return answer("nothing_yet", "no completion was asked for in this file yet")
    if outcome.source in _OFFERED_SOURCES:
        count = len(outcome.texts)
        return answer("offered", f"{count} suggestion(s) offered ({outcome.source})")
    if outcome.source == "blocked":
        findings = "; ".join(finding for blocked in outcome.blocked for finding in blocked.findings)
        return answer("blocked", f"the security gate blocked the suggestion: {findings}")
    if state == "degraded":  # the backend is loaded but its requests fail; it recovers by itself
        return answer("degraded", state_message or "the model backend is failing")
    if outcome.source == "unavailable":
        return answer("backend_down", outcome.message or "the model backend is unavailable")
    if outcome.source == "error":
        return answer("error", f"the completion failed: {outcome.message}")
    if outcome.stopped_at_suffix_echo:
        return answer("empty", "the model's suggestion repeated the code after the cursor, so none was shown")
    generated = outcome.generation.generated_tokens if outcome.generation is not None else 0
    if generated > 2:  # more than a line break and the end: the model wrote something, post-processing cut it
        return answer(
            "empty",
            f"the model's answer ({generated} tokens) was not shown: it repeated the code around the cursor "
            "or ran past the cursor's block",
        )
    return answer("empty", "the model had nothing to suggest at this cursor")
