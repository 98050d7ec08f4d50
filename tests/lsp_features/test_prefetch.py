"""``roost/cursorIdle`` end to end over stdio: where the editor's cursor rests, the completion prompt is
built and prefilled into the in-process engine's prefix cache (``completion.prefetch``), so the first
suggestion there reuses it; never for a document the policy refuses, never sent to a model server, and a
malformed notification changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, fake_backend_options
from lsp_harness import REPO_ROOT, LspSession, lsp_session, server_env
from lsprotocol import types
from model_packages import shared_model_cache, skip_without_default_model
from test_completion import inline_capabilities

CURSOR_IDLE = "roost/cursorIdle"


def _idle(uri: str, line: int, character: int) -> dict[str, object]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


async def _prefetch_stats(session: LspSession) -> Any:
    stats = await session.client.protocol.send_request_async("roost/debugStats", {})
    return stats.prefetch


async def _until_prefetch(
    session: LspSession, condition: Callable[[Any], bool], timeout: float = 30.0
) -> Any:
    """The prefetch counters once ``condition`` holds for them (a request after notifications is answered
    after them: the server reads its input in order)."""

    async def poll() -> Any:
        while not condition(stats := await _prefetch_stats(session)):
            await asyncio.sleep(0.05)
        return stats

    return await asyncio.wait_for(poll(), timeout)


async def test_prefetch_is_started_only_for_a_served_cursor_and_never_reaches_a_model_server(
    workspace: Path, fake_model: FakeOpenAI
) -> None:
    (workspace / ".env").write_text("API_TOKEN=not-for-models\n")
    options = fake_backend_options(fake_model, completion={"debounce_ms": 0})
    async with lsp_session(
        workspace, initialization_options=options, capabilities=inline_capabilities()
    ) as session:
        await session.wait_for_status("ready")
        uri = session.open("shop/label.py", "def label(circle):\n    return \n")
        env_uri = session.open(".env", "API_TOKEN=not-for-models\n")
        notify = session.client.protocol.notify
        notify(CURSOR_IDLE, {"position": {"line": 0, "character": 0}})  # no document
        notify(CURSOR_IDLE, _idle(uri, 1, -3))  # a negative column
        notify(CURSOR_IDLE, _idle(uri, 9, 0))  # past the end of the document
        notify(CURSOR_IDLE, _idle("file:///nowhere/else.py", 0, 0))  # not open
        notify(CURSOR_IDLE, _idle(env_uri, 0, 3))  # a secrets file: no prompt is built
        stats = await _until_prefetch(session, lambda stats: stats.notifications >= 5)
        assert (stats.notifications, stats.started) == (5, 0)

        notify(CURSOR_IDLE, _idle(uri, 1, 11))
        await _until_prefetch(session, lambda stats: stats.notifications >= 6 and stats.started >= 1)
        # The model server was never asked: its prompt cache is not ours to fill.
        assert fake_model.completion_requests() == []
        # The server still answers requests as before.
        fake_model.rules.append(("def label(", "circle.name"))
        result = await session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=11),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            )
        )
        assert result is not None and [item.insert_text for item in result.items] == ["circle.name"]


async def test_the_setting_off_prefetches_nothing(workspace: Path, fake_model: FakeOpenAI) -> None:
    options = fake_backend_options(fake_model, completion={"debounce_ms": 0, "prefetch": False})
    async with lsp_session(workspace, initialization_options=options) as session:
        await session.wait_for_status("ready")
        uri = session.open("shop/label.py", "def label(circle):\n    return \n")
        automatic = types.CodeActionTriggerKind.Automatic
        await session.client.text_document_code_action_async(_code_action(uri, (1, 11), (1, 11), automatic))
        session.client.protocol.notify(CURSOR_IDLE, _idle(uri, 1, 11))
        stats = await _until_prefetch(session, lambda stats: stats.notifications >= 1)
        assert stats.codeActionRests == 0
        await asyncio.sleep(0.5)  # a prefetch would have been counted when its prompt was built
        assert (await _prefetch_stats(session)).started == stats.started == 0


@contextlib.asynccontextmanager
async def _checkout_session(
    tmp_path: Path, options: dict[str, Any], *, extra: str = ""
) -> AsyncIterator[tuple[LspSession, str, types.Position]]:
    """The real model's server on a copy of examples/, ``checkout.py`` open with ``extra`` code and a new
    function whose body is to be completed: (session, the document's URI, the cursor)."""
    skip_without_default_model()
    root = tmp_path / "examples"
    shutil.copytree(
        REPO_ROOT / "examples", root, ignore=shutil.ignore_patterns("__pycache__", "node_modules")
    )
    text = (
        (root / "shop/services/checkout.py").read_text()
        + extra
        + "\n\ndef total_cents(cart) -> int:\n    return "
    )
    env = server_env(tmp_path, {"ROOST_CACHE_DIR": shared_model_cache()})
    async with lsp_session(
        root, initialization_options=options, capabilities=inline_capabilities(), env=env
    ) as session:
        await session.wait_for_status("ready", timeout=120)
        uri = session.open("shop/services/checkout.py", text)
        lines = text.split("\n")
        yield session, uri, types.Position(line=len(lines) - 1, character=len(lines[-1]))


async def _invoked_details(session: LspSession, uri: str, cursor: types.Position) -> Any:
    """An invoked inline completion at ``cursor``, then its ``roost/completionDetails``."""
    await session.client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=cursor,
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        )
    )
    return await session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri})


