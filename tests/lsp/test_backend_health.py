"""``HealthReportingBackend``: how a generation ended becomes the server's status — except a prefetch's,
which is a hint nobody waits for (over HTTP it may time out while its server prefills at the lowest
priority; that must not turn the status to degraded)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from roost.engine.types import BackendTimeoutError, GenerationRequest, RequestPriority, TextChunk
from roost.lsp.core.backend_health import HealthReportingBackend


class TimingOutBackend:
    name = "timing-out"

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TextChunk]:
        raise BackendTimeoutError("no answer within 30 s", reason="backend timed out")
        yield TextChunk(text="")  # pragma: no cover - makes this an async generator

    def count_tokens(self, text: str) -> int:
        return len(text)

    async def aclose(self) -> None:
        pass


async def _drain(backend: HealthReportingBackend, request: GenerationRequest) -> None:
    async for _chunk in backend.generate(request):
        pass


async def test_a_prefetch_that_times_out_tells_nothing_and_a_request_that_does_tells_its_failure() -> None:
    told: list[object] = []
    backend = HealthReportingBackend(TimingOutBackend(), told.append)  # type: ignore[arg-type]
    prefetch = GenerationRequest(prompt="def f(", prefill_only=True, priority=RequestPriority.PREFETCH)
    with pytest.raises(BackendTimeoutError):
        await _drain(backend, prefetch)
    assert told == []
    with pytest.raises(BackendTimeoutError):
        await _drain(backend, GenerationRequest(prompt="def f("))
    assert len(told) == 1 and told[0] is not None
