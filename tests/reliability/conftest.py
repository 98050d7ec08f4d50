"""Fixtures for the reliability and trust tests (issue "trust"): each test starts the real
``roost serve --stdio`` the way an editor does (the ``roost`` console script), with attack files the test
creates in a temporary workspace, and a fake OpenAI-compatible backend that records every prompt."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reliability_support import (
    ROOST_SCRIPT,
    SERVE_COMMAND,
    FakeOpenAI,
    every_prompt_text,
    fake_backend_options,
)

__all__ = ["ROOST_SCRIPT", "SERVE_COMMAND", "every_prompt_text", "fake_backend_options"]


@pytest.fixture
def recording_backend() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible server that answers ``pass`` and keeps every request body it was sent."""
    with FakeOpenAI(rules=[("", "pass")]) as fake:
        yield fake
