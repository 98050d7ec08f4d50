"""Fixtures of the shared-engine tests: a tiny random-weight Mistral (the real class, mistral-common's
bundled tekken tokenizer) that a real ``roost engine serve`` process loads in seconds, and a private
state directory so the tests never meet a user's engine."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import mistral_common
    import torch
    from transformers import MistralConfig, MistralForCausalLM

    torch.manual_seed(0)
    config = MistralConfig(
        vocab_size=131072,  # the bundled tekken's vocabulary
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=4096,
        sliding_window=None,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=True,
    )
    directory = tmp_path_factory.mktemp("tiny-mistral")
    MistralForCausalLM(config).save_pretrained(directory)
    shutil.copy(
        Path(mistral_common.__file__).parent / "data" / "tekken_240718.json", directory / "tekken.json"
    )
    return directory


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
