"""Loading through the transformers backend: real Mistral classes with tiny random weights, and errors."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import torch

from roost.engine.backends.transformers_backend import (
    TransformersBackend,
    TransformersOptions,
    resolve_model_location,
)
from roost.engine.tokenizer import MistralCommonTokenizer
from roost.engine.types import (
    ChatMessage,
    DependencyMissingError,
    GenerationRequest,
    ModelNotFoundError,
    collect_text,
)

from .conftest import load_tiny_backend, save_tiny_model, tiny_mistral_config


async def test_mistral_for_causal_lm_loads_with_its_tekken_tokenizer_and_generates(
    tiny_mistral_dir: Path,
) -> None:
    progress: list[str] = []
    backend = TransformersBackend.load(
        TransformersOptions(model=str(tiny_mistral_dir), device="cpu"),
        progress=lambda m, _f: progress.append(m),
    )
    try:
        assert type(backend.loaded.model).__name__ == "MistralForCausalLM"
        assert isinstance(backend.loaded.tokenizer, MistralCommonTokenizer)
        assert backend.loaded.dtype == "int8"  # dtype auto on CPU: int8 linear weights (cpu_weights)
        assert any("ready" in message for message in progress)
        text, final = await collect_text(backend, GenerationRequest(prompt="def main():", max_new_tokens=6))
        assert final.finish_reason in ("length", "stop") and final.timings.generated_tokens >= 1
        assert isinstance(text, str)
        # A chat request is rendered with mistral-common's instruct tokenizer ([INST] … [/INST]).
        _chat, chat_final = await collect_text(
            backend, GenerationRequest(messages=(ChatMessage("user", "Fix this bug"),), max_new_tokens=3)
        )
        assert chat_final.timings.prompt_tokens > 3
    finally:
        await backend.aclose()


async def test_mistral3_runs_text_only(tmp_path: Path) -> None:
    from transformers import Mistral3Config, Mistral3ForConditionalGeneration, PixtralVisionConfig

    torch.manual_seed(1)
    vision = PixtralVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=16,
    )
    config = Mistral3Config(
        text_config=tiny_mistral_config().to_dict(), vision_config=vision.to_dict(), image_token_index=10
    )
    directory = save_tiny_model(Mistral3ForConditionalGeneration(config), tmp_path / "tiny-mistral3")
    backend = load_tiny_backend(directory)
    try:
        assert type(backend.loaded.model).__name__ == "Mistral3ForConditionalGeneration"
        ids = (1, 1500, 1600, 1700)
        _text, final = await collect_text(backend, GenerationRequest(prompt_token_ids=ids, max_new_tokens=5))
        assert final.timings.generated_tokens == 5 or final.finish_reason == "stop"
        assert backend.scheduler.max_context_tokens == 4096  # read from the text config
    finally:
        await backend.aclose()


async def test_mistral_without_tokenizer_files_uses_the_bundled_tekken(tmp_path: Path) -> None:
    from transformers import MistralForCausalLM

    directory = save_tiny_model(
        MistralForCausalLM(tiny_mistral_config()), tmp_path / "bare", with_tokenizer=False
    )
    backend = load_tiny_backend(directory)
    try:
        assert "bundled tekken" in backend.loaded.tokenizer.description
    finally:
        await backend.aclose()


def test_missing_path_names_what_was_looked_for(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFoundError) as error:
        resolve_model_location(TransformersOptions(model=str(missing)))
    message = str(error.value)
    assert str(missing) in message and "Looked for" in message and "roost[demo]" in message


def test_uncached_hub_id_is_not_downloaded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    with pytest.raises(ModelNotFoundError, match="not cached"):
        resolve_model_location(TransformersOptions(model="mistralai/Mistral-Small-24B-Instruct-2501"))


def test_directory_without_config_and_non_gguf_file(tmp_path: Path) -> None:
    (tmp_path / "weights.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelNotFoundError, match=r"no config\.json.*weights\.gguf"):
        resolve_model_location(TransformersOptions(model=str(tmp_path)))
    notes = tmp_path / "notes.txt"
    notes.write_text("hi")
    with pytest.raises(ModelNotFoundError, match="not a .gguf"):
        resolve_model_location(TransformersOptions(model=str(notes)))


def test_directory_without_tokenizer_for_a_non_mistral_model(tmp_path: Path) -> None:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=512,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    Qwen2ForCausalLM(config).save_pretrained(tmp_path)
    with pytest.raises(ModelNotFoundError, match="no tokenizer"):
        load_tiny_backend(tmp_path)


def test_lora_adapter_needs_peft_or_an_existing_directory(tiny_mistral_dir: Path, tmp_path: Path) -> None:
    options = TransformersOptions(
        model=str(tiny_mistral_dir), device="cpu", lora_adapter=str(tmp_path / "nope")
    )
    try:
        import peft  # noqa: F401
    except ImportError:
        with pytest.raises(DependencyMissingError, match="peft"):
            TransformersBackend.load(options)
    else:
        with pytest.raises(ModelNotFoundError, match="LoRA adapter"):
            TransformersBackend.load(options)


def test_cuda_device_without_cuda_is_a_clear_error(tiny_mistral_dir: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(DependencyMissingError, match="CUDA"):
        TransformersBackend.load(TransformersOptions(model=str(tiny_mistral_dir), device="cuda"))


def test_gguf_file_is_loaded_with_gguf_file(tmp_path: Path) -> None:
    # A GGUF that is not a model: the loader must take the gguf path and fail with its own error,
    # not look for config.json.
    target = tmp_path / "model.gguf"
    shutil.copy(Path(__file__), target)
    directory, gguf_file, _source = resolve_model_location(TransformersOptions(model=str(target)))
    assert (directory, gguf_file) == (tmp_path, "model.gguf")


async def test_tiny_mistral_load_prompt_generate_with_the_codestral_format(tiny_backend) -> None:
    from roost.engine.prompts.codestral import CodestralFormat
    from roost.engine.prompts.types import PromptInput

    prompt_format = CodestralFormat(tiny_backend.loaded.tokenizer.mistral_tokenizer)
    prompt = prompt_format.render(
        PromptInput(path="m.py", language="python", prefix="def add(a, b):\n    return ", suffix="\n")
    )
    request = GenerationRequest(
        prompt_token_ids=prompt.token_ids, max_new_tokens=6, stop_token_strings=prompt.stop_token_strings
    )
    text, final = await collect_text(tiny_backend, request)
    assert final.timings.prompt_tokens == len(prompt.token_ids)
    assert final.finish_reason in ("length", "stop") and "[MIDDLE]" not in text


def test_the_load_runs_on_a_thread_that_has_ended_when_it_returns(
    tiny_mistral_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A thread that ran torch's OpenMP kernels keeps its team of helper threads for life, and with more of
    # them than CPUs every kernel call of the engine's worker pays a wake-up (engine/ending_thread.py).
    from roost.engine.backends import transformers_backend

    real_load_model = transformers_backend.load_model
    loading_threads: list[threading.Thread] = []

    def recording_load_model(*args: object, **kwargs: object) -> object:
        loading_threads.append(threading.current_thread())
        return real_load_model(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transformers_backend, "load_model", recording_load_model)
    backend = load_tiny_backend(tiny_mistral_dir)
    try:
        [loading_thread] = loading_threads
        assert loading_thread is not threading.current_thread()
        assert not loading_thread.is_alive()
        assert backend.scheduler._worker.is_alive()  # the worker it started outlives it
    finally:
        backend.scheduler.close()


def test_run_in_ending_thread_hands_back_the_result_or_the_exception() -> None:
    from roost.engine.ending_thread import run_in_ending_thread

    assert run_in_ending_thread(lambda: threading.current_thread().name, name="roost-test") == "roost-test"

    def failing() -> None:
        raise ModelNotFoundError("nothing at /nope")

    with pytest.raises(ModelNotFoundError, match="nothing at /nope"):
        run_in_ending_thread(failing, name="roost-test")
