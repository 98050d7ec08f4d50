"""Whether the model backend is working, as ``roost/status`` shows it.

Every backend the server uses is wrapped in :class:`HealthReportingBackend` where it is built, so each
generation (inline completion, model edit, fix-up) tells the server how it went: a failure of the
backend (:class:`~roost.engine.types.BackendError`, or a stream that ends with ``finish_reason="error"``)
turns the status to ``degraded`` with the real reason, and the next answer that completes turns it back
to ``ready``. Without it the status said "ready" while every request failed.

The engine types the failures (kind and reason); what they mean to the user is decided here, in lsp/.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

from roost.engine.types import Backend, BackendError, BackendFailureKind, GenerationRequest, TextChunk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackendFailure:
    """One failed request: how it failed and the one-line reason shown to the user."""

    kind: BackendFailureKind
    reason: str


HealthListener = Callable[[BackendFailure | None], None]
"""Told ``BackendFailure`` after each failed generation and ``None`` after each completed one."""


def failure_of_error(error: BackendError) -> BackendFailure:
    return BackendFailure(error.kind, error.reason)


def failure_of_chunk(chunk: TextChunk) -> BackendFailure:
    """The failure a final ``finish_reason="error"`` chunk reports."""
    return BackendFailure(chunk.error_kind or "failed", chunk.error or "the model failed mid-answer")


def status_message(failure: BackendFailure) -> str:
    """The ``roost/status`` message of the degraded state (the reason, prefixed to say what it affects)."""
    return f"Roost: the model backend is failing: {failure.reason}"


class HealthReportingBackend:
    """Implements :class:`Backend` by delegating to ``inner`` and telling ``listener`` how each
    generation ended. A cancelled generation tells nothing: it says nothing about the backend."""

    def __init__(self, inner: Backend, listener: HealthListener) -> None:
        self.inner = inner
        self._listener = listener

    @property
    def name(self) -> str:
        return self.inner.name

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[TextChunk, None]:
        if request.prefill_only:
            # A prefetch is a hint nobody waits for, and over HTTP it may run into the read timeout while
            # its server prefills at the lowest priority: the real requests tell the backend's health.
            async with contextlib.aclosing(self.inner.generate(request)) as stream:
                async for chunk in stream:
                    yield chunk
            return
        try:
            async with contextlib.aclosing(self.inner.generate(request)) as stream:
                async for chunk in stream:
                    if chunk.is_final:
                        self._tell_final(chunk)
                    yield chunk
        except BackendError as error:
            self._tell(failure_of_error(error))
            raise

    def _tell_final(self, chunk: TextChunk) -> None:
        if chunk.finish_reason == "error":
            self._tell(failure_of_chunk(chunk))
        elif chunk.finish_reason != "cancelled":
            self._tell(None)

    def _tell(self, failure: BackendFailure | None) -> None:
        try:
            self._listener(failure)
        except Exception:  # a status report must never break a generation
            log.exception("reporting the backend's health failed")

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, attribute: str) -> object:
        # Only reached for attributes this class lacks (the inner backend's own: ``loaded``, options …).
        if attribute == "inner":
            raise AttributeError(attribute)  # not yet set (copy, pickle): no recursion
        return getattr(self.inner, attribute)
