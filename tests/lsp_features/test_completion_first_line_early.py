"""``completion.first_line_early`` end to end over stdio: a multi-line suggestion is answered with its first
line while the model still decodes the rest (the scripted model server holds its stream after that line);
the request after the accepted line gets the rest from the same generation; a request elsewhere cancels it;
the gate judges the whole answer before it is cached; with the setting off the whole block comes at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fake_openai import HOLD, FakeOpenAI, fake_backend_options
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from test_completion import _edit, inline_capabilities

from roost.engine.completion_filters.early_stops import first_complete_line
from roost.lsp.config import RoostConfig
from roost.lsp.core.completion.settings import resolved_first_line_early

TOTAL = "def total(values):\n    \n"  # the cursor on the empty body line: a multi-line suggestion
FIRST_LINE = "result = 0"
REST = "\n    for value in values:\n        result += value\n    return result"
BLOCK = FIRST_LINE + REST
# The model's answer, its stream held once the first line is out (a stream ending in a newline could still
# become the "\n\n\n" stop: the backend sends it with the next token).
ANSWER = f"{FIRST_LINE}\n    for{HOLD}{REST[8:]}\n"


def _options(fake: FakeOpenAI, early: str) -> dict[str, object]:
    return fake_backend_options(fake, completion={"debounce_ms": 0, "first_line_early": early})


async def _inline(session: LspSession, uri: str, line: int, character: int) -> str:
    result = await asyncio.wait_for(
        session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Automatic
                ),
            )
        ),
        30,
    )
    return result.items[0].insert_text if result is not None and result.items else ""


@contextlib.asynccontextmanager
async def _early_session(
    workspace: Path, rules: list[tuple[str, str]]
) -> AsyncIterator[tuple[FakeOpenAI, LspSession, str]]:
    """A ready server with first_line_early on, the model scripted by ``rules``, and TOTAL open."""
    with FakeOpenAI(rules=rules) as fake:
        async with lsp_session(
            workspace, initialization_options=_options(fake, "on"), capabilities=inline_capabilities()
        ) as session:
            await session.wait_for_status("ready")
            yield fake, session, session.open("shop/total.py", TOTAL)


async def _details(session: LspSession, uri: str) -> Any:
    return await session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri})


async def _until(condition: Any, timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def test_the_first_line_comes_while_the_block_is_decoded_and_its_acceptance_gets_the_rest(
    workspace: Path,
) -> None:
    async with _early_session(workspace, [("def total(", ANSWER)]) as (fake, session, uri):
        # The model has sent the first line and holds the rest: the answer is that line alone.
        first = await _inline(session, uri, 1, 4)
        assert first == FIRST_LINE
        assert not fake.release.is_set()
        details = await _details(session, uri)
        assert details.source == "model" and details.shape == "multi" and details.early_first_line
        assert details.texts == [FIRST_LINE]

        # Typing the line's first characters: the rest of the line at once, the block still decoding.
        session.client.text_document_did_change(_edit(uri, 2, 1, 4, FIRST_LINE[:3]))
        assert await _inline(session, uri, 1, 7) == FIRST_LINE[3:]
        assert (await _details(session, uri)).early_first_line

        # The editor accepts the line and asks again at the new cursor; the model finishes the block.
        session.client.text_document_did_change(_edit(uri, 3, 1, 7, FIRST_LINE[3:]))
        rest = asyncio.ensure_future(_inline(session, uri, 1, 4 + len(FIRST_LINE)))
        fake.release.set()
        assert await rest == REST
        assert len(fake.completion_requests()) == 1, "the rest comes from the same generation"
        details = await _details(session, uri)
        assert details.source in ("in_flight", "cache") and not details.early_first_line
        assert fake.hung_up == 0


async def test_a_request_that_does_not_continue_the_suggestion_cancels_its_generation(
    workspace: Path,
) -> None:
    rules = [("\n    zz", "_count = 1"), ("def total(", ANSWER)]
    async with _early_session(workspace, rules) as (fake, session, uri):
        assert await _inline(session, uri, 1, 4) == FIRST_LINE
        # The user types something else: the generation still decoding the block is cancelled.
        session.client.text_document_did_change(_edit(uri, 2, 1, 4, "zz"))
        assert await _inline(session, uri, 1, 6) == "_count = 1"
        await _until(lambda: fake.hung_up == 1)
        assert len(fake.completion_requests()) == 2
        # Nothing of the cancelled block was cached: back at the accepted line, the model is asked again.
        fake.release.set()
        session.client.text_document_did_change(_edit(uri, 3, 1, 4, FIRST_LINE, end_character=6))
        await _inline(session, uri, 1, 4 + len(FIRST_LINE))
        assert len(fake.completion_requests()) == 3


async def test_a_request_in_another_document_cancels_the_rest_of_a_block_answered_early(
    workspace: Path,
) -> None:
    rules = [("def other(", "return 1"), ("def total(", ANSWER)]
    async with _early_session(workspace, rules) as (fake, session, uri):
        assert await _inline(session, uri, 1, 4) == FIRST_LINE
        other = session.open("shop/other.py", "def other():\n    \n")
        assert await _inline(session, other, 1, 4) == "return 1"
        await _until(lambda: fake.hung_up == 1)


async def test_a_cursor_resting_in_another_document_cancels_the_rest_of_a_block_answered_early(
    workspace: Path,
) -> None:
    async with _early_session(workspace, [("def total(", ANSWER)]) as (fake, session, uri):
        assert await _inline(session, uri, 1, 4) == FIRST_LINE
        # Resting in the same document keeps it (the accepted line's follow-up may still come) ...
        idle = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}
        session.client.protocol.notify("roost/cursorIdle", idle)
        other = session.open("shop/other.py", "def other():\n    \n")
        await session.client.protocol.send_request_async("roost/debugStats", {})
        assert fake.hung_up == 0
        # ... resting in another one ends it: the engine would not prefetch while it decodes.
        idle = {"textDocument": {"uri": other}, "position": {"line": 1, "character": 4}}
        session.client.protocol.notify("roost/cursorIdle", idle)
        # Well before the backend's 10 s read timeout would hang up the held stream anyway.
        await _until(lambda: fake.hung_up == 1, timeout=4.0)


async def test_a_block_the_gate_blocks_is_not_cached_behind_its_first_line(workspace: Path) -> None:
    insecure = "import subprocess\n\n\ndef run(command):\n    \n"
    first_line = "command = command.strip()"
    rules = [
        (f"    {first_line}<|fim_suffix|>", "  # checked"),
        ("def run(", f"{first_line}\n    sub{HOLD}process.call(command, shell=True)\n    return command\n"),
    ]
    with FakeOpenAI(rules=rules) as fake:
        async with lsp_session(
            workspace, initialization_options=_options(fake, "on"), capabilities=inline_capabilities()
        ) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/run.py", insecure)
            # The first line alone passes the gate: it is offered while the rest is decoded.
            assert await _inline(session, uri, 4, 4) == first_line
            assert (await _details(session, uri)).early_first_line
            session.client.text_document_did_change(_edit(uri, 2, 4, 4, first_line))
            follow_up = asyncio.ensure_future(_inline(session, uri, 4, 4 + len(first_line)))
            fake.release.set()
            # The whole block is blocked (shell=True): its rest is never served; the model is asked afresh.
            answer = await follow_up
            assert "shell=True" not in answer and answer == "  # checked"
            assert len(fake.completion_requests()) == 2
            assert (await _details(session, uri)).source == "model"


async def test_with_the_setting_off_the_whole_block_is_the_answer(workspace: Path) -> None:
    with FakeOpenAI(rules=[("def total(", ANSWER)]) as fake:
        async with lsp_session(
            workspace, initialization_options=_options(fake, "off"), capabilities=inline_capabilities()
        ) as session:
            await session.wait_for_status("ready")
            uri = session.open("shop/total.py", TOTAL)
            answer = asyncio.ensure_future(_inline(session, uri, 1, 4))
            await _until(fake.held.is_set)  # the first line is decoded; the answer waits for the block
            fake.release.set()
            assert await answer == BLOCK
            details = await _details(session, uri)
            assert details.source == "model" and details.early_first_line is False


def test_auto_answers_early_where_the_model_runs_on_this_machines_cpu() -> None:
    config = RoostConfig()
    config.model.device = "cpu"
    assert resolved_first_line_early(config)
    config.backend.kind = "openai"
    assert not resolved_first_line_early(config), "a model server decodes a block in about a line's time"
    config.completion.first_line_early = "on"
    assert resolved_first_line_early(config)
    config.backend.kind, config.completion.first_line_early = "transformers", "off"
    assert not resolved_first_line_early(config)


def test_the_first_complete_line_skips_blank_lines_and_waits_for_its_newline() -> None:
    assert first_complete_line("x = 1") is None
    assert first_complete_line("\n   \n") is None
    assert first_complete_line("\n    x = 1\n    y") == "\n    x = 1\n"
