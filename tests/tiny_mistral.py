"""A tiny random-weight Mistral (the real class, mistral-common's bundled tekken tokenizer) that a real
``roost engine serve`` process loads in seconds: shared by the shared-engine and engine-service tests."""

from __future__ import annotations

import shutil
from pathlib import Path


def save_tiny_mistral(directory: Path) -> Path:
    """Write the model and ``tekken.json`` into ``directory`` and return it (seeded: same weights each time)."""
    import mistral_common  # lazy: torch and transformers are the local extra's, imported only by these tests
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
    MistralForCausalLM(config).save_pretrained(directory)
    shutil.copy(
        Path(mistral_common.__file__).parent / "data" / "tekken_240718.json", directory / "tekken.json"
    )
    return directory
