"""The pipeline stops a generation whose line loops on one unit (``postprocess.loops_within_line``): the
model would write it to the token cap, and post-processing keeps one copy whatever comes after."""

from __future__ import annotations

from dataclasses import replace

from test_pipeline_units import ScriptedBackend, StreamingBackend, make_pipeline

from roost.lsp.core.completion.pipeline import CompletionInput

TEXT = "from typing import Callable, \n\n\ndef apply(f):\n    return f()\n"
CURSOR = len("from typing import Callable, ")
LOOP = "Dict, List, Tuple, " * 12


async def test_a_line_that_loops_stops_the_generation_with_the_same_answer() -> None:
    backend = StreamingBackend(LOOP)
    request = CompletionInput("a.py", "python", TEXT, 0, CURSOR, CURSOR, uri="file:///w/a.py")
    outcome = await make_pipeline(backend).complete(request)
    assert outcome.stopped_at_line_loop
    assert backend.closed_early and len(backend.streamed) < len(LOOP) / 2
    whole = await make_pipeline(ScriptedBackend(LOOP)).complete(replace(request, uri="file:///w/b.py"))
    assert outcome.texts == whole.texts == ["Dict, List, Tuple"]


async def test_a_line_that_repeats_by_design_runs_to_its_end() -> None:
    answer = "0, 0, 0, 0, 0, 0, 0, 0]"
    text = "ZEROS = [\n"
    backend = StreamingBackend(answer)
    request = CompletionInput("a.py", "python", text, 0, 9, 9, uri="file:///w/a.py")
    outcome = await make_pipeline(backend).complete(request)
    assert not outcome.stopped_at_line_loop and not backend.closed_early
