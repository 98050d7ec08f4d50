"""Freed memory goes back to the OS: after a model load, and whenever the engine's worker goes idle."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from roost.engine import scheduler as scheduler_module
from roost.engine.native_memory import release_freed_memory
from roost.engine.types import GenerationRequest, collect_text

from .conftest import load_tiny_backend


def test_release_freed_memory_runs_here() -> None:
    release_freed_memory(collect=True)  # glibc: malloc_trim; elsewhere: nothing, and no error


async def test_the_worker_trims_once_idle_after_a_request(
    tiny_mistral_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trimmed = threading.Event()
    monkeypatch.setattr(scheduler_module, "release_freed_memory", lambda **_kw: trimmed.set())
    backend = load_tiny_backend(tiny_mistral_dir)
    try:
        assert not trimmed.is_set()  # nothing ran yet: nothing to give back
        await collect_text(backend, GenerationRequest(prompt="def main():", max_new_tokens=3))
        assert await asyncio.to_thread(trimmed.wait, 30)
    finally:
        backend.scheduler.close()
