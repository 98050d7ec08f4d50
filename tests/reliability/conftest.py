"""Fixtures for the reliability and trust tests (issue "trust"): each test starts the real
``roost serve --stdio`` the way an editor does (the ``roost`` console script), with attack files the test
creates in a temporary workspace, and a fake OpenAI-compatible backend that records every prompt."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TESTS / "lsp_features"))

from fake_openai import FakeOpenAI, fake_backend_options  # noqa: E402,F401  (re-exported for the tests)

# The console script editors start: ``python -m`` would itself put the working directory on sys.path.
ROOST_SCRIPT = Path(sys.executable).parent / "roost"
SERVE_COMMAND = [str(ROOST_SCRIPT), "serve", "--stdio"]


@pytest.fixture
def recording_backend() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible server that answers ``pass`` and keeps every request body it was sent."""
    with FakeOpenAI(rules=[("", "pass")]) as fake:
        yield fake


def every_prompt_text(fake: FakeOpenAI) -> str:
    """Everything any request sent to the backend, as one string to search for planted secrets."""
    import json

    return "\n".join(json.dumps(body) for body in fake.requests)
