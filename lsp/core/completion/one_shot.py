"""One inline completion outside an editor (``roost complete``), through the parts the server uses: the
workspace's :class:`~roost.lsp.core.services.Services` (index, retrieval, backend, gate), the document
policy and the :class:`~roost.lsp.core.completion.pipeline.CompletionPipeline`, in process.

The services are started, the index is awaited as the server's ``ready`` is, the document is opened
through the services' document events, and the pipeline answers one invoked request. Whatever happens,
the services are closed before this returns (index workers, the backend), so nothing is left running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from roost.context.languages import language_for_path
from roost.lsp.config import RoostConfig
from roost.lsp.core.completion.outcome import CompletionInput, CompletionOutcome
from roost.lsp.core.completion.pipeline import CompletionPipeline
from roost.lsp.core.completion.settings import pipeline_settings
from roost.lsp.core.document_policy import Refused, document_policy
from roost.lsp.core.events import ProgressReport, ServiceEvents, StatusState
from roost.lsp.core.services import Services

_T = TypeVar("_T")

# The states after which the server answers requests; the old `roost complete` client waited for them too.
_SETTLED: frozenset[StatusState] = frozenset({"ready", "error"})


@dataclass(frozen=True)
class OneShotDocument:
    root: Path  # the workspace folder (resolved)
    path: str  # workspace-relative, POSIX
    text: str  # the document (the file on disk, or an unsaved buffer)
    line: int  # 0-based
    col: int  # 0-based, in characters

    @property
    def uri(self) -> str:
        return (self.root / self.path).as_uri()

    @property
    def offset(self) -> int:
        lines = self.text.split("\n")
        return sum(len(text) + 1 for text in lines[: self.line]) + self.col


@dataclass
class OneShotCompletion:
    outcome: CompletionOutcome
    # Wall times of this call: starting the services and indexing, then the request itself.
    wall_ms: dict[str, float] = field(default_factory=dict)


class _SettledWatch:
    """The caller's events, plus an event set when the services settle (``ready`` or ``error``)."""

    def __init__(self, events: ServiceEvents) -> None:
        self._events = events
        self.settled = asyncio.Event()

    @property
    def status_state(self) -> StatusState:
        return self._events.status_state

    @property
    def status_message(self) -> str:
        return self._events.status_message

    def send_status(self, state: StatusState, message: str = "", percentage: int | None = None) -> None:
        self._events.send_status(state, message, percentage)
        if state in _SETTLED:
            self.settled.set()

    def show_error_once(self, key: str, message: str) -> None:
        self._events.show_error_once(key, message)

    def progress_report(self, title: str) -> ProgressReport:
        return self._events.progress_report(title)


async def complete_once(
    document: OneShotDocument, config: RoostConfig, events: ServiceEvents, timeout: float
) -> OneShotCompletion:
    """One invoked inline completion of ``document`` at its cursor with ``config``. A document the policy
    refuses (secret, excluded) is answered ``refused`` with the reason before anything is started, so no
    part of it reaches the index or the model. ``timeout`` bounds the indexing, then the request; running
    out raises :class:`TimeoutError`."""
    started = time.perf_counter()
    verdict = document_policy(
        document.uri,
        root=document.root,
        is_open=True,  # the command opens it, as an editor would
        excludes=(*config.index.exclude, *config.completion.exclude),
    )
    if isinstance(verdict, Refused):
        refused = CompletionOutcome(source="refused", message=verdict.reason)
        return OneShotCompletion(refused, {"start_and_index": 0.0, "request": _ms_since(started)})

    watch = _SettledWatch(events)
    services = Services(watch, config, document.root)
    try:
        services.start_index()
        await _within(watch.settled.wait(), timeout, "indexing the workspace")
        ready = time.perf_counter()
        services.document_opened(verdict.path, document.text)
        language = language_for_path(verdict.path)
        request = CompletionInput(
            uri=document.uri,
            path=verdict.path,
            language=language.name if language else "plaintext",
            text=document.text,
            line=document.line,
            col=document.col,
            offset=document.offset,
        )
        # One answer, printed whole: never the first line of a block whose rest nobody asks for, nor one
        # from a shorter prompt whose whole one would be warmed for requests that never come.
        settings = replace(pipeline_settings(config), first_line_early=False, first_answer_ms=0)
        pipeline = CompletionPipeline(services, lambda: settings, cache_size=1)
        outcome = await _within(pipeline.complete(request), timeout, "the completion")
        return OneShotCompletion(
            outcome,
            {"start_and_index": (ready - started) * 1000.0, "request": _ms_since(ready)},
        )
    finally:
        await services.aclose()


async def _within(work: Awaitable[_T], timeout: float, what: str) -> _T:
    try:
        return await asyncio.wait_for(work, timeout)
    except TimeoutError as error:
        raise TimeoutError(f"{what} took longer than {timeout:g} s (--timeout)") from error


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
