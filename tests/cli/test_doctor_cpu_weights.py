"""``roost doctor`` on a machine without a GPU says how the model's weights are kept there as the
configuration has it: by default the linear layers in int8 (``model.cpu_weights``), which the server's own
status shows ("cpu, int8"); doctor said "models run in float32 on the CPU"."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from roost.lsp.cli.commands.doctor import check_local_engine
from roost.lsp.config import RoostConfig


@pytest.fixture(autouse=True)
def _no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_the_default_names_int8_weights() -> None:
    detail = check_local_engine(RoostConfig()).detail
    assert "CPU only" in detail and "int8" in detail and "float32" not in detail


def test_float32_weights_and_an_explicit_dtype_are_named_as_configured() -> None:
    default = RoostConfig()
    exact = dataclasses.replace(default, model=dataclasses.replace(default.model, cpu_weights="float32"))
    assert "float32" in check_local_engine(exact).detail
    bf16 = dataclasses.replace(default, model=dataclasses.replace(default.model, dtype="bfloat16"))
    assert "bfloat16" in check_local_engine(bf16).detail
