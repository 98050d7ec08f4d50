"""Loading the in-process model shows progress: ``$/progress`` in the editor (the first run joins and
converts the bundled model, about a minute), and the engine's progress never goes back."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import pytest
from lsp_harness import REPO_ROOT, lsp_session, server_env
from lsprotocol import types
from model_packages import shared_model_cache, skip_without_default_model
from pytest_lsp import client_capabilities

from roost.engine.models.default import monotonic_progress, scaled_progress


def test_a_conversion_inside_a_load_keeps_the_bar_rising() -> None:
    """The packaged model's own 0..1 (join, convert, "ready" at 1.0) is a sub-step of the load, which then
    goes on with its own steps (weights at 0.1, tokenizer at 0.85): the whole must never fall back."""
    seen: list[tuple[str, float | None]] = []
    load = monotonic_progress(lambda message, fraction: seen.append((message, fraction)))
    conversion = scaled_progress(load, 0.0, 0.8)
    load("locating model", 0.0)
    for message, fraction in [("joining", 0.2), ("loading GGUF", 0.25), ("saved", 0.95), ("ready", 1.0)]:
        conversion(message, fraction)
    load("loading weights", 0.1)
    load("loading tokenizer", 0.85)
    load("unknown step", None)
    load("model ready", 1.0)
    fractions = [fraction for _message, fraction in seen if fraction is not None]
    assert fractions == sorted(fractions), seen
    assert fractions[-1] == 1.0 and max(fractions[:-2]) <= 0.8, seen
    assert ("unknown step", None) in seen


async def test_loading_the_in_process_model_reports_work_done_progress(tmp_path: Path) -> None:
    skip_without_default_model()
    pytest.importorskip("torch", reason="the in-process engine needs the local extra")
    root = tmp_path / "ws"
    shutil.copytree(REPO_ROOT / "examples" / "shop", root / "shop")
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    options = {"completion": {"max_tokens": 4, "debounce_ms": 0}, "index": {"watch": False}}
    env = server_env(tmp_path, {"ROOST_CACHE_DIR": shared_model_cache()})
    async with lsp_session(
        root, initialization_options=options, capabilities=capabilities, env=env
    ) as session:
        uri = session.open("shop/models.py", "def area(width, height):\n    return ")
        await asyncio.wait_for(
            session.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=1, character=11),
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                )
            ),
            timeout=180,
        )
        reports = session.client.progress_reports
        loads = [
            values
            for values in reports.values()
            if values and getattr(values[0], "title", "") == "Roost: loading the model"
        ]
    assert len(loads) == 1, f"no $/progress for the model load: {reports}"
    begin, *steps, end = loads[0]
    assert isinstance(begin, types.WorkDoneProgressBegin)
    assert isinstance(end, types.WorkDoneProgressEnd)
    assert steps and all(isinstance(step, types.WorkDoneProgressReport) for step in steps)
    percentages = [step.percentage for step in steps if step.percentage is not None]
    assert percentages == sorted(percentages) and percentages[-1] == 100, steps
    assert any("loading weights" in (step.message or "") for step in steps), steps


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_line_bar_draws_on_a_terminal_and_logs_lines_elsewhere() -> None:
    """`roost engine serve` feeds this bar: a drawn bar on a terminal, one line per step in a log (the
    shared engine's stderr), closed when the load reports 1.0 so the server's own lines follow it."""
    from roost.lsp.cli.progress_bar import TerminalProgressBar

    outputs = []
    for stream in (io.StringIO(), _Terminal()):
        bar = TerminalProgressBar("roost engine", stream)
        load = monotonic_progress(bar)
        load("locating model", 0.0)
        scaled_progress(load, 0.0, 0.8)("joining model parts", 0.2)
        load("model ready", 1.0)
        load("after the end", 1.0)
        bar.close()
        outputs.append(stream.getvalue())
    logged, drawn = outputs
    assert logged.splitlines() == [
        "roost engine: locating model",
        "roost engine: joining model parts",
        "roost engine: model ready",
    ]
    assert "━" in drawn and "100%" in drawn and "model ready" in drawn and "after the end" not in drawn
