"""Weight quantization: bitsandbytes int8/nf4 on this CPU through the backend, and the guard's decisions.

Random weights give near-tied logits that any quantization reorders, so the end-to-end test uses a tiny
Mistral *trained* to count (each token is followed by the next id): a model with a clear answer, whose
greedy output quantization must keep.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from roost.engine.backends.cpu_int8 import Int8WeightLinear
from roost.engine.backends.transformers_backend import (
    QuantizationEnvironment,
    TransformersBackend,
    TransformersOptions,
    quantization_environment,
    quantization_problem,
)
from roost.engine.types import DependencyMissingError, GenerationRequest

from .conftest import save_tiny_model, tiny_mistral_config

FIRST_ID, CYCLE = 1000, 48  # tekken's ids from 1000 on are ordinary (byte and merge) tokens


def counting_batch(generator: torch.Generator, size: int = 32, length: int = 20) -> torch.Tensor:
    starts = torch.randint(0, CYCLE, (size, 1), generator=generator)
    return FIRST_ID + (starts + torch.arange(length)) % CYCLE


@pytest.fixture(scope="module")
def counting_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import MistralForCausalLM

    torch.manual_seed(0)
    config = tiny_mistral_config(vocab_size=FIRST_ID + CYCLE, initializer_range=0.02)
    model = MistralForCausalLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    for _step in range(150):
        batch = counting_batch(generator)
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.1, f"the counting model did not learn (loss {loss.item():.3f})"
    model.eval()
    return save_tiny_model(model, tmp_path_factory.mktemp("counting-mistral"))


def bnb_runs_on_cpu() -> bool:
    return quantization_problem("int8", quantization_environment("cpu")) is None


async def greedy_ids(backend: TransformersBackend, prompt: tuple[int, ...], count: int) -> list[int]:
    ids: list[int] = []
    async for chunk in backend.generate(GenerationRequest(prompt_token_ids=prompt, max_new_tokens=count)):
        ids.extend(chunk.token_ids)
    return ids


async def assert_counts_like_the_float_model(
    backend: TransformersBackend, float_backend: TransformersBackend
) -> tuple[torch.Tensor, torch.Tensor]:
    """The quantized model counts as the float one does (greedy), and its logits correlate with the float
    model's above 0.95. Returns both models' logits for one prompt (quantized, float)."""
    prompt = tuple(FIRST_ID + (5 + i) % CYCLE for i in range(6))
    expected = [FIRST_ID + (11 + i) % CYCLE for i in range(10)]
    assert await greedy_ids(float_backend, prompt, 10) == expected  # the float model counts
    assert await greedy_ids(backend, prompt, 10) == expected
    ids = torch.tensor([prompt])
    with torch.no_grad():
        ours = backend.loaded.model(ids).logits.flatten().float()
        reference = float_backend.loaded.model(ids).logits.flatten().float()
    assert torch.corrcoef(torch.stack([ours, reference]))[0, 1] > 0.95
    return ours, reference


@pytest.fixture(scope="module")
def float_backend(counting_model_dir: Path) -> Iterator[TransformersBackend]:
    options = TransformersOptions(model=str(counting_model_dir), device="cpu", cpu_weights="float32")
    backend = TransformersBackend.load(options)
    yield backend
    backend.scheduler.close()


@pytest.mark.parametrize(("kind", "module_class"), [("int8", "Linear8bitLt"), ("nf4", "Linear4bit")])
async def test_bitsandbytes_quantization_on_cpu_keeps_greedy_output(
    counting_model_dir: Path, float_backend: TransformersBackend, kind: str, module_class: str
) -> None:
    if not bnb_runs_on_cpu():
        pytest.skip(quantization_problem("int8", quantization_environment("cpu")) or "")
    options = TransformersOptions(model=str(counting_model_dir), device="cpu", quantization=kind)  # type: ignore[arg-type]
    backend = TransformersBackend.load(options)
    try:
        model = backend.loaded.model
        quantized = {type(m).__name__ for m in model.modules()}
        assert module_class in quantized  # the projections really are bitsandbytes layers
        projections = [m for name, m in model.named_modules() if name.endswith("q_proj")]
        assert projections and all(type(m).__name__ == module_class for m in projections)
        await assert_counts_like_the_float_model(backend, float_backend)
    finally:
        await backend.aclose()


async def test_cpu_default_stores_linear_layers_as_int8_and_keeps_greedy_output(
    counting_model_dir: Path, float_backend: TransformersBackend
) -> None:
    """dtype auto on a CPU: every linear layer (the lm_head too) holds int8 weights; the embedding is exact."""
    backend = TransformersBackend.load(TransformersOptions(model=str(counting_model_dir), device="cpu"))
    try:
        model = backend.loaded.model
        linears = {name: type(m) for name, m in model.named_modules() if name.endswith(("_proj", "lm_head"))}
        assert linears and all(kind is Int8WeightLinear for kind in linears.values()), linears
        # Random-start trained weights sit on no 4-bit grid: the default decodes from int8 everywhere.
        assert all(m.weight_int4 is None for m in model.modules() if isinstance(m, Int8WeightLinear))
        assert backend.loaded.dtype == "int8"
        await assert_counts_like_the_float_model(backend, float_backend)
    finally:
        await backend.aclose()


async def test_cpu_decode_weights_int4_gives_every_packable_layer_a_4_bit_decode_copy_and_keeps_greedy_output(
    counting_model_dir: Path, float_backend: TransformersBackend
) -> None:
    """The option reaches every int8 layer (the default gives this off-grid model none: tested above and in
    test_cpu_int4); k/v (32 rows) and the lm_head (1,048 rows) are not whole 64-row blocks: int8 only."""
    options = TransformersOptions(model=str(counting_model_dir), device="cpu", cpu_decode_weights="int4")
    backend = TransformersBackend.load(options)
    try:
        layers = {n: m for n, m in backend.loaded.model.named_modules() if isinstance(m, Int8WeightLinear)}
        with_int4 = {n for n, m in layers.items() if m.weight_int4 is not None}
        packable = {n for n, m in layers.items() if m.out_features % 64 == 0}
        assert with_int4 == packable and any(n.endswith("down_proj") for n in with_int4), with_int4
        await assert_counts_like_the_float_model(backend, float_backend)
    finally:
        await backend.aclose()


@pytest.mark.parametrize(
    "options",
    [{"cpu_weights": "float32"}, {"dtype": "float32"}],
    ids=["cpu_weights float32", "explicit dtype"],
)
def test_int8_cpu_weights_only_for_dtype_auto(counting_model_dir: Path, options: dict[str, str]) -> None:
    backend = TransformersBackend.load(
        TransformersOptions(model=str(counting_model_dir), device="cpu", **options)  # type: ignore[arg-type]
    )
    try:
        assert type(backend.loaded.model.lm_head) is torch.nn.Linear
        assert backend.loaded.dtype == "float32"
    finally:
        backend.scheduler.close()


def test_fp8_on_cpu_is_a_clear_error(tiny_mistral_dir: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    if quantization_problem("fp8", quantization_environment("cpu")) is None:
        pytest.skip("torchao is installed: fp8 runs on CPU (tests/engine/test_fp8_cpu.py)")
    options = TransformersOptions(model=str(tiny_mistral_dir), device="cpu", quantization="fp8")
    with pytest.raises(DependencyMissingError, match="fp8.*CUDA GPU"):
        TransformersBackend.load(options)


# --------------------------------------------------------------------- the guard's decision logic

CPU_BNB = QuantizationEnvironment("cpu", (0, 50, 2), frozenset({"cpu", "cuda"}))


@pytest.mark.parametrize(
    ("kind", "env", "problem"),
    [
        ("int8", CPU_BNB, None),
        ("nf4", CPU_BNB, None),
        ("int8", QuantizationEnvironment("cpu", None), "needs bitsandbytes"),
        (
            "nf4",
            QuantizationEnvironment("cpu", (0, 45, 5), frozenset({"cuda"})),
            r"CPU needs bitsandbytes >= 0\.47",
        ),
        ("nf4", QuantizationEnvironment("cuda", (0, 45, 5), frozenset({"cuda"}), (8, 0)), None),
        (
            "int8",
            QuantizationEnvironment("xpu", (0, 50, 2), frozenset({"cpu", "cuda"})),
            "no kernels for 'xpu'",
        ),
        ("fp8", CPU_BNB, "needs a CUDA GPU"),
        ("fp8", QuantizationEnvironment("cuda", cuda_capability=(8, 0)), "this one is 8.0"),
        ("fp8", QuantizationEnvironment("cuda", cuda_capability=(8, 6)), "this one is 8.6"),
        ("fp8", QuantizationEnvironment("cuda", cuda_capability=(8, 9)), None),
        ("fp8", QuantizationEnvironment("cuda", cuda_capability=(9, 0)), None),
        ("int4", CPU_BNB, "unknown quantization"),
    ],
)
def test_quantization_guard_decisions(kind: str, env: QuantizationEnvironment, problem: str | None) -> None:
    found = quantization_problem(kind, env)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        import re

        assert re.search(problem, found), found


def test_this_machine_environment_is_read() -> None:
    env = quantization_environment("cpu")
    assert env.device_type == "cpu" and env.cuda_capability is None
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        assert env.bnb_version is None
    else:
        assert env.bnb_version is not None and env.bnb_devices


async def test_lora_on_a_quantized_model_stays_unmerged_and_matches_peft(
    counting_model_dir: Path, tmp_path: Path
) -> None:
    if not bnb_runs_on_cpu():
        pytest.skip(quantization_problem("int8", quantization_environment("cpu")) or "")
    pytest.importorskip("peft")
    from peft import PeftModel
    from transformers import BitsAndBytesConfig, MistralForCausalLM

    from .test_lora import make_adapter

    adapter = make_adapter(counting_model_dir, tmp_path / "adapter")
    options = TransformersOptions(
        model=str(counting_model_dir), device="cpu", quantization="int8", lora_adapter=str(adapter)
    )
    backend = TransformersBackend.load(options)
    try:
        model = backend.loaded.model
        names = [name for name, _ in model.named_modules()]
        # Not merged into int8 weights (that would re-quantize them): the LoRA layers are still there.
        assert any(name.endswith("q_proj.lora_A") for name in names)
        assert any(type(m).__name__ == "Linear8bitLt" for m in model.modules())
        base = MistralForCausalLM.from_pretrained(
            counting_model_dir, quantization_config=BitsAndBytesConfig(load_in_8bit=True), device_map="cpu"
        )
        reference = PeftModel.from_pretrained(base, str(adapter)).eval()
        ids = torch.tensor([tuple(FIRST_ID + i for i in range(8))])
        with torch.no_grad():
            torch.testing.assert_close(model(ids).logits, reference(ids).logits)
    finally:
        await backend.aclose()
