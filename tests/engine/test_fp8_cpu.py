"""fp8 on CPU: torchao's weight-only float8 through the backend, on the tiny Mistral trained to count.

transformers' FineGrainedFP8 refuses CPU ("No GPU or XPU found"), so on CPU the backend quantizes with
torchao: every decoder projection's weight is stored as float8_e4m3fn with a per-row scale. The counting
model (see test_quantization.py) has a clear answer, so fp8 must keep its greedy tokens exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from roost.engine.backends.transformers_backend import (
    TORCHAO_MIN_VERSION_FOR_CPU_FP8,
    QuantizationEnvironment,
    TransformersBackend,
    TransformersOptions,
    quantization_environment,
    quantization_problem,
)

from .test_quantization import (  # noqa: F401  (counting_model_dir and float_backend are fixtures)
    assert_counts_like_the_float_model,
    counting_model_dir,
    float_backend,
)

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def fp8_runs_on_cpu() -> str | None:
    return quantization_problem("fp8", quantization_environment("cpu"))


async def test_fp8_on_cpu_stores_float8_weights_and_keeps_greedy_output(
    counting_model_dir: Path,  # noqa: F811
    float_backend: TransformersBackend,  # noqa: F811
) -> None:
    problem = fp8_runs_on_cpu()
    if problem is not None:
        pytest.skip(problem)
    options = TransformersOptions(model=str(counting_model_dir), device="cpu", quantization="fp8")
    backend = TransformersBackend.load(options)
    try:
        model = backend.loaded.model
        projections = {name: m for name, m in model.named_modules() if name.rsplit(".", 1)[-1] in PROJECTIONS}
        assert len(projections) == len(PROJECTIONS) * model.config.num_hidden_layers
        for name, module in projections.items():
            stored = getattr(module.weight, "qdata", None)  # torchao's Float8Tensor keeps the raw fp8 here
            assert stored is not None, f"{name} was not quantized ({type(module.weight).__name__})"
            assert stored.dtype == torch.float8_e4m3fn, f"{name} stores {stored.dtype}"
            assert stored.shape == (module.out_features, module.in_features)

        ours, reference = await assert_counts_like_the_float_model(backend, float_backend)
        assert not torch.equal(ours, reference)  # the weights really were rounded to fp8
    finally:
        await backend.aclose()


NEW_ENOUGH = TORCHAO_MIN_VERSION_FOR_CPU_FP8


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        (QuantizationEnvironment("cpu", torchao_version=NEW_ENOUGH), None),
        (QuantizationEnvironment("cpu", torchao_version=(1, 0, 0)), None),
        (QuantizationEnvironment("cpu"), r"on CPU torchao >= 0\.18 \(it is not installed\)"),
        (
            QuantizationEnvironment("cpu", torchao_version=(0, 17, 0)),
            r"torchao >= 0\.18 \(0\.17\.0 is installed\)",
        ),
        (QuantizationEnvironment("xpu", torchao_version=NEW_ENOUGH), "needs a CUDA GPU"),
        # The GPU route stays transformers' FineGrainedFP8, decided by compute capability alone.
        (
            QuantizationEnvironment("cuda", cuda_capability=(8, 6), torchao_version=NEW_ENOUGH),
            "this one is 8.6",
        ),
        (QuantizationEnvironment("cuda", cuda_capability=(9, 0)), None),
    ],
)
def test_fp8_guard_decisions(env: QuantizationEnvironment, problem: str | None) -> None:
    found = quantization_problem("fp8", env)
    if problem is None:
        assert found is None
    else:
        assert found is not None and re.search(problem, found), found


def test_this_machine_torchao_version_is_read() -> None:
    env = quantization_environment("cpu")
    try:
        import torchao
    except ImportError:
        assert env.torchao_version is None
    else:
        assert env.torchao_version is not None
        assert ".".join(map(str, env.torchao_version)) in torchao.__version__
