"""End-to-end cancellation: ``$/cancelRequest`` cancels the handler's asyncio task (pygls does that);
these helpers carry the cancellation into blocking work running in threads, so cancelled work stops
instead of only having its reply dropped."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class CancellationToken:
    """Checked by blocking work at safe points (between files, between decode steps)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise OperationCancelled()


class OperationCancelled(Exception):
    """Raised inside blocking work when its request was cancelled."""


async def run_cancellable(work: Callable[[CancellationToken], T]) -> T:
    """Run ``work(token)`` in a thread; cancelling the awaiting task sets the token.

    The awaiting task re-raises CancelledError at once; the thread stops at its next token check.
    """
    token = CancellationToken()
    future = asyncio.get_running_loop().run_in_executor(None, work, token)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        token.cancel()
        raise
