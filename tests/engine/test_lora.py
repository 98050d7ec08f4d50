"""LoRA adapters through the transformers backend: a real peft adapter on a tiny random Mistral."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from roost.engine.backends.transformers_backend import TransformersBackend, TransformersOptions
from roost.engine.types import GenerationRequest, IncompatibleAdapterError, ModelNotFoundError

from .conftest import save_tiny_model, tiny_mistral_config

peft = pytest.importorskip("peft", reason="LoRA needs peft (the `test` extra should install it)")

PROMPT_IDS = (1, 1500, 1600, 1700, 1800, 1900)
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def make_adapter(base_dir: Path, directory: Path, *, seed: int = 3) -> Path:
    """A LoRA adapter with random non-zero A *and* B (peft initializes B to zero: a no-op adapter)."""
    from peft import LoraConfig, get_peft_model
    from transformers import MistralForCausalLM

    base = MistralForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=TARGETS))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    peft_model.save_pretrained(directory)
    return directory


def peft_merged_reference(base_dir: Path, adapter_dir: Path) -> torch.nn.Module:
    """peft's own way: load the base, load the adapter on it, merge."""
    from peft import PeftModel
    from transformers import MistralForCausalLM

    base = MistralForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    return PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload().eval()


def greedy(model: torch.nn.Module, ids: tuple[int, ...], count: int) -> list[int]:
    out = model.generate(
        torch.tensor([ids]), max_new_tokens=count, do_sample=False, eos_token_id=None, pad_token_id=0
    )
    return out[0, len(ids) :].tolist()


async def test_lora_adapter_outputs_equal_peft_merged_and_differ_from_the_base(
    tiny_mistral_dir: Path, tmp_path: Path
) -> None:
    adapter = make_adapter(tiny_mistral_dir, tmp_path / "adapter")
    reference = peft_merged_reference(tiny_mistral_dir, adapter)
    options = TransformersOptions(
        model=str(tiny_mistral_dir), device="cpu", dtype="float32", lora_adapter=str(adapter)
    )
    backend = TransformersBackend.load(options)
    base = TransformersBackend.load(TransformersOptions(model=str(tiny_mistral_dir), device="cpu"))
    try:
        model = backend.loaded.model
        # Merged: plain Linear layers again, no LoRA modules left in the forward pass.
        assert not any("lora" in name for name, _ in model.named_modules())
        ids = torch.tensor([PROMPT_IDS])
        with torch.no_grad():
            ours, peft_logits = model(ids).logits, reference(ids).logits
            base_logits = base.loaded.model(ids).logits
        torch.testing.assert_close(ours, peft_logits, rtol=1e-4, atol=1e-4)
        assert (ours - base_logits).abs().max() > 0.1  # the adapter really changes the model

        # Greedy through our scheduler equals greedy generation of peft's merged model, and not the base.
        request = GenerationRequest(prompt_token_ids=PROMPT_IDS, max_new_tokens=8)
        ours_tokens = await tokens_of(backend, request)
        assert ours_tokens == greedy(reference, PROMPT_IDS, len(ours_tokens))
        assert len(ours_tokens) >= 4
        assert ours_tokens != await tokens_of(base, request)
    finally:
        await backend.aclose()
        await base.aclose()


async def tokens_of(backend: TransformersBackend, request: GenerationRequest) -> list[int]:
    ids: list[int] = []
    async for chunk in backend.generate(request):
        ids.extend(chunk.token_ids)
    return ids


def test_missing_adapter_directory_and_non_adapter_directory(tiny_mistral_dir: Path, tmp_path: Path) -> None:
    missing = TransformersOptions(model=str(tiny_mistral_dir), device="cpu", lora_adapter=str(tmp_path / "x"))
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        TransformersBackend.load(missing)
    (tmp_path / "empty").mkdir()
    empty = TransformersOptions(
        model=str(tiny_mistral_dir), device="cpu", lora_adapter=str(tmp_path / "empty")
    )
    with pytest.raises(ModelNotFoundError, match="adapter_config.json"):
        TransformersBackend.load(empty)


def test_adapter_for_another_model_is_a_clear_error(tiny_mistral_dir: Path, tmp_path: Path) -> None:
    from transformers import MistralForCausalLM

    torch.manual_seed(5)
    wider = save_tiny_model(
        MistralForCausalLM(tiny_mistral_config(hidden_size=96, head_dim=24)), tmp_path / "wider"
    )
    adapter = make_adapter(wider, tmp_path / "wider-adapter")
    options = TransformersOptions(model=str(tiny_mistral_dir), device="cpu", lora_adapter=str(adapter))
    with pytest.raises(IncompatibleAdapterError, match="does not fit the loaded model"):
        TransformersBackend.load(options)


def test_non_lora_adapter_is_refused(tiny_mistral_dir: Path, tmp_path: Path) -> None:
    directory = tmp_path / "ia3"
    directory.mkdir()
    (directory / "adapter_config.json").write_text(
        json.dumps({"peft_type": "IA3", "task_type": "CAUSAL_LM", "target_modules": ["k_proj"]})
    )
    options = TransformersOptions(model=str(tiny_mistral_dir), device="cpu", lora_adapter=str(directory))
    with pytest.raises(IncompatibleAdapterError, match="only LoRA"):
        TransformersBackend.load(options)