@pytest.mark.model
async def test_the_first_suggestion_at_a_rested_cursor_reuses_the_prefetched_prompt(tmp_path: Path) -> None:
    options = {"completion": {"max_tokens": 8, "debounce_ms": 0}, "context": {"budget": 512}}
    async with _checkout_session(tmp_path, options) as (session, uri, cursor):
        session.client.protocol.notify(CURSOR_IDLE, _idle(uri, cursor.line, cursor.character))

        stats = await _until_prefetch(session, lambda stats: stats.warmedTokens > 0, timeout=180)
        assert stats.started == 1
        details = await _invoked_details(session, uri, cursor)
        assert details.source == "model", details
        generation = details.generation
        # All of the prompt but the token that must run to give the next token's logits came from the
        # prefetch (without it: 0 reused, the whole prompt prefilled now).
        assert generation.reused_prompt_tokens == generation.prompt_tokens - 1, generation
        assert generation.prompt_tokens - 1 <= stats.warmedTokens


@pytest.mark.model
async def test_a_cold_cursor_answers_from_a_shorter_prompt_and_the_whole_one_is_warmed_after(
    tmp_path: Path,
) -> None:
    """``completion.first_answer_ms`` end to end: the real engine's estimate (its calibrated speed, its prefix
    cache) says the whole prompt would not answer within 1 ms, so the answer comes from a shorter prompt and
    the whole one is prefetched after (tests/lsp_features/test_quick_prompt.py has the policy's cases)."""
    options = {
        "completion": {"max_tokens": 8, "debounce_ms": 0, "first_answer_ms": 1},
        "context": {"budget": 768},
    }
    # checkout.py alone fits the shortest quick prompt (384 tokens) whole: a longer file.
    extra = "".join(f"\n\ndef discount_{n}(cents: int) -> int:\n    return cents - {n}\n" for n in range(40))
    async with _checkout_session(tmp_path, options, extra=extra) as (session, uri, cursor):
        details = await _invoked_details(session, uri, cursor)
        assert details.source == "model" and details.quick_prompt, details
        assert details.prompt_tokens <= 400, details  # the shortest quick prompt (384 tokens), not 768
        stats = await _until_prefetch(session, lambda stats: stats.warmedTokens > 0, timeout=180)
        assert stats.quickAnswers == 1 and stats.started == 1
        assert stats.warmedTokens > details.prompt_tokens, "the whole prompt was warmed, not the short one"


def _code_action(uri: str, start: tuple[int, int], end: tuple[int, int], trigger: Any) -> Any:
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(*start), end=types.Position(*end)),
        context=types.CodeActionContext(diagnostics=[], trigger_kind=trigger),
    )


async def test_a_generic_clients_cursor_resting_where_it_asks_for_code_actions_is_prefetched(
    workspace: Path, fake_model: FakeOpenAI
) -> None:
    """Editors without the Roost extension or plugin send no roost/cursorIdle; many ask for code actions
    at the cursor as it moves. An automatic request with an empty range is the cursor: resting there, it is
    prefetched. Not a selection, not one the user invoked, and not from a client that sends cursorIdle."""
    options = fake_backend_options(fake_model, completion={"debounce_ms": 0})
    async with lsp_session(workspace, initialization_options=options) as session:
        await session.wait_for_status("ready")
        uri = session.open("shop/label.py", "def label(circle):\n    return \n")
        actions = session.client.text_document_code_action_async
        automatic, invoked = types.CodeActionTriggerKind.Automatic, types.CodeActionTriggerKind.Invoked
        await actions(_code_action(uri, (0, 4), (0, 9), automatic))  # a selection
        await actions(_code_action(uri, (1, 11), (1, 11), invoked))  # the user asked
        await asyncio.sleep(0.6)
        assert (await _prefetch_stats(session)).started == 0
        # A cursor resting in a secrets file: no prompt is built there (the document policy refuses it).
        (workspace / ".env").write_text("API_TOKEN=not-for-models\n")
        env_uri = session.open(".env", "API_TOKEN=not-for-models\n")
        await actions(_code_action(env_uri, (0, 3), (0, 3), automatic))
        stats = await _until_prefetch(session, lambda stats: stats.codeActionRests >= 1)
        assert stats.started == 0
        # The cursor passes one place and rests at the next.
        await actions(_code_action(uri, (0, 2), (0, 2), automatic))
        await actions(_code_action(uri, (1, 11), (1, 11), automatic))
        stats = await _until_prefetch(session, lambda stats: stats.started >= 1)
        await asyncio.sleep(0.6)
        stats = await _prefetch_stats(session)
        assert (stats.codeActionRests, stats.started) == (2, 1)
        assert fake_model.completion_requests() == [], "nothing reached the model server"

        # Once the client says where its cursor rests itself, code actions are only code actions.
        session.client.protocol.notify(CURSOR_IDLE, _idle(uri, 1, 11))
        await _until_prefetch(session, lambda stats: stats.notifications >= 1 and stats.started >= 2)
        await actions(_code_action(uri, (0, 2), (0, 2), automatic))
        await asyncio.sleep(0.6)
        stats = await _prefetch_stats(session)
        assert (stats.codeActionRests, stats.started) == (2, 2)
