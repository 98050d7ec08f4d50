"""Prompts prefilled before they are asked for: the prompt where the cursor rests (``completion.prefetch``),
and the whole prompt after a cheaper one answered (a quick or continued prompt), warmed once the document
is quiet. The engine keeps what a prefill computed in its prefix cache, so the request that follows reuses
that KV instead of prefilling ~1,000 tokens (seconds on a CPU)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from roost.engine.types import Backend, RequestPriority
from roost.lsp.core.completion.outcome import CompletionInput
from roost.lsp.core.completion.prompt import BuiltPrompt, PromptDocument, PromptSettings

log = logging.getLogger(__name__)

# A whole prompt is warmed after a quick answer once its document has had no request for this long: a
# keystroke arriving while it prefills waits for the chunk in progress (~0.4 s on two CPU threads), and
# warming between the keystrokes of a burst made the non-matching keystroke 1.42 s p50 instead of 0.96
# (bench/latency_bench.py --first-answer-ms 2000,0, session 11).
WARM_AFTER_QUIET_S = 0.5


@dataclass
class PrefetchStats:
    """Counts since the server started (``roost/debugStats``): cursor-idle notifications received, resting
    cursors seen through code action requests, prefetches handed to the engine, and prompt tokens they
    prefilled (not found in its cache)."""

    notifications: int = 0
    # Cursors of a client without roost/cursorIdle that rested where code actions were asked for.
    code_action_rests: int = 0
    started: int = 0
    warmed_tokens: int = 0
    # Requests answered from a shorter prompt (completion.first_answer_ms), whose whole prompt was then
    # prefilled like a prefetch.
    quick_answers: int = 0
    # Keystrokes answered from the previous prompt continued (completion.typing_keeps_prompt), whose fresh
    # prompt was then prefilled like a prefetch.
    continued_answers: int = 0


class Prefetcher:
    """The prefetches of one pipeline, at most one per document: a new one cancels the document's previous
    one (the engine keeps what it had computed)."""

    def __init__(
        self,
        backend: Callable[[], Awaitable[Backend]],
        build_prompt: Callable[[PromptDocument, PromptSettings, Backend], BuiltPrompt],
        prompt_settings: Callable[[], PromptSettings],
    ) -> None:
        self._backend = backend
        self._build_prompt = build_prompt  # the very prompt a request builds (same retriever, same context)
        self._prompt_settings = prompt_settings
        self.stats = PrefetchStats()
        self._prefetches: dict[str, asyncio.Task[None]] = {}
        # The prefetches of whole prompts after quick answers (completion.first_answer_ms), by document, with
        # what they prefill: the next request there puts its document's off (see WARM_AFTER_QUIET_S).
        # (None while a request in the document has it paused.)
        self._warms: dict[str, tuple[asyncio.Task[None] | None, CompletionInput, BuiltPrompt]] = {}

    def pause_warm(self, uri: str) -> None:
        """A request in ``uri``: its whole-prompt warm stops until the request is answered (warming meanwhile
        would hold each keystroke up by a prefill chunk; queued during a decode, it would start the moment
        the decode ends, just as the next keystroke comes). What it had prefilled stays cached."""
        warm = self._warms.get(uri)
        if warm is not None and warm[0] is not None and not warm[0].done():
            warm[0].cancel()
            self._warms[uri] = (None, warm[1], warm[2])

    def resume_warm(self, uri: str) -> None:
        """The request is answered: a paused warm waits for the quiet time again, from now (a quick answer to
        the request has replaced it with its own whole prompt)."""
        warm = self._warms.get(uri)
        if warm is not None and warm[0] is None:
            self.start(warm[1], warm[2], after_quiet_s=WARM_AFTER_QUIET_S)

    def start(
        self, request: CompletionInput, built: BuiltPrompt | None, *, after_quiet_s: float = 0.0
    ) -> None:
        previous = self._prefetches.pop(request.uri, None)
        if previous is not None and not previous.done():
            previous.cancel()
        self._warms.pop(request.uri, None)
        task = asyncio.get_running_loop().create_task(self._prefetch(request, built, after_quiet_s))
        self._prefetches[request.uri] = task
        if after_quiet_s and built is not None:
            self._warms[request.uri] = (task, request, built)

        def forget(done: asyncio.Task[None], uri: str = request.uri) -> None:
            if self._prefetches.get(uri) is done:
                del self._prefetches[uri]
            warm = self._warms.get(uri)
            if warm is not None and warm[0] is done:
                del self._warms[uri]

        task.add_done_callback(forget)

    async def _prefetch(
        self, request: CompletionInput, built: BuiltPrompt | None = None, after_quiet_s: float = 0.0
    ) -> None:
        """Prefill ``built`` (default: the prompt a request at ``request``'s cursor builds now), after
        ``after_quiet_s``; a request in the document meanwhile cancels it, and its answer starts the wait again
        (``pause_warm``, ``resume_warm``)."""
        try:
            await asyncio.sleep(after_quiet_s)
            backend = await self._backend()
            if built is None:
                # The very prompt a request at this cursor builds (same retriever, so the same kept context).
                built = await asyncio.get_running_loop().run_in_executor(
                    None, self._build_prompt, request.document, self._prompt_settings(), backend
                )
            generation = built.prompt.to_request(
                max_new_tokens=1, priority=RequestPriority.PREFETCH, prefill_only=True
            )
            self.stats.started += 1
            async with contextlib.aclosing(backend.generate(generation)) as stream:
                async for chunk in stream:
                    if chunk.is_final and chunk.timings is not None:
                        computed = chunk.timings.prompt_tokens - chunk.timings.reused_prompt_tokens
                        self.stats.warmed_tokens += max(0, computed)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a prefetch is a hint: the real request reports real failures
            log.info(
                "prefetch at %s:%d failed: %s: %s", request.uri, request.line, type(error).__name__, error
            )
