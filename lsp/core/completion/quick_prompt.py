"""A first answer within ``completion.first_answer_ms``: when the engine could not prefill the whole prompt
in time, a shorter one that it can.

On a laptop CPU a new cursor's ~1,000-token prompt takes 5–9 s to prefill (bench/latency_bench.py), so
the first grey text at a cursor the server has not seen waits that long. The engine knows how much of a
prompt its prefix cache holds and how fast it runs here (:meth:`~roost.engine.scheduler.Scheduler.estimate_prefill`);
when the whole prompt's answer would not come within the time, the request is answered from the file
around the cursor under the budget that fits (at least :data:`MIN_QUICK_BUDGET` tokens; no project context
below ``context.min_file_tokens``), and the whole prompt is prefilled in the background so that the next
requests at that cursor get it. On a GPU the whole prompt always fits and nothing changes; a model server
cannot tell, so it always gets the whole prompt.
"""

from __future__ import annotations

import logging

from roost.engine.speed import PrefillEstimate
from roost.engine.types import Backend
from roost.lsp.core.completion.prompt import BuiltPrompt

log = logging.getLogger(__name__)

# What the first answer decodes: the rest of a line (session 8's keystroke answers: 12 tokens p50). A
# multi-line answer comes as its first line first (completion.first_line_early).
FIRST_LINE_TOKENS = 12
# What a request spends outside the model: retrieval and packing, this estimate's tokenising, the gate,
# the JSON-RPC round trip (tens of milliseconds each on the 2-core machine).
PIPELINE_OVERHEAD_S = 0.15
# The shortest quick prompt: the answer then takes longer than asked rather than losing the lines that
# matter. HumanEval single-line through the product on one core (bench/quality_bench.py, 150 tasks): with
# quick prompts of 160 tokens (105 tasks answered from one) pass@1 fell from 0.773 to 0.580 (raw model
# 0.513) while the median task took 2.9 s instead of 3.3 s; most HumanEval prompts fit in 384 tokens whole.
MIN_QUICK_BUDGET = 384


def quick_budget(estimate: PrefillEstimate | None, built: BuiltPrompt, first_answer_ms: int) -> int | None:
    """The token budget of a shorter prompt whose answer fits ``first_answer_ms``, or None when ``built``'s
    own answer fits (mostly cached, or a fast device), the backend could not estimate it (``estimate`` is
    None: see :func:`prefill_estimate`), or the shorter prompt
    would not be shorter."""
    if first_answer_ms <= 0 or estimate is None:
        return None
    seconds = first_answer_ms / 1000.0 - PIPELINE_OVERHEAD_S
    if estimate.answer_s(FIRST_LINE_TOKENS) <= seconds:
        return None
    budget = max(MIN_QUICK_BUDGET, estimate.affordable_prompt_tokens(seconds, FIRST_LINE_TOKENS))
    return budget if budget < built.tokens else None


def prefill_estimate(backend: Backend, built: BuiltPrompt) -> PrefillEstimate | None:
    """The engine's estimate of ``built``'s prefill now (None where the backend cannot tell, e.g. a model
    server, or the estimate failed: it is only a hint). Tokenises the prompt: call it off the event loop."""
    estimate_prefill = getattr(backend, "estimate_prefill", None)
    if estimate_prefill is None:
        return None
    try:
        estimate: PrefillEstimate | None = estimate_prefill(built.prompt.to_request(max_new_tokens=1))
    except Exception as error:  # an estimate is a hint: the request goes on with the fresh prompt
        log.info("prefill estimate failed: %s: %s", type(error).__name__, error)
        return None
    return estimate
