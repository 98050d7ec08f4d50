"""Fixtures of the shared-engine tests: a tiny random-weight Mistral (the real class, mistral-common's
bundled tekken tokenizer) that a real ``roost engine serve`` process loads in seconds, and a private
state directory so the tests never meet a user's engine."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from tiny_mistral import save_tiny_mistral


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_mistral(tmp_path_factory.mktemp("tiny-mistral"))


def engine_pids(marker: str) -> list[int]:
    """Live ``roost.engine.server`` processes whose command line mentions ``marker`` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if "State:\tZ" in status:
            continue  # exited, not yet reaped
        words = [part.decode(errors="replace") for part in command]
        if "roost.engine.server" in words and any(marker in word for word in words):
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def state_dir(tmp_path: Path, tiny_model_dir: Path) -> Iterator[Path]:
    directory = tmp_path / "engine-state"
    yield directory
    # Engines are detached on purpose (they outlive the editor that started them): stop ours.
    state = directory / "engine.json"
    pids = set(engine_pids(str(tiny_model_dir)))
    if state.exists():
        pids.add(int(json.loads(state.read_text())["pid"]))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
