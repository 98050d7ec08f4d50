"""The output layer's 4-bit screen on greedy CPU decode steps (engine/backends/logits_screen.py): the same
argmax as the int8 layer, the candidates' logits bit for bit, and only on steps that read nothing else."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import torch

from roost.engine.backends.cpu_int4 import GROUP_SIZE, INT4PACK_MM, int4_kernel_available
from roost.engine.backends.cpu_int8 import DECODE_ROWS, Int8WeightLinear
from roost.engine.backends.logits_screen import (
    CANDIDATES,
    LogitsScreen,
    ScreenedOutputLayer,
    attach_logits_screen,
)
from roost.engine.backends.transformers_backend import TransformersBackend, TransformersOptions
from roost.engine.scheduler import SchedulerOptions
from roost.engine.types import GenerationRequest

pytestmark = pytest.mark.skipif(not int4_kernel_available(), reason="torch has no CPU int4 kernel")


def output_layer(rows: int = 4096, columns: int = 128, seed: int = 0) -> Int8WeightLinear:
    generator = torch.Generator().manual_seed(seed)
    return Int8WeightLinear(torch.randn(rows, columns, generator=generator) * 0.05, None)


def test_an_argmax_only_call_gives_the_int8_argmax_and_the_candidates_exact_logits() -> None:
    inner = output_layer()
    screen = LogitsScreen()
    layer = ScreenedOutputLayer(inner, screen)
    generator = torch.Generator().manual_seed(1)
    for rows in (1, 3, DECODE_ROWS):
        x = torch.randn(rows, 128, generator=generator) * 4
        exact = inner(x)
        screen.argmax_only = True
        screened = layer(x)
        screen.argmax_only = False
        assert torch.equal(screened.argmax(dim=-1), exact.argmax(dim=-1))
        # The best CANDIDATES of each row's 4-bit logits are the int8 layer's values bit for bit.
        assert INT4PACK_MM is not None
        four_bit = INT4PACK_MM(
            x.to(torch.bfloat16), layer.screen_int4, GROUP_SIZE, layer.screen_scale_and_zero
        ).float()
        best = four_bit.topk(CANDIDATES, dim=-1).indices
        assert torch.equal(screened.gather(1, best), exact.gather(1, best))
        assert not torch.equal(screened, exact), "the rest are the 4-bit screen's values"
    assert screen.screened_calls == 3


def test_other_calls_are_the_int8_layer_itself() -> None:
    inner = output_layer()
    screen = LogitsScreen()
    layer = ScreenedOutputLayer(inner, screen)
    x = torch.randn(2, 128)
    assert torch.equal(layer(x), inner(x))  # the switch off: prefills, sampling, forced starts
    screen.argmax_only = True
    long = torch.randn(DECODE_ROWS + 1, 128)
    assert torch.equal(layer(long), inner(long))  # more rows than a decode step: a prefill's logits
    assert screen.screened_calls == 0


def test_named_rows_are_the_int8_layers_values_and_the_rest_minus_infinity() -> None:
    inner = output_layer()
    screen = LogitsScreen()
    layer = ScreenedOutputLayer(inner, screen)
    x = torch.randn(1, 128, generator=torch.Generator().manual_seed(2)) * 4
    exact = inner(x)
    ids = torch.tensor([5, 17, 900, 4095])
    screen.exact_rows = torch.cat([ids, torch.tensor([4096, -1])])  # ids outside the layer are ignored
    screen.argmax_only = True  # the named rows win over the screen
    named = layer(x)
    assert torch.equal(named[:, ids], exact[:, ids])
    rest = torch.ones(4096, dtype=torch.bool)
    rest[ids] = False
    assert bool(torch.isneginf(named[:, rest]).all())
    assert (screen.exact_rows_calls, screen.screened_calls) == (1, 0)
    # Past a quarter of the vocabulary the whole layer is computed (gathering would save little).
    screen.argmax_only = False
    screen.exact_rows = torch.arange(2000)
    assert torch.equal(layer(x), exact)
    assert screen.exact_rows_calls == 1


@pytest.fixture(scope="module")
def int8_tiny(tiny_mistral_dir: Path) -> TransformersBackend:
    """The tiny model loaded as the product loads a model on a CPU: int8 weights, the screen attached."""
    options = TransformersOptions(
        model=str(tiny_mistral_dir), device="cpu", scheduler=SchedulerOptions(calibration_tokens=0)
    )
    backend = TransformersBackend.load(options)
    yield backend
    backend.scheduler.close()


def generate(backend: TransformersBackend, **fields: object) -> str:
    async def run() -> str:
        request = GenerationRequest(prompt="def add(a, b):\n    return", max_new_tokens=12, **fields)  # type: ignore[arg-type]
        return "".join([chunk.text async for chunk in backend.generate(request)])

    return asyncio.run(run())


def test_the_product_load_attaches_the_screen_and_greedy_answers_are_unchanged(
    int8_tiny: TransformersBackend,
) -> None:
    scheduler = int8_tiny.scheduler
    screen = scheduler.logits_screen
    assert screen is not None
    assert isinstance(scheduler.model.get_output_embeddings(), ScreenedOutputLayer)
    screened = generate(int8_tiny, temperature=0.0)
    calls = screen.screened_calls
    assert calls > 0, "greedy decode steps go through the screen"
    scheduler.logits_screen = None
    try:
        plain = generate(int8_tiny, temperature=0.0)
    finally:
        scheduler.logits_screen = screen
    assert screen.screened_calls == calls
    assert screened == plain


def test_sampled_steps_read_exact_logits(int8_tiny: TransformersBackend) -> None:
    screen = int8_tiny.scheduler.logits_screen
    assert screen is not None
    calls = screen.screened_calls
    generate(int8_tiny, temperature=0.8, seed=3)
    assert screen.screened_calls == calls, "a sampled step reads every logit"


def test_an_output_layer_the_int4_layout_cannot_hold_gets_no_screen() -> None:
    """The layout holds whole 64-row blocks (CodeLlama's 32,016-token vocabulary is not): the model loads and
    decodes through the int8 layer, as before the screen existed."""

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lm_head = Int8WeightLinear(torch.randn(1048, 128), None)

        def get_output_embeddings(self) -> torch.nn.Module:
            return self.lm_head

        def set_output_embeddings(self, layer: torch.nn.Module) -> None:
            self.lm_head = layer

    model = Model()
    assert attach_logits_screen(model) is None
    assert isinstance(model.lm_head, Int8WeightLinear)


def test_no_screen_where_it_is_turned_off_or_the_weights_are_not_int8(tiny_mistral_dir: Path) -> None:
    quiet = SchedulerOptions(calibration_tokens=0)
    for options in (
        TransformersOptions(
            model=str(tiny_mistral_dir), device="cpu", cpu_logits_screen=False, scheduler=quiet
        ),
        TransformersOptions(model=str(tiny_mistral_dir), device="cpu", dtype="float32", scheduler=quiet),
    ):
        backend = TransformersBackend.load(options)
        try:
            assert backend.scheduler.logits_screen is None
            assert not isinstance(backend.scheduler.model.get_output_embeddings(), ScreenedOutputLayer)
        finally:
            backend.scheduler.close()


def test_with_4_bit_decode_weights_the_output_layers_copy_becomes_the_screen(tiny_mistral_dir: Path) -> None:
    """``cpu_decode_weights="int4"`` decoded the output layer from its lossy 4-bit copy; that copy now screens
    the vocabulary and the argmax is the int8 layer's (the same bytes: no second copy)."""
    options = TransformersOptions(
        model=str(tiny_mistral_dir),
        device="cpu",
        cpu_decode_weights="int4",
        scheduler=SchedulerOptions(calibration_tokens=0),
    )
    backend = TransformersBackend.load(options)
    try:
        layer = backend.scheduler.model.get_output_embeddings()
        assert isinstance(layer, ScreenedOutputLayer) and backend.scheduler.logits_screen is layer.screen
        assert layer.inner.weight_int4 is None and layer.inner.int4_scale_and_zero is None
        # The other layers keep theirs (those whose shape the int4 layout allows).
        others = [
            m
            for m in backend.scheduler.model.modules()
            if isinstance(m, Int8WeightLinear) and m is not layer.inner
        ]
        assert any(m.weight_int4 is not None for m in others)
        x = torch.randn(2, layer.in_features)
        exact = layer.inner(x)  # the int8 kernel now that the copy has moved
        layer.screen.argmax_only = True
        try:
            assert torch.equal(layer(x).argmax(dim=-1), exact.argmax(dim=-1))
        finally:
            layer.screen.argmax_only = False
    finally:
        backend.scheduler.close()
